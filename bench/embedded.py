"""Embedded benchmark: reports per second and peak memory of `generate --mode all`.

    python bench/embedded.py --customers 10000

Loads the scaled demo dataset into a scratch warehouse (reused when it already holds that
many customers for that date) and keeps a copy of it as loaded. Each timed run starts from
that copy (put back before the run, untimed), so every run measures the same work: without
it, each `--refresh` run leaves the last one's replaced reports and agent threads behind,
and later runs of the benchmark got slower. Each run is `weekly-report generate --mode all
--refresh` in a child process of its own, so the figures are the generator's alone.
Target on a 2-core machine: 10,000 customers in 30 s or less, peak RSS 1 GB or less.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

from _common import ROOT, Measured, print_table, run_measured

AS_OF = "2026-11-18"
AS_LOADED = "as-loaded"  # the folder, inside the scratch home, holding the copy as loaded
TARGET_SECONDS, TARGET_RSS_MB = 30.0, 1024.0


def main() -> int:
    args = _parser().parse_args()
    home = Path(args.home or Path(tempfile.gettempdir()) / f"weekly-report-bench-{args.customers}")
    env = {**os.environ, "WEEKLY_REPORT_HOME": str(home), "WEEKLY_REPORT_TODAY": AS_OF}
    env.pop("WEEKLY_REPORT_BACKEND", None)
    env.pop("WEEKLY_REPORT_AGENT", None)
    cli = [sys.executable, "-m", "bot"]
    rows = []
    if not _loaded(home, args.customers):
        load = run_measured([*cli, "load-demo", "--customers", str(args.customers), "--as-of", AS_OF], env)
        _check(load, "load-demo")
        _keep_as_loaded(home)
        (home / "bench.json").write_text(json.dumps(_marker(args.customers)))
        rows.append(
            ["load-demo", args.customers, load.seconds, args.customers / load.seconds, load.peak_rss_mb, ""]
        )
    for attempt in range(1, args.runs + 1):
        _restore_as_loaded(home)
        gen = run_measured([*cli, "generate", "--mode", "all", "--refresh"], env)
        _check(gen, "generate")
        made = _generated(gen.output)
        met = gen.seconds <= TARGET_SECONDS and gen.peak_rss_mb <= TARGET_RSS_MB
        verdict = ("met" if met else "MISSED") if args.customers == 10_000 else "(for 10,000)"
        rows.append([f"generate #{attempt}", made, gen.seconds, made / gen.seconds, gen.peak_rss_mb, verdict])
    print(
        f"Embedded warehouse in {home}, {os.cpu_count()} CPUs; target {TARGET_SECONDS:.0f} s, {TARGET_RSS_MB:.0f} MB"
    )
    print_table(["step", "customers", "seconds", "per second", "peak RSS MB", "target"], rows)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=1, help="generate runs to time (default 1)")
    parser.add_argument("--home", help="scratch warehouse folder (default: in the temp dir)")
    return parser


def _marker(customers: int) -> dict[str, object]:
    return {"customers": customers, "as_of": AS_OF, "kept": AS_LOADED}


def _loaded(home: Path, customers: int) -> bool:
    marker = home / "bench.json"
    return marker.is_file() and json.loads(marker.read_text()) == _marker(customers)


def _warehouse_files(folder: Path) -> list[Path]:
    return [f for f in folder.iterdir() if f.is_file() and f.suffix in (".db", ".wal")]


def _keep_as_loaded(home: Path) -> None:
    kept = home / AS_LOADED
    shutil.rmtree(kept, ignore_errors=True)
    kept.mkdir()
    for file in _warehouse_files(home):
        shutil.copyfile(file, kept / file.name)


def _restore_as_loaded(home: Path) -> None:
    for file in _warehouse_files(home):
        file.unlink()
    for file in _warehouse_files(home / AS_LOADED):
        shutil.copyfile(file, home / file.name)


def _generated(output: str) -> int:
    match = re.search(r"(\d[\d,]*) generated", output)
    if not match:
        raise SystemExit(f"could not read the run summary from:\n{output[-2000:]}")
    return int(match.group(1).replace(",", ""))


def _check(measured: Measured, step: str) -> None:
    if measured.returncode != 0:
        raise SystemExit(f"{step} failed ({measured.returncode}):\n{measured.output[-2000:]}")


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main())
