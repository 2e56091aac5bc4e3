"""A report as Markdown: the stored `full_report`, medium-neutral.

Rendering for a medium (Slack messages, email) belongs to the delivery channels in `bot`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.kinds import get_kind
from core.templating import render

if TYPE_CHECKING:
    from core.models import Report


def markdown(report: Report) -> str:
    """The whole report as Markdown, from its kind's template (`templates/<kind>/report.md.j2`)."""
    return render(get_kind(report.kind).report_template, r=report, h=report.headline)
