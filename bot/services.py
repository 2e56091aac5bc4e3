"""What the Slack app works with: the engine, the delivery ledger, the bot's thread pools, the pacer.

Built once at start-up by `weekly-report bot` and `weekly-report console` (one engine for
every thread: the embedded warehouse admits one process and serialises calls with a lock).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from bot.channels.slack_dm.delivery import shared_pacer
from bot.pacing import Pacer
from bot.workers import TrackedExecutor, Workers
from core import DeliveryStore, ReportEngine, Settings, Warehouse, build_engine
from core.errors import WarehouseError
from core.warehouse.shared import Sharing

log = logging.getLogger(__name__)

# Bolt runs listeners here; they only check, acknowledge and queue, so a few threads do.
LISTENER_THREADS = 16
LISTENER_GRACE_SECONDS = 5.0


@dataclass
class Services:
    settings: Settings
    engine: ReportEngine
    deliveries: DeliveryStore
    workers: Workers
    listeners: TrackedExecutor
    # One per process: every DM, on demand or weekly, is paced against the same Slack limits.
    pacer: Pacer = field(default_factory=shared_pacer)

    # Serving the warehouse to the CLI while this process holds it (see Services.start).
    sharing: Sharing | None = None

    @classmethod
    def start(cls, settings: Settings, share: bool = False) -> Services:
        """Build the services. With `share` (`bot`, `console`), this process must hold the
        warehouse itself, and serves it to the command line while it runs."""
        engine = build_engine(settings, borrow=not share)
        services = cls(
            settings, engine, DeliveryStore(engine.warehouse), Workers(settings.concurrency),
            TrackedExecutor(LISTENER_THREADS, "bolt-listener"), shared_pacer(settings.slack_post_interval),
        )  # fmt: skip
        if share:
            services.sharing = _share(engine.warehouse)
        return services

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
        """Stop taking work, give running jobs `timeout` seconds, then close the engine (agent, warehouse)."""
        self.listeners.shutdown(wait=False, cancel_futures=True)
        self.listeners.wait_idle(min(timeout, LISTENER_GRACE_SECONDS))  # they may still queue a job
        self.workers.shutdown(timeout)
        if self.sharing is not None:
            self.sharing.stop()
        self.engine.close()


def _share(warehouse: Warehouse) -> Sharing | None:
    """Serve the warehouse to local commands; a failure to is logged, not fatal to the bot."""
    try:
        return warehouse.share()
    except WarehouseError as exc:
        log.warning("the command line cannot use the warehouse while this runs: %s", exc)
        return None
