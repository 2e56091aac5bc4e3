"""The agent seam: one interface, the local analyst (embedded) and the Cortex Agent."""

from __future__ import annotations

from core.agent.base import Agent, Answer, AskContext, ResultTable
from core.settings import Settings
from core.warehouse import Warehouse

__all__ = ["Agent", "Answer", "AskContext", "ResultTable", "make_agent", "workers"]


def make_agent(settings: Settings, warehouse: Warehouse) -> Agent:
    """The agent the settings choose."""
    if settings.agent == "cortex":
        from core.agent.cortex import build_cortex_agent

        return build_cortex_agent(settings)
    from core.agent.local.analyst import LocalAnalyst

    return LocalAnalyst(warehouse)


def workers(settings: Settings) -> int:
    """How many reports the engine builds at once with the agent the settings choose.

    The Cortex agent waits on the network: `settings.concurrency` reports at once, the run's
    facts queried alongside. The local analyst is CPU-bound: one report after another
    (threads would only contend for the GIL), from facts queried before it starts.
    """
    return settings.concurrency if settings.agent == "cortex" else 1
