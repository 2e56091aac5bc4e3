"""The Monday run with and without charts, against the local Slack server at Slack's limits.

    python bench/charts_run.py [--csms 8] [--per-csm 5] [--threads 32]

The demo dataset is loaded with csms × per-csm customers, each CSM given per-csm of them (a
DM channel each, as in production, where a CSM's reports share one DM), each CSM a user of
the local Slack server (tests/slack_server). The reports are generated once (not timed);
then `WeeklyJob.run` (claim, DMs, summary) is timed twice, as `weekly-report send-weekly`
runs it, each time on a fresh Slack server and an empty ledger:

- text: WEEKLY_REPORT_CHARTS=off, the report as before charts;
- charts, cold: on, each report's charts drawn during the run (bot.charts.files: a child
  process, started when the Slack channel opens) and shared in one files_upload_v2 reply (one
  files.completeUploadExternal) in its thread;
- charts: the same with the renderer already running (nothing drawn yet), as in a real Monday
  run, where the channel opens, and so the renderer starts, before the reports are generated
  (minutes on Cortex). This bench does not time generation, so the cold run pays the
  renderer's start (a process, its imports, vl-convert's) where a real run would not.

The server enforces Slack's posting limits on chat.postMessage with 429 + Retry-After (1 per
second per channel, 300 per minute per workspace). It does not count file shares in those
windows, so the uploads' pacing is checked from its record instead: every bot message (post
or completed upload) in one DM at least 1 s after the one before, and no 60 s with more than
300 in the workspace. Uploads go through the same pacer as posts (bot.channels.slack_dm.delivery).
Each run's record is also checked: every report part in its DM exactly once, every report's
charts in its thread exactly once (charts run), none uploaded in the text run.

Target: charts wall time ≤ 1.3 × text wall time (the verdict is on the "charts" run; the cold
ratio is printed too).
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import replace
from itertools import pairwise
from pathlib import Path
from typing import Any

from _common import print_table  # also puts the checkout on sys.path
from slack_delivery import _parts_seen
from slack_sdk import WebClient

from bot.channels.slack_dm.render import slack_thread
from bot.charts.files import chart_files, forget_rendered
from bot.weekly import WeeklyJob
from core import DeliveryStore, ReportEngine, RunClaims, Settings, Week, make_agent
from core.demo import load_demo
from core.warehouse.embedded import EmbeddedWarehouse
from tests.slack_server import SlackServer

AS_OF = dt.date(2026, 11, 18)
TARGET_RATIO = 1.3
PER_MINUTE, PER_CHANNEL_INTERVAL = 300, 1.0
T = "CUSTOMER_SUCCESS_DATA.ANALYTICS"
UPLOAD = "files.completeUploadExternal"


def main() -> int:
    args = _parser().parse_args()
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        os.environ.pop(name, None)  # the local server is on 127.0.0.1
    with tempfile.TemporaryDirectory(prefix="weekly-report-charts-") as scratch:
        home = Path(scratch)
        settings = Settings(home=home, today=AS_OF)
        warehouse = EmbeddedWarehouse(home)
        load_demo(warehouse, AS_OF, max(args.csms * args.per_csm, 9))
        csms = _assign(warehouse, args.csms, args.per_csm)
        engine = ReportEngine(settings, warehouse, make_agent(settings, warehouse))
        week = engine.week(None)
        started = time.monotonic()
        engine.generate(engine.targets(), week, trigger="manual")
        generation = time.monotonic() - started
        reports = [engine.store.load(c, week) for customers in csms.values() for c in customers]
        sections = {r.customer_id: len(slack_thread(r)) for r in reports}  # parts: sections, suggestions
        charts = {r.customer_id: len(chart_files(r)) for r in reports}
        rows, ok = [], True
        if args.prerendered:
            for r in reports:
                for f in chart_files(r):
                    f.png()
        for name, with_charts in (("text", False), ("charts, cold", True), ("charts", True)):
            if name == "charts" and not args.prerendered:
                forget_rendered()  # the renderer runs (the cold run started it); nothing is drawn yet
            row, fine = _run(
                name, replace(settings, charts=with_charts), engine, warehouse, csms, week, args.threads
            )
            lost, duplicated = _check_parts(row.pop("seen"), sections)
            shares = row.pop("shares")
            expected_shares = {c: 1 if with_charts and charts[c] else 0 for c in sections}
            wrong_shares = sum(1 for c, n in expected_shares.items() if shares.get(c, 0) != n)
            ok &= fine and lost == 0 and duplicated == 0 and wrong_shares == 0
            rows.append([name, row["messages"], row["uploads"], row["seconds"], row["429s"], row["too_close"],
                         row["over_budget"], lost, duplicated, wrong_shares, row["dms_sent"]])  # fmt: skip
        warehouse.close()
    cold, ratio = (rows[1][3] / rows[0][3], rows[2][3] / rows[0][3]) if rows[0][3] else (math.nan, math.nan)
    ok &= ratio <= TARGET_RATIO
    print(
        f"{args.csms} CSMs × {args.per_csm} customers ({len(reports)} reports, {sum(charts.values())} charts), "
        f"local Slack server enforcing 1/s per channel and {PER_MINUTE}/min per workspace on chat.postMessage; "
        f"pacing as in production (WEEKLY_REPORT_POST_INTERVAL unset); {args.threads} delivery threads; "
        f"reports generated first in {generation:.1f}s.\n"
        "too_close: bot messages (posts and completed uploads) in one DM < 1 s apart; over_budget: 60 s "
        f"windows with > {PER_MINUTE} of them in the workspace; wrong_shares: reports whose thread does not "
        "hold its charts exactly once (none in the text run).\n"
    )
    print_table(
        ["run", "messages", "uploads", "wall s", "429s", "too_close", "over_budget", "lost", "duplicated",
         "wrong_shares", "dms_sent"],
        rows,
    )  # fmt: skip
    verdict = "ok" if ok else f"FAIL (target ≤ {TARGET_RATIO}, nothing lost, duplicated or paced too close)"
    print(
        f"\ncharts / text wall time: {ratio:.2f}× (target ≤ {TARGET_RATIO}×): {verdict}\n"
        f"with the renderer's start in the timed run (charts, cold): {cold:.2f}×"
    )
    return 0 if ok else 1


def _run(
    name: str,
    settings: Settings,
    engine: ReportEngine,
    warehouse: EmbeddedWarehouse,
    csms: dict[str, list[str]],
    week: Week,
    threads: int,
) -> tuple[dict[str, Any], bool]:
    """One timed Monday run on a fresh Slack server and an empty ledger."""
    warehouse.execute(f"DELETE FROM {T}.report_deliveries")
    with SlackServer() as slack:
        for csm_id in csms:
            slack.add_user(f"U{csm_id}", email=f"{csm_id.lower()}@example.com", name=f"Bench {csm_id}")
        slack.limit_rate("chat.postMessage", per_channel_per_second=1, per_workspace_per_minute=PER_MINUTE)
        client = WebClient(token=slack.bot_token, base_url=slack.api_url)
        job = WeeklyJob(
            settings, engine, DeliveryStore(warehouse), client, claims=RunClaims(warehouse), threads=threads
        )
        started = time.monotonic()
        summary = job.run(week, scope=f"weekly:bench-{name}", trigger="manual")
        seconds = time.monotonic() - started
        posts = [c for c in slack.calls_to("chat.postMessage") if c.status == 200]
        uploads = [c for c in slack.calls_to(UPLOAD) if c.status == 200]
        too_close, over_budget = _pacing(slack, posts, uploads)
        row = {
            "messages": len(posts) + len(uploads), "uploads": len(uploads), "seconds": seconds,
            "429s": sum(1 for c in slack.calls if c.status == 429), "too_close": too_close,
            "over_budget": over_budget, "dms_sent": summary["dms_sent"],
            "seen": _parts_seen(slack), "shares": _shares(slack),
        }  # fmt: skip
    fine = summary["dms_sent"] == sum(len(c) for c in csms.values()) and too_close == 0 and over_budget == 0
    return row, fine


def _assign(warehouse: EmbeddedWarehouse, n: int, per_csm: int) -> dict[str, list[str]]:
    """`n` CSMs with `per_csm` customers each (the first n × per_csm customers); csm id -> customers."""
    customers = [
        r["customer_id"] for r in warehouse.query(f"SELECT customer_id FROM {T}.customers ORDER BY 1")
    ]
    customers = customers[: n * per_csm]
    warehouse.execute(f"DELETE FROM {T}.csm_assignments")
    csms: dict[str, list[str]] = defaultdict(list)
    rows = []
    for i, customer in enumerate(customers):
        csm_id = f"CSM{i // per_csm + 1:05d}"
        csms[csm_id].append(customer)
        rows.append(
            (csm_id, f"Bench {csm_id}", f"{csm_id.lower()}@example.com", "Bench", None, None, customer)
        )
    warehouse.insert_rows(
        "csm_assignments",
        ["csm_id", "csm_name", "csm_email", "region", "slack_user_id", "timezone", "customer_id"],
        rows,
    )
    return dict(csms)


def _pacing(slack: SlackServer, posts: list[Any], uploads: list[Any]) -> tuple[int, int]:
    """Bot messages < 1 s apart in one channel, and 60 s windows over the workspace budget."""
    by_channel: dict[str, list[float]] = defaultdict(list)
    for call in posts:
        by_channel[slack.workspace.channel_key(call.params["channel"])].append(call.at)
    for call in uploads:
        by_channel[slack.workspace.channel_key(call.params["channel_id"])].append(call.at)
    too_close = 0
    for times in by_channel.values():
        times.sort()
        too_close += sum(1 for a, b in pairwise(times) if b - a < PER_CHANNEL_INTERVAL)
    every = sorted(t for times in by_channel.values() for t in times)
    over = sum(1 for i, t in enumerate(every) if i >= PER_MINUTE and t - every[i - PER_MINUTE] < 60.0)
    return too_close, over


def _shares(slack: SlackServer) -> Counter[str]:
    """Customer id -> messages sharing that report's chart files (named <report id>-<chart>.png)."""
    shared: Counter[str] = Counter()
    for m in slack.messages():
        names = [f.get("name", "") for f in m.get("files") or ()]
        if names:
            shared[names[0].split("-")[0]] += 1
    return shared


def _check_parts(seen: Counter[tuple[str, int]], sections: dict[str, int]) -> tuple[int, int]:
    lost = sum(1 for c, n in sections.items() for part in range(n + 1) if seen[(c, part)] == 0)
    duplicated = sum(count - 1 for count in seen.values() if count > 1)
    return lost, duplicated


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--csms", type=int, default=8, help="CSMs, one DM each (default 8)")
    parser.add_argument("--per-csm", type=int, default=5, help="customers per CSM (default 5)")
    parser.add_argument("--threads", type=int, default=32, help="CSMs delivered at once (default 32)")
    parser.add_argument(
        "--prerendered", action="store_true", help="render every chart before the runs (rendering not timed)"
    )
    return parser


if __name__ == "__main__":
    raise SystemExit(main())
