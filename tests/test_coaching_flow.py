"""`weekly-report coaching`, run in-process (bot.cli.main) on the demo data against real local
servers: aiosmtpd for the emails, a Slack-webhook-like HTTP server for the team summary, the
local Slack server for the bot's channel, the DMs and the alerts.

The demo's report week is 2026-11-09..15: seven of the eight reps had calls (Tom Alvarez had
none), Priya Natarajan is new (no previous week).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from core import DeliveryStore, Settings
from core.warehouse.embedded import EmbeddedWarehouse
from tests.email_servers import SmtpServer
from tests.slack_server import SlackServer
from tests.webhook_server import Answer, WebhookServer

REPS = {  # the demo reps with calls in the report week: id -> (name, email)
    "REP001": ("Jane Smith", "jane.smith@example.com"),
    "REP002": ("David Park", "david.park@example.com"),
    "REP003": ("Priya Natarajan", "priya.natarajan@example.com"),
    "REP005": ("Aisha Okafor", "aisha.okafor@example.com"),
    "REP006": ("Lucas Meyer", "lucas.meyer@example.com"),
    "REP007": ("Hannah Kim", "hannah.kim@example.com"),
    "REP008": ("Ryan O'Connor", "ryan.oconnor@example.com"),
}
TOM = ("REP004", "Tom Alvarez", "tom.alvarez@example.com")
MANAGERS = {
    "MGR001": ("U0OLIVIA01", "olivia.bennett@example.com"),
    "MGR002": ("U0MARCUS01", "marcus.reid@example.com"),
}
TEAMS = {"MGR001": ("REP001", "REP002", "REP003"), "MGR002": ("REP005", "REP006", "REP007", "REP008")}
COACHING_CHANNEL, ALERTS = "C0COACH001", "C0ALERTS01"
TABLES = ("weekly_reports", "report_runs", "report_deliveries")
HEADER = "📊 Weekly Coaching Report - Week of November 9, 2026"


@pytest.fixture
def smtp(cli_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    for name in (
        "SLACK_BOT_TOKEN",
        "SLACK_WEBHOOK_URL",
        "WEEKLY_REPORT_COACHING_CHANNEL",
        "WEEKLY_REPORT_ALERT_CHANNEL",
        "SENDGRID_API_KEY",
        "AWS_ACCESS_KEY_ID",
        "WEEKLY_REPORT_EMAIL_PROVIDER",
    ):
        monkeypatch.delenv(name, raising=False)
    with SmtpServer() as server:
        monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("SMTP_PORT", str(server.port))
        monkeypatch.setenv("WEEKLY_REPORT_EMAIL_FROM", "Coaching <coaching@example.com>")
        yield server


@pytest.fixture
def webhook(monkeypatch: pytest.MonkeyPatch) -> Iterator[WebhookServer]:
    with WebhookServer() as server:
        monkeypatch.setenv("SLACK_WEBHOOK_URL", server.url)
        yield server


@pytest.fixture
def workspace(monkeypatch: pytest.MonkeyPatch) -> Iterator[SlackServer]:
    """The local Slack, knowing the demo reps who had calls and the managers, by email."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    with SlackServer() as server:
        for n, (name, email) in enumerate(REPS.values()):
            server.add_user(f"U0REP{n:05d}", email=email, name=name)
        for user_id, email in MANAGERS.values():
            server.add_user(user_id, email=email, name=email.split("@")[0])
        monkeypatch.setenv("SLACK_BOT_TOKEN", server.bot_token)
        monkeypatch.setenv("SLACK_API_URL", server.api_url)
        monkeypatch.setenv("WEEKLY_REPORT_ALERT_CHANNEL", ALERTS)
        yield server


def coaching(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any], str]:
    """`weekly-report coaching ARGS` in this process: exit code, the JSON printed last, stderr."""
    code = main(["coaching", *args])
    out, err = capsys.readouterr()
    start = out.rfind("\n{")
    result = json.loads(out[start + 1 if start >= 0 else out.index("{") :]) if "{" in out else {}
    return code, result, err


def row_counts(home: Path) -> dict[str, int]:
    with EmbeddedWarehouse(home) as warehouse:
        return {
            t: int(warehouse.scalar(f"SELECT COUNT(*) FROM CUSTOMER_SUCCESS_DATA.ANALYTICS.{t}"))
            for t in TABLES
        }


def bodies(message: Any) -> dict[str, str]:
    return {p.get_content_type(): p.get_content() for p in message.iter_parts()}


# -- the demo period ------------------------------------------------------------------------------


def test_each_rep_with_calls_gets_one_email_with_only_their_review_and_the_team_gets_the_seeds_summary(
    smtp: SmtpServer, webhook: WebhookServer, capsys: pytest.CaptureFixture[str]
) -> None:
    code, result, err = coaching(capsys, "--send-emails", "--send-slack")
    assert code == 0, err
    seed = {
        k: result[k] for k in ("status", "reps_processed", "reports_generated", "emails_sent", "slack_posted")
    }
    assert seed == {
        "status": "completed",
        "reps_processed": 7,
        "reports_generated": 7,
        "emails_sent": 7,
        "slack_posted": True,
    }
    assert (result["week_start"], result["week_end"], result["summary_to"]) == (
        "2026-11-09",
        "2026-11-15",
        "webhook",
    )

    by_address = {r.recipients[0]: r.message for r in smtp.received}
    assert sorted(by_address) == sorted(email for _, email in REPS.values())  # Tom had no calls: no email
    assert len(smtp.received) == 7
    for rep_id, (name, email) in REPS.items():
        message = by_address[email]
        assert message["To"].addresses[0].addr_spec == email
        assert "Nov 09 – Nov 15, 2026" in message["Subject"]
        parts = bodies(message)
        assert set(parts) == {"text/plain", "text/html"}
        assert name.split()[0] in parts["text/plain"]
        assert "style=" in parts["text/html"] and "<style" not in parts["text/html"]  # inlined
        others = [n for r, (n, _) in REPS.items() if r != rep_id] + [TOM[1]]
        assert not [o for o in others if o in parts["text/plain"] or o in parts["text/html"]]

    assert len(webhook.messages) == 1
    assert "Generating: 7/7 (100%)" in err and "Emailing: 7/7 (100%)" in err  # progress, on stderr
    text = webhook.messages[0]
    lines = text.splitlines()
    assert lines[0] == HEADER
    assert "Generated reports for 7 reps:" in lines
    assert lines[-1] == "Individual reports sent via email"
    rep_lines = [line for line in lines if line.startswith("• ")]
    assert [line[2:].split(":")[0] for line in rep_lines] == sorted(n for n, _ in REPS.values())
    priya = next(line for line in rep_lines if "Priya Natarajan" in line)
    assert "/100 (new) (" in priya  # no previous week: "new"
    for line in rep_lines:
        assert "/100" in line and line.endswith("calls)")
        if "(new)" not in line:
            assert any(mark in line for mark in ("📈 (+", "📉 (-", "➡️ (0 from last week)"))
    assert "Tom Alvarez" not in text


def test_a_rerun_sends_nothing_twice(
    smtp: SmtpServer, webhook: WebhookServer, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = coaching(capsys, "--send-emails", "--send-slack")
    assert code == 0, err
    code, again, err = coaching(capsys, "--send-emails", "--send-slack")
    assert code == 0, err
    assert (again["emails_sent"], again["emails_sent_now"], again["slack_posted"]) == (7, 0, True)
    assert again["reports_reused"] == 7  # stored complete: not generated again
    assert len(smtp.received) == 7 and len(webhook.messages) == 1


def test_resend_sends_a_reps_email_again_once_per_resend(
    smtp: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert coaching(capsys, "--send-emails")[0] == 0
    code, result, err = coaching(capsys, "--resend", "--rep-id", "REP001")
    assert code == 0, err
    assert (result["reps_processed"], result["emails_sent"], result["emails_sent_now"]) == (1, 1, 1)
    code, result, err = coaching(capsys, "--resend", "--rep-id", "REP001")
    assert code == 0, err
    assert result["emails_sent_now"] == 1
    assert coaching(capsys, "--send-emails")[1]["emails_sent_now"] == 0  # a plain run: nothing more
    jane = [r.message for r in smtp.received if r.recipients == ["jane.smith@example.com"]]
    assert len(jane) == 3 and len(smtp.received) == 9
    assert len({m["Message-ID"] for m in jane}) == 3  # a client does not drop a resend as a duplicate


# -- the seed's troubleshooting cases ----------------------------------------------------------------


def test_no_calls_in_the_range_processes_no_rep_and_says_why(
    smtp: SmtpServer, capsys: pytest.CaptureFixture[str], cli_env: Path
) -> None:
    before = row_counts(cli_env)
    code, result, err = coaching(capsys, "--week-start", "2024-01-01", "--send-emails")
    assert code == 0, err
    assert (result["reps_processed"], result["reports_generated"], result["emails_sent"]) == (0, 0, 0)
    assert result["reason"] == "no calls between 2024-01-01 and 2024-01-07"
    assert row_counts(cli_env) == before and not smtp.received


def test_no_company_side_speakers_processes_no_rep_and_says_why(
    smtp: SmtpServer, capsys: pytest.CaptureFixture[str], cli_env: Path
) -> None:
    with EmbeddedWarehouse(cli_env) as warehouse:
        warehouse.execute("UPDATE CUSTOMER_SUCCESS_DATA.COACHING.speakers SET company_side = FALSE")
    code, result, err = coaching(capsys, "--send-emails")
    assert code == 0, err
    assert result["reps_processed"] == 0
    assert "no company_side speakers" in result["reason"]
    assert not smtp.received


def test_a_failing_email_provider_sends_fewer_emails_than_reports_exits_1_and_alerts(
    smtp: SmtpServer,
    workspace: SlackServer,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    smtp.handler.replies += ["554 5.7.1 Message rejected", "554 5.7.1 Message rejected"]
    with caplog.at_level(logging.WARNING, logger="weekly_report"):
        code, result, err = coaching(capsys, "--send-emails")
    assert code == 1
    assert (result["status"], result["reports_generated"], result["emails_sent"], result["emails_failed"]) == (
        "completed_with_errors", 7, 5, 2,
    )  # fmt: skip
    assert len(result["failures"]) == 2 and all("554" in f for f in result["failures"])
    assert sum("alert:" in r.getMessage() and "554" in r.getMessage() for r in caplog.records) == 2  # logged
    posted = workspace.messages(ALERTS)
    assert len(posted) == 1 and posted[0]["text"].count("554") == 2  # alerted
    assert "554" in err  # and said on stderr


def test_a_failing_webhook_leaves_slack_posted_false_and_exits_1(
    smtp: SmtpServer, webhook: WebhookServer, capsys: pytest.CaptureFixture[str]
) -> None:
    webhook.answer(Answer(404, "no_service"))  # a revoked webhook: Slack's answer, not retried
    code, result, err = coaching(capsys, "--send-slack")
    assert code == 1
    assert (result["slack_posted"], result["reports_generated"]) == (False, 7)
    assert any("team summary" in f for f in result["failures"])
    assert webhook.url not in json.dumps(result) + err  # the URL is a secret
    code, result, err = coaching(capsys, "--send-slack")  # the webhook is back: the summary goes now
    assert (code, result["slack_posted"]) == (0, True)
    assert len(webhook.messages) == 1


# -- the bot's channel, the managers' and the reps' DMs ------------------------------------------------


def test_without_a_webhook_the_bot_posts_the_summary_to_the_channel_and_dms_managers_and_reps(
    smtp: SmtpServer,
    workspace: SlackServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WEEKLY_REPORT_COACHING_CHANNEL", COACHING_CHANNEL)
    code, result, err = coaching(capsys, "--send-emails", "--send-slack")
    assert code == 0, err
    assert (result["slack_posted"], result["summary_to"]) == (True, COACHING_CHANNEL)
    assert (result["managers_dmed"], result["reps_dmed"], result["dms_failed"]) == (2, 7, 0)
    [summary] = workspace.messages(COACHING_CHANNEL)
    assert summary["text"].startswith(HEADER) and "Generated reports for 7 reps:" in summary["text"]
    for manager_id, (user_id, _) in MANAGERS.items():
        [dm] = workspace.messages(user_id)
        names = [REPS[r][0] for r in TEAMS[manager_id]]
        assert f"Generated reports for {len(names)} reps:" in dm["text"]
        assert all(n in dm["text"] for n in names)
        others = [REPS[r][0] for m, reps in TEAMS.items() if m != manager_id for r in reps]
        assert not [o for o in others if o in dm["text"]]  # a manager sees their own team only
    jane = workspace.messages("U0REP00000")
    parents = [m for m in jane if m.get("thread_ts") in (None, m["ts"])]
    assert len(parents) == 1 and "Jane Smith" in parents[0]["text"]
    assert len(jane) > 1  # the sections in its thread
    posted = len(workspace.messages())
    code, again, err = coaching(capsys, "--send-emails", "--send-slack")
    assert code == 0, err
    assert len(workspace.messages()) == posted and len(smtp.received) == 7  # nothing twice
    assert (again["managers_dmed"], again["reps_dmed"], again["slack_posted"]) == (2, 7, True)


# -- bad input and the dry run -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--week-start", "2026-11-15", "--week-end", "2026-11-09"], "before it starts"),
        (["--week-start", "2026-09-01", "--week-end", "2026-10-15"], "45 days long"),
        (["--week-start", "2026-11-16"], "has not ended yet"),
        (["--week-start", "11/09/2026"], "not a date"),
        (["--rep-id", "REP999"], "REP999"),
        (["--rep-id", "'; DROP TABLE speakers; --"], "is not a rep id"),
        (["--rep-id", ""], "a rep id is required"),
        (["--rep-id", "REP" + "9" * 10_000], "REP99"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_writes_or_sends_nothing(
    smtp: SmtpServer,
    webhook: WebhookServer,
    capsys: pytest.CaptureFixture[str],
    cli_env: Path,
    args: list[str],
    says: str,
) -> None:
    before = row_counts(cli_env)
    code, result, err = coaching(capsys, *args, "--send-emails", "--send-slack")
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1 and says in err and len(err) < 300
    assert result == {}
    assert row_counts(cli_env) == before
    assert not smtp.received and not webhook.requests


def test_a_dry_run_prints_who_would_get_what_and_the_summary_and_writes_nothing(
    smtp: SmtpServer, webhook: WebhookServer, capsys: pytest.CaptureFixture[str], cli_env: Path
) -> None:
    before = row_counts(cli_env)
    code = main(["coaching", "--send-emails", "--send-slack", "--dry-run"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "REP001 Jane Smith" in out and "jane.smith@example.com (smtp)" in out
    assert HEADER in out and "Generated reports for 7 reps:" in out
    assert "the incoming webhook (SLACK_WEBHOOK_URL)" in out and webhook.url not in out
    result = json.loads(out[out.rfind("\n{") + 1 :])
    assert (result["dry_run"], result["reps_processed"], result["emails_sent"], result["slack_posted"]) == (
        True,
        7,
        0,
        False,
    )
    assert row_counts(cli_env) == before
    assert not smtp.received and not webhook.requests


def test_a_range_other_than_a_week_is_reviewed_and_summarised_by_its_dates(
    smtp: SmtpServer, webhook: WebhookServer, capsys: pytest.CaptureFixture[str]
) -> None:
    code, result, err = coaching(
        capsys, "--week-start", "2026-11-02", "--week-end", "2026-11-15", "--send-emails", "--send-slack"
    )
    assert code == 0, err
    assert (result["week_start"], result["week_end"]) == ("2026-11-02", "2026-11-15")
    assert result["reps_processed"] == 8  # Tom had calls the week before
    text = webhook.messages[0]
    assert text.startswith("📊 Coaching Report - November 2, 2026 – November 15, 2026\n")
    assert "from the previous 14 days" in text
    assert len(smtp.received) == 8
    assert all("Nov 02 – Nov 15, 2026" in r.message["Subject"] for r in smtp.received)
    code, again, err = coaching(
        capsys, "--week-start", "2026-11-02", "--week-end", "2026-11-15", "--send-emails"
    )
    assert (code, again["emails_sent_now"], len(smtp.received)) == (0, 0, 8)
    code, week, err = coaching(capsys, "--send-emails")  # the week inside it is another period
    assert (code, week["emails_sent_now"], len(smtp.received)) == (0, 7, 15)


def test_resend_of_a_rep_never_emailed_sends_the_first_email_and_no_more(
    smtp: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    code, result, err = coaching(capsys, "--resend", "--rep-id", "REP002")
    assert (code, result["emails_sent_now"]) == (0, 1), err
    assert coaching(capsys, "--send-emails", "--rep-id", "REP002")[1]["emails_sent_now"] == 0
    assert [r.recipients for r in smtp.received] == [["david.park@example.com"]]
    assert smtp.received[0].message["Message-ID"].startswith("<weekly-report.coaching.20261109.REP002@")


def test_a_summary_whose_webhook_post_was_never_recorded_is_not_posted_again(
    smtp: SmtpServer, webhook: WebhookServer, capsys: pytest.CaptureFixture[str], cli_env: Path
) -> None:
    """A crash between the POST and its record: the webhook cannot be asked, so at most once."""
    with EmbeddedWarehouse(cli_env) as warehouse:
        ledger = DeliveryStore(warehouse)
        assert ledger.start_attempt(
            "coaching-summary:20261109", "webhook", ledger.claim("coaching-summary:20261109", "webhook")
        )
    code, result, err = coaching(capsys, "--send-slack")
    assert code == 1, err
    assert result["slack_posted"] is False and not webhook.requests
    assert any("may or may not have been posted" in f for f in result["failures"])


def test_a_webhook_that_took_the_summary_without_answering_is_not_posted_again(
    smtp: SmtpServer, webhook: WebhookServer, capsys: pytest.CaptureFixture[str]
) -> None:
    webhook.answer(Answer(drop=True))  # read the POST, hung up: it may have been posted
    code, result, err = coaching(capsys, "--send-slack")
    assert (code, result["slack_posted"]) == (1, False), err
    assert any("may or may not have been posted" in f for f in result["failures"])
    code, again, err = coaching(capsys, "--send-slack")
    assert (code, again["slack_posted"]) == (1, False), err
    assert len(webhook.requests) == 1  # at most once


def test_the_demo_shows_one_reps_review_and_the_team_summary(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    coaching_part = out[out.index("Sales-coaching review, Nov 09 – Nov 15, 2026: 7 rep(s) with calls") :]
    assert "The review DMed to Jane Smith (REP001)" in coaching_part
    assert "5. Focus Areas" in coaching_part  # the whole review, its thread included
    assert HEADER in coaching_part and "Generated reports for 7 reps:" in coaching_part
    assert "• Priya Natarajan: " in coaching_part and "Tom Alvarez" not in coaching_part


def test_send_slack_with_no_slack_configured_is_a_one_line_error_before_anything_is_written(
    smtp: SmtpServer, capsys: pytest.CaptureFixture[str], cli_env: Path
) -> None:
    before = row_counts(cli_env)
    code, result, err = coaching(capsys, "--send-emails", "--send-slack")
    assert (code, result) == (1, {})
    assert err.startswith("error: --send-slack needs SLACK_WEBHOOK_URL") and err.count("\n") == 1
    assert row_counts(cli_env) == before and not smtp.received


def test_a_rep_slack_does_not_know_gets_the_email_and_no_dm_which_is_no_failure(
    smtp: SmtpServer, workspace: SlackServer, capsys: pytest.CaptureFixture[str], cli_env: Path
) -> None:
    with EmbeddedWarehouse(cli_env) as warehouse:
        warehouse.execute(
            "UPDATE CUSTOMER_SUCCESS_DATA.COACHING.speakers SET email = 'priya@elsewhere.example.org' "
            "WHERE speaker_id = 'REP003'"
        )
    code, result, err = coaching(capsys, "--send-emails", "--send-slack")
    assert code == 0, err
    assert (result["reps_dmed"], result["not_in_slack"], result["dms_failed"]) == (6, ["REP003"], 0)
    assert "priya@elsewhere.example.org" in [r.recipients[0] for r in smtp.received]


def test_killed_while_an_email_is_sent_a_rerun_sends_nothing_twice(smtp: SmtpServer, cli_env: Path) -> None:
    """SIGKILL as the server takes the 2nd email: the run again sends the rest, none twice, and
    names the email whose outcome it cannot know."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SENDGRID_", "AWS_"))}
    argv = [sys.executable, "-m", "bot", "coaching", "--send-emails"]
    victim: list[subprocess.Popen[str]] = []

    def kill_at_second(taken: int) -> None:
        if taken == 2:
            os.kill(victim[0].pid, signal.SIGKILL)

    smtp.handler.on_taken = kill_at_second
    victim.append(
        subprocess.Popen(argv, env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    )
    victim[0].communicate(timeout=120)
    assert victim[0].returncode == -signal.SIGKILL
    smtp.handler.on_taken = None
    again = subprocess.run(argv, env=environ, capture_output=True, text=True, timeout=120)
    result = json.loads(again.stdout[again.stdout.rfind("\n{") + 1 :])
    received = [r.recipients[0] for r in smtp.received]
    assert len(received) == len(set(received))  # nobody got it twice
    unsure = {f.split(":")[0].removeprefix("email to ") for f in result["failures"] if "may or may not" in f}
    assert unsure and {REPS[r][1] for r in unsure} | set(received) == {e for _, e in REPS.values()}
    assert again.returncode == 1 and result["emails_sent"] + result["emails_failed"] == 7


def test_without_an_email_provider_the_emails_are_printed_and_the_summary_does_not_say_sent(
    cli_env: Path, webhook: WebhookServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (
        "SMTP_HOST",
        "SENDGRID_API_KEY",
        "AWS_ACCESS_KEY_ID",
        "WEEKLY_REPORT_EMAIL_PROVIDER",
        "SLACK_BOT_TOKEN",
    ):
        monkeypatch.delenv(name, raising=False)
    code, result, err = coaching(capsys, "--send-emails", "--send-slack")
    assert code == 0, err
    assert result["emails_sent"] == 7 and result["slack_posted"]
    assert "Individual reports sent via email" not in webhook.messages[0]
    code = main(["coaching", "--send-emails", "--rep-id", "REP001"])
    out = capsys.readouterr().out
    assert (
        "--- email (console: no provider configured) ---" in out
        and "To: Jane Smith <jane.smith@example.com>" in out
    )


# -- the team summary waits for every review; a run of some reps posts none ---------------------------


def test_reviews_that_failed_post_no_summary_nor_manager_dms_and_the_rerun_that_completes_posts_them(
    smtp: SmtpServer,
    workspace: SlackServer,
    webhook: WebhookServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The agent refuses every turn (a wrong token): no review, so no summary for 0 reps and no
    manager DM under the period's keys; the rerun once the agent is back posts them."""
    from tests.cortex_server import CortexServer

    with CortexServer() as cortex:
        monkeypatch.setenv("WEEKLY_REPORT_AGENT", "cortex")
        monkeypatch.setenv("CORTEX_BASE_URL", cortex.url)
        monkeypatch.setenv("CORTEX_TOKEN", "not-the-token")
        monkeypatch.setenv("SNOWFLAKE_CONNECTIONS_FILE", "/nonexistent/connections.toml")
        for name in ("CORTEX_TOKEN_TYPE", "CORTEX_AGENT", "CORTEX_COACHING_AGENT"):
            monkeypatch.delenv(name, raising=False)
        code, result, err = coaching(capsys, "--send-emails", "--send-slack")
    assert code == 1, err
    assert (result["reports_generated"], result["reports_failed"], result["slack_posted"]) == (0, 7, False)
    assert not webhook.messages and result["managers_dmed"] == 0
    assert not [m for u, _ in MANAGERS.values() for m in workspace.messages(u)]
    assert any("team summary" in n and "not posted" in n for n in result["notes"])
    monkeypatch.delenv("WEEKLY_REPORT_AGENT")  # the agent is back (the local analyst)
    code, result, err = coaching(capsys, "--send-emails", "--send-slack")
    assert code == 0, err
    assert (result["reports_generated"], result["slack_posted"], result["managers_dmed"]) == (7, True, 2)
    [text] = webhook.messages
    assert "Generated reports for 7 reps:" in text


def test_a_run_of_one_rep_dms_that_rep_and_leaves_the_team_summary_to_the_full_run(
    smtp: SmtpServer,
    workspace: SlackServer,
    webhook: WebhookServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, result, err = coaching(capsys, "--send-emails", "--send-slack", "--rep-id", "REP001")
    assert code == 0, err
    assert (result["slack_posted"], result["managers_dmed"], result["reps_dmed"]) == (False, 0, 1)
    assert not webhook.messages
    assert any("--rep-id" in n and "team summary" in n for n in result["notes"])
    code, result, err = coaching(capsys, "--send-emails", "--send-slack")  # the scheduled run
    assert code == 0, err
    assert (result["slack_posted"], result["managers_dmed"]) == (True, 2)
    [text] = webhook.messages
    assert "Generated reports for 7 reps:" in text


def test_the_summary_says_emails_went_out_when_an_earlier_run_of_the_period_sent_them(
    smtp: SmtpServer, webhook: WebhookServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert coaching(capsys, "--send-emails")[0] == 0
    code, result, err = coaching(capsys, "--send-slack")  # no --send-emails: the ledger says they went
    assert (code, result["slack_posted"]) == (0, True), err
    [text] = webhook.messages
    assert text.splitlines()[-1] == "Individual reports sent via email"


def test_a_summary_in_several_parts_waits_part_interval_between_its_webhook_posts(
    settings: Settings, webhook: WebhookServer
) -> None:
    from dataclasses import replace

    from bot.coaching import slack
    from bot.coaching.result import CoachingResult
    from bot.coaching.summary import summary_parts
    from bot.slack.webhook import PART_INTERVAL
    from core import Week

    week = Week(dt.date(2026, 11, 9))
    text = (
        HEADER
        + "\n\nGenerated reports for 300 reps:\n"
        + "\n".join(f"• Rep {n}: 70/100 (6 calls)" for n in range(300))
    )
    parts = summary_parts(text)
    assert len(parts) >= 2
    slept: list[float] = []
    result = CoachingResult(week)
    with EmbeddedWarehouse(settings.home) as warehouse:
        slack.post_summary(
            replace(settings, slack_webhook_url=webhook.url), DeliveryStore(warehouse), None, week, text, result,
            slept.append,
        )  # fmt: skip
    assert result.slack_posted and webhook.messages == parts
    assert slept.count(PART_INTERVAL) == len(parts) - 1


def test_a_dry_run_of_a_resend_says_which_resend_each_rep_would_get(
    smtp: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert coaching(capsys, "--send-emails")[0] == 0
    assert coaching(capsys, "--resend", "--rep-id", "REP001")[0] == 0
    code = main(["coaching", "--resend", "--dry-run"])
    out = capsys.readouterr().out
    assert code == 0
    jane = next(line for line in out.splitlines() if "REP001 Jane Smith" in line)
    david = next(line for line in out.splitlines() if "REP002 David Park" in line)
    assert "would be resent (resend 2)" in jane and "would be resent (resend 1)" in david
    assert "email delivered" not in out
    assert len(smtp.received) == 8  # the dry run sent nothing


def test_the_readmes_team_summary_is_the_programs_for_the_demo_week(
    smtp: SmtpServer, webhook: WebhookServer, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme[readme.index("**The team summary**") :]
    start = section.index("```text\n") + len("```text\n")
    shown = section[start : section.index("\n```", start)]
    assert coaching(capsys, "--send-emails", "--send-slack")[0] == 0
    assert shown == webhook.messages[0], "README's team summary is stale: paste this test's webhook text"
