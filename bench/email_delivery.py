"""Email delivery benchmark: one weekly email each to N CSMs, to a local SMTP server.

    python bench/email_delivery.py [--csms 1000]

(Not `bench/email.py`: run as a script, its folder comes first on sys.path, and a module
named `email` there would shadow the standard library's email package that smtplib uses.)

The demo's nine reports are generated once (not timed) and dealt out to N synthetic CSMs,
two or three each, renamed per CSM, so each email is shaped like a real one. aiosmtpd runs
in a child process (as a real server would: it does not compete for this one's GIL) and
counts what it accepts. Timed, each over one reused SMTP connection:

- render: the parcels as emails (Jinja, cmarkgfm, css-inline, MIME);
- send: the rendered emails through the SMTP provider;
- channel: EmailChannel.deliver, as a weekly run calls it: render, the ledger (claim,
  attempt, provider id with delivered) on the embedded warehouse, send; then the same run
  again, which must send nothing;
- ledger: the ledger's calls alone per delivery, as the channel makes them, run natively
  (Portable statements), and, for comparison, as before: every statement through
  fakesnow's translation, the provider id and `delivered` in two writes.

The server's count is checked: N emails for the send phase, N for the channel's first run,
0 for its second. Target: ≥ 200 emails/s over a reused connection.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import multiprocessing as mp
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from _common import print_table  # also puts the checkout on sys.path

from bot.channels.base import Parcel, Recipient
from bot.channels.email import EmailChannel
from bot.channels.email.providers.smtp import SmtpProvider
from bot.channels.email.render import render
from core import DeliveryStore, ReportEngine, Settings, make_agent
from core.demo import load_demo
from core.warehouse import Warehouse
from core.warehouse.embedded import EmbeddedWarehouse

AS_OF = dt.date(2026, 11, 18)
TARGET = 200.0
SENDER = "Weekly Report <reports@acme.test>"
THREADS = 4
LEDGER_BEFORE = 100  # deliveries timed through fakesnow (about 0.1 s each)


def main() -> int:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--csms", type=int, default=1000)
    csms = args.parse_args().csms
    ctx = mp.get_context("spawn")
    count, ready, stop = ctx.Value("i", 0), ctx.Event(), ctx.Event()
    port = _free_port()
    server = ctx.Process(target=_serve, args=(port, count, ready, stop), daemon=True)
    server.start()
    ready.wait(30)
    try:
        with tempfile.TemporaryDirectory(prefix="weekly-report-email-") as scratch:
            return _run(csms, port, count, Path(scratch))
    finally:
        stop.set()
        server.join(10)


def _run(csms: int, port: int, count: Any, home: Path) -> int:
    warehouse = EmbeddedWarehouse(home)
    load_demo(warehouse, AS_OF)
    settings = Settings(home=home, today=AS_OF)
    engine = ReportEngine(settings, warehouse, make_agent(settings, warehouse))
    week = engine.week()
    engine.generate(engine.targets(), week)
    demo = [engine.store.load(a.customer_id, week) for a in engine.directory.assignments()]
    parcels = _parcels(demo, week, csms)
    rows: list[list[object]] = []
    failures: list[str] = []

    started = time.perf_counter()
    messages = [render(p, SENDER) for p in parcels]
    rows.append(["render", len(messages), *_rate(len(messages), started), "-", "-"])

    provider = SmtpProvider("127.0.0.1", port)
    before, started = count.value, time.perf_counter()
    for m in messages:
        provider.send(m)
    rows.append(["send (SMTP, one connection)", len(messages), *_rate(len(messages), started)])
    rows[-1] += [provider.connections, _accepted(count, before, len(messages), failures)]
    provider.close()

    # The same rendered emails from THREADS threads over the provider's few reused connections.
    provider = SmtpProvider("127.0.0.1", port)
    before, started = count.value, time.perf_counter()
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(provider.send, messages))
    rows.append([f"send (SMTP, {THREADS} threads)", len(messages), *_rate(len(messages), started)])
    rows[-1] += [provider.connections, _accepted(count, before, len(messages), failures)]
    provider.close()

    # As a weekly run's worker threads call it: one thread renders while others' emails are
    # on the wire, over the provider's few reused connections.
    provider = SmtpProvider("127.0.0.1", port)
    before, started = count.value, time.perf_counter()
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(lambda p: provider.send(render(p, SENDER)), parcels))
    rows.append([f"render + send, {THREADS} threads", len(parcels), *_rate(len(parcels), started)])
    rows[-1] += [provider.connections, _accepted(count, before, len(parcels), failures)]
    provider.close()

    for label in ("channel: render + ledger + send", "channel again (all sent before)"):
        channel = EmailChannel(DeliveryStore(warehouse), SmtpProvider("127.0.0.1", port), SENDER)
        expected = 0 if "again" in label else csms
        before, started = count.value, time.perf_counter()
        with ThreadPoolExecutor(THREADS) as pool:  # as the weekly job's delivery threads call it
            sent = sum(o.messages for o in pool.map(lambda p, c=channel: c.deliver(p, _never), parcels))
        rows.append([label, sent, *_rate(len(parcels), started)])
        rows[-1] += [channel.provider.connections, _accepted(count, before, expected, failures)]  # type: ignore[attr-defined]
        channel.close()
    ledger = _ledger_ms(warehouse, csms)
    engine.close()

    size = sum(len(bytes(m)) for m in messages) / len(messages) / 1024
    print(f"{csms} CSMs, {sum(len(p.reports) for p in parcels)} reports, {size:.0f} KiB per email\n")
    print_table(["phase", "emails", "seconds", "per second", "connections", "server accepted"], rows)
    rate = {str(r[0]): float(str(r[3]).replace(",", "")) for r in rows}
    sending = max(rate["send (SMTP, one connection)"], rate[f"send (SMTP, {THREADS} threads)"])
    verdict = "met" if sending >= TARGET else "NOT met"
    print(
        f"\nsent to the local SMTP server over reused connections: {sending:.0f} emails/s; target >= {TARGET:.0f}/s {verdict}"
    )
    print(f"render + send, {THREADS} threads: {rate[f'render + send, {THREADS} threads']:.0f} emails/s")
    channel_rate = rate["channel: render + ledger + send"]
    print(f"the whole channel (render, ledger, send) from {THREADS} threads: {channel_rate:.0f} emails/s")
    ledger_ms = 1000 * (float(rows[4][2]) - float(rows[0][2]) - float(rows[1][2])) / csms  # type: ignore[arg-type]
    print(f"ledger: about {ledger_ms:.1f} ms per email (channel - render - send)")
    for label, ms in ledger:
        print(f"ledger alone, {label}: {ms:.2f} ms per delivery")
    for line in failures:
        print("FAILED:", line)
    return 1 if failures else 0


class _Translating(Warehouse):
    """`inner` with every statement through fakesnow's translation, Portable or not: the
    ledger as it ran before Portable statements."""

    def __init__(self, inner: Warehouse) -> None:
        super().__init__()
        self.inner = inner

    def fetch(self, sql: str, params: Any = ()) -> tuple[list[str], list[tuple[Any, ...]]]:
        return self.inner.fetch(str(sql), params)

    def execute(self, sql: str, params: Any = ()) -> int:
        return self.inner.execute(str(sql), params)

    def insert_rows(self, table: str, columns: Any, rows: Any) -> int:
        return self.inner.insert_rows(table, columns, rows)

    def close(self) -> None:
        pass


def _ledger_ms(warehouse: Warehouse, csms: int) -> list[tuple[str, float]]:
    """Ledger ms per delivery: claim, attempt, then the provider's id and delivered."""
    before = DeliveryStore(_Translating(warehouse))
    started = time.perf_counter()
    for i in range(LEDGER_BEFORE):
        key, rcpt = f"bench:before:{i}", f"email:csm{i:05d}@example.com"
        before.start_attempt(key, rcpt, before.claim(key, rcpt))
        before.posted(key, rcpt, "smtp", f"<{i}@bench>")
        before.delivered(key, rcpt)
    translated = 1000 * (time.perf_counter() - started) / LEDGER_BEFORE
    after = DeliveryStore(warehouse)
    started = time.perf_counter()
    for i in range(csms):
        key, rcpt = f"bench:after:{i}", f"email:csm{i:05d}@example.com"
        after.start_attempt(key, rcpt, after.claim(key, rcpt))
        after.delivered(key, rcpt, "smtp", f"<{i}@bench>")
    native = 1000 * (time.perf_counter() - started) / csms
    return [
        (f"before (through fakesnow, 5 statements, {LEDGER_BEFORE} deliveries)", translated),
        (f"now (native, 3 statements, {csms} deliveries)", native),
    ]


def _parcels(demo: list[Any], week: Any, csms: int) -> list[Parcel]:
    """N parcels of 2 or 3 demo reports each, renamed per CSM."""
    parcels = []
    for i in range(csms):
        take = 2 + i % 2
        reports = tuple(
            dataclasses.replace(
                r,
                customer_id=f"CUST_{i:05d}{k}",
                customer_name=f"{r.customer_name} {i}",
                csm_id=f"CSM{i:05d}",
            )
            for k, r in enumerate(demo[(i + k) % len(demo)] for k in range(take))
        )
        recipient = Recipient(f"CSM{i:05d}", f"CSM Number {i}", f"csm{i:05d}@example.com")
        parcels.append(Parcel("ebr", week, recipient, reports))
    return parcels


def _rate(n: int, started: float) -> list[object]:
    seconds = time.perf_counter() - started
    return [f"{seconds:.2f}", f"{n / seconds:.0f}"]


def _accepted(count: Any, before: int, expected: int, failures: list[str]) -> int:
    time.sleep(0.2)  # the server counts after it answers
    got = int(count.value) - before
    if got != expected:
        failures.append(f"the server accepted {got} emails, expected {expected}")
    return got


def _never() -> bool:
    return False


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(port: int, count: Any, ready: Any, stop: Any) -> None:
    """The child: aiosmtpd counting the emails it accepts."""
    from aiosmtpd.controller import Controller

    class Counting:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            with count.get_lock():
                count.value += 1
            return "250 OK"

    controller = Controller(Counting(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


_: Callable[[], int] = main
if __name__ == "__main__":
    raise SystemExit(main())
