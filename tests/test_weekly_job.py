"""The Monday job in-process against the local Slack server: exactly once, faults, pauses,
the rollup and the alerts. (A real `send-weekly` killed mid-run is in test_weekly_cli.py.)"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient

from bot.channels.slack_dm.delivery import PART_EVENT, REPORT_EVENT
from bot.channels.slack_dm.render import slack_thread
from bot.pacing import Pacer
from bot.slack.rollup import rollup_messages
from bot.weekly import ALERT_EVENT, ROLLUP_EVENT, WeeklyJob
from core import (
    DeliveryStore,
    Preferences,
    ReportEngine,
    RunClaims,
    Settings,
    Week,
    collect_rollup,
    make_agent,
)
from core.warehouse.embedded import EmbeddedWarehouse
from tests.conftest import CSMS, REPORT_WEEK
from tests.cortex_server import CortexServer, Fault
from tests.slack_server import SlackServer

WEEK = Week(REPORT_WEEK)
ROLLUP, ALERTS = "C0ROLLUP01", "C0ALERTS01"


@pytest.fixture
def client(slack: SlackServer) -> WebClient:
    return WebClient(token=slack.bot_token, base_url=slack.api_url)


@pytest.fixture
def team_settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, rollup_channel=ROLLUP, alert_channel=ALERTS)


def job(engine: ReportEngine, settings: Settings, client: WebClient, owner: str = "bot-a") -> WeeklyJob:
    """A job with fast pacing (the per-channel second is the CLI tests' and the benchmark's)."""
    return WeeklyJob(
        settings, engine, DeliveryStore(engine.warehouse), client,
        pacer=Pacer(interval=0.0), claims=RunClaims(engine.warehouse, owner=owner),
    )  # fmt: skip


def reports_in_dm(slack: SlackServer, user_id: str) -> dict[str, Counter[int]]:
    """customer id -> how many times each part (0: the parent) is in the user's DM."""
    found: dict[str, Counter[int]] = {}
    for m in slack.messages(slack.dm_channel(user_id)):
        metadata = m.get("metadata") or {}
        payload = metadata.get("event_payload") or {}
        if metadata.get("event_type") == REPORT_EVENT:
            found.setdefault(payload["customer_id"], Counter())[0] += 1
        elif metadata.get("event_type") == PART_EVENT:
            found.setdefault(payload["customer_id"], Counter())[int(payload["part"])] += 1
    return found


def assert_each_report_exactly_once(slack: SlackServer, engine: ReportEngine, csm_ids: Any = CSMS) -> None:
    for csm_id in csm_ids:
        user_id, _, customers = CSMS[csm_id]
        found = reports_in_dm(slack, user_id)
        assert set(found) == set(customers), csm_id
        for customer_id in customers:
            parts = len(slack_thread(engine.store.load(customer_id, WEEK)))  # sections + suggestions
            assert found[customer_id] == Counter(range(parts + 1)), (csm_id, customer_id)
        # every reply sits in its own report's thread
        parents = {
            m["ts"]
            for m in slack.messages(slack.dm_channel(user_id))
            if m.get("thread_ts") in (None, m["ts"])
        }
        replies = [
            m for m in slack.messages(slack.dm_channel(user_id)) if m.get("thread_ts") not in (None, m["ts"])
        ]
        assert all(r["thread_ts"] in parents for r in replies)


def test_a_run_dms_every_report_once_and_stores_its_summary(
    engine: ReportEngine, settings: Settings, client: WebClient, slack: SlackServer
) -> None:
    summary = job(engine, settings, client).run(WEEK, scope="weekly:all")

    assert {k: summary[k] for k in ("status", "reports_generated", "reports_failed", "dms_sent", "dms_failed")} == {
        "status": "completed", "reports_generated": 9, "reports_failed": 0, "dms_sent": 9, "dms_failed": 0,
    }  # fmt: skip
    assert summary["messages_posted"] == len(slack.calls_to("chat.postMessage")) == 45
    assert_each_report_exactly_once(slack, engine)
    [stored] = RunClaims(engine.warehouse).records(WEEK, "weekly:all")
    assert stored.status == "completed" and dict(stored.counts) == {
        "reports_generated": 9, "reports_failed": 0, "dms_sent": 9, "dms_failed": 0,
    }  # fmt: skip

    again = job(engine, settings, client, owner="bot-b").run(WEEK, scope="weekly:all")
    assert again["already_claimed"] and again["status"] == "completed" and again["dms_sent"] == 9
    # the ledger alone also stops a second delivery (another scope: a CSM's own run)
    one = job(engine, settings, client, owner="bot-c").run(WEEK, ["CSM001"], scope="weekly:csm:CSM001")
    assert (one["status"], one["dms_sent"], one["messages_posted"]) == ("completed", 3, 0)
    assert len(slack.calls_to("chat.postMessage")) == 45


def test_one_post_in_five_answered_429_every_report_still_arrives_once(
    engine: ReportEngine, settings: Settings, client: WebClient, slack: SlackServer
) -> None:
    rule = slack.fail("chat.postMessage", status=429, retry_after=1, every=5)
    the_job = job(engine, settings, client)
    summary = the_job.run(WEEK, scope="weekly:all")
    assert (summary["status"], summary["dms_sent"], summary["dms_failed"]) == ("completed", 9, 0)
    assert_each_report_exactly_once(slack, engine)
    refused = [c for c in slack.calls_to("chat.postMessage") if c.status == 429]
    assert rule.fired == len(refused) >= 7 and the_job.poster is not None
    assert the_job.poster.rate_limited == rule.fired  # each seen once, by our layer (no SDK retries)


def test_server_errors_are_retried_without_duplicates(
    engine: ReportEngine, settings: Settings, client: WebClient, slack: SlackServer
) -> None:
    rule = slack.fail("chat.postMessage", status=500, every=4)
    summary = job(engine, settings, client).run(WEEK, scope="weekly:all")
    assert (summary["status"], summary["dms_sent"], summary["dms_failed"]) == ("completed", 9, 0)
    assert rule.fired >= 9
    assert_each_report_exactly_once(slack, engine)


def test_an_interrupted_thread_resumes_with_only_the_missing_replies(
    engine: ReportEngine, settings: Settings, client: WebClient, slack: SlackServer
) -> None:
    sarah = slack.dm_channel("U0SARAH01")

    def third_reply_to_sarah(params: dict[str, Any]) -> bool:
        metadata = params.get("metadata") or {}
        payload = metadata.get("event_payload") or {}
        return params.get("channel") == sarah and payload.get("part") == 3

    slack.fail("chat.postMessage", status=200, error="fatal_error", when=third_reply_to_sarah)
    first = job(engine, settings, client).run(WEEK, scope="weekly:all")
    assert (first["status"], first["dms_sent"], first["dms_failed"]) == ("completed_with_errors", 6, 3)
    assert all("thread reply 3 of 4: fatal_error" in f for f in first["failures"])
    slack.clear_faults()
    posted_before = len(slack.calls_to("chat.postMessage"))

    rerun = job(engine, settings, client, owner="bot-b").run(WEEK, scope="weekly:all", retry_errors=True)
    assert (rerun["status"], rerun["dms_sent"], rerun["dms_failed"], rerun["messages_posted"]) == (
        "completed", 9, 0, 6,
    )  # fmt: skip
    assert len(slack.calls_to("chat.postMessage")) == posted_before + 6  # parts 3 and 4 of 3 reports
    assert_each_report_exactly_once(slack, engine)


def test_a_parent_posted_but_not_recorded_is_found_not_posted_again(
    engine: ReportEngine, settings: Settings, client: WebClient, slack: SlackServer
) -> None:
    job(engine, settings, client).run(WEEK, ["CSM002"], scope="weekly:csm:CSM002")
    # As if killed right after the parent's post: the ledger says "sending", nothing recorded.
    engine.warehouse.execute(
        "UPDATE report_deliveries SET status = 'sending', slack_channel_id = NULL, message_ts = NULL, "
        "delivered_at = NULL WHERE recipient = 'U0MICHAEL1'"
    )
    michael = slack.dm_channel("U0MICHAEL1")
    replies = [m for m in slack.messages(michael) if m.get("thread_ts") not in (None, m["ts"])]
    for reply in replies[-2:]:  # and the last two replies of the second report never made it
        slack.workspace.delete(michael, reply["ts"])
    engine.warehouse.execute("UPDATE report_runs SET status = 'failed' WHERE scope = 'weekly:csm:CSM002'")
    before = len(slack.calls_to("chat.postMessage"))

    # The rerun looks again for the missing replies once a post of the dead attempt could
    # no longer land (its client's timeout after it began): 1 s here, not the default 30.
    quick = WebClient(token=slack.bot_token, base_url=slack.api_url, timeout=1)
    rerun = job(engine, settings, quick, owner="bot-b").run(WEEK, ["CSM002"], scope="weekly:csm:CSM002")
    assert (rerun["status"], rerun["dms_sent"], rerun["messages_posted"]) == ("completed", 2, 2)
    assert len(slack.calls_to("chat.postMessage")) == before + 2
    assert_each_report_exactly_once(slack, engine, ["CSM002"])
    rows = engine.warehouse.query(
        "SELECT status, message_ts FROM report_deliveries WHERE recipient = 'U0MICHAEL1'"
    )
    assert all(r["status"] == "delivered" and r["message_ts"] for r in rows)


def test_two_copies_at_once_send_one_set_of_dms(
    engine: ReportEngine, settings: Settings, client: WebClient, slack: SlackServer
) -> None:
    jobs = [job(engine, settings, client, owner=f"bot-{n}") for n in range(2)]
    start = threading.Barrier(2)
    results: list[dict[str, Any]] = [{}, {}]

    def run(n: int) -> None:
        start.wait()
        results[n] = jobs[n].run(WEEK, scope="weekly:America/Los_Angeles", trigger="schedule")

    threads = [threading.Thread(target=run, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(bool(r.get("already_claimed")) for r in results) == [False, True]
    assert len(RunClaims(engine.warehouse).records(WEEK, "weekly:America/Los_Angeles")) == 1
    assert len(slack.calls_to("chat.postMessage")) == 45
    assert_each_report_exactly_once(slack, engine)


def test_a_paused_csm_gets_nothing_until_resumed(
    engine: ReportEngine, settings: Settings, client: WebClient, slack: SlackServer
) -> None:
    preferences = Preferences(engine.warehouse, settings.current_date)
    preferences.pause("CSM001", by="U0SARAH01")
    summary = job(engine, settings, client).run(WEEK, scope="weekly:all")
    assert summary["paused"] == ["CSM001"] and summary["dms_sent"] == 6 and summary["status"] == "completed"
    assert reports_in_dm(slack, "U0SARAH01") == {}
    assert_each_report_exactly_once(slack, engine, ["CSM002", "CSM003", "CSM004"])

    assert preferences.resume("CSM001", by="U0SARAH01")
    later = job(engine, settings, client, owner="bot-b").run(WEEK, ["CSM001"], scope="weekly:csm:CSM001")
    assert later["paused"] == [] and later["dms_sent"] == 3
    assert_each_report_exactly_once(slack, engine)


def test_the_rollup_is_posted_once_with_the_stored_figures(
    engine: ReportEngine, team_settings: Settings, client: WebClient, slack: SlackServer
) -> None:
    Preferences(engine.warehouse, team_settings.current_date).pause("CSM004")
    job(engine, team_settings, client).run(WEEK, scope="weekly:all")
    [rollup] = slack.messages(ROLLUP)
    team = collect_rollup(
        engine.warehouse,
        WEEK,
        Preferences(engine.warehouse, team_settings.current_date).pauses(team_settings.current_date()),
    )
    [expected] = rollup_messages(team, WEEK)
    assert rollup["blocks"] == expected.blocks and rollup["metadata"]["event_type"] == ROLLUP_EVENT
    text = rollup["text"]
    assert (
        "Northwind Outfitters" in text and "Summit Learning Academy" in text
    )  # a paused CSM's customers too
    assert "Monday DMs paused until resumed" in text
    assert any(arrow in text for arrow in ("▲", "▼", "▬"))
    assert slack.messages(ALERTS) == []  # nothing went wrong

    # the same run resumed (its owner died): no second rollup, no second DM
    engine.warehouse.execute("UPDATE report_runs SET status = 'failed' WHERE scope = 'weekly:all'")
    again = job(engine, team_settings, client, owner="bot-b").run(WEEK, scope="weekly:all")
    assert again["run_id"] and again["messages_posted"] == 0
    assert len(slack.messages(ROLLUP)) == 1


def test_a_csm_not_in_slack_and_a_failed_dm_are_alerted(
    engine: ReportEngine, team_settings: Settings, client: WebClient, slack: SlackServer
) -> None:
    slack.workspace.users.pop("U0JAMES01")  # James left the workspace
    emma = slack.dm_channel("U0EMMA001")
    slack.fail("chat.postMessage", status=200, error="is_archived", when=lambda p: p.get("channel") == emma)
    summary = job(engine, team_settings, client).run(WEEK, scope="weekly:all")

    assert (summary["status"], summary["dms_sent"], summary["dms_failed"]) == ("completed_with_errors", 5, 4)
    assert summary["not_in_slack"] == ["CSM004"]
    [alert] = slack.messages(ALERTS)
    assert alert["metadata"]["event_type"] == ALERT_EVENT
    assert "CSM004 (james.williams@example.com): not found in Slack" in alert["text"]
    assert "to CSM003 failed after retries: parent message: is_archived" in alert["text"]
    assert "xoxb" not in alert["text"]
    [stored] = RunClaims(engine.warehouse).records(WEEK, "weekly:all")
    assert stored.status == "completed_with_errors" and stored.counts["dms_failed"] == 4


def test_a_failed_run_is_stored_and_alerted(
    engine: ReportEngine, team_settings: Settings, client: WebClient, slack: SlackServer
) -> None:
    engine.warehouse.execute("DROP TABLE CUSTOMER_SUCCESS_DATA.ANALYTICS.historical_engagement")
    summary = job(engine, team_settings, client).run(WEEK, scope="weekly:all")
    assert summary["status"] == "failed" and summary["dms_sent"] == 0
    [alert] = slack.messages(ALERTS)
    assert "the run failed" in alert["text"]
    [stored] = RunClaims(engine.warehouse).records(WEEK, "weekly:all")
    assert stored.status == "failed"


class FrozenClock:
    """The claims' clock: stands still until the test moves it."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 11, 16, 16, 0)

    def __call__(self) -> dt.datetime:
        return self.now


def test_a_stuck_run_stops_heartbeating_and_stops_delivering(
    settings: Settings, client: WebClient, slack: SlackServer
) -> None:
    clock = FrozenClock()
    with CortexServer() as cortex, EmbeddedWarehouse(settings.home) as warehouse:
        cortex.faults.append(Fault(stream="endless", latency=0.1, lasts=10))  # no turn ever finishes
        on_cortex = dataclasses.replace(
            settings, agent="cortex", cortex_base_url=cortex.url, cortex_token=cortex.token,
            cortex_turn_timeout=1.0, snowflake_connections_file=Path("/nonexistent/connections.toml"),
        )  # fmt: skip
        engine = ReportEngine(on_cortex, warehouse, make_agent(on_cortex, warehouse))
        claims = RunClaims(warehouse, owner="bot-a", clock=clock, beat_every=0.01)
        weekly = WeeklyJob(
            on_cortex, engine, DeliveryStore(warehouse), client, pacer=Pacer(interval=0.0), claims=claims
        )
        assert weekly.stall == claims.lease  # 2 × (1 + 3 sections) × 1 s is less than the 10-minute lease
        summary: dict[str, Any] = {}
        running = threading.Thread(target=lambda: summary.update(weekly.run(WEEK, ["CSM002"])))
        running.start()
        for _ in range(1000):
            if cortex.runs():
                break
            threading.Event().wait(0.01)
        clock.now += weekly.stall + dt.timedelta(seconds=1)  # the first turn is "stuck" past the bound
        running.join(timeout=30)
        [record] = claims.records(WEEK, "weekly:all")
    assert summary["status"] == "failed" and summary["dms_sent"] == 0
    assert any("the run made no progress for 0:10:01" in f for f in summary["failures"])
    assert not slack.messages(slack.dm_channel(CSMS["CSM002"][0]))  # it gave up its claim: it sends nothing
    assert record.status == "failed" and record.owner == "bot-a"


def test_a_customer_without_data_is_told_to_its_csm_briefly_once(
    engine: ReportEngine, settings: Settings, client: WebClient, slack: SlackServer
) -> None:
    for table, column in (("historical_engagement", "activity_date"), ("conversions", "conversion_date")):
        engine.warehouse.execute(
            f"DELETE FROM CUSTOMER_SUCCESS_DATA.ANALYTICS.{table} WHERE customer_id = 'CUST_78901' "
            f"AND {column} BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)",
            [WEEK.start, WEEK.end],
        )
    first = job(engine, settings, client).run(WEEK, ["CSM003"], scope="weekly:csm:CSM003")
    assert (first["status"], first["dms_sent"], first["dms_failed"]) == ("completed", 2, 0)
    assert (first["reports_generated"], first["reports_no_data"]) == (1, 1)  # counted, not lost
    user_id = CSMS["CSM003"][0]
    assert reports_in_dm(slack, user_id)["CUST_78901"] == Counter({0: 1})  # the parent, no thread
    [told] = [m for m in slack.messages(slack.dm_channel(user_id)) if "Ironridge" in m.get("text", "")]
    assert "No data this week" in told["text"] and "$0" not in told["text"]
    posted = len(slack.calls_to("chat.postMessage"))
    again = job(engine, settings, client, owner="bot-b").run(WEEK, ["CSM003"], scope="weekly:all")
    assert again["messages_posted"] == 0 and len(slack.calls_to("chat.postMessage")) == posted
