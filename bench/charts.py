"""Chart rendering benchmark: every chart of the demo week's reports, rendered N times.

    python bench/charts.py [--times 30] [--scale 2.0]

The demo's nine EBRs are generated once on the embedded warehouse (not timed); each of their
charts (the revenue trend and the channel mix) is then rendered to PNG `--times` times by
bot.charts.render_png, as the Slack and email channels render it, after one warm-up render
(vl-convert starts its JavaScript engine on the first call). Printed: per chart kind, the
median and p99 milliseconds over every report's renders, the PNG's pixel size and bytes; and
this process's peak RSS. Also the median CPU time per render (every thread of this process):
on a shared machine, the wall time includes waiting for a core. Target: <= 30 ms median per chart.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import statistics
import struct
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from _common import print_table  # also puts the checkout on sys.path

from bot.charts import SCALE, render_png
from core import ReportEngine, Settings, make_agent
from core.charts import Chart
from core.demo import load_demo
from core.kinds import get_kind
from core.warehouse.embedded import EmbeddedWarehouse

AS_OF = dt.date(2026, 11, 18)


def demo_charts(home: Path) -> list[Chart]:
    """Every chart of the demo week's EBRs."""
    with EmbeddedWarehouse(home) as warehouse:
        load_demo(warehouse, AS_OF)
        settings = Settings(home=home, today=AS_OF)
        engine = ReportEngine(settings, warehouse, make_agent(settings, warehouse))
        week = engine.week()
        engine.generate(engine.targets(), week)
        kind = get_kind("ebr")
        charts = [
            c
            for a in engine.directory.assignments()
            for c in kind.charts(engine.store.load(a.customer_id, week))
        ]
        engine.close()
    return charts


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--times", type=int, default=30, help="renders of each chart (default 30)")
    parser.add_argument("--scale", type=float, default=SCALE, help=f"render scale (default {SCALE})")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        charts = demo_charts(Path(tmp) / "home")
    started = time.perf_counter()
    render_png(charts[0], args.scale)
    warm_up = (time.perf_counter() - started) * 1000
    times: dict[str, list[float]] = defaultdict(list)
    cpu: dict[str, list[float]] = defaultdict(list)
    sizes: dict[str, tuple[int, int, int]] = {}
    for chart in charts:
        for _ in range(args.times):
            started, started_cpu = time.perf_counter(), time.process_time()
            png = render_png(chart, args.scale)
            times[chart.name].append((time.perf_counter() - started) * 1000)
            cpu[chart.name].append((time.process_time() - started_cpu) * 1000)
        width, height = struct.unpack(">II", png[16:24])
        sizes[chart.name] = (width, height, len(png))
    print(
        f"{len(charts)} charts of the demo week's reports, each rendered {args.times} times at scale {args.scale}"
    )
    print(f"first render (engine start-up): {warm_up:,.0f} ms")
    rows: list[tuple[object, ...]] = [
        (name, len(ms), statistics.median(ms), p99(ms), statistics.median(cpu[name]),
         f"{sizes[name][0]}x{sizes[name][1]}", sizes[name][2])
        for name, ms in times.items()
    ]  # fmt: skip
    every, every_cpu = [m for ms in times.values() for m in ms], [m for ms in cpu.values() for m in ms]
    rows.append(
        ("all", len(every), statistics.median(every), p99(every), statistics.median(every_cpu), "", "")
    )
    headers = ("chart", "renders", "median ms", "p99 ms", "median CPU ms", "pixels", "PNG bytes")
    print_table(headers, rows)
    # On a shared machine the wall times include waiting for a core: the CPU time (all of this
    # process's threads) is what a render costs.
    print(f"load average while measured: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak:,.0f} MB   (target: <= 30 ms median per chart)")


if __name__ == "__main__":
    main()
