"""The agent seam: one interface, the local analyst (embedded) and the Cortex Agent."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from core.agent.base import (
    PLANNING,
    QUERYING,
    SEARCHING,
    WRITING,
    Agent,
    Answer,
    AnswerListener,
    AskContext,
    ResultTable,
)
from core.settings import Settings
from core.warehouse import Warehouse

if TYPE_CHECKING:
    from core.kinds import ReportKind

__all__ = [
    "PLANNING", "QUERYING", "SEARCHING", "WRITING", "Agent", "Answer", "AnswerListener", "AskContext",
    "ResultTable", "make_agent", "workers",
]  # fmt: skip


def make_agent(settings: Settings, warehouse: Warehouse, kind: ReportKind | None = None) -> Agent:
    """The agent the settings choose; on Cortex, the agent object that writes `kind` (its
    `agent_name`: CORTEX_AGENT for the EBR)."""
    if settings.agent == "cortex":
        from core.agent.cortex import build_cortex_agent

        if kind is not None:
            settings = replace(settings, cortex_agent=kind.agent_name(settings))
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
