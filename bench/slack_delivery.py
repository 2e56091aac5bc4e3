"""Slack delivery benchmark: the Monday job for N CSMs × 1 customer against Slack's limits.

    python bench/slack_delivery.py [--csms 1000] [--threads 32]

The demo dataset is loaded with N customers and `csm_assignments` rewritten so that each
customer has a CSM of its own (N CSMs, N DM channels), each a user of the local Slack server
(tests/slack_server, on its own threads) with a matching email. The server enforces
Slack's posting limits on `chat.postMessage` the way Slack does, with 429 + Retry-After:
1 message per second per channel and 300 per minute per workspace (sliding windows).
The reports are generated first (not timed); then `WeeklyJob.run` (claim, DMs, summary) is
timed, as `weekly-report send-weekly` runs it, and the server's record is checked: every
report part in its DM exactly once (lost = 0, duplicated = 0).

The time the limits allow for M messages of p per report (one DM channel each): a sliding
window of 300 per 60 s lets the first 300 go at t = 0, the next 300 at t = 60, ..., so the
last batch cannot start before (ceil(M / 300) - 1) × 60 s; a channel's p messages are
1 s apart, so the last report in that batch needs (p - 1) s more:

    bound = (ceil(M / 300) - 1) × 60 + (p - 1) × 1 s

Target: total ≤ 1.10 × bound. (1,000 CSMs is 5,000 messages: over 16 minutes.)
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from _common import print_table  # also puts the checkout on sys.path
from slack_sdk import WebClient

from bot.channels.slack_dm.delivery import PART_EVENT, REPORT_EVENT
from bot.channels.slack_dm.render import slack_thread
from bot.weekly import WeeklyJob
from core import DeliveryStore, ReportEngine, RunClaims, Settings, Week, make_agent
from core.demo import load_demo
from core.warehouse.embedded import EmbeddedWarehouse
from tests.slack_server import SlackServer

AS_OF = dt.date(2026, 11, 18)
TARGET_RATIO = 1.10
PER_MINUTE, PER_CHANNEL_INTERVAL = 300, 1.0
T = "CUSTOMER_SUCCESS_DATA.ANALYTICS"


def main() -> int:
    args = _parser().parse_args()
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        os.environ.pop(name, None)  # the local server is on 127.0.0.1
    with tempfile.TemporaryDirectory(prefix="weekly-report-slack-") as scratch, SlackServer() as slack:
        home = Path(scratch)
        settings = Settings(home=home, today=AS_OF, charts=False)  # with charts: bench/charts_run.py
        warehouse = EmbeddedWarehouse(home)
        load_demo(warehouse, AS_OF, max(args.csms, 9))
        customers = _one_csm_each(warehouse, slack, args.csms)
        engine = ReportEngine(settings, warehouse, make_agent(settings, warehouse))
        week = engine.week(None)
        started = time.monotonic()
        engine.generate(engine.targets(), week, trigger="manual")
        generation = time.monotonic() - started
        expected = {c: 1 + _sections(engine, c, week) for c in customers}

        slack.limit_rate("chat.postMessage", per_channel_per_second=1, per_workspace_per_minute=PER_MINUTE)
        client = WebClient(token=slack.bot_token, base_url=slack.api_url)
        job = WeeklyJob(
            settings,
            engine,
            DeliveryStore(warehouse),
            client,
            claims=RunClaims(warehouse),
            threads=args.threads,
        )
        started = time.monotonic()
        summary = job.run(week, scope="weekly:bench", trigger="manual")
        total = time.monotonic() - started
        warehouse.close()

        calls = slack.calls_to("chat.postMessage")
        seen = _parts_seen(slack)
        messages = sum(expected.values())
        lost = sum(1 for c, n in expected.items() for part in range(n) if seen[(c, part)] == 0)
        duplicated = sum(count - 1 for count in seen.values() if count > 1)
        rate_limited = sum(1 for c in calls if c.status == 429)
        by_window = _refusals_by_window(calls)
        per_report = max(expected.values())
        bound = (math.ceil(messages / PER_MINUTE) - 1) * 60 + (per_report - 1) * PER_CHANNEL_INTERVAL
        ratio = total / bound if bound else float("nan")
    ok = ratio <= TARGET_RATIO and lost == 0 and duplicated == 0 and summary["dms_sent"] == args.csms
    print(
        f"{args.csms} CSMs × 1 customer, {messages} messages ({per_report} per report), local Slack server "
        f"enforcing 1/s per channel and {PER_MINUTE}/min per workspace; {args.threads} delivery threads.\n"
        f"bound = (ceil(M/{PER_MINUTE}) - 1) × 60 s + (p - 1) × 1 s; reports generated first in {generation:.1f}s.\n"
        f"429s by the limit that refused them: {dict(by_window)}\n"
    )
    print_table(
        ["CSMs", "messages", "total s", "bound s", "ratio", "lost", "duplicated", "429s", "dms_sent", "status", "verdict"],
        [[args.csms, messages, total, bound, ratio, lost, duplicated, rate_limited, summary["dms_sent"],
          summary["status"], "ok" if ok else f"FAIL (target ≤ {TARGET_RATIO})"]],
    )  # fmt: skip
    return 0 if ok else 1


def _one_csm_each(warehouse: EmbeddedWarehouse, slack: SlackServer, n: int) -> list[str]:
    """Give each of the first `n` customers a CSM of its own, who is a user of the Slack server."""
    customers = [
        r["customer_id"] for r in warehouse.query(f"SELECT customer_id FROM {T}.customers ORDER BY 1")
    ]
    customers = customers[:n]
    warehouse.execute(f"DELETE FROM {T}.csm_assignments")
    rows = [
        (f"CSM{i:05d}", f"Bench CSM {i}", f"csm{i:05d}@example.com", "Bench", None, None, customer)
        for i, customer in enumerate(customers, start=1)
    ]
    warehouse.insert_rows(
        "csm_assignments",
        ["csm_id", "csm_name", "csm_email", "region", "slack_user_id", "timezone", "customer_id"],
        rows,
    )
    for csm_id, name, email, *_ in rows:
        slack.add_user(f"U{csm_id}", email=email, name=name)
    return customers


def _sections(engine: ReportEngine, customer_id: str, week: Week) -> int:
    return len(slack_thread(engine.store.load(customer_id, week)))  # the sections and the suggested questions


def _parts_seen(slack: SlackServer) -> Counter[tuple[str, int]]:
    """(customer id, part) -> times it is in a DM (0: the parent)."""
    seen: Counter[tuple[str, int]] = Counter()
    for m in slack.messages():
        metadata = m.get("metadata") or {}
        payload = metadata.get("event_payload") or {}
        if metadata.get("event_type") == REPORT_EVENT:
            seen[(payload["customer_id"], 0)] += 1
        elif metadata.get("event_type") == PART_EVENT:
            seen[(payload["customer_id"], int(payload["part"]))] += 1
    return seen


def _refusals_by_window(calls: list[Any]) -> Counter[str]:
    """Which limit each 429 came from: the workspace's minute or the channel's second."""
    accepted = [c for c in calls if c.status == 200]
    found: Counter[str] = Counter()
    for call in (c for c in calls if c.status == 429):
        in_minute = sum(1 for a in accepted if call.at - 60 < a.at <= call.at)
        found["workspace" if in_minute >= PER_MINUTE else "channel"] += 1
    return found


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--csms", type=int, default=1000, help="CSMs, one customer each (default 1000)")
    parser.add_argument("--threads", type=int, default=32, help="CSMs delivered at once (default 32)")
    return parser


if __name__ == "__main__":
    raise SystemExit(main())
