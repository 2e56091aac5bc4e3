"""The `weekly-report` command line, run in-process against a copy of the demo warehouse."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
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


# --- bad statements, bad limits, an unusable home, a full disk --------------------------------


@pytest.mark.parametrize(
    "query", ["SELECT 1; SELECT 2", "BEGIN; SELECT 1; COMMIT;", "SELECT 1;\n-- done\n; SELECT 'a;b'"]
)
def test_sql_runs_one_statement_at_a_time(
    cli_env: Path, capsys: pytest.CaptureFixture[str], query: str
) -> None:
    code, out, err = run(capsys, "sql", query)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1 and "one statement at a time" in err


def test_sql_allows_one_statement_with_a_trailing_semicolon(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert sql_json(capsys, "SELECT 'a;b' AS x;") == [{"X": "a;b"}]


@pytest.mark.parametrize("limit", ["0", "-5", "ten"])
def test_runs_limit_must_be_a_positive_number(
    cli_env: Path, capsys: pytest.CaptureFixture[str], limit: str
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["runs", "--limit", limit])
    _, err = capsys.readouterr()
    assert exit_.value.code == 2
    assert "argument --limit: must be a whole number of at least 1" in err and "Traceback" not in err


def weekly_report(home: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """The command in its own process, as a person runs it, with WEEKLY_REPORT_HOME at `home`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env["WEEKLY_REPORT_HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "-m", "bot", *argv], env=env, capture_output=True, text=True, timeout=120
    )


# The two below run the command in this process (bot.cli.main, as `python -m bot` calls it): their
# subject is the message and the exit status, not the process (~1.2 s of CPU each as a process).
def test_a_home_that_is_a_file_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    home.write_text("not a folder")
    monkeypatch.setenv("WEEKLY_REPORT_HOME", str(home))
    code = main(["runs"])
    out, err = capsys.readouterr()
    assert (code, out) == (1, "")
    assert err == (
        f"error: WEEKLY_REPORT_HOME ({home}) is a file, not a folder; set WEEKLY_REPORT_HOME to a folder "
        "(it is created if missing)\n"
    )


def test_a_home_that_cannot_be_created_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    home = blocker / "home"  # under a regular file: not even root can create it
    monkeypatch.setenv("WEEKLY_REPORT_HOME", str(home))
    code = main(["runs"])
    out, err = capsys.readouterr()
    assert (code, out) == (1, "")
    assert err.startswith(f"error: cannot create WEEKLY_REPORT_HOME ({home}): ")
    assert err.count("\n") == 1 and "set WEEKLY_REPORT_HOME to a folder you can write" in err


def test_a_full_disk_is_a_clear_error(cli_env: Path) -> None:
    """A real out-of-space error from DuckDB: its write-ahead log is /dev/full."""
    (cli_env / "CUSTOMER_SUCCESS_DATA.db.wal").symlink_to("/dev/full")
    result = weekly_report(cli_env, "generate", "--mode", "all")
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr == (
        f"error: the disk holding the embedded warehouse ({cli_env}) is full: DuckDB could not write "
        f"{cli_env / 'CUSTOMER_SUCCESS_DATA.db.wal'}; free some space there, or set WEEKLY_REPORT_HOME "
        "to a folder on a disk with room\n"
    )


def test_out_of_space_errors_of_every_duckdb_kind_are_mapped() -> None:
    import duckdb

    from core.warehouse.embedded import disk_full

    home = Path("/data/weekly")
    wal = 'Could not write file "/data/weekly/CUSTOMER_SUCCESS_DATA.db.wal": No space left on device'
    for exc in (
        duckdb.TransactionException(f"TransactionContext Error: Failed to commit: {wal}"),
        duckdb.IOException(f"IO Error: {wal}"),
    ):
        mapped = disk_full(exc, home)
        assert mapped is not None and str(mapped).startswith(
            "the disk holding the embedded warehouse (/data/weekly) is full: DuckDB could not write "
            "/data/weekly/CUSTOMER_SUCCESS_DATA.db.wal;"
        )
    assert disk_full(duckdb.IOException("IO Error: Permission denied"), home) is None


# --- runs whose process is gone -----------------------------------------------------------------


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def add_run(
    home: Path, run_id: str, owner: str | None, beat_ago: dt.timedelta, scope: str | None = None
) -> None:
    beat = dt.datetime.now(dt.UTC).replace(tzinfo=None) - beat_ago
    with EmbeddedWarehouse(home) as warehouse:
        warehouse.execute(
            "INSERT INTO report_runs (run_id, trigger, week_start, started_at, heartbeat_at, status, owner, scope) "
            "VALUES (?, 'manual', '2026-11-09', ?, ?, 'running', ?, ?)",
            [run_id, beat, beat, owner, scope],
        )


def test_runs_whose_owner_is_gone_are_listed_as_interrupted(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    host = socket.gethostname()
    minute, hour = dt.timedelta(minutes=1), dt.timedelta(hours=1)
    add_run(cli_env, "deadlocal01", f"{host}:{dead_pid()}:abcd1234", minute)
    add_run(cli_env, "livelocal01", f"{host}:{os.getppid()}:abcd1234", hour)  # alive: no matter how quiet
    add_run(cli_env, "staleother1", "elsewhere:4242:abcd1234", hour)
    add_run(cli_env, "freshother1", "elsewhere:4242:abcd1234", minute)
    add_run(cli_env, "weeklyclaim", f"{host}:{dead_pid()}:abcd1234", minute, scope="weekly:all")  # claims'
    code, out, _ = run(capsys, "runs")
    assert code == 0
    status = {r["RUN_ID"]: r["STATUS"] for r in sql_json(capsys, "SELECT run_id, status FROM report_runs")}
    assert status == {
        "deadlocal01": "interrupted", "livelocal01": "running", "staleother1": "interrupted",
        "freshother1": "running", "weeklyclaim": "running",
    }  # fmt: skip
    assert "interrupted" in out
    run(capsys, "generate", "--mode", "single", "--csm-id", "CSM001", "--customer-id", "CUST_12345")
    [mine] = sql_json(
        capsys,
        "SELECT owner, heartbeat_at FROM report_runs WHERE run_id NOT IN "
        "('deadlocal01', 'livelocal01', 'staleother1', 'freshother1', 'weeklyclaim')",
    )
    assert str(mine["OWNER"]).startswith(f"{host}:") and mine["HEARTBEAT_AT"] is not None


def test_a_killed_generate_is_interrupted_not_running_forever(cli_env: Path) -> None:
    """A real `weekly-report generate`, killed while the agent is answering its first turn."""
    from tests.cortex_server import CortexServer

    with CortexServer(latency=60) as cortex:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
        env.update(
            WEEKLY_REPORT_HOME=str(cli_env), WEEKLY_REPORT_AGENT="cortex", CORTEX_BASE_URL=cortex.url,
            CORTEX_TOKEN=cortex.token, SNOWFLAKE_CONNECTIONS_FILE="/nonexistent/connections.toml",
        )  # fmt: skip
        for name in ("HTTP_PROXY", "http_proxy", "CORTEX_TOKEN_TYPE", "CORTEX_AGENT"):
            env.pop(name, None)
        child = subprocess.Popen(
            [sys.executable, "-m", "bot", "generate", "--mode", "all"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            assert wait_until(lambda: cortex.requests, timeout=60), "the run never reached the agent"
        finally:
            child.kill()
            child.wait()
    result = weekly_report(cli_env, "runs")
    assert result.returncode == 0, result.stderr
    [line] = [line for line in result.stdout.splitlines() if " manual " in f" {line} "]
    assert "interrupted" in line and "running" not in line


def wait_until(condition: Callable[[], object], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False
