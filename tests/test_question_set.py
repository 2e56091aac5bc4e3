"""Every question of tests/question_set.py: answered with the figures of independent SQL over
the dates it asks about, or (when it must be) refused honestly."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.agent.local.followup import FollowupAnswerer
from core.kinds.ebr.search import CaseStudyIndex
from core.warehouse.embedded import EmbeddedWarehouse
from tests.question_set import CASES, Case, score
from tests.test_followup import CONTEXT, followup_warehouse


@pytest.fixture(scope="module")
def warehouse(
    followup_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EmbeddedWarehouse]:
    with followup_warehouse(followup_template, tmp_path_factory) as wh:
        yield wh


@pytest.fixture(scope="module")
def answerer(warehouse: EmbeddedWarehouse) -> FollowupAnswerer:
    return FollowupAnswerer(warehouse, CaseStudyIndex.load(warehouse))


def test_the_set_is_large_and_varied() -> None:
    assert len(CASES) >= 80
    assert len({c.question.lower() for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.question[:50] for c in CASES])
def test_question(answerer: FollowupAnswerer, warehouse: EmbeddedWarehouse, case: Case) -> None:
    text = answerer.answer(case.question, CONTEXT).text
    assert score(case, text, warehouse) == ("refused" if case.refuse else "correct"), text


def test_the_score_catches_another_period_wrong_figures_and_dishonest_refusals(warehouse) -> None:
    october = next(c for c in CASES if c.question == "revenue in October")
    right = f"**Revenue was {october.figures(warehouse)[0]}** in October 2026 ({october.period})."
    assert score(october, right, warehouse) == "correct"
    assert (
        score(october, "**Revenue was $1** in the week of Nov 09 – Nov 15, 2026.", warehouse)
        == "wrong_period"
    )
    assert score(october, f"**Revenue was $1** in October 2026 ({october.period}).", warehouse) == "wrong"
    assert score(october, "I can't answer for “October”: ...", warehouse) == "refused"
    holidays = next(c for c in CASES if c.refuse)
    assert score(holidays, right, warehouse) == "wrong"
