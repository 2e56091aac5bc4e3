"""`weekly-report send-weekly` as a real process against the local Slack server: run twice,
answered 429 one post in five, killed mid-run and started again, dry run, console."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from core import DeliveryStore, ReportEngine, RunClaims, Settings
from core.agent.testing import ScriptedAgent
from core.warehouse.embedded import EmbeddedWarehouse
from tests.slack_server import SlackServer
from tests.test_weekly_job import WEEK, assert_each_report_exactly_once

TIMEOUT = 180  # generous: a run posts 45 messages (9 reports, each a parent, 3 sections and the suggested questions), 15 of them to one DM at one a second
IN_FLIGHT = 3.0  # WEEKLY_REPORT_SLACK_TIMEOUT: how long a dead process's post may still land
# WEEKLY_REPORT_POST_INTERVAL of a paced run: the process paces every DM channel at this interval.
# Slack's one second (the default) is test_pacing's subject; at 1 s the paced run took 31 s.
PACED_INTERVAL = 0.5
# The gaps are read on the server's clock: a post delayed on its way shortens the gap after it (seen:
# 49 ms under load). 50 ms, as when this test paced at 1 s and asserted 0.95 s.
JITTER = 0.05


def env(home: Path, slack: SlackServer | None, paced: bool) -> dict[str, str]:
    """`paced`: one post per PACED_INTERVAL per channel, as production paces at Slack's second; else
    no pause (not the subject).
    A restart waits IN_FLIGHT seconds (not 30) before it posts what a killed run may have in flight."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "WEEKLY_REPORT_"))}
    environ |= {
        "WEEKLY_REPORT_HOME": str(home),
        "WEEKLY_REPORT_TODAY": "2026-11-18",
        "WEEKLY_REPORT_CONFIG": str(home / "no-such-config.toml"),
        "WEEKLY_REPORT_CHARTS": "off",  # chart images are test_slack_charts's subject
    }
    environ["WEEKLY_REPORT_POST_INTERVAL"] = str(PACED_INTERVAL) if paced else "0"
    environ["WEEKLY_REPORT_SLACK_TIMEOUT"] = str(IN_FLIGHT)
    if slack is not None:
        environ |= {"SLACK_BOT_TOKEN": slack.bot_token, "SLACK_API_URL": slack.api_url}
    return environ


def send_weekly(
    home: Path, slack: SlackServer | None, *args: str, paced: bool = False
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "send-weekly", *args],
        env=env(home, slack, paced), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def finish(process: subprocess.Popen[str]) -> tuple[int, dict[str, Any], str]:
    out, err = process.communicate(timeout=TIMEOUT)
    start = out.rfind("\n{")
    summary = json.loads(out[start + 1 if start >= 0 else out.index("{") :])
    return process.returncode, summary, err


def check_delivered(home: Path, slack: SlackServer) -> None:
    settings = Settings(home=home)
    with EmbeddedWarehouse(home) as warehouse:
        engine = ReportEngine(
            settings, warehouse, ScriptedAgent({})
        )  # reads only: any question fails the test
        assert_each_report_exactly_once(slack, engine)
        rows = warehouse.query("SELECT status FROM report_deliveries WHERE report_id LIKE 'CUST_%'")
        assert [r["status"] for r in rows] == ["delivered"] * 9


def test_send_weekly_twice_with_one_post_in_five_rate_limited_sends_each_report_once(
    demo_home: Path, slack: SlackServer
) -> None:
    rule = slack.fail("chat.postMessage", status=429, retry_after=1, every=5)
    code, summary, err = finish(send_weekly(demo_home, slack, paced=True))
    assert code == 0, err
    assert {k: summary[k] for k in ("status", "reports_generated", "reports_failed", "dms_sent", "dms_failed")} == {
        "status": "completed", "reports_generated": 9, "reports_failed": 0, "dms_sent": 9, "dms_failed": 0,
    }  # fmt: skip
    assert rule.fired >= 7
    code, again, _ = finish(send_weekly(demo_home, slack, paced=True))
    assert code == 0 and again["already_claimed"] and again["run_id"] == summary["run_id"]
    check_delivered(demo_home, slack)
    posted = [c for c in slack.calls_to("chat.postMessage") if c.status == 200]
    assert len(posted) == 45
    # one message per PACED_INTERVAL per DM channel, at most (the server's clock, less JITTER)
    by_channel: dict[str, list[float]] = {}
    for call in posted:
        by_channel.setdefault(call.params["channel"], []).append(call.at)
    gaps = [b - a for times in by_channel.values() for a, b in itertools.pairwise(times)]
    assert min(gaps) >= PACED_INTERVAL - JITTER


@pytest.mark.parametrize("kill_at", [1, 7])
def test_killed_mid_run_and_started_again_no_duplicates_no_losses(
    demo_home: Path, slack: SlackServer, kill_at: int
) -> None:
    """SIGKILL as the server stores the Nth post: that post lands, its answer never arrives."""
    victim: list[subprocess.Popen[str]] = []
    seen = [0]

    def kill_at_nth_post(params: dict[str, Any]) -> bool:
        seen[0] += 1
        if seen[0] == kill_at:
            os.kill(victim[0].pid, signal.SIGKILL)
        return False  # never refuse: the post is stored

    slack.fail("chat.postMessage", status=500, when=kill_at_nth_post)
    victim.append(send_weekly(demo_home, slack))
    victim[0].communicate(timeout=TIMEOUT)  # reaps it: the claim's owner is gone
    assert victim[0].returncode == -signal.SIGKILL
    with EmbeddedWarehouse(demo_home) as warehouse:
        [run] = RunClaims(warehouse).records(WEEK, "weekly:all")
        assert run.status == "running"
        unfinished = [
            r for r in warehouse.query("SELECT status FROM report_deliveries") if r["status"] != "delivered"
        ]
        assert unfinished  # it really stopped midway
    code, summary, err = finish(send_weekly(demo_home, slack))
    assert code == 0, err
    assert (summary["status"], summary["dms_sent"], summary["run_id"]) == ("completed", 9, run.run_id)
    check_delivered(demo_home, slack)
    assert len([c for c in slack.calls_to("chat.postMessage") if c.status == 200]) == 45


def test_a_post_in_flight_when_the_process_is_killed_lands_late_and_is_not_posted_again(
    demo_home: Path, slack: SlackServer
) -> None:
    """Slack takes the first post, its sender is SIGKILLed, and the post is stored only after
    the restarted process has looked for it in that DM's history: a request sent before a
    crash can land late. The restart must not post it again (the parent, or any part)."""
    victim: list[subprocess.Popen[str]] = []
    held: dict[str, Any] = {}

    def kill_its_sender(params: dict[str, Any]) -> bool:
        os.kill(victim[0].pid, signal.SIGKILL)
        held.update(channel=params.get("channel"), killed=time.monotonic())
        return True

    def restart_looked() -> bool:  # the restart has read the held post's DM since the kill
        return any(
            c.at > held["killed"] and c.params.get("channel") == held["channel"]
            for c in slack.calls_to("conversations.history") + slack.calls_to("conversations.replies")
        )

    hold = slack.hold("chat.postMessage", restart_looked, when=kill_its_sender)
    victim.append(send_weekly(demo_home, slack))
    victim[0].communicate(timeout=TIMEOUT)
    assert victim[0].returncode == -signal.SIGKILL and hold.held == 1
    code, summary, err = finish(send_weekly(demo_home, slack))
    assert code == 0, err
    assert restart_looked()  # the held post landed after the restart's first look, not by timeout
    assert (summary["status"], summary["dms_sent"]) == ("completed", 9)
    check_delivered(demo_home, slack)
    assert len([c for c in slack.calls_to("chat.postMessage") if c.ok]) == 45


def test_dry_run_writes_nothing(demo_home: Path, slack: SlackServer) -> None:
    process = send_weekly(demo_home, slack, "--dry-run", "--csm-id", "CSM001")
    out, err = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 0, err
    assert "CSM001 sarah.johnson@example.com -> U0SARAH01" in out
    assert "CUST_12345 Northwind Outfitters: report to generate, DM not sent" in out
    assert slack.calls_to("chat.postMessage") == []
    with EmbeddedWarehouse(demo_home) as warehouse:
        for table in ("report_runs", "report_deliveries", "weekly_reports"):
            assert warehouse.scalar(f"SELECT COUNT(*) FROM {table}") == 0


def test_without_a_token_the_reports_go_to_the_console(demo_home: Path) -> None:
    process = send_weekly(demo_home, None, "--csm-id", "CSM002")
    out, err = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 0, err
    assert "Monday DMs for" in out and "Weekly report: Meridian Health Partners (CUST_45678)" in out
    summary = json.loads(out[out.rfind("\n{") + 1 :])
    assert (summary["delivered_to"], summary["dms_sent"]) == ("console", 2)
    with EmbeddedWarehouse(demo_home) as warehouse:
        assert DeliveryStore(warehouse).for_report("CUST_45678-20261109") == []
