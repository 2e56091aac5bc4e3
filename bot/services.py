"""What the Slack app works with: the engines, the delivery ledger, the bot's thread pools, the pacer.

Built once at start-up by `weekly-report bot` and `weekly-report console`: one engine per
registered report kind (`engine_for`), all over one warehouse (the embedded one admits one
process and serialises calls with a lock) and sharing their agents (the local analyst serves
every kind; on Cortex each kind has its own agent object, built once). `engine` is the EBR's.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import TypeVar

from bot.channels.slack_dm.delivery import shared_pacer
from bot.charts.files import chart_words
from bot.pacing import Pacer
from bot.workers import TrackedExecutor, Workers
from core import Agent, DeliveryStore, ReportEngine, Settings, Warehouse, make_agent, open_warehouse
from core.agent import workers as agent_workers
from core.errors import InputError, WarehouseError
from core.kinds import EBR, registered_kinds
from core.warehouse.shared import Sharing

log = logging.getLogger(__name__)
T = TypeVar("T")

# Bolt runs listeners here; they only check, acknowledge and queue, so a few threads do.
LISTENER_THREADS = 16
LISTENER_GRACE_SECONDS = 5.0


@dataclass
class Services:
    settings: Settings
    engine: ReportEngine  # the EBR's (the default kind)
    deliveries: DeliveryStore
    workers: Workers
    listeners: TrackedExecutor
    # One per process: every DM, on demand or weekly, is paced against the same Slack limits.
    pacer: Pacer = field(default_factory=shared_pacer)

    # Serving the warehouse to the CLI while this process holds it (see Services.start).
    sharing: Sharing | None = None
    # Every kind's engine by kind name (`engine`'s included), over `engine`'s warehouse.
    engines: dict[str, ReportEngine] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.engines.setdefault(self.engine.kind.name, self.engine)

    @classmethod
    def start(cls, settings: Settings, share: bool = False) -> Services:
        """Build the services. With `share` (`bot`, `console`), this process must hold the
        warehouse itself, and serves it to the command line while it runs."""
        engines = build_engines(settings, borrow=not share)
        engine = engines[EBR.name]
        services = cls(
            settings, engine, DeliveryStore(engine.warehouse), Workers(settings.concurrency),
            TrackedExecutor(LISTENER_THREADS, "bolt-listener"), shared_pacer(settings.slack_post_interval),
            engines=engines,
        )  # fmt: skip
        if share:
            services.sharing = _share(engine.warehouse)
        return services

    def engine_for(self, kind: str) -> ReportEngine:
        """The engine of the report kind called `kind`; InputError when there is none."""
        try:
            return self.engines[kind]
        except KeyError:
            known = ", ".join(sorted(self.engines))
            raise InputError(f"this bot has no {kind!r} reports (it has: {known})") from None

    def wait_idle(self, timeout: float) -> bool:
        """True once no listener runs and no job is queued or running (listeners queue jobs)."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            if not self.listeners.wait_idle(left):
                return False
            if not self.workers.wait_idle(max(deadline - time.monotonic(), 0)):
                return False
            if self.listeners.unfinished == 0:
                return True
        return False

    def close(self, timeout: float = 30.0) -> None:
        """Stop taking work, give running jobs `timeout` seconds, then close the engines' agents
        and warehouse, each once (they are shared, so no engine is closed by itself)."""
        self.listeners.shutdown(wait=False, cancel_futures=True)
        self.listeners.wait_idle(min(timeout, LISTENER_GRACE_SECONDS))  # they may still queue a job
        self.workers.shutdown(timeout)
        if self.sharing is not None:
            self.sharing.stop()
        engines = list(self.engines.values())
        close_shared([e.agent for e in engines], [e.warehouse for e in engines])


def build_engines(settings: Settings, borrow: bool = True) -> dict[str, ReportEngine]:
    """An engine per registered kind, over one warehouse (see open_warehouse for `borrow`).

    Kinds share an agent when it is the same one: the local analyst answers every kind; on
    Cortex, kinds whose agent object (`ReportKind.agent_name`) is the same share its client.
    """
    warehouse = open_warehouse(settings, borrow)
    agents: dict[str, Agent] = {}
    engines: dict[str, ReportEngine] = {}
    try:
        for name, kind in registered_kinds().items():
            key = kind.agent_name(settings) if settings.agent == "cortex" else settings.agent
            if key not in agents:
                agents[key] = make_agent(settings, warehouse, kind)
            engines[name] = ReportEngine(
                settings, warehouse, agents[key], kind=kind, workers=agent_workers(settings),
                chart_words=chart_words if settings.charts else None,  # what answers' charts show
            )  # fmt: skip
    except BaseException:
        close_shared(list(agents.values()), [warehouse])
        raise
    return engines


def close_shared(agents: list[Agent], warehouses: list[Warehouse]) -> None:
    """Close each distinct agent, then each distinct warehouse, once; a failure to close one
    does not keep the others open."""
    closers = [a.close for a in _distinct(agents)] + [w.close for w in _distinct(warehouses)]
    errors: list[BaseException] = []
    for close in closers:
        try:
            close()
        except Exception as exc:
            errors.append(exc)
    if errors:
        raise errors[0]


def _distinct(items: list[T]) -> list[T]:
    """The items, each object once (by identity), in order."""
    return list({id(item): item for item in items}.values())


def _share(warehouse: Warehouse) -> Sharing | None:
    """Serve the warehouse to local commands; a failure to is logged, not fatal to the bot."""
    try:
        return warehouse.share()
    except WarehouseError as exc:
        log.warning("the command line cannot use the warehouse while this runs: %s", exc)
        return None
