"""A report's charts in its Slack thread: one files_upload_v2 reply (one completeUploadExternal)
inside the delivery ledger, against the local Slack server with slack_sdk's own client.

Crashes and lost answers never upload twice; a resumed delivery uploads what is missing;
uploads are paced like posts; an error no retry mends costs the pictures, not the report.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient

from bot.channels.slack_dm.delivery import PART_EVENT, Poster, deliver, share_charts
from bot.channels.slack_dm.render import slack_thread
from bot.charts.files import chart_filename
from bot.pacing import Pacer
from core import DeliveryStore, Report, ReportEngine
from core.charts import Chart
from tests.chart_kind import CHART_NAMES, ChartedReview, bars, charted_ebr
from tests.slack_server import SlackServer
from tests.test_bot_socket_mode import bot_environ, running_bot

SARAH = "U0SARAH01"
COMPLETE = "files.completeUploadExternal"


@pytest.fixture
def charted() -> Iterator[ChartedReview]:
    with charted_ebr() as kind:
        yield kind


@pytest.fixture
def report(engine: ReportEngine, charted: ChartedReview) -> Report:
    week = engine.week()
    engine.generate(engine.targets("CSM001", "CUST_12345"), week)
    return engine.store.load("CUST_12345", week)


class FakeClock:
    """Time that passes only when slept."""

    def __init__(self) -> None:
        self.at = 0.0

    def now(self) -> float:
        return self.at

    def sleep(self, seconds: float) -> None:
        self.at += seconds


def names(report: Report) -> list[str]:
    return [chart_filename(report.report_id, n) for n in CHART_NAMES]


def thread(slack: SlackServer, channel: str | None) -> list[dict[str, Any]]:
    """The bot's replies in the DM, oldest first (the parent left out)."""
    return [m for m in slack.messages(channel) if m.get("thread_ts") and m.get("thread_ts") != m.get("ts")]


def shared(slack: SlackServer, channel: str | None) -> list[list[str]]:
    """The file names of each reply that shares files."""
    return [[f["name"] for f in m["files"]] for m in thread(slack, channel) if m.get("files")]


def part_of(params: dict[str, Any]) -> int | None:
    """The part number a chat.postMessage call's metadata names."""
    return ((params.get("metadata") or {}).get("event_payload") or {}).get("part")


def parts(slack: SlackServer, channel: str | None) -> list[int]:
    return [
        m["metadata"]["event_payload"]["part"]
        for m in thread(slack, channel)
        if (m.get("metadata") or {}).get("event_type") == PART_EVENT
    ]


def test_the_charts_are_one_reply_after_the_first_section_with_titles_and_alt_text(
    engine: ReportEngine, client: WebClient, slack: SlackServer, report: Report, charted: ChartedReview
) -> None:
    sent = deliver(client, DeliveryStore(engine.warehouse), report, SARAH, charts=True)

    assert sent.ok and sent.charts == tuple(names(report)) and sent.charts_error is None
    assert sent.posted == 1 + 1 + len(slack_thread(report))  # parent, the charts, the sections
    [complete] = slack.calls_to(COMPLETE)
    assert (complete.params["channel_id"], complete.params["thread_ts"]) == (sent.channel, sent.ts)
    charts = charted.charts(report)
    files = complete.params["files"]
    files = files if isinstance(files, list) else json.loads(files)
    assert [f["title"] for f in files] == [c.title for c in charts]
    announced = slack.calls_to("files.getUploadURLExternal")
    assert [(c.params["filename"], c.params["alt_txt"]) for c in announced] == list(
        zip(names(report), [c.alt_text for c in charts], strict=True)
    )
    first, second, *rest = thread(slack, sent.channel)
    assert [f["name"] for f in second["files"]] == names(report)  # after the first section
    assert second["thread_ts"] == sent.ts and not first.get("files") and all(not m.get("files") for m in rest)
    assert parts(slack, sent.channel) == list(range(1, len(slack_thread(report)) + 1))
    assert all((u.content or b"").startswith(b"\x89PNG") for u in slack.uploaded_files(sent.channel))


def test_a_report_without_charts_or_with_charts_off_uploads_nothing(
    engine: ReportEngine, client: WebClient, slack: SlackServer, report: Report
) -> None:
    sent = deliver(client, DeliveryStore(engine.warehouse), report, SARAH, charts=False)
    assert sent.ok and sent.charts == () and sent.posted == 1 + len(slack_thread(report))
    assert not [c for c in slack.calls if c.method.startswith("files.")]


def test_a_delivery_stopped_after_the_upload_resumes_without_uploading_again(
    engine: ReportEngine, client: WebClient, slack: SlackServer, report: Report
) -> None:
    """The charts landed, then the thread's second section failed: the resume posts the
    sections missing and finds the charts in the thread by their file names."""
    store = DeliveryStore(engine.warehouse)
    slack.fail("chat.postMessage", status=200, error="fatal_error", when=lambda p: part_of(p) == 2)
    first = deliver(client, store, report, SARAH, charts=True)
    assert (first.status, first.error) == (
        "failed",
        f"thread reply 2 of {len(slack_thread(report))}: fatal_error",
    )
    assert shared(slack, first.channel) == [names(report)]

    slack.clear_faults()
    again = deliver(client, store, report, SARAH, charts=True)
    assert again.ok and again.ts == first.ts and again.charts == tuple(names(report))
    assert len(slack.calls_to(COMPLETE)) == 1 and shared(slack, again.channel) == [names(report)]
    assert parts(slack, again.channel) == list(range(1, len(slack_thread(report)) + 1))
    assert again.posted == len(slack_thread(report)) - 1


def test_a_failed_upload_fails_the_delivery_and_the_resume_uploads_the_charts(
    engine: ReportEngine, client: WebClient, slack: SlackServer, report: Report
) -> None:
    """Slack down through every retry of the upload: the delivery fails (the ledger says so)
    after the first section, and the next attempt uploads the missing charts, then the rest."""
    store = DeliveryStore(engine.warehouse)
    slack.fail("files.getUploadURLExternal", status=503)
    poster = Poster(client, sleep=lambda _: None)
    first = deliver(client, store, report, SARAH, poster=poster, charts=True)
    assert (first.status, first.error) == ("failed", "chart images: service_unavailable")
    assert store.get(report.report_id, SARAH).status == "failed"  # type: ignore[union-attr]
    assert shared(slack, first.channel) == [] and parts(slack, first.channel) == [1]

    slack.clear_faults()
    again = deliver(client, store, report, SARAH, poster=poster, charts=True)
    assert again.ok and shared(slack, again.channel) == [names(report)]
    assert len(slack.calls_to(COMPLETE)) == 1
    assert parts(slack, again.channel) == list(range(1, len(slack_thread(report)) + 1))


def test_an_upload_whose_answer_was_lost_is_found_not_uploaded_again(
    engine: ReportEngine, client: WebClient, slack: SlackServer, report: Report
) -> None:
    """completeUploadExternal shared the files, then the answer was a 500: the poster looks in
    the thread before trying again, finds the charts and goes on."""
    slack.fail(COMPLETE, status=500, times=1, after=True)
    sent = deliver(
        client, DeliveryStore(engine.warehouse), report, SARAH,
        poster=Poster(client, sleep=lambda _: None), charts=True,
    )  # fmt: skip
    assert sent.ok and sent.charts == tuple(names(report))
    assert len(slack.calls_to(COMPLETE)) == 1 and shared(slack, sent.channel) == [names(report)]


def test_lost_ledger_writes_find_the_charts_instead_of_uploading_again(
    engine: ReportEngine, client: WebClient, slack: SlackServer, report: Report
) -> None:
    """A process killed as it delivered can lose its ledger writes: the row reads as never
    tried, yet the thread has everything. Nothing is posted or uploaded again."""
    store = DeliveryStore(engine.warehouse)
    first = deliver(client, store, report, SARAH, charts=True)
    engine.warehouse.execute(
        "UPDATE report_deliveries SET status = 'pending', attempts = 0, slack_channel_id = NULL, "
        "message_ts = NULL, delivered_at = NULL"
    )
    again = deliver(client, store, report, SARAH, charts=True)
    assert (again.status, again.ts, again.posted, again.charts) == ("delivered", first.ts, 0, first.charts)
    assert len(slack.calls_to(COMPLETE)) == 1


def test_an_upload_refused_for_good_delivers_the_report_without_its_charts(
    engine: ReportEngine, client: WebClient, slack: SlackServer, report: Report
) -> None:
    """An app not yet reinstalled with files:write: the text is the report, so it goes; the
    missing pictures are said (and alerted by the channel)."""
    slack.fail("files.getUploadURLExternal", status=200, error="missing_scope")
    sent = deliver(client, DeliveryStore(engine.warehouse), report, SARAH, charts=True)
    assert sent.ok and (sent.charts, sent.charts_error) == ((), "missing_scope")
    assert parts(slack, sent.channel) == list(range(1, len(slack_thread(report)) + 1))
    assert not slack.calls_to(COMPLETE)


def test_a_rate_limited_upload_waits_and_is_completed_once(
    engine: ReportEngine, client: WebClient, slack: SlackServer, report: Report
) -> None:
    slack.fail(COMPLETE, status=429, times=1, retry_after=2)
    waited: list[float] = []
    sent = deliver(
        client, DeliveryStore(engine.warehouse), report, SARAH,
        poster=Poster(client, sleep=waited.append), charts=True,
    )  # fmt: skip
    assert sent.ok and waited == [2.0]
    assert [c.status for c in slack.calls_to(COMPLETE)] == [429, 200]
    assert shared(slack, sent.channel) == [names(report)]


def test_the_charts_reply_is_paced_like_a_post(
    engine: ReportEngine, client: WebClient, slack: SlackServer, report: Report
) -> None:
    """One channel, one post per interval: the parent, the charts and the sections take one
    interval more than the text alone."""
    took = []
    for charts in (False, True):
        clock = FakeClock()
        pacer = Pacer(interval=1.0, clock=clock.now, sleep=clock.sleep)
        sent = deliver(
            client, DeliveryStore(engine.warehouse), report, SARAH, f"{SARAH}#{charts}",
            poster=Poster(client, pacer), charts=charts,
        )  # fmt: skip
        assert sent.ok
        took.append(clock.at)
    sections = len(slack_thread(report))
    assert took == [float(sections), float(sections + 1)]


def test_a_slash_command_gets_a_report_thread_with_the_ebr_charts(demo_home: Path) -> None:
    """End to end as `weekly-report bot` runs it (settings from the environment, charts on by
    default): the EBR's own charts arrive in the thread, each a PNG with its title and alt text."""
    with SlackServer(echo_bot_events=True) as server:
        server.add_user(SARAH, email="sarah.johnson@example.com", name="Sarah Johnson")
        with running_bot(server, bot_environ(server, demo_home)) as bot:
            server.send_slash_command("/weekly-report", "CUST_12345", user_id=SARAH)
            server.wait_for(lambda: len(parts(server, SARAH)) >= 3, timeout=60, what="the report's thread")
            assert bot.services.wait_idle(30)
        [with_files] = [m for m in thread(server, SARAH) if m.get("files")]
        assert thread(server, SARAH)[1]["ts"] == with_files["ts"]  # after the first section
        report_id = with_files["files"][0]["name"].removesuffix("-revenue-trend.png")
        assert [f["name"] for f in with_files["files"]] == [
            chart_filename(report_id, "revenue-trend"), chart_filename(report_id, "channel-mix"),
        ]  # fmt: skip
        assert all(f["title"] and len(f["alt_txt"]) > 40 for f in with_files["files"])
        assert all((u.content or b"").startswith(b"\x89PNG") for u in server.uploaded_files(SARAH))


def test_an_answers_charts_are_shared_once_in_its_thread(client: WebClient, slack: SlackServer) -> None:
    """A Cortex answer's charts (no ledger row): one reply; a lost answer is found, not repeated;
    an error no retry mends is returned, not raised (the answer's text is already posted)."""
    parent = client.chat_postMessage(channel=SARAH, text="a report")
    channel, ts = str(parent["channel"]), str(parent["ts"])
    charts = [
        Chart(
            name,
            f"Answer chart {name}",
            f"Bar chart: {name} {n * 10}.",
            bars([{"figure": name, "value": n * 10}]),
        )
        for n, name in enumerate(CHART_NAMES, start=1)
    ]
    slack.fail(COMPLETE, status=500, times=1, after=True)
    poster = Poster(client, sleep=lambda _: None)
    assert share_charts(poster, channel, ts, charts, "R-1-answer-7") is None
    assert shared(slack, channel) == [[f"R-1-answer-7-{n}.png" for n in CHART_NAMES]]
    assert len(slack.calls_to(COMPLETE)) == 1

    slack.fail("files.getUploadURLExternal", status=200, error="missing_scope")
    assert share_charts(poster, channel, ts, charts, "R-1-answer-8") == "missing_scope"


def test_a_chart_that_cannot_be_drawn_is_left_out_and_said_like_a_refused_upload(
    engine: ReportEngine,
    client: WebClient,
    slack: SlackServer,
    report: Report,
    charted: ChartedReview,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    good, other = ChartedReview.charts(charted, report)
    too_wide = dataclasses.replace(other, spec={**other.spec, "width": 5000})  # over MAX_DRAWING_SIDE
    monkeypatch.setattr(charted, "charts", lambda _report: (good, too_wide))
    sent = deliver(client, DeliveryStore(engine.warehouse), report, SARAH, charts=True)
    assert sent.ok and sent.charts == (names(report)[0],)
    assert sent.charts_error == "1 of 2 chart(s) could not be drawn"
    assert shared(slack, sent.channel) == [names(report)[:1]]
