"""Answer-guard benchmark: leaking and benign Cortex answers through the real client and engine.

    python bench/guard.py [--rounds 5] [--customers 10000]

Starts the local Cortex server of `tests/cortex_server.py` in a child process (as
bench/cortex.py does) with its scripted turns (`--scripts`, tests/cortex_scripts.py), loads
the demo warehouse, writes CUST_12345's report, then asks follow-ups through
`ReportEngine.ask`, the real Cortex client over HTTP, each answered by one scripted turn:

1. every leaking script, `--rounds` times: each must be withheld (AnswerWithheld, by the
   script's rule); the count per event shape the leak travelled in;
2. every benign script (its SQL filtered on CUST_12345), `--rounds` times: each must pass;
3. the guard's own time per answer (`core.guard.check` on the answers the client
   assembled), against an index of `--customers` known customers, median and p99; and the
   time to build that index (once per run);
4. the streaming gate's time per text delta (`core.guard.stream.GuardGate`, what a listener
   of ReportEngine.ask waits on for each piece): the benign answers' text, and a longer one,
   cut into 12-character deltas, against the same index.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from _common import ROOT, print_table  # also puts the checkout on sys.path

from core import ReportEngine, Requester, Settings, make_agent
from core.agent.base import Answer, AskContext
from core.demo import load_demo
from core.errors import AnswerWithheld
from core.guard import Scope, Subjects, check
from core.guard.stream import GuardGate
from core.kinds.ebr.scope import EBR_SCOPE
from core.warehouse.embedded import EmbeddedWarehouse
from tests.cortex_scripts import BENIGN, LEAKS, ME, shape_of

AS_OF = dt.date(2026, 11, 18)
TOKEN = "bench-token"


def main() -> int:
    args = _parser().parse_args()
    logging.getLogger("weekly_report.security").setLevel(logging.ERROR)  # one line per withheld answer
    with tempfile.TemporaryDirectory(prefix="weekly-report-guard-") as scratch, Server() as url:
        home = Path(scratch)
        warehouse = EmbeddedWarehouse(home)
        load_demo(warehouse, AS_OF)
        settings = Settings(home=home, today=AS_OF, agent="cortex", cortex_base_url=url, cortex_token=TOKEN)
        with ReportEngine(settings, warehouse, make_agent(settings, warehouse)) as engine:
            engine.generate(engine.targets(None, ME), engine.week())
            withheld, wrong = _leaks(engine, args.rounds)
            passed, refused, answers = _benign(engine, args.rounds)
            answers += _raw_answers(engine)
    index_seconds, subjects = _index(args.customers)
    timings = _guard_times(answers, subjects, args.repeat)
    _report(withheld, wrong, passed, refused, args.rounds, index_seconds, timings, args.customers)
    gate = _gate_times([a.text for a in answers if a.text] + [LONG_ANSWER], subjects, args.repeat)
    print(
        f"Streaming gate per text delta ({len(gate):,} deltas of 12 characters): "
        f"median {statistics.median(gate) * 1e6:.0f} µs, p99 {gate[int(len(gate) * 0.99)] * 1e6:.0f} µs"
    )
    return 0 if not wrong and not refused else 1


def _leaks(engine: ReportEngine, rounds: int) -> tuple[Counter[str], list[str]]:
    """Each leaking script asked `rounds` times: withheld counts by shape, and what slipped."""
    withheld: Counter[str] = Counter()
    wrong = []
    for _ in range(rounds):
        for name, (rule, script) in LEAKS.items():
            try:
                engine.ask(Requester(is_admin=True), ME, f"Revenue of every customer? [script:{name}]")
            except AnswerWithheld as refusal:
                if refusal.rule == rule:
                    withheld[shape_of(script)] += 1
                    continue
                wrong.append(f"{name}: withheld by {refusal.rule}, expected {rule}")
                continue
            wrong.append(f"{name}: passed")
    return withheld, wrong


def _benign(engine: ReportEngine, rounds: int) -> tuple[int, list[str], list[Answer]]:
    passed, refused, answers = 0, [], []
    for _ in range(rounds):
        for name in BENIGN:
            try:
                result = engine.ask(Requester(is_admin=True), ME, f"My revenue by channel? [script:{name}]")
            except AnswerWithheld as refusal:
                refused.append(f"{name}: withheld by {refusal.rule}")
                continue
            passed += 1
            answers.append(result.answer)
    return passed, refused, answers


def _raw_answers(engine: ReportEngine) -> list[Answer]:
    """The leaking answers as the client assembled them, before any guard (for timing it)."""
    agent, report = engine.agent, engine.store.load(ME)
    context = AskContext(ME, report.customer_name, report.industry, report.week)
    parent = report.last_message_id or 0
    return [
        agent.ask(str(report.agent_thread_id), parent, f"Everyone? [script:{name}]", context)
        for name in LEAKS
    ]


def _index(customers: int) -> tuple[float, Subjects]:
    names = {f"CUST_{n:05d}": f"Company {n} Holdings" for n in range(customers - 2)}
    names.update({ME: "Northwind Outfitters", "CUST_45678": "Meridian Health Partners"})
    started = time.perf_counter()
    subjects = Subjects(names, EBR_SCOPE.id_pattern)
    return time.perf_counter() - started, subjects


def _guard_times(answers: list[Answer], subjects: Subjects, repeat: int) -> list[float]:
    scope = Scope(EBR_SCOPE, ME, subjects)
    times = []
    for _ in range(repeat):
        for answer in answers:
            started = time.perf_counter()
            check(answer, scope)
            times.append(time.perf_counter() - started)
    return sorted(times)


LONG_ANSWER = (
    "Revenue for the week was $36,895, up 3.9% on the week before, and click-through held at 2.82%, "
    "above the retail benchmark. Email carried most of the gain: its conversions rose while push "
    "stayed flat. Shifting some volume from push to SMS, which returns more per send, is the "
    "clearest next step; the win-back case study shows what that did for a similar retailer. "
) * 4


class _Deaf:
    def status(self, phase: str, message: str = "") -> None:
        pass

    def text(self, delta: str) -> None:
        pass


def _gate_times(texts: list[str], subjects: Subjects, repeat: int) -> list[float]:
    """Seconds GuardGate.text takes per 12-character delta of each text, sorted."""
    scope = Scope(EBR_SCOPE, ME, subjects)
    times = []
    for _ in range(repeat):
        for text in texts:
            gate = GuardGate(_Deaf(), scope)
            for start in range(0, len(text), 12):
                started = time.perf_counter()
                gate.text(text[start : start + 12])
                times.append(time.perf_counter() - started)
    return sorted(times)


def _report(
    withheld: Counter[str],
    wrong: list[str],
    passed: int,
    refused: list[str],
    rounds: int,
    index_seconds: float,
    timings: list[float],
    customers: int,
) -> None:
    expected = Counter(shape_of(script) for _, script in LEAKS.values())
    print(f"Leaking answers withheld, by the event shape the leak travelled in ({rounds} rounds):")
    rows = [[shape, withheld[shape], expected[shape] * rounds] for shape in sorted(expected)]
    rows.append(["all", sum(withheld.values()), len(LEAKS) * rounds])
    print_table(["shape", "withheld", "asked"], rows)
    print(f"\nBenign answers passed: {passed} of {len(BENIGN) * rounds}")
    for problem in wrong + refused:
        print(f"  PROBLEM {problem}")
    p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]
    print(
        f"\nGuard time per answer ({len(timings)} checks, {customers:,} known customers): "
        f"median {statistics.median(timings) * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms; "
        f"name index built once in {index_seconds * 1000:.0f} ms"
    )


class Server:
    """`tests/cortex_server.py --scripts` in a child process; the context value is its URL."""

    def __enter__(self) -> str:
        argv = [sys.executable, "-m", "tests.cortex_server", "--token", TOKEN, "--scripts"]
        self.proc = subprocess.Popen(argv, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        url = self.proc.stdout.readline().strip()
        if not url.startswith("http"):
            raise SystemExit("the Cortex server did not start")
        return url

    def __exit__(self, *exc: object) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5, help="times each scripted answer is asked")
    parser.add_argument("--customers", type=int, default=10_000, help="known customers in the guard's index")
    parser.add_argument("--repeat", type=int, default=50, help="guard checks per answer for its timing")
    return parser


if __name__ == "__main__":
    sys.exit(main())
