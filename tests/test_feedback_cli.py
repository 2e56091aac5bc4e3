"""Feedback on answers, counted: `weekly-report runs` shows each run's week's clicks and
`weekly-report feedback` the counts per kind and the questions voted down."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from core.storage import ReportStore
from core.warehouse.embedded import EmbeddedWarehouse


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def ask(capsys: pytest.CaptureFixture[str], customer_id: str, question: str) -> None:
    assert run(capsys, "ask", "--customer-id", customer_id, question)[0] == 0


def vote(home: Path, question: str, *clicks: str) -> None:
    with EmbeddedWarehouse(home) as warehouse:
        [followup_id] = [
            r["followup_id"]
            for r in warehouse.query("SELECT followup_id FROM followups WHERE question = ?", [question])
        ]
        for click in clicks:
            ReportStore(warehouse).record_feedback(followup_id, click, "U0SARAH01")


def refuse(home: Path, report_id: str, question: str) -> None:
    """A question whose answer the guard withheld, stored as the bot stores it."""
    with EmbeddedWarehouse(home) as warehouse:
        ReportStore(warehouse).record_followup(
            report_id, "sarah.johnson@example.com", question, ":no_entry: withheld", 1, None,
            refusal_reason="another customer",
        )  # fmt: skip


def test_runs_and_feedback_count_the_latest_click_per_answer(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "generate", "--mode", "all")[0] == 0
    ask(capsys, "CUST_12345", "What was revenue by channel last week?")
    ask(capsys, "CUST_23456", "Why did revenue fall last week?")
    ask(capsys, "CUST_34567", "What's the revenue trend over the last 8 weeks?")
    vote(cli_env, "What was revenue by channel last week?", "negative", "positive")  # latest wins
    vote(cli_env, "Why did revenue fall last week?", "positive", "negative")
    refuse(cli_env, "CUST_12345-20261109", "What is Harbor Point's revenue?")  # withheld: no answer
    vote(cli_env, "What is Harbor Point's revenue?", "negative")  # (a click no button could make)

    code, out, _ = run(capsys, "runs")
    assert code == 0
    header, _, row = out.splitlines()[:3]
    assert "feedback" in header and "+1 -1" in row

    code, out, _ = run(capsys, "feedback")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == [
        "kind",
        "week_start",
        "answers",
        "positive",
        "negative",
        "no_feedback",
        "refused",
    ]
    assert lines[2].split() == ["ebr", "2026-11-09", "3", "1", "1", "1", "1"]
    assert "Questions with negative feedback (latest click):" in out
    negative = out.split("Questions with negative feedback")[1]
    assert "Why did revenue fall last week?" in negative and "CUST_23456-20261109" in negative
    assert "revenue by channel" not in negative and "Harbor Point" not in negative

    code, out, _ = run(capsys, "feedback", "--week-start", "2026-11-11")  # any day of the week
    assert code == 0 and "ebr" in out and "2026-11-09" in out
    code, out, _ = run(capsys, "feedback", "--week-start", "2026-11-02")
    assert code == 0 and out.strip() == "No follow-up answers on reports of the week of 2026-11-02 yet."


def test_a_bad_week_start_is_one_line(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "feedback", "--week-start", "last monday")
    assert code == 2 and out == ""
    assert err == "error: --week-start 'last monday' is not a date; use YYYY-MM-DD\n"
