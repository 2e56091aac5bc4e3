"""Coaching follow-up benchmark: how long the embedded agent takes to answer a rep's question
in their review's thread.

    python bench/coaching_followup.py [--rounds 3]

Loads the demo (EBR and coaching data) into a scratch warehouse, generates the week's coaching
reviews, then asks each kind of follow-up on every review the way the bot does
(`ReportEngine.ask` with the coaching kind: authorise, load the review, answer from SQL bound
to the rep, store the exchange) and prints the latency per kind of question and overall.
Target: p50 300 ms or less, as for the EBR's follow-ups (bench/followup.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
from pathlib import Path

from followup import ask_all, print_latencies  # its _common puts the checkout on sys.path

from core import Settings, build_engine
from core.demo import load_demo
from core.kinds import COACHING
from core.warehouse.embedded import EmbeddedWarehouse

AS_OF = dt.date(2026, 11, 18)
QUESTIONS = {
    "objection calls": "Which calls had pricing objections?",
    "objection counts": "What objections did I get in October?",
    "moments": "Show me where I handled the budget objection",
    "score trend": "How did my discovery score move over the last month?",
    "this vs last week": "How did my scores change this week vs last?",
    "focus": "What should I focus on?",
    "call list": "How many calls did I have last week?",
    "best call": "What was my best call?",
    "other rep (refused)": "How did David do?",
    "not understood": "Tell me a joke",
}


def main() -> int:
    args = _parser().parse_args()
    with tempfile.TemporaryDirectory(prefix="weekly-report-coaching-followup-") as scratch:
        home = Path(scratch)
        with EmbeddedWarehouse(home) as warehouse:
            load_demo(warehouse, AS_OF)
        with build_engine(Settings(home=home, today=AS_OF), kind=COACHING.name) as engine:
            week = engine.week(None)
            targets = COACHING.active_targets(engine.warehouse, week)
            engine.generate(targets, week)
            timings = ask_all(engine, [t.subject_id for t in targets], args.rounds, QUESTIONS)
    reps = len(timings["focus"]) // args.rounds
    print_latencies(
        f"Coaching follow-ups on the embedded agent, {reps} reps × {len(QUESTIONS)} kinds × {args.rounds} rounds",
        timings,
    )
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3, help="times each question is asked of each review")
    return parser


if __name__ == "__main__":
    sys.exit(main())
