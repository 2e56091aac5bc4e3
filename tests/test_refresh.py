"""A refresh never destroys a good report: a regeneration that ends partial or failed (a wrong
token, an unreachable account, a section that keeps failing) keeps the stored complete report,
its sections and its agent thread, and says so. The real engine and CLI with the Cortex client
against the local Cortex server, on the embedded backend and on fakesnow's server."""

from __future__ import annotations

import dataclasses
import socket
from pathlib import Path
from typing import Any

import pytest

from core import ReportEngine, Settings, make_agent
from core.agent.cortex import RetryPolicy, build_cortex_agent
from core.models import Report
from core.warehouse.embedded import EmbeddedWarehouse
from tests import test_cortex_engine as cortex_tests
from tests.cortex_server import CortexServer, Fault, end_fakesnow_sessions
from tests.test_cortex_engine import cortex_settings, run, snowflake_backend, sql_json

server, cortex_env = cortex_tests.server, cortex_tests.cortex_env  # the local Cortex server, as there
FAST = RetryPolicy(base=0.01, cap=0.05)


def closed_port() -> int:
    """A local port nothing listens on: connections to it are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def generate(settings: Settings, home: Path, refresh: bool = False) -> tuple[Any, Report]:
    """One report (CSM001's CUST_12345), with quick retries; the run and the stored report."""
    with EmbeddedWarehouse(home) as warehouse:
        engine = ReportEngine(settings, warehouse, build_cortex_agent(settings, retry=FAST))
        with engine:
            week = engine.week()
            summary = engine.generate(engine.targets("CSM001", "CUST_12345"), week, refresh=refresh)
            return summary, engine.store.load("CUST_12345", week)


def same_report(before: Report, after: Report) -> None:
    assert after.status == "complete"
    assert (after.agent_thread_id, after.last_message_id) == (before.agent_thread_id, before.last_message_id)
    assert after.generated_at == before.generated_at and after.full_report == before.full_report
    assert [(s.key, s.content, s.agent_message_id, s.status) for s in after.sections] == [
        (s.key, s.content, s.agent_message_id, s.status) for s in before.sections
    ]


@pytest.mark.parametrize("problem", ["wrong-token", "unreachable", "one-section-fails"])
def test_a_refresh_that_fails_keeps_the_complete_report(
    server: CortexServer, demo_home: Path, problem: str
) -> None:
    settings = cortex_settings(server, demo_home)
    first, before = generate(settings, demo_home)
    assert first.reports_generated == 1 and before.status == "complete" and before.agent_thread_id
    if problem == "wrong-token":
        settings = dataclasses.replace(settings, cortex_token="not-the-token")
    elif problem == "unreachable":
        settings = dataclasses.replace(settings, cortex_base_url=f"http://127.0.0.1:{closed_port()}")
    else:
        server.faults.append(Fault(prompt="Section: Business Value Analysis.", status=503))
    summary, after = generate(settings, demo_home, refresh=True)
    same_report(before, after)
    outcome = "partial" if problem == "one-section-fails" else "failed"
    assert (summary.reports_kept, summary.reports_generated, summary.reports_failed) == (1, 0, 0)
    assert summary.as_dict()["reports_kept"] == 1 and summary.status == "completed_with_errors"
    [note] = summary.failures
    stamp = f"{before.generated_at:%Y-%m-%d %H:%M}"
    assert note.startswith(
        f"CUST_12345: kept the complete report of {stamp} UTC; the refresh was {outcome}: "
    )
    reason = {"wrong-token": "401", "unreachable": "could not", "one-section-fails": "HTTP 503"}[problem]
    assert reason in note, note
    # The delivered thread still answers follow-ups, chained after the kept report's last message.
    with EmbeddedWarehouse(demo_home) as warehouse:
        good = cortex_settings(server, demo_home)
        server.faults.clear()
        engine = ReportEngine(good, warehouse, make_agent(good, warehouse))
        from core.directory import Requester

        answer = engine.ask(Requester(is_admin=True), "CUST_12345", "And the engagement score?")
    assert answer.report.agent_thread_id == before.agent_thread_id
    assert answer.parent_message_id == before.last_message_id


def test_a_refresh_that_succeeds_still_replaces_the_report(server: CortexServer, demo_home: Path) -> None:
    settings = cortex_settings(server, demo_home)
    _, before = generate(settings, demo_home)
    summary, after = generate(settings, demo_home, refresh=True)
    assert (summary.reports_generated, summary.reports_kept) == (1, 0)
    assert after.status == "complete" and after.agent_thread_id != before.agent_thread_id


def test_a_failed_first_report_is_still_stored_as_failed(server: CortexServer, demo_home: Path) -> None:
    settings = dataclasses.replace(cortex_settings(server, demo_home), cortex_token="not-the-token")
    summary, report = generate(settings, demo_home, refresh=True)
    assert (summary.reports_failed, summary.reports_kept) == (1, 0) and report.status == "failed"


SINGLE = ("generate", "--mode", "single", "--csm-id", "CSM001", "--customer-id", "CUST_12345")
REPORT_ROW = "SELECT status, agent_thread_id, last_message_id, generation_timestamp FROM weekly_reports"
SECTION_ROWS = "SELECT section_key, status, content, agent_message_id FROM report_sections ORDER BY position"


def test_cli_refresh_with_a_wrong_token_keeps_the_report_and_says_so(
    cortex_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, *SINGLE)
    assert code == 0, err
    before = sql_json(capsys, REPORT_ROW), sql_json(capsys, SECTION_ROWS)
    monkeypatch.setenv("CORTEX_TOKEN", "not-the-token")
    code, out, err = run(capsys, *SINGLE, "--refresh")
    assert code == 1
    assert "kept the complete report of" in err and "the refresh was failed:" in err and "401" in err
    assert "1 kept" in out and "Traceback" not in err
    assert "Performance vs Benchmarks" in out  # the kept report is what is printed
    assert (sql_json(capsys, REPORT_ROW), sql_json(capsys, SECTION_ROWS)) == before


def test_cli_refresh_on_the_snowflake_backend_keeps_the_report(
    cortex_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Warehouse on fakesnow's server; the agent first authenticated by the connection's session
    token, then refreshed with a wrong programmatic access token (401)."""
    with snowflake_backend(cortex_env, tmp_path, monkeypatch) as (cortex, others):

        def command(*argv: str) -> tuple[int, str, str]:
            try:
                return run(capsys, *argv)
            finally:
                end_fakesnow_sessions(keep=others)  # free the DuckDB files for the next command

        def rows(query: str) -> list[dict[str, object]]:
            code, out, err = command("sql", query, "--format", "json")
            assert code == 0, err
            import json

            return list(json.loads(out))

        code, _, err = command(*SINGLE)
        assert code == 0, err
        before = rows(REPORT_ROW), rows(SECTION_ROWS)
        assert before[0][0]["STATUS"] == "complete" and len(before[1]) == 3
        monkeypatch.setenv("CORTEX_TOKEN_TYPE", "PROGRAMMATIC_ACCESS_TOKEN")
        monkeypatch.setenv("CORTEX_TOKEN", "not-the-token")
        code, out, err = command(*SINGLE, "--refresh")
        assert code == 1 and "kept the complete report of" in err and "the refresh was failed:" in err
        assert "1 kept" in out
        assert (rows(REPORT_ROW), rows(SECTION_ROWS)) == before
        assert cortex.requests[-1].status == 401
