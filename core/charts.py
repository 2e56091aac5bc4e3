"""Charts as data: a Vega-Lite spec with its numbers inline, and alt text that states them.

A report kind builds its charts from the figures its queries produced (`ReportKind.charts`);
a Cortex answer may carry the agent's own spec (`Answer.charts`). Turning a spec into an
image is for the channels (bot/charts), so core stays free of any medium.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Chart:
    """One chart: `name` is a stable file stem within its report ("revenue-trend"), `title`
    what it is called where it is shown, `alt_text` what a screen reader says (the numbers
    themselves, not "a chart"), `spec` a Vega-Lite v5 spec with its data inline."""

    name: str
    title: str
    alt_text: str
    spec: dict[str, Any] = field(compare=False)
