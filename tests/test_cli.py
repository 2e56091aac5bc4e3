"""The `weekly-report` command line, run in-process against a copy of the demo warehouse."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from core.warehouse.embedded import EmbeddedWarehouse

PRODUCT_TABLES = [
    "weekly_reports",
    "report_sections",
    "followups",
    "report_runs",
    "agent_threads",
    "agent_messages",
]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def counts(home: Path) -> dict[str, int]:
    with EmbeddedWarehouse(home) as warehouse:
        return {t: int(warehouse.scalar(f"SELECT COUNT(*) FROM {t}")) for t in PRODUCT_TABLES}


def sql_json(capsys: pytest.CaptureFixture[str], query: str) -> list[dict[str, object]]:
    code, out, _ = run(capsys, "sql", query, "--format", "json")
    assert code == 0
    return json.loads(out)


BAD_INPUTS = [
    (["generate", "--mode", "single", "--csm-id", "CSM001", "--customer-id", "CUST_1; DROP TABLE weekly_reports"],
     "is not a customer id"),
    (["generate", "--mode", "single", "--csm-id", "CSM001", "--customer-id", ""], "a customer id is required"),
    (["generate", "--mode", "single", "--csm-id", "CSM001", "--customer-id", "CUST_" + "9" * 10240],
     "(10245 characters)' is not a customer id"),
    (["generate", "--mode", "single", "--csm-id", "CSM001", "--customer-id", "CUST_99999"], "unknown customer CUST_99999"),
    (["generate", "--mode", "single", "--csm-id", "CSM001", "--customer-id", "CUST_45678"],
     "CUST_45678 is not assigned to CSM001"),
    (["generate", "--mode", "single", "--csm-id", "CSM009", "--customer-id", "CUST_12345"],
     "CUST_12345 is not assigned to CSM009"),
    (["generate", "--mode", "all", "--week", "2019-01-07"], "no data for the week of 2019-01-07"),
    (["generate", "--mode", "all", "--week", "2026-11-17"], "has not ended yet"),
    (["generate", "--mode", "all", "--week", "last tuesday"], "is not a date"),
    (["generate", "--mode", "single", "--csm-id", "CSM001"], "--mode single needs --csm-id and --customer-id"),
    (["ask", "--customer-id", "CUST_12345", "   "], "the question is empty"),
    (["ask", "--customer-id", "CUST_12345", "x" * 5000], "keep it under 2000"),
    (["ask", "--customer-id", "CUST_12345", "--as", "michael.chen@example.com", "revenue?"],
     "CUST_12345 is not assigned to CSM002"),
    (["ask", "--customer-id", "CUST_12345", "--as", "nobody@example.com", "revenue?"], "you are not a CSM"),
    (["show", "--customer-id", "CUST_12345"], "no stored report for CUST_12345"),
]  # fmt: skip


@pytest.mark.parametrize(("argv", "message"), BAD_INPUTS)
def test_bad_input_is_one_clear_line_and_writes_nothing(
    cli_env: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    if argv[0] == "ask":
        assert (
            run(capsys, "generate", "--mode", "single", "--csm-id", "CSM001", "--customer-id", "CUST_12345")[
                0
            ]
            == 0
        )
    before = counts(cli_env)
    code, _out, err = run(capsys, *argv)
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1 and len(err) < 300
    assert message in err
    assert counts(cli_env) == before


def test_generate_all_twice_and_the_original_readme_queries(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "generate", "--mode", "all")[0] == 0
    assert run(capsys, "generate", "--mode", "all")[0] == 0
    latest = sql_json(
        capsys,
        "SELECT csm_id, customer_id, report_week_start, report_week_end, full_report, generation_timestamp "
        "FROM CUSTOMER_SUCCESS_DATA.ANALYTICS.weekly_reports WHERE customer_id = 'CUST_12345' "
        "ORDER BY generation_timestamp DESC LIMIT 1;",
    )
    assert len(latest) == 1
    assert latest[0]["CSM_ID"] == "CSM001" and latest[0]["REPORT_WEEK_START"] == "2026-11-09"
    assert "Performance vs Benchmarks" in str(latest[0]["FULL_REPORT"])
    weekly = sql_json(
        capsys,
        "SELECT DATE_TRUNC('week', generation_timestamp) AS week, COUNT(*) AS reports_generated, "
        "COUNT(DISTINCT csm_id) AS csms, COUNT(DISTINCT customer_id) AS customers "
        "FROM CUSTOMER_SUCCESS_DATA.ANALYTICS.weekly_reports GROUP BY DATE_TRUNC('week', generation_timestamp) "
        "ORDER BY week DESC;",
    )
    assert [(w["REPORTS_GENERATED"], w["CSMS"], w["CUSTOMERS"]) for w in weekly] == [(9, 4, 9)]


def test_ask_answers_and_advances_the_reports_thread(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        run(capsys, "generate", "--mode", "single", "--csm-id", "CSM001", "--customer-id", "CUST_12345")[0]
        == 0
    )
    before = sql_json(capsys, "SELECT last_message_id FROM weekly_reports WHERE customer_id = 'CUST_12345'")[
        0
    ]
    code, out, err = run(
        capsys, "ask", "--customer-id", "CUST_12345", "What was revenue by channel last week?"
    )
    assert code == 0
    by_channel = sql_json(
        capsys,
        "SELECT channel, SUM(revenue) AS revenue FROM conversions WHERE customer_id = 'CUST_12345' "
        "AND conversion_date BETWEEN '2026-11-09' AND '2026-11-15' GROUP BY channel",
    )
    from core.format import money

    for row in by_channel:
        assert str(row["CHANNEL"]) in out and money(float(row["REVENUE"])) in out  # type: ignore[arg-type]
    after = sql_json(capsys, "SELECT last_message_id FROM weekly_reports WHERE customer_id = 'CUST_12345'")[0]
    assert after["LAST_MESSAGE_ID"] != before["LAST_MESSAGE_ID"]
    followup = sql_json(capsys, "SELECT parent_message_id, agent_message_id FROM followups")
    assert followup == [
        {"PARENT_MESSAGE_ID": before["LAST_MESSAGE_ID"], "AGENT_MESSAGE_ID": after["LAST_MESSAGE_ID"]}
    ]
    assert f"message {before['LAST_MESSAGE_ID']} → {after['LAST_MESSAGE_ID']}" in err


def test_show_formats(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "generate", "--mode", "single", "--csm-id", "CSM002", "--customer-id", "CUST_45678")
    code, out, _ = run(capsys, "show", "--customer-id", "CUST_45678", "--format", "json")
    report = json.loads(out)
    assert code == 0 and report["status"] == "complete" and len(report["sections"]) == 3
    code, out, _ = run(capsys, "show", "--customer-id", "CUST_45678", "--format", "slack")
    assert code == 0 and "Reply in this thread to ask a follow-up." in out and out.count("↳ in thread") >= 3


def test_runs_lists_history(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "generate", "--mode", "all")
    code, out, _ = run(capsys, "runs")
    assert code == 0 and "completed" in out and "manual" in out


def test_a_locked_warehouse_is_a_clear_error(cli_env: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    with EmbeddedWarehouse(cli_env):
        result = subprocess.run(
            [sys.executable, "-m", "bot", "sql", "SELECT 1"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 1
    assert "in use by another process" in result.stderr and "Traceback" not in result.stderr
