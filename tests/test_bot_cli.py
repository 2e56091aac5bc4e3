"""`weekly-report console` and `weekly-report bot` as a person runs them."""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import main
from core import ReportStore
from core.warehouse.embedded import EmbeddedWarehouse
from tests.conftest import AS_OF
from tests.slack_server import SlackServer

ROOT = Path(__file__).resolve().parents[1]


def console(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], email: str, *lines: str
) -> str:
    monkeypatch.setattr(sys, "stdin", io.StringIO("".join(f"{line}\n" for line in lines)))
    assert main(["console", "--as", email]) == 0
    return capsys.readouterr().out


def test_console_runs_the_commands_dms_and_follow_ups_through_the_app(
    cli_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = console(
        monkeypatch, capsys, "Sarah.Johnson@example.com",
        "> too early", "/weekly-report help", "/weekly-report CUST_45678", "CUST_12345",
        "> What was revenue by channel last week?", "/home", "/remind me", "quit", "CUST_23456",
    )  # fmt: skip

    assert out.startswith("weekly-report console, as Sarah Johnson <Sarah.Johnson@example.com>.")
    assert "No report in this session yet" in out
    assert "• Northwind Outfitters: `CUST_12345`" in out  # help, with her customers
    assert ":no_entry: Sorry, CUST_45678 is not assigned to CSM001." in out
    assert "▌ Weekly report: Northwind Outfitters (CUST_12345)" in out  # the parent message
    assert out.count("  ↳ in thread:") == 5  # three sections, the suggested questions, the answer
    assert "weekly-report is thinking…" in out  # the thread's status while the answer is made
    answer = out.split("is thinking…")[1]  # then streamed into the thread
    assert "Revenue by channel" in answer and "email" in answer and "[Good answer] [Bad answer]" in answer
    assert "App Home:" in out and "*Next scheduled delivery:* Monday" in out
    assert "Only /weekly-report is a command here." in out
    assert "(CUST_23456)" not in out  # nothing after `quit` ran
    with EmbeddedWarehouse(cli_env) as warehouse:
        store = ReportStore(warehouse)
        assert store.statuses(["CUST_12345", "CUST_23456"], store.load("CUST_12345").week) == {
            "CUST_12345": "complete"
        }
        [row] = warehouse.query("SELECT asked_by, question FROM followups")
        assert row == {
            "asked_by": "Sarah.Johnson@example.com",
            "question": "What was revenue by channel last week?",
        }
        assert warehouse.scalar("SELECT COUNT(*) FROM report_deliveries WHERE status = 'delivered'") == 1


def test_console_for_someone_who_is_not_a_csm(
    cli_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = console(monkeypatch, capsys, "visitor@example.com", "CUST_12345", "/weekly-report all")
    assert out.count("Sorry, you are not a CSM in csm_assignments") == 2
    with EmbeddedWarehouse(cli_env) as warehouse:
        assert warehouse.scalar("SELECT COUNT(*) FROM report_runs") == 0


def test_console_needs_an_email(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["console", "--as", "sarah"]) == 2
    assert capsys.readouterr().err.strip() == (
        "error: --as needs an email address, e.g. sarah.johnson@example.com, not 'sarah'"
    )


def test_bot_without_tokens_says_what_to_set(
    cli_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    assert main(["bot"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: SLACK_BOT_TOKEN and SLACK_APP_TOKEN are not set;") and "\n" not in err
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-secret-1")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xoxb-secret-2")
    assert main(["bot"]) == 1
    err = capsys.readouterr().err
    assert "SLACK_APP_TOKEN must be an app-level token (xapp-...)" in err and "secret" not in err


def test_bot_with_a_token_slack_refuses(
    cli_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    with SlackServer() as slack:
        monkeypatch.setenv("SLACK_API_URL", slack.api_url)
        monkeypatch.setenv("SLACK_BOT_TOKEN", slack.bot_token)
        monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-not-this-one")
        assert main(["bot"]) == 1
    err = capsys.readouterr().err
    assert "error: Slack refused SLACK_APP_TOKEN (invalid_auth)" in err and "xapp-not" not in err


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[SlackServer]:
    with SlackServer() as server:
        server.add_user("U0SARAH01", email="sarah.johnson@example.com", name="Sarah Johnson")
        yield server


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_bot_serves_until_a_signal_then_stops_gracefully(
    demo_home: Path, slack: SlackServer, signum: int
) -> None:
    env = {
        key: value for key, value in os.environ.items() if key.upper() not in ("HTTP_PROXY", "HTTPS_PROXY")
    }  # fmt: skip
    env.update(
        WEEKLY_REPORT_HOME=str(demo_home), WEEKLY_REPORT_TODAY=AS_OF.isoformat(), SLACK_API_URL=slack.api_url,
        SLACK_BOT_TOKEN=slack.bot_token, SLACK_APP_TOKEN=slack.app_token,
        WEEKLY_REPORT_CONFIG=str(demo_home / "none.toml"),
    )  # fmt: skip
    bot = subprocess.Popen(
        [sys.executable, "-m", "bot", "bot"], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        slack.wait_connected(timeout=60)
        ack = slack.wait_ack(slack.send_slash_command("/weekly-report", "help", user_id="U0SARAH01"))
        assert ack.payload is not None and "Your customers" in ack.payload["text"]
        bot.send_signal(signum)
        _, logs = bot.communicate(timeout=60)
    finally:
        bot.kill()
    assert bot.returncode == 0
    assert "connected over Socket Mode" in logs and f"received {signal.Signals(signum).name}" in logs
    assert logs.rstrip().endswith("stopped")
    assert slack.bot_token not in logs and slack.app_token not in logs


def test_bot_with_slack_out_of_reach(
    cli_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("SLACK_API_URL", f"http://127.0.0.1:{port}/api")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-secret-1")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-secret-2")
    assert main(["bot"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: cannot reach Slack at http://127.0.0.1:{port}/api (")
    assert err.count("\n") == 1 and "secret" not in err
