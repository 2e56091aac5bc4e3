"""weekly-report's engine: warehouse, agent, analytics, generation, storage, Markdown.

`bot` uses only what this module exports.
"""

from __future__ import annotations

from core import collector
from core.agent import Agent, Answer, AnswerListener, AskContext, make_agent, workers
from core.deliveries import DeliveryRecord, DeliveryStore, ThreadLink, on_demand_recipient
from core.directory import Assignment, Directory, Requester, validate_csm_id, validate_customer_id
from core.engine import FollowUp, ReportEngine
from core.errors import WeeklyReportError
from core.kinds import ReportKind, Target, get_kind
from core.models import Report, report_id_for
from core.preferences import Pause, Preferences, channels_for, parse_until
from core.render import markdown
from core.rollup import CsmRollup, RollupRow, collect_rollup
from core.runs import Claim, RunClaims, RunRecord
from core.settings import Settings, load_settings
from core.storage import ReportStore
from core.summary import RunSummary
from core.templating import render as render_template
from core.warehouse import Warehouse, open_warehouse
from core.weeks import Week, last_complete_week

__all__ = [
    "Agent",
    "Answer",
    "AnswerListener",
    "AskContext",
    "Assignment",
    "Claim",
    "CsmRollup",
    "DeliveryRecord",
    "DeliveryStore",
    "Directory",
    "FollowUp",
    "Pause",
    "Preferences",
    "Report",
    "ReportEngine",
    "ReportKind",
    "ReportStore",
    "Requester",
    "RollupRow",
    "RunClaims",
    "RunRecord",
    "RunSummary",
    "Settings",
    "Target",
    "ThreadLink",
    "Warehouse",
    "Week",
    "WeeklyReportError",
    "build_engine",
    "channels_for",
    "collect_rollup",
    "collector",
    "get_kind",
    "last_complete_week",
    "load_settings",
    "make_agent",
    "markdown",
    "on_demand_recipient",
    "open_warehouse",
    "parse_until",
    "render_template",
    "report_id_for",
    "validate_csm_id",
    "validate_customer_id",
]  # fmt: skip


def build_engine(settings: Settings, borrow: bool = True, kind: str = "ebr") -> ReportEngine:
    """Open the configured warehouse and agent, and the engine over them for one report kind
    (`borrow`: see open_warehouse). How many reports are built at once is decided here, by
    the agent the settings choose (core.agent.workers)."""
    warehouse = open_warehouse(settings, borrow)
    chosen = get_kind(kind)
    agent = make_agent(settings, warehouse, chosen)
    return ReportEngine(settings, warehouse, agent, kind=chosen, workers=workers(settings))
