"""The answer guard on the coaching review: SQL that reads another rep's calls, transcripts not
restricted to the rep, or the speakers table is withheld; SQL scoped to the rep passes.

First the guard itself with COACHING_SCOPE, then the whole path: the engine with the coaching
kind and the real Cortex client over HTTP to the local Cortex server (tests/cortex_server.py),
answering a section or a follow-up with a scripted turn (tests/cortex_scripts.py)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from core import ReportEngine, Requester, make_agent
from core.agent.base import Answer, ResultTable
from core.errors import AnswerWithheld
from core.guard import Scope, Subjects, check
from core.kinds import COACHING
from core.kinds.coaching.scope import COACHING_SCOPE
from core.models import COMPLETE, FAILED
from core.settings import DEFAULT_COACHING_AGENT
from core.warehouse.embedded import EmbeddedWarehouse
from core.weeks import Week
from tests.conftest import REPORT_WEEK
from tests.cortex_scripts import SQL_SHAPES, Scripted
from tests.cortex_server import CortexServer, Fault
from tests.test_cortex_engine import cortex_settings

ME, MY_NAME, MY_EMAIL = "REP005", "Aisha Okafor", "aisha.okafor@example.com"
OTHER, OTHER_NAME = "REP002", "David Park"
C = "CUSTOMER_SUCCESS_DATA.COACHING"
PERIOD = "c.started_at >= '2026-11-09'::DATE AND c.started_at < '2026-11-16'::DATE"
SECURITY_LOG = "weekly_report.security"
WITHHELD = f"I can only answer about {ME}; that answer was withheld"

# What a coaching answer's SQL must not do, each with the rule that withholds it.
LEAKS: dict[str, tuple[str, str]] = {
    "another_reps_calls": (
        "foreign_subject",
        f"SELECT title, customer_name FROM {C}.calls c WHERE c.rep_id = '{OTHER}' AND {PERIOD}",
    ),
    "every_reps_calls": (
        "unscoped_table",
        f"SELECT c.rep_id, COUNT(*) FROM {C}.calls c WHERE {PERIOD} GROUP BY c.rep_id",
    ),
    "team_average": (
        "unscoped_table",
        f"SELECT AVG(s.discovery) FROM {C}.coaching_sessions s JOIN {C}.calls c ON c.call_id = s.call_id "
        f"WHERE {PERIOD}",
    ),
    "or_escape": (
        "unscoped_table",
        f"SELECT AVG(s.overall_score) FROM {C}.coaching_sessions s WHERE s.rep_id = '{ME}' OR s.overall_score > 0",
    ),
    "unscoped_transcripts_through_the_call": (
        "unscoped_table",
        f"SELECT t.text FROM {C}.transcripts t JOIN {C}.calls c ON c.call_id = t.call_id "
        f"WHERE c.rep_id = '{ME}' AND {PERIOD}",
    ),
    "transcripts_by_speaker": (
        "unscoped_table",
        f"SELECT text FROM {C}.transcripts WHERE speaker_id = '{ME}'",
    ),
    "transcripts_by_call_id": (
        "foreign_subject",  # the call id names another rep
        f"SELECT text FROM {C}.transcripts WHERE call_id = 'CALL-{OTHER}-20261109-0'",
    ),
    "speakers": (
        "forbidden_table",
        f"SELECT name, email FROM {C}.speakers WHERE speaker_id = '{ME}'",
    ),
    "speakers_joined": (
        "forbidden_table",
        f"SELECT p.name, c.title FROM {C}.calls c JOIN {C}.speakers p ON p.speaker_id = c.rep_id "
        f"WHERE c.rep_id = '{ME}'",
    ),
    "ebr_tables": (
        "forbidden_table",
        f"SELECT SUM(revenue) FROM CUSTOMER_SUCCESS_DATA.ANALYTICS.conversions WHERE customer_id = '{ME}'",
    ),
    "weekly_reports": (
        "forbidden_table",
        "SELECT full_report FROM CUSTOMER_SUCCESS_DATA.ANALYTICS.weekly_reports",
    ),
}
# Scoped answers: each table restricted to the rep on its own rep_id.
BENIGN: dict[str, str] = {
    "calls": f"SELECT title, customer_name, started_at FROM {C}.calls c WHERE c.rep_id = '{ME}' AND {PERIOD}",
    "sessions_joined": (
        f"SELECT AVG(s.discovery) FROM {C}.calls c JOIN {C}.coaching_sessions s ON s.call_id = c.call_id "
        f"WHERE c.rep_id = '{ME}' AND s.rep_id = '{ME}' AND {PERIOD}"
    ),
    "sessions_pinned_through_the_join": (
        f"SELECT AVG(s.discovery) FROM {C}.calls c JOIN {C}.coaching_sessions s ON s.call_id = c.call_id "
        f"AND s.rep_id = c.rep_id WHERE c.rep_id = '{ME}' AND {PERIOD}"
    ),
    "transcripts_and_highlights": (
        f"SELECT c.title, t.offset_seconds, t.text, h.value:quote::VARCHAR FROM {C}.calls c "
        f"JOIN {C}.coaching_sessions s ON s.call_id = c.call_id AND s.rep_id = '{ME}' "
        f"JOIN {C}.transcripts t ON t.call_id = c.call_id AND t.rep_id = '{ME}', "
        f"LATERAL FLATTEN(input => s.highlights) h WHERE c.rep_id = '{ME}' AND {PERIOD}"
    ),
    "cte": (
        f"WITH mine AS (SELECT s.objections FROM {C}.coaching_sessions s WHERE s.rep_id = '{ME}') "
        "SELECT o.value::VARCHAR, COUNT(*) FROM mine, LATERAL FLATTEN(input => mine.objections) o GROUP BY 1"
    ),
}


def scope() -> Scope:
    reps = {"REP001": "Jane Smith", OTHER: OTHER_NAME, ME: MY_NAME, "REP006": "Lucas Meyer"}
    return Scope(COACHING_SCOPE, ME, Subjects(reps, COACHING_SCOPE.id_pattern))


# --- the guard with the coaching scope ----------------------------------------------------------


@pytest.mark.parametrize("name", list(LEAKS))
def test_a_leaking_coaching_statement_is_refused_by_its_rule(name: str) -> None:
    rule, sql = LEAKS[name]
    verdict = check(Answer("Discovery averaged 70/100.", None, (sql,)), scope())
    assert verdict.rule == rule, verdict


@pytest.mark.parametrize("name", list(BENIGN))
def test_a_statement_scoped_to_the_rep_passes(name: str) -> None:
    verdict = check(Answer(f"{MY_NAME}'s discovery averaged 70/100.", None, (BENIGN[name],)), scope())
    assert verdict.ok, verdict


def test_another_reps_name_or_id_in_the_text_or_a_result_set_is_refused() -> None:
    sql = (BENIGN["calls"],)
    assert check(Answer(f"{OTHER_NAME} scored 81/100 on discovery.", None, sql), scope()).rule == (
        "text_names_other_subject"
    )
    table = ResultTable(("REP_ID", "DISCOVERY"), ((ME, "70"), (OTHER, "81")))
    assert check(Answer("Discovery: 70/100.", None, sql, tables=(table,)), scope()).rule == (
        "result_set_other_subject"
    )


# --- end to end: the coaching engine on Cortex ------------------------------------------------------

SECTION_SQL = BENIGN["sessions_joined"]
SECTION_ANSWER = Scripted(text=f"{MY_NAME} averaged 70/100 on discovery this week.", sql=SECTION_SQL)


@pytest.fixture
def server() -> Iterator[CortexServer]:
    with CortexServer(agent=DEFAULT_COACHING_AGENT) as running:
        yield running


def coaching_engine(server: CortexServer, home: Path) -> ReportEngine:
    settings = cortex_settings(server, home)
    warehouse = EmbeddedWarehouse(home)
    return ReportEngine(settings, warehouse, make_agent(settings, warehouse, COACHING), kind=COACHING)


@pytest.fixture
def engine(server: CortexServer, demo_home: Path) -> Iterator[ReportEngine]:
    """The coaching engine on Cortex with REP005's review generated from scoped section answers."""
    server.faults.append(Fault(prompt="Section:", script=SECTION_ANSWER))
    with coaching_engine(server, demo_home) as engine:
        summary = engine.generate(engine.targets(customer_id=ME), Week(REPORT_WEEK))
        assert summary.reports_generated == 1 and summary.reports_failed == 0
        yield engine


def followups(engine: ReportEngine) -> list[dict[str, object]]:
    return engine.warehouse.query(
        "SELECT question, answer, status, refusal_reason, agent_message_id, sql_text FROM followups"
    )


def test_the_coaching_agent_is_the_one_asked_and_every_prompt_keeps_to_the_rep(
    engine: ReportEngine, server: CortexServer
) -> None:
    runs = server.runs()
    assert {r.path for r in runs} == {
        "/api/v2/databases/SNOWFLAKE_INTELLIGENCE/schemas/AGENTS/agents/SALES_COACHING_ASSISTANT:run"
    }
    assert len(runs) == len(COACHING.sections)
    assert all(f"rep_id = '{ME}'" in r.prompt for r in runs)
    report = engine.store.load(ME, Week(REPORT_WEEK), COACHING.name)
    assert report.status == COMPLETE and all(s.content == SECTION_ANSWER.text for s in report.sections)


# Each SQL shape the service reports once, and the other two leaks in one shape each.
FOLLOW_UP_LEAKS = [("another_reps_calls", shape) for shape in SQL_SHAPES] + [
    ("unscoped_transcripts_through_the_call", "analyst_delta"),
    ("speakers", "execute_sql"),
]


@pytest.mark.parametrize(("name", "shape"), FOLLOW_UP_LEAKS)
def test_a_leaking_coaching_follow_up_is_withheld_in_every_shape(
    engine: ReportEngine, server: CortexServer, name: str, shape: str, caplog: pytest.LogCaptureFixture
) -> None:
    rule, sql = LEAKS[name]
    leak = Scripted(
        text="Here are the calls you asked for: Pricing review with Contoso Health.", sql=sql, shape=shape
    )
    question = "Which calls had pricing objections?"
    server.faults.insert(0, Fault(prompt=question, script=leak))
    with caplog.at_level(logging.WARNING, logger=SECURITY_LOG), pytest.raises(AnswerWithheld) as withheld:
        engine.ask(Requester(email=MY_EMAIL), ME, question)
    assert str(withheld.value).startswith(WITHHELD) and withheld.value.rule == rule
    [row] = followups(engine)
    assert row["status"] == "refused" and str(row["refusal_reason"]).startswith(rule)
    assert leak.text not in str(row["answer"]) and row["sql_text"] is None and row["agent_message_id"] is None
    [record] = [r for r in caplog.records if r.name == SECURITY_LOG]
    assert f"report coaching:{ME}-20261109" in record.getMessage() and f"rule {rule}" in record.getMessage()


def test_a_scoped_coaching_follow_up_passes_and_is_stored(engine: ReportEngine, server: CortexServer) -> None:
    benign = Scripted(
        text=f"{MY_NAME} handled the pricing objection at 07:15 on the Renewal check-in.",
        sql=BENIGN["transcripts_and_highlights"],
        shape="execute_sql",
    )
    question = "Show me where I handled the pricing objection"
    server.faults.insert(0, Fault(prompt=question, script=benign))
    result = engine.ask(Requester(email=MY_EMAIL), ME, question)
    assert result.answer.text == benign.text
    [row] = followups(engine)
    assert (row["status"], row["answer"], row["sql_text"]) == (
        "answered",
        benign.text,
        BENIGN["transcripts_and_highlights"],
    )
    assert f"rep_id = '{ME}'" in server.runs()[-1].prompt  # the kind's scope note went with the question


def test_a_section_reading_the_teams_sessions_is_withheld_and_the_review_is_partial(
    server: CortexServer, demo_home: Path
) -> None:
    """The team average written by the agent from every rep's sessions: that section fails,
    withheld; the others are kept, and nothing of the withheld answer is stored."""
    leak = Scripted(text=f"The team averaged 72/100; {OTHER_NAME} led with 81.", sql=LEAKS["team_average"][1])
    server.faults.extend([Fault(prompt="Section: Scores by Dimension", script=leak),
                          Fault(prompt="Section:", script=SECTION_ANSWER)])  # fmt: skip
    with coaching_engine(server, demo_home) as engine:
        engine.generate(engine.targets(customer_id=ME), Week(REPORT_WEEK))
        report = engine.store.load(ME, Week(REPORT_WEEK), COACHING.name)
    statuses = {s.key: s.status for s in report.sections}
    assert statuses == {s.key: FAILED if s.key == "scores" else COMPLETE for s in COACHING.sections}
    [scores] = [s for s in report.sections if s.key == "scores"]
    assert "unscoped_table" in str(scores.error) and OTHER_NAME not in str(scores.content or "")
    assert OTHER_NAME not in report.full_report and "81" not in (scores.content or "")
