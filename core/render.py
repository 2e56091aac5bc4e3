"""A report as Markdown: the stored `full_report`, medium-neutral.

Rendering for a medium (Slack messages, email) belongs to the delivery channels in `bot`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.templating import render

if TYPE_CHECKING:
    from core.models import Report


def markdown(report: Report) -> str:
    return render("ebr/report.md.j2", r=report, h=report.headline)
