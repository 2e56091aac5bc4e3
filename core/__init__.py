"""weekly-report's engine: warehouse, agent, analytics, generation, storage, rendering.

`bot` uses only what this module exports.
"""

from __future__ import annotations

from core.agent import Agent, Answer, AskContext, make_agent
from core.directory import Directory, Requester, validate_csm_id, validate_customer_id
from core.engine import FollowUp, ReportEngine, RunSummary, Target
from core.errors import WeeklyReportError
from core.models import Report
from core.render import SlackMessage, markdown, slack_parent, slack_sections
from core.settings import Settings, load_settings
from core.storage import ReportStore
from core.warehouse import Warehouse, open_warehouse
from core.weeks import Week

__all__ = [
    "Agent",
    "Answer",
    "AskContext",
    "Directory",
    "FollowUp",
    "Report",
    "ReportEngine",
    "ReportStore",
    "Requester",
    "RunSummary",
    "Settings",
    "SlackMessage",
    "Target",
    "Warehouse",
    "Week",
    "WeeklyReportError",
    "build_engine",
    "load_settings",
    "make_agent",
    "markdown",
    "open_warehouse",
    "slack_parent",
    "slack_sections",
    "validate_csm_id",
    "validate_customer_id",
]  # fmt: skip


def build_engine(settings: Settings) -> ReportEngine:
    """Open the configured warehouse and agent, and the engine over them."""
    warehouse = open_warehouse(settings)
    return ReportEngine(settings, warehouse, make_agent(settings, warehouse))
