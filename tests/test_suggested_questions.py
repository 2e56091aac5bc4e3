"""Suggested follow-up questions: three per report, fitting that report, each one the local
analyst answers (asked for real through ReportEngine.ask, not checked by wording)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from core import ReportEngine, Requester, Settings
from core.agent.local.analyst import LocalAnalyst
from core.kinds import COACHING, EBR
from core.kinds.base import ReportKind
from core.kinds.ebr.search import case_study_titles
from core.models import COMPLETE, NO_DATA
from core.warehouse.embedded import EmbeddedWarehouse
from tests.conftest import AS_OF

ADMIN = Requester(is_admin=True)
# What the analysts say to a question they cannot answer (core/agent/local/followup.py's
# _unknown and the coaching answerer's).
CANNOT = ("I can't answer that from the data", "I can answer questions like", "I can't tell which dates")


@pytest.fixture(scope="module")
def wh(demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedWarehouse]:
    home = tmp_path_factory.mktemp("suggested") / "home"
    shutil.copytree(demo_template, home)
    with EmbeddedWarehouse(home) as warehouse:
        yield warehouse


def engine_for(wh: EmbeddedWarehouse, kind: ReportKind) -> ReportEngine:
    return ReportEngine(Settings(home=wh.home, today=AS_OF), wh, LocalAnalyst(wh), kind=kind, workers=1)


@pytest.mark.parametrize("kind", [EBR, COACHING], ids=lambda k: k.name)
def test_every_suggested_question_of_every_demo_report_gets_a_real_answer(
    wh: EmbeddedWarehouse, kind: ReportKind
) -> None:
    engine = engine_for(wh, kind)
    run = engine.generate(engine.targets(), engine.week())
    asked = 0
    for subject_id, report in sorted(run.reports.items()):
        questions = list(kind.suggested_questions(report))
        if report.status == NO_DATA:
            assert questions == [], subject_id  # nothing to ask about
            continue
        assert report.status == COMPLETE
        assert len(questions) == 3 and len(set(questions)) == 3, (subject_id, questions)
        for question in questions:
            answer = engine.ask(ADMIN, subject_id, question, report.week).answer
            assert not any(c in answer.text for c in CANNOT), (subject_id, question, answer.text[:200])
            assert answer.sql, (subject_id, question)  # answered from a query
            asked += 1
    assert asked >= 3 * 7


def test_ebr_suggestions_fit_the_report(wh: EmbeddedWarehouse) -> None:
    engine = engine_for(wh, EBR)
    run = engine.generate(
        engine.targets(None, "CUST_34567") + engine.targets(None, "CUST_89012"), engine.week()
    )
    at_risk, growing = run.reports["CUST_34567"], run.reports["CUST_89012"]
    # Brightline: At risk; its verdict puts no metric below a benchmark.
    assert EBR.suggested_questions(at_risk)[0] == "Why is the account At risk?"
    # CUST_89012: conversions +48.6% WoW is its biggest change (revenue +46.6%).
    assert EBR.suggested_questions(growing)[:2] == (
        "Why is the account Healthy?",
        "Why did conversions rise last week?",
    )
    watch = engine.generate(engine.targets(None, "CUST_67890"), engine.week()).reports["CUST_67890"]
    assert watch.headline is not None and "open rate" in watch.headline.health_reasons  # type: ignore[union-attr]
    assert EBR.suggested_questions(watch)[2] == "Are there case studies on improving open rate?"


def test_coaching_suggestions_name_the_weakest_dimension_and_the_top_objection(wh: EmbeddedWarehouse) -> None:
    engine = engine_for(wh, COACHING)
    aisha = engine.generate(engine.targets(None, "REP005"), engine.week()).reports["REP005"]
    assert COACHING.suggested_questions(aisha) == (
        "How did the objection handling score move over the last month?",
        "Which calls had pricing objections?",
        "What should I focus on?",
    )


def test_case_study_titles_are_read_by_id(wh: EmbeddedWarehouse) -> None:
    titles = case_study_titles(wh, ["CS-001", "CS-004", "CALL-REP005-20261109-2", ""])
    assert set(titles) == {"CS-001", "CS-004"}
    assert titles["CS-001"].startswith("Dynamic product blocks")
    assert case_study_titles(wh, []) == {}
