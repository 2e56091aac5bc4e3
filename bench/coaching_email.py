"""Coaching review benchmark: N reps' reviews generated and emailed to a local SMTP server.

    python bench/coaching_email.py [--reps 10000] [--runs 1]

The demo data with N reps is loaded into a fresh embedded warehouse (not timed), then
`weekly-report coaching --send-emails` runs in a process of its own, as a person would run it,
against aiosmtpd in another child process (as a real server would: it does not compete for the
run's GIL) that counts what it accepts. Printed per run: the wall time and the child's peak RSS,
the run's own split (generating: facts and reviews stored; emailing: each rep's review rendered,
recorded in the ledger and sent over the SMTP provider's few reused connections), emails/s, and
what the server accepted. Then the same command again, which must send nothing (the ledger).
Targets (issue 15): the reviews of 10,000 reps generated in ≤ 30 s with ≤ 1 GB.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import print_table, run_measured  # also puts the checkout on sys.path
from email_delivery import _free_port, _serve

from core.demo import load_demo
from core.warehouse.embedded import EmbeddedWarehouse

AS_OF = "2026-11-18"
TARGET_SECONDS, TARGET_MB = 30.0, 1024.0
OUTSIDE = ("SLACK_", "WEEKLY_REPORT_", "SMTP_", "SENDGRID_", "AWS_", "CORTEX_", "SNOWFLAKE_")


def main() -> int:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--reps", type=int, default=10_000)
    args.add_argument("--runs", type=int, default=1)
    parsed = args.parse_args()
    ctx = mp.get_context("spawn")
    count, ready, stop = ctx.Value("i", 0), ctx.Event(), ctx.Event()
    port = _free_port()
    server = ctx.Process(target=_serve, args=(port, count, ready, stop), daemon=True)
    server.start()
    ready.wait(30)
    failures: list[str] = []
    rows: list[list[object]] = []
    try:
        for run in range(1, parsed.runs + 1):
            with tempfile.TemporaryDirectory(prefix="weekly-report-coaching-email-") as home:
                _load(Path(home), parsed.reps)
                for label in ("first run", "again (all sent)"):
                    before = count.value
                    measured, result = _coaching(Path(home), port)
                    time.sleep(0.3)  # the server counts after it answers
                    accepted = int(count.value) - before
                    expected = result.get("reports_generated", -1) if label == "first run" else 0
                    if (
                        measured.returncode
                        or accepted != expected
                        or result.get("emails_sent_now") != expected
                    ):
                        failures.append(
                            f"run {run}, {label}: exit {measured.returncode}, accepted {accepted}"
                        )
                        print(measured.output[-3000:], file=sys.stderr)
                    emailing = float(result.get("seconds_emailing", 0.0))
                    rate = result.get("emails_sent_now", 0) / emailing if emailing else 0.0
                    rows.append([
                        run, label, result.get("reps_processed"), result.get("reports_generated"),
                        result.get("emails_sent_now"), f"{measured.seconds:.1f}",
                        f"{result.get('seconds_generating', 0.0):.1f}", f"{emailing:.1f}", f"{rate:.0f}",
                        f"{measured.peak_rss_mb:.0f}", accepted,
                    ])  # fmt: skip
    finally:
        stop.set()
        server.join(10)
    print(f"\n{parsed.reps:,} reps, the week before {AS_OF}\n")
    headers = ["run", "", "reps", "reports", "emailed", "wall s", "generating s", "emailing s", "emails/s"]
    print_table([*headers, "peak RSS MB", "server accepted"], rows)
    firsts = [r for r in rows if r[1] == "first run"]
    if firsts:
        generating = max(float(str(r[6])) for r in firsts)
        peak = max(float(str(r[9])) for r in firsts)
        ok = generating <= TARGET_SECONDS and peak <= TARGET_MB
        print(
            f"\ngenerating {parsed.reps:,} reviews: up to {generating:.1f} s, peak RSS of the whole run up to "
            f"{peak:.0f} MB; target <= {TARGET_SECONDS:.0f} s and <= {TARGET_MB:.0f} MB {'met' if ok else 'NOT met'}"
        )
    for line in failures:
        print("FAILED:", line)
    return 1 if failures else 0


def _load(home: Path, reps: int) -> None:
    started = time.monotonic()
    with EmbeddedWarehouse(home) as warehouse:
        load_demo(warehouse, _date(AS_OF), reps=reps)
    print(f"loaded the demo with {reps:,} reps in {time.monotonic() - started:.1f} s (not timed below)")


def _coaching(home: Path, port: int) -> tuple[Any, dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(OUTSIDE)}
    env |= {
        "WEEKLY_REPORT_HOME": str(home), "WEEKLY_REPORT_TODAY": AS_OF,
        "WEEKLY_REPORT_CONFIG": str(home / "no-such-config.toml"),
        "WEEKLY_REPORT_EMAIL_FROM": "Coaching <coaching@example.com>",
        "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port),
    }  # fmt: skip
    measured = run_measured([sys.executable, "-m", "bot", "coaching", "--send-emails"], env)
    out = measured.output
    start = out.rfind("\n{")
    try:
        result = json.loads(out[start + 1 :]) if start >= 0 else {}
    except ValueError:
        result = {}
    return measured, result


def _date(text: str) -> Any:
    import datetime as dt

    return dt.date.fromisoformat(text)


if __name__ == "__main__":
    raise SystemExit(main())
