"""Coaching demo data load: `weekly-report load-demo --reps N`, in a process of its own.

    python bench/coaching_load.py [--reps 8 10000] [--runs 2]

Each run loads the whole demo (the nine EBR customers and N reps' twelve weeks of calls,
sessions and transcript lines) into a fresh embedded warehouse, as a person would, and prints
the wall time, the child's peak RSS and the rows written. The EBR part alone (N = 8, its
default) is the baseline.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path

from _common import print_table, run_measured  # also puts the checkout on sys.path

AS_OF = "2026-11-18"
_COUNTS = re.compile(r"coaching: ([\d,]+) reps with ([\d,]+) calls, ([\d,]+) coaching sessions and ([\d,]+)")


def main() -> int:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--reps", type=int, nargs="+", default=[8, 10_000])
    args.add_argument("--runs", type=int, default=2)
    parsed = args.parse_args()
    rows = []
    for reps in parsed.reps:
        for run in range(1, parsed.runs + 1):
            with tempfile.TemporaryDirectory(prefix="weekly-report-coaching-") as home:
                env = {**os.environ, "WEEKLY_REPORT_HOME": str(Path(home)), "WEEKLY_REPORT_TODAY": AS_OF}
                env.pop("WEEKLY_REPORT_BACKEND", None)
                argv = [sys.executable, "-m", "bot", "load-demo", "--reps", str(reps), "--as-of", AS_OF]
                measured = run_measured(argv, env)
            found = _COUNTS.search(measured.output)
            if measured.returncode or not found:
                print(measured.output, file=sys.stderr)
                return 1
            rows.append([reps, run, measured.seconds, measured.peak_rss_mb, *found.groups()[1:]])
    print_table(["reps", "run", "seconds", "peak RSS MB", "calls", "sessions", "transcript lines"], rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
