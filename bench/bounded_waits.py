"""Bounded waits on the Cortex path: a turn that never ends, and one `Retry-After: 3600`.

    python bench/bounded_waits.py [--turn-timeout 15] [--latency 0.05]

Runs the real Cortex client (and, for the second figure, the real engine on the embedded
demo warehouse) against the local Cortex server of `tests/cortex_server.py`, in a process
of its own as in bench/cortex.py:

1. an endless turn: the server answers a `:run` with a `response.status` event every second
   and never a final `response`; CORTEX_TURN_TIMEOUT is `--turn-timeout` (the issue asks for
   15 s). Printed: how long the turn took to fail, and whether the server saw the hang-up.
   Before the turn deadline the call never ended (the server's stream lasted until it gave up).
2. one report run of every demo customer in which the very first `:run` gets
   `429 Retry-After: 3600`: that section fails at once (above CORTEX_MAX_RETRY_AFTER) and
   pauses no one. Printed: the run's wall time, and how soon the other calls went after the
   429. Before, that 429 paused the process's shared rate limiter for the whole hour, so every
   other call of the run waited 3600 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

from _common import print_table  # also puts the checkout on sys.path
from cortex import TOKEN, Server

from core import ReportEngine, Settings, make_agent
from core.agent.cortex import build_cortex_agent
from core.demo import load_demo
from core.errors import AgentUnavailable
from core.warehouse.embedded import EmbeddedWarehouse

AS_OF = dt.date(2026, 11, 18)
RETRY_AFTER = 3600
NO_CONNECTIONS = Path("/nonexistent/connections.toml")


def main() -> int:
    args = _parser().parse_args()
    rows = [_endless_turn(args.turn_timeout), _after_one_long_retry_after(args.latency)]
    print(
        f"Local Cortex server in its own process; CORTEX_TURN_TIMEOUT={args.turn_timeout:g}s for the first row"
    )
    print_table(["scenario", "seconds", "what happened", "before this change"], rows)
    return 0


def _settings(url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "agent": "cortex", "cortex_base_url": url, "cortex_token": TOKEN,
        "snowflake_connections_file": NO_CONNECTIONS, "today": AS_OF,
    }  # fmt: skip
    return Settings(**{**values, **overrides})  # type: ignore[arg-type]


def _endless_turn(turn_timeout: float) -> list[object]:
    endless = {"stream": "endless", "latency": 1.0, "lasts": turn_timeout * 4}
    with Server(0.0, [endless]) as server:
        agent = build_cortex_agent(_settings(server.url, cortex_turn_timeout=turn_timeout))
        thread = agent.start_thread()
        started = time.monotonic()
        try:
            agent.client.run(thread, 0, "Analyze performance for customer CUST_12345.")
            outcome = "answered (unexpected)"
        except AgentUnavailable as exc:
            outcome = str(exc).split(": ", 1)[1]
        seconds = time.monotonic() - started
        agent.close()
        hung_up = _wait_for_hang_up(server)
    return [
        f"a turn against an endless stream, deadline {turn_timeout:g}s",
        round(seconds, 2),
        f"{outcome} (server saw the hang-up: {'yes' if hung_up else 'NO'})",
        "never ended (each event reset CORTEX_TIMEOUT)",
    ]


def _wait_for_hang_up(server: Server, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.stats()["hung_up"]:
            return True
        time.sleep(0.05)
    return False


def _after_one_long_retry_after(latency: float) -> list[object]:
    limited = {"status": 429, "retry_after": RETRY_AFTER, "calls": [1]}  # the first :run of the run
    with (
        tempfile.TemporaryDirectory(prefix="weekly-report-waits-") as scratch,
        Server(latency, [limited]) as server,
    ):
        home = Path(scratch)
        with EmbeddedWarehouse(home) as warehouse:
            load_demo(warehouse, AS_OF)
            settings = _settings(server.url, home=home)
            engine = ReportEngine(settings, warehouse, make_agent(settings, warehouse))
            week = engine.week()
            targets = engine.targets()
            before = len(server.call_times())
            started = time.monotonic()
            summary = engine.generate(targets, week, refresh=True)
            seconds = time.monotonic() - started
            engine.agent.close()
        stats = server.stats()
    times, statuses = stats["call_times"][before:], stats["statuses"][before:]
    first_429 = next(t for t, s in zip(times, statuses, strict=True) if s == 429)
    after = [t for t, s in zip(times, statuses, strict=True) if t > first_429 and s != 429]
    gap = (min(after) - first_429) if after else float("nan")
    done = (
        f"{summary.reports_generated - summary.reports_partial} complete, {summary.reports_partial} partial"
    )
    return [
        f"a run of {len(targets)} reports after one 429 Retry-After: {RETRY_AFTER}",
        round(seconds, 2),
        f"{len(after)} other calls, the next {gap * 1000:.0f} ms after the 429; {done}",
        f"every other call waited {RETRY_AFTER} s",
    ]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--turn-timeout", type=float, default=15.0, help="CORTEX_TURN_TIMEOUT (default 15)")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per agent call (default 0.05)")
    return parser


if __name__ == "__main__":
    sys.exit(main())
