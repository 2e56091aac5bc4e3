"""Slash-command benchmark: how fast 50 simultaneous `/weekly-report` commands are acknowledged.

    python bench/slack_ack.py [--commands 50] [--rounds 3]

Runs the bot exactly as `weekly-report bot` does (settings from the environment, the app
factory, slack_sdk's Socket Mode client) against the local Slack server of
`tests/slack_server` (Web API over HTTP, Socket Mode over a WebSocket), on the 9-customer
demo warehouse. Each round sends N commands at once, from the four CSMs for their own
customers, and measures each envelope's time from the server sending it to the bot's ack;
then waits until every report has been DMed. Target: p99 ≤ 100 ms with 50 at once.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import print_table  # also puts the checkout on sys.path

from bot.runner import BotRunner
from core import load_settings
from core.demo import load_demo
from core.warehouse.embedded import EmbeddedWarehouse
from tests.slack_server import SlackServer

AS_OF = dt.date(2026, 11, 18)
TARGET_P99_MS = 100.0
COMMAND = "/weekly-report"
CSMS = {  # Slack user -> (email, their customers)
    "U0SARAH01": ("sarah.johnson@example.com", ["CUST_12345", "CUST_23456", "CUST_34567"]),
    "U0MICHAEL1": ("michael.chen@example.com", ["CUST_45678", "CUST_56789"]),
    "U0EMMA001": ("emma.rodriguez@example.com", ["CUST_67890", "CUST_78901"]),
    "U0JAMES01": ("james.williams@example.com", ["CUST_89012", "CUST_90123"]),
}


def main() -> int:
    args = _parser().parse_args()
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        os.environ.pop(name, None)  # slack_sdk would send 127.0.0.1 through a proxy
    requests = [(user, customer) for user, (_, customers) in CSMS.items() for customer in customers]
    rows = []
    with tempfile.TemporaryDirectory(prefix="weekly-report-ack-") as scratch, SlackServer() as slack:
        home = Path(scratch)
        with EmbeddedWarehouse(home) as warehouse:
            load_demo(warehouse, AS_OF)
        for user, (email, _) in CSMS.items():
            slack.add_user(user, email=email, name=email.split("@")[0])
        environ = {
            "WEEKLY_REPORT_HOME": str(home), "WEEKLY_REPORT_TODAY": AS_OF.isoformat(),
            "SLACK_BOT_TOKEN": slack.bot_token, "SLACK_APP_TOKEN": slack.app_token,
            "SLACK_API_URL": slack.api_url, "WEEKLY_REPORT_CONFIG": str(home / "none.toml"),
        }  # fmt: skip
        bot = BotRunner(load_settings(environ))
        bot.start(schedule=False)  # the Slack side only: no Monday catch-up mid-test
        try:
            slack.wait_connected(timeout=10)
            # slack_sdk starts its receive loop on a 0.1 s tick after `hello`: warm up first.
            slack.wait_ack(slack.send_slash_command(COMMAND, "help", user_id="U0SARAH01"), timeout=5)
            every: list[float] = []
            for round_number in range(1, args.rounds + 1):
                latencies, delivered = _round(slack, bot, requests, args.commands)
                every += latencies
                rows.append([f"round {round_number}", len(latencies), *_stats(latencies), delivered])
            rows.append(["all", len(every), *_stats(every), ""])
        finally:
            bot.stop(grace=60)
    p99 = rows[-1][3]
    print(f"{args.commands} simultaneous {COMMAND} commands per round, embedded backend, demo data")
    print_table(["", "commands", "p50 ms", "p99 ms", "max ms", "all DMed in s"], rows)
    print(f"target p99 ≤ {TARGET_P99_MS:.0f} ms: {'met' if p99 <= TARGET_P99_MS else 'MISSED'}")
    return 0


def _round(
    slack: SlackServer, bot: BotRunner, requests: list[tuple[str, str]], n: int
) -> tuple[list[float], float]:
    started = time.monotonic()
    before = len(slack.calls_to("chat.postMessage"))
    envelopes = [
        slack.send_slash_command(
            COMMAND, requests[i % len(requests)][1], user_id=requests[i % len(requests)][0]
        )
        for i in range(n)
    ]
    acks = [slack.wait_ack(e, timeout=10) for e in envelopes]
    # Each report is a parent message and one reply per section.
    slack.wait_for(
        lambda: len(slack.calls_to("chat.postMessage")) - before >= 4 * n, timeout=300, what="every DM"
    )
    bot.services.wait_idle(60)
    return [a.latency_seconds * 1000 for a in acks], time.monotonic() - started


def _stats(latencies: list[float]) -> list[float]:
    ordered = sorted(latencies)
    p99 = statistics.quantiles(ordered, n=100, method="inclusive")[98] if len(ordered) > 1 else ordered[0]
    return [statistics.median(ordered), p99, ordered[-1]]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--commands", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    return parser


if __name__ == "__main__":
    sys.exit(main())
