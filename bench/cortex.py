"""Cortex benchmark: concurrent report generation against a Cortex server with latency L.

    python bench/cortex.py [--customers 320] [--latency 0.1] [--concurrency 16]

Runs the real engine and the real Cortex client against the local Cortex server of
`tests/cortex_server.py` (threads API + streamed `:run`, every answer delayed by L seconds),
in a process of its own as a remote service would be:

1. the original system's way, one customer and one call after another (concurrency 1), on
   `--baseline-customers` of them (it is slow by design) and extrapolated to N;
2. customers in parallel at concurrency C, the agent rate limit not binding;
3. the same with `WEEKLY_REPORT_AGENT_RPM` binding, to show no 60-second window holds more
   agent calls than the limit.

Each report is 1 thread creation + one `:run` per section, so the ideal wall time at
concurrency C is N × (1 + sections) × L / C. Target: wall ≤ 1.15 × ideal at C = 16.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import requests
from _common import ROOT, print_table  # also puts the checkout on sys.path

from core import ReportEngine, Settings, make_agent
from core.demo import load_demo
from core.kinds.ebr.sections import SECTIONS
from core.warehouse.embedded import EmbeddedWarehouse
from tests.cortex_server import STATS

AS_OF = dt.date(2026, 11, 18)
TARGET_RATIO = 1.15
UNLIMITED_RPM = 1_000_000
TOKEN = "bench-token"


def main() -> int:
    args = _parser().parse_args()
    calls_per_report = 1 + len(SECTIONS)
    with (
        tempfile.TemporaryDirectory(prefix="weekly-report-cortex-") as scratch,
        Server(args.latency) as server,
    ):
        home = Path(scratch)
        warehouse = EmbeddedWarehouse(home)
        load_demo(warehouse, AS_OF, max(args.customers, 9))
        base = Settings(
            home=home, today=AS_OF, agent="cortex", cortex_base_url=server.url, cortex_token=TOKEN
        )
        scenarios = [
            ("original: one at a time", args.baseline_customers, 1, UNLIMITED_RPM),
            (f"concurrent, C={args.concurrency}", args.customers, args.concurrency, UNLIMITED_RPM),
            (f"concurrent, {args.rpm} calls/min", args.rpm_customers, args.concurrency, args.rpm),
        ]
        rows, walls = [], {}
        for name, customers, concurrency, rpm in scenarios:
            settings = replace(base, concurrency=concurrency, agent_rpm=rpm)
            seconds, calls, busiest = _run(settings, warehouse, server, customers)
            ideal = customers * calls_per_report * args.latency / concurrency
            if rpm != UNLIMITED_RPM:
                ideal = max(ideal, _rate_bound(customers * calls_per_report, rpm))
            ratio = seconds / ideal
            verdict = _verdict(concurrency, args.concurrency, rpm, ratio, busiest)
            rows.append(
                [name, customers, concurrency, _rpm(rpm), calls, seconds, ideal, ratio, busiest, verdict]
            )
            walls[name] = seconds / customers
        warehouse.close()
    print(
        f"Local Cortex server, {args.latency * 1000:.0f} ms per call, {calls_per_report} calls per report "
        f"(1 thread + {len(SECTIONS)} sections); ideal = N × {calls_per_report} × L / C"
    )
    print_table(
        [
            "scenario",
            "customers",
            "C",
            "RPM",
            "calls",
            "wall s",
            "ideal s",
            "wall/ideal",
            "max/60 s",
            "target",
        ],
        rows,
    )
    one_at_a_time = walls[scenarios[0][0]] * args.customers
    concurrent = walls[scenarios[1][0]] * args.customers
    print(
        f"{args.customers} customers one at a time (measured per customer × N): {one_at_a_time:,.0f} s; "
        f"at C={args.concurrency}: {concurrent:,.1f} s ({one_at_a_time / concurrent:,.1f}× faster)"
    )
    return 0


class Server:
    """`tests/cortex_server.py` in a child process (with `faults`: Fault fields); `call_times()`
    and `stats()` ask it what it saw."""

    def __init__(self, latency: float, faults: Sequence[Mapping[str, object]] = ()) -> None:
        self.latency, self.faults = latency, faults

    def __enter__(self) -> Server:
        argv = [sys.executable, "-m", "tests.cortex_server", "--latency", str(self.latency), "--token", TOKEN]
        for fault in self.faults:
            argv += ["--fault", json.dumps(fault)]
        self.proc = subprocess.Popen(argv, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()
        if not self.url.startswith("http"):
            raise SystemExit("the Cortex server did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=10)

    def call_times(self) -> list[float]:
        return [float(t) for t in self.stats()["call_times"]]

    def stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = requests.get(self.url + STATS, timeout=10).json()
        return stats


def _run(
    settings: Settings, warehouse: EmbeddedWarehouse, server: Server, customers: int
) -> tuple[float, int, int]:
    engine = ReportEngine(settings, warehouse, make_agent(settings, warehouse))
    week = engine.week(None)
    targets = engine.targets()[:customers]
    before = len(server.call_times())
    started = time.monotonic()
    summary = engine.generate(targets, week, refresh=True)
    seconds = time.monotonic() - started
    if summary.reports_generated != customers or summary.reports_partial:
        raise SystemExit(f"expected {customers} complete reports, got {summary.as_dict()}")
    times = sorted(server.call_times()[before:])
    return seconds, len(times), _busiest_minute(times)


def _busiest_minute(times: list[float]) -> int:
    """The most calls that started within any 60-second window."""
    return max((bisect.bisect_left(times, t + 60.0) - i for i, t in enumerate(times)), default=0)


def _rate_bound(calls: int, rpm: int) -> float:
    """The shortest time `calls` can take when at most `rpm` may start in any 60 s."""
    return 60.0 * ((calls - 1) // rpm) if calls > rpm else 0.0


def _verdict(concurrency: int, target_c: int, rpm: int, ratio: float, busiest: int) -> str:
    if rpm != UNLIMITED_RPM:
        return "met" if busiest <= rpm else "EXCEEDED"
    if concurrency == target_c:
        return "met" if ratio <= TARGET_RATIO else "MISSED"
    return "baseline"


def _rpm(rpm: int) -> str:
    return "unlimited" if rpm == UNLIMITED_RPM else str(rpm)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=320)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds per agent call (default 0.1)")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--baseline-customers", type=int, default=16, help="customers for the one-at-a-time run (default 16)"
    )
    parser.add_argument("--rpm", type=int, default=300, help="the binding agent rate limit of scenario 3")
    parser.add_argument("--rpm-customers", type=int, default=100, help="customers of scenario 3")
    return parser


if __name__ == "__main__":
    sys.exit(main())
