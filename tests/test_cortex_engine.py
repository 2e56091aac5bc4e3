"""Reports and follow-ups written by the Cortex agent: the real engine and CLI, the real client,
over HTTP to the local Cortex server; last, the Snowflake backend on fakesnow's server."""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from core import ReportEngine, Requester, Settings, make_agent
from core.agent.cortex import CortexAgent, RetryPolicy, build_cortex_agent
from core.errors import WarehouseError
from core.warehouse.embedded import EmbeddedWarehouse
from tests.conftest import AS_OF
from tests.cortex_server import (
    CortexServer,
    Fault,
    Recorded,
    end_fakesnow_sessions,
    fakesnow_server,
    fakesnow_session_authorizer,
    fakesnow_sessions,
)

TITLES = ["Performance vs Benchmarks", "Business Value Analysis", "Recommendations & Best Practices"]
NO_CONNECTIONS = Path("/nonexistent/connections.toml")


@pytest.fixture
def server() -> Iterator[CortexServer]:
    with CortexServer() as running:
        yield running


def cortex_settings(server: CortexServer, home: Path) -> Settings:
    return Settings(
        agent="cortex", cortex_base_url=server.url, cortex_token=server.token, home=home, today=AS_OF,
        snowflake_connections_file=NO_CONNECTIONS,
    )  # fmt: skip


@pytest.fixture
def cortex_env(cli_env: Path, server: CortexServer, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The `weekly-report` command's environment, with the Cortex agent at the local server."""
    monkeypatch.setenv("WEEKLY_REPORT_AGENT", "cortex")
    monkeypatch.setenv("CORTEX_BASE_URL", server.url)
    monkeypatch.setenv("CORTEX_TOKEN", server.token)
    monkeypatch.setenv("SNOWFLAKE_CONNECTIONS_FILE", str(NO_CONNECTIONS))
    for name in ("CORTEX_TOKEN_TYPE", "CORTEX_AGENT", "CORTEX_TIMEOUT", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    return cli_env


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def sql_json(capsys: pytest.CaptureFixture[str], query: str) -> list[dict[str, object]]:
    code, out, err = run(capsys, "sql", query, "--format", "json")
    assert code == 0, err
    return json.loads(out)


def answered_turns(server: CortexServer) -> dict[int, list[Recorded]]:
    """The runs that were answered (200), by thread, in order."""
    turns: dict[int, list[Recorded]] = defaultdict(list)
    for r in server.runs():
        if r.status == 200:
            turns[r.body["thread_id"]].append(r)
    return turns


def assert_chained(server: CortexServer) -> None:
    """Each thread's turns: parent 0, then the previous turn's assistant id."""
    for thread_id, turns in answered_turns(server).items():
        expected = [0] + [
            server.threads[thread_id].messages[2 * i + 1]["message_id"] for i in range(len(turns) - 1)
        ]
        assert [t.body["parent_message_id"] for t in turns] == expected


def test_one_report_is_one_thread_and_three_chained_runs(server: CortexServer, demo_home: Path) -> None:
    settings = cortex_settings(server, demo_home)
    with EmbeddedWarehouse(demo_home) as warehouse:
        engine = ReportEngine(settings, warehouse, make_agent(settings, warehouse))
        assert isinstance(engine.agent, CortexAgent)
        week = engine.week()
        summary = engine.generate(engine.targets("CSM001", "CUST_12345"), week)
        report = engine.store.load("CUST_12345", week)
    assert summary.reports_generated == 1 and summary.reports_failed == 0
    assert len(server.thread_creates()) == 1 and len(server.requests) == 4
    runs = server.runs()
    assert [r.body["thread_id"] for r in runs] == [10001] * 3
    assert [r.body["parent_message_id"] for r in runs] == [0, 1002, 1004]
    assert all(f"Section: {title}." in r.prompt for r, title in zip(runs, TITLES, strict=True))
    assert all(r.headers["Authorization"] == f"Bearer {server.token}" for r in server.requests)
    assert report.status == "complete" and report.agent_thread_id == "10001"
    assert report.last_message_id == server.threads[10001].last_assistant == 1006
    assert [s.agent_message_id for s in report.sections] == [1002, 1004, 1006]
    for section, title in zip(report.sections, TITLES, strict=True):
        assert section.content and "CUST_12345" in section.content and title in section.content
    assert report.metadata["agent"] == "cortex"


def test_closing_the_engine_hangs_up_the_agents_connection(server: CortexServer, demo_home: Path) -> None:
    settings = cortex_settings(server, demo_home)
    warehouse = EmbeddedWarehouse(demo_home)
    with ReportEngine(settings, warehouse, make_agent(settings, warehouse)) as engine:
        engine.generate(engine.targets("CSM001", "CUST_12345"), engine.week())
        assert server.wait_for_connections(1), "one kept-alive connection served the report"
    assert server.wait_for_connections(0), "the agent's connection was left open after close"
    with pytest.raises(WarehouseError):
        warehouse.query("SELECT 1")


def test_a_follow_up_continues_the_reports_thread(
    cortex_env: Path, server: CortexServer, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        capsys, "generate", "--mode", "single", "--csm-id", "CSM001", "--customer-id", "CUST_12345"
    )
    assert code == 0, err
    question = "Why did CUST_12345's click-through rate change?"
    code, out, err = run(capsys, "ask", "--customer-id", "CUST_12345", "--show-sql", question)
    assert code == 0, err
    follow_up = server.runs()[-1]
    assert follow_up.body["thread_id"] == 10001 and follow_up.body["parent_message_id"] == 1006
    assert follow_up.prompt.endswith(
        f"Question: {question}"
    )  # after the scope note (core/agent/cortex/agent.py)
    assert "CUST_12345" in out and "-- SQL" in out and "message 1006 → 1008" in err
    assert sql_json(capsys, "SELECT parent_message_id, agent_message_id FROM followups") == [
        {"PARENT_MESSAGE_ID": 1006, "AGENT_MESSAGE_ID": 1008}
    ]
    stored = sql_json(capsys, "SELECT agent_thread_id, last_message_id FROM weekly_reports")
    assert stored == [{"AGENT_THREAD_ID": "10001", "LAST_MESSAGE_ID": 1008}]
    code, _, err = run(capsys, "ask", "--customer-id", "CUST_12345", "And the engagement score?")
    assert code == 0 and server.runs()[-1].body["parent_message_id"] == 1008


def test_show_sql_prints_the_statements_of_the_2026_tool_shape(
    cortex_env: Path, server: CortexServer, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        capsys, "generate", "--mode", "single", "--csm-id", "CSM001", "--customer-id", "CUST_12345"
    )
    assert code == 0, err
    server.faults.append(Fault(stream="execute_sql"))  # the SQL only in the tool use's input.sql
    code, out, err = run(capsys, "ask", "--customer-id", "CUST_12345", "--show-sql", "CUST_12345's revenue?")
    assert code == 0, err
    assert "-- SQL\nSELECT SUM(revenue) AS revenue FROM CUSTOMER_SUCCESS_DATA.ANALYTICS.conversions" in out
    [stored] = sql_json(capsys, "SELECT sql_text FROM followups")  # and the follow-up keeps it
    assert (
        "SELECT SUM(revenue) AS revenue FROM CUSTOMER_SUCCESS_DATA.ANALYTICS.conversions"
        in stored["SQL_TEXT"]
    )


@pytest.mark.parametrize(
    "fault",
    [Fault(every=3, status=503), Fault(calls=frozenset({2, 11}), status=429, retry_after=1)],
    ids=["every-third-run-503", "429-retry-after-1"],
)
def test_generate_all_rides_out_retryable_failures(
    cortex_env: Path, server: CortexServer, capsys: pytest.CaptureFixture[str], fault: Fault
) -> None:
    server.faults.append(fault)
    code, _, err = run(capsys, "generate", "--mode", "all")
    assert code == 0, err
    rows = sql_json(capsys, "SELECT customer_id, status, last_message_id FROM weekly_reports")
    assert len(rows) == 9 and {r["STATUS"] for r in rows} == {"complete"}
    assert fault.hits >= 2 and len(server.thread_creates()) == 9
    assert 1 <= server.max_concurrent <= 4  # WEEKLY_REPORT_CONCURRENCY's default
    assert sum(len(t) for t in answered_turns(server).values()) == 27
    assert_chained(server)
    for hit in (r for r in server.requests if r.status == 429):  # its retry waited out Retry-After
        retry = next(r for r in server.runs() if r.started > hit.started and r.body == hit.body)
        assert hit.finished is not None and retry.started - hit.finished >= 0.9


def test_a_section_that_always_fails_leaves_partial_reports_naming_it(
    server: CortexServer, demo_home: Path
) -> None:
    settings = cortex_settings(server, demo_home)
    server.faults.append(Fault(prompt="Section: Business Value Analysis.", status=503))
    with EmbeddedWarehouse(demo_home) as warehouse:
        agent = build_cortex_agent(settings, retry=RetryPolicy(base=0.01, cap=0.05))
        engine = ReportEngine(settings, warehouse, agent)
        week = engine.week()
        summary = engine.generate(engine.targets(), week)
        reports = [engine.store.load(t.customer_id, week) for t in engine.targets()]
    assert summary.reports_partial == 9 and summary.reports_failed == 0
    assert all(f.endswith("partial, failed business_value") for f in summary.failures)
    for report in reports:
        assert report.status == "partial"
        assert [s.status for s in report.sections] == ["complete", "failed", "complete"]
        assert "kept failing (HTTP 503) after 5 attempts" in (report.sections[1].error or "")
        assert report.metadata["failed_sections"] == ["business_value"]
        assert report.last_message_id == report.sections[2].agent_message_id
    assert_chained(server)  # recommendations went on from the performance section's answer


def test_a_clarifying_question_fails_its_section_and_warnings_flag_theirs(
    server: CortexServer, demo_home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = cortex_settings(server, demo_home)
    server.faults.append(Fault(prompt="Section: Business Value Analysis.", stream="elicitation"))
    server.faults.append(Fault(prompt="Section: Recommendations", stream="warning"))
    with EmbeddedWarehouse(demo_home) as warehouse, caplog.at_level(logging.WARNING):
        engine = ReportEngine(settings, warehouse, make_agent(settings, warehouse))
        week = engine.week()
        summary = engine.generate(engine.targets("CSM001", "CUST_12345"), week)
        report = engine.store.load("CUST_12345", week)
    assert summary.reports_partial == 1
    assert report.status == "partial"
    assert [s.status for s in report.sections] == ["complete", "failed", "complete"]
    asked, warned = report.sections[1], report.sections[2]
    assert asked.content is None and (asked.error or "").startswith(
        "the agent asked a clarifying question instead of writing the section: Which week do you mean"
    )
    warning = "399569: Tool `web_search` is not accessible to the current role"
    assert warned.content and "CUST_12345" in warned.content and warned.error == f"warning: {warning}"
    assert report.metadata["failed_sections"] == ["business_value"]
    assert report.metadata["section_warnings"] == {"recommendations": [warning]}
    assert caplog.text.count("is not accessible") == 1
    assert_chained(server)  # the question was a turn of the thread: the next section chains after it
    assert report.last_message_id == warned.agent_message_id == 1006


def test_a_section_whose_stream_never_ends_fails_at_the_turn_deadline(
    server: CortexServer, demo_home: Path
) -> None:
    settings = dataclasses.replace(cortex_settings(server, demo_home), cortex_turn_timeout=1.0)
    endless = Fault(prompt="Section: Business Value Analysis.", stream="endless", latency=0.1, lasts=10)
    server.faults.append(endless)
    with EmbeddedWarehouse(demo_home) as warehouse:
        engine = ReportEngine(settings, warehouse, make_agent(settings, warehouse))
        week = engine.week()
        started = time.monotonic()
        summary = engine.generate(engine.targets("CSM001", "CUST_12345"), week)
        elapsed = time.monotonic() - started
        report = engine.store.load("CUST_12345", week)
        follow_up = engine.ask(Requester(csm_id="CSM001"), "CUST_12345", "And the engagement score?")
    assert summary.reports_partial == 1 and elapsed < 4.0  # the endless stream would have lasted 10 s
    assert [s.status for s in report.sections] == ["complete", "failed", "complete"]
    assert "did not finish within CORTEX_TURN_TIMEOUT=1s; the stream was closed" in (
        report.sections[1].error or ""
    )
    [hung] = [r for r in server.runs() if "Business Value" in r.prompt]
    assert server.wait_until_answered(hung) and hung.hung_up
    assert follow_up.answer.message_id == 1006  # the thread went on past the abandoned turn
    assert_chained(server)


@contextmanager
def snowflake_backend(
    demo_files: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[CortexServer, set[Any]]]:
    """The CLI on the Snowflake backend: fakesnow's server over `demo_files` (DuckDB files),
    named by a connections.toml, and the Cortex agent at a local server authenticated by the
    connector's session token of that connection. Yields the Cortex server and the fakesnow
    sessions that belong to other tests (to leave alone when ending a command's session)."""
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    with fakesnow_server() as port, CortexServer(authorize=fakesnow_session_authorizer()) as cortex:
        others = set(fakesnow_sessions())  # sessions of other tests' servers, if any: left alone
        toml = tmp_path / "connections.toml"
        toml.write_text(
            "[fake]\n"
            f'account = "fakesnow"\nuser = "fake"\npassword = "snow"\nhost = "127.0.0.1"\nport = {port}\n'
            'protocol = "http"\n[fake.session_parameters]\nCLIENT_OUT_OF_BAND_TELEMETRY_ENABLED = false\n'
            f'FAKESNOW_DB_PATH = "{demo_files}"\n'
        )
        toml.chmod(0o600)
        monkeypatch.setenv("WEEKLY_REPORT_BACKEND", "snowflake")
        monkeypatch.setenv("SNOWFLAKE_CONNECTION_NAME", "fake")
        monkeypatch.setenv("SNOWFLAKE_CONNECTIONS_FILE", str(toml))
        monkeypatch.setenv("CORTEX_BASE_URL", cortex.url)
        monkeypatch.setenv("CORTEX_TOKEN_TYPE", "SNOWFLAKE_SESSION")
        monkeypatch.delenv("CORTEX_TOKEN")
        yield cortex, others


def test_generate_all_on_the_snowflake_backend(
    cortex_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Warehouse on fakesnow's server (the demo data's DuckDB files), the agent authenticated by
    the connector's session token of the same connection, as inside Snowflake."""
    with snowflake_backend(cortex_env, tmp_path, monkeypatch) as (cortex, others):
        code, _, err = run(capsys, "generate", "--mode", "all")
        assert code == 0, err
        end_fakesnow_sessions(keep=others)  # the command has ended: free the DuckDB files for the next
        rows = sql_json(
            capsys,
            "SELECT customer_id, status, agent_thread_id, last_message_id "
            "FROM CUSTOMER_SUCCESS_DATA.ANALYTICS.weekly_reports ORDER BY customer_id",
        )
        assert len(rows) == 9 and {r["STATUS"] for r in rows} == {"complete"}
        for row in rows:
            assert row["LAST_MESSAGE_ID"] == cortex.threads[int(str(row["AGENT_THREAD_ID"]))].last_assistant
        assert len(cortex.runs()) == 27 and all(r.status == 200 for r in cortex.runs())
        assert cortex.requests[0].headers["Authorization"].startswith('Snowflake Token="')


def test_every_section_prompt_carries_the_engines_verdict(server: CortexServer, demo_home: Path) -> None:
    """Cortex writes the sections; the verdict they are told is the parent message's (issue 13)."""
    settings = cortex_settings(server, demo_home)
    with EmbeddedWarehouse(demo_home) as warehouse:
        engine = ReportEngine(settings, warehouse, make_agent(settings, warehouse))
        week = engine.week()
        engine.generate(engine.targets("CSM001", "CUST_34567"), week)
        report = engine.store.load("CUST_34567", week)
    assert report.headline is not None and report.headline.health == "At risk"
    prompts = [r.prompt for r in server.runs()]
    assert len(prompts) == 3
    for prompt in prompts:
        assert f'"{report.headline.health_line}"' in prompt
        assert "do not give another" in prompt
    assert all(point in prompts[2] for point in report.headline.talking_points)
