"""The agent seam: one interface, the local analyst (embedded) and the Cortex Agent."""

from __future__ import annotations

from core.agent.base import Agent, Answer, AskContext, ResultTable
from core.settings import Settings
from core.warehouse import Warehouse

__all__ = ["Agent", "Answer", "AskContext", "ResultTable", "make_agent"]


def make_agent(settings: Settings, warehouse: Warehouse) -> Agent:
    """The agent the settings choose."""
    if settings.agent == "cortex":
        from core.agent.cortex import build_cortex_agent

        return build_cortex_agent(settings)
    from core.agent.local.analyst import LocalAnalyst

    return LocalAnalyst(warehouse)
