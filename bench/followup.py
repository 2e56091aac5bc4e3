"""Follow-up benchmark: how long the embedded agent takes to answer a question in a thread.

    python bench/followup.py [--rounds 3]

Loads the 9-customer demo into a scratch warehouse, generates the week's reports, then asks
a mix of follow-up questions on every report the way the bot does (`ReportEngine.ask`:
authorise, load the report, answer on its agent thread, store the exchange) and prints the
latency per kind of question and overall. Target: p50 300 ms or less.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import print_table  # also puts the checkout on sys.path

from core import ReportEngine, Requester, Settings, build_engine
from core.demo import load_demo
from core.warehouse.embedded import EmbeddedWarehouse

AS_OF = dt.date(2026, 11, 18)
TARGET_P50_MS = 300.0
QUESTIONS = {
    "metric": "What was revenue last week?",
    "rate": "What was our open rate?",
    "previous week": "How many conversions in the previous week?",
    "year over year": "What was revenue the same week last year?",
    "trend": "Revenue over the last 4 weeks?",
    "breakdown": "What was revenue by channel last week?",
    "benchmark": "How do we compare to the industry benchmark?",
    "why": "Why did revenue drop?",
    "case studies": "Any case studies about churn?",
    "recommendation": "Tell me more about recommendation 1",
    "calendar month": "How did we do in October?",
    "two periods": "Compare this week to the previous week",
    "one channel": "What happened to SMS?",
    "talking points": "What should I tell the customer on Thursday's call?",
}


def main() -> int:
    args = _parser().parse_args()
    with tempfile.TemporaryDirectory(prefix="weekly-report-followup-") as scratch:
        home = Path(scratch)
        with EmbeddedWarehouse(home) as warehouse:
            load_demo(warehouse, AS_OF)
        engine = build_engine(Settings(home=home, today=AS_OF))
        with engine:
            week = engine.week(None)
            targets = engine.targets()
            engine.generate(targets, week)
            timings = ask_all(engine, [t.customer_id for t in targets], args.rounds)
    print_latencies(
        f"Follow-up answers on the embedded agent, 9 customers × {len(QUESTIONS)} kinds × {args.rounds} rounds",
        timings,
    )
    return 0


def ask_all(
    engine: ReportEngine, subjects: list[str], rounds: int, questions: dict[str, str] = QUESTIONS
) -> dict[str, list[float]]:
    """Milliseconds per answer, by kind of question: each asked of each subject, `rounds` times."""
    admin = Requester(is_admin=True)
    timings: dict[str, list[float]] = {kind: [] for kind in questions}
    for _ in range(rounds):
        for subject in subjects:
            for kind, question in questions.items():
                started = time.perf_counter()
                engine.ask(admin, subject, question)
                timings[kind].append((time.perf_counter() - started) * 1000)
    return timings


def print_latencies(title: str, timings: dict[str, list[float]]) -> None:
    """The p50/p99/max table by kind of question and overall, and the p50 target's verdict."""
    rows = [[kind, len(ms), _pct(ms, 50), _pct(ms, 99), max(ms)] for kind, ms in timings.items()]
    every = [m for ms in timings.values() for m in ms]
    p50 = _pct(every, 50)
    rows.append(["all", len(every), p50, _pct(every, 99), max(every)])
    print(title)
    print_table(["question kind", "asked", "p50 ms", "p99 ms", "max ms"], rows)
    print(f"target p50 ≤ {TARGET_P50_MS:.0f} ms: {'met' if p50 <= TARGET_P50_MS else 'MISSED'}")


def _pct(values: list[float], pct: int) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[pct - 1]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3, help="times each question is asked of each report")
    return parser


if __name__ == "__main__":
    sys.exit(main())
