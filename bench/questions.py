"""Follow-up question set: the share of natural questions answered correctly, refused
honestly, answered wrongly, and answered for a different period than asked.

    python bench/questions.py

Builds the dataset of tests/test_followup.py in a scratch warehouse, asks every question of
tests/question_set.py through the local analyst's answerer and scores each answer against
figures from independent SQL over the dates the question names. Targets: at least 90 %
correct, no answer for a different period.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from _common import print_table  # also puts the checkout on sys.path

from core.agent.local.followup import FollowupAnswerer
from core.kinds.ebr.search import CaseStudyIndex
from core.warehouse.embedded import EmbeddedWarehouse
from tests.question_set import CASES, score
from tests.test_followup import CONTEXT, load

TARGET_CORRECT = 0.90


def main() -> int:
    with (
        tempfile.TemporaryDirectory(prefix="weekly-report-questions-") as scratch,
        EmbeddedWarehouse(Path(scratch)) as warehouse,
    ):
        load(warehouse)
        answerer = FollowupAnswerer(warehouse, CaseStudyIndex.load(warehouse))
        started = time.perf_counter()
        results = {c.question: score(c, answerer.answer(c.question, CONTEXT).text, warehouse) for c in CASES}
        elapsed = time.perf_counter() - started
    counts = Counter(results.values())
    total = len(CASES)
    rows = [
        [name, counts[name], f"{counts[name] / total:.1%}"]
        for name in ("correct", "refused", "wrong", "wrong_period")
    ]
    print(
        f"{total} follow-up questions ({sum(c.refuse for c in CASES)} of them must be refused), {elapsed:.1f} s"
    )
    print_table(["outcome", "questions", "share"], rows)
    for question, outcome in results.items():
        if outcome in ("wrong", "wrong_period"):
            print(f"  {outcome}: {question}")
    answerable = [c for c in CASES if not c.refuse]
    share = sum(results[c.question] == "correct" for c in answerable) / len(answerable)
    print(f"answerable questions answered correctly: {share:.1%} of {len(answerable)}")
    correct = (counts["correct"] + sum(c.refuse and results[c.question] == "refused" for c in CASES)) / total
    met = correct >= TARGET_CORRECT and counts["wrong_period"] == 0
    print(f"handled as expected (correct, or refused when it must be): {correct:.1%}; "
          f"target ≥ {TARGET_CORRECT:.0%} and 0 answered for another period: {'met' if met else 'MISSED'}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
