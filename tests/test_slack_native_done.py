"""Issue 16's "done when", in one story, as `weekly-report bot` runs (settings from the
environment, charts and streaming on by default) against the local Slack server:

a slash command produces a report thread with the EBR's chart images and three suggested
questions; a suggested question clicked is streamed into the thread with a thread status and
ends with feedback buttons, whose click is stored; and the HTML email of the same report
carries the same images inline, byte for byte."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.channels.base import Parcel, Recipient
from bot.channels.email.render import render
from bot.channels.slack_dm.delivery import PART_EVENT
from bot.channels.slack_dm.render import SUGGESTED_ACTION
from bot.charts.files import chart_filename
from bot.runner import BotRunner
from bot.slack.answers import FEEDBACK_ACTION
from core.kinds import EBR
from tests.slack_server import SlackServer
from tests.test_bot_socket_mode import bot_environ, running_bot

SARAH, SARAH_EMAIL = "U0SARAH01", "sarah.johnson@example.com"
CUSTOMER = "CUST_12345"


@pytest.fixture
def slack() -> Iterator[SlackServer]:
    with SlackServer(echo_bot_events=True) as server:
        server.add_user(SARAH, email=SARAH_EMAIL, name="Sarah Johnson")
        yield server


@pytest.fixture
def bot(demo_home: Path, slack: SlackServer) -> Iterator[BotRunner]:
    with running_bot(slack, bot_environ(slack, demo_home)) as runner:  # charts on, as by default
        yield runner


def replies(slack: SlackServer) -> list[dict[str, Any]]:
    """The bot's thread replies in Sarah's DM, oldest first."""
    return [m for m in slack.messages(SARAH) if m.get("thread_ts") and m["thread_ts"] != m["ts"]]


def report_parts(slack: SlackServer) -> list[dict[str, Any]]:
    return [m for m in replies(slack) if (m.get("metadata") or {}).get("event_type") == PART_EVENT]


def test_a_slash_command_thread_has_charts_and_suggestions_a_click_streams_an_answer_with_feedback(
    bot: BotRunner, slack: SlackServer
) -> None:
    slack.send_slash_command("/weekly-report", CUSTOMER, user_id=SARAH)
    slack.wait_for(lambda: len(report_parts(slack)) == 4, timeout=60, what="the report's thread")
    assert bot.services.wait_idle(30)
    engine = bot.services.engine
    report = engine.store.load(CUSTOMER)

    # The thread: the EBR's two charts as PNG images with alt text, and its suggested questions.
    [shared] = [m for m in replies(slack) if m.get("files")]
    charts = list(EBR.charts(report))
    assert [c.name for c in charts] == ["revenue-trend", "channel-mix"]
    assert [f["name"] for f in shared["files"]] == [chart_filename(report.report_id, c.name) for c in charts]
    assert [f["alt_txt"] for f in shared["files"]] == [c.alt_text for c in charts]
    uploaded = {u.name: u.content for u in slack.uploaded_files(SARAH)}
    assert all((png or b"").startswith(b"\x89PNG\r\n\x1a\n") for png in uploaded.values())
    suggestions = report_parts(slack)[-1]
    [actions] = [b for b in suggestions["blocks"] if b["type"] == "actions"]
    questions = [e["value"] for e in actions["elements"]]
    assert questions == list(EBR.suggested_questions(report)) and len(questions) == 3

    # A suggested question clicked: streamed into the thread with a status, ending with feedback.
    ack = slack.wait_ack(
        slack.click(SARAH, slack.dm_channel(SARAH), suggestions["ts"], f"{SUGGESTED_ACTION}_1")
    )
    assert ack.latency_seconds < 3
    slack.wait_for(
        lambda: any(not s.streaming for s in slack.streams(SARAH)), timeout=30, what="the streamed answer"
    )
    assert bot.services.wait_idle(30)
    [stream] = slack.streams(SARAH)
    assert stream.thread_ts == suggestions["thread_ts"] and stream.text.strip()
    statuses = [s.status for s in slack.status_history(slack.dm_channel(SARAH), stream.thread_ts)]
    assert statuses[0] and statuses[-1] == ""  # shown while working, cleared on the answer
    [row] = engine.warehouse.query("SELECT followup_id, question, feedback FROM followups")
    assert row["question"] == questions[0] and row["feedback"] is None
    [feedback] = [b for b in stream.blocks or [] if b["type"] == "context_actions"]
    assert feedback["elements"][0]["type"] == "feedback_buttons"

    # The click on "helpful" is stored with the follow-up.
    slack.wait_ack(
        slack.click(
            SARAH, slack.dm_channel(SARAH), stream.ts, FEEDBACK_ACTION, f"positive {row['followup_id']}"
        )
    )
    slack.wait_for(
        lambda: engine.warehouse.scalar("SELECT feedback FROM followups") == "positive",
        timeout=30,
        what="the feedback stored",
    )

    # The same charts inline in the HTML email of the same report: the same PNG bytes.
    parcel = Parcel("ebr", report.week, Recipient("CSM001", "Sarah Johnson", SARAH_EMAIL), (report,))
    message = render(parcel, "Weekly Report <reports@acme.test>", charts=True)
    inline = {
        p.get_filename(): p.get_payload(decode=True)
        for p in message.walk()
        if p.get_content_maintype() == "image"
    }
    assert inline == uploaded
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert html.count('src="cid:') == 2
