"""A chart renderer for the renderer's child process that dies on one chart (tests of what the
bot does when its renderer process dies: importable, as a spawned child needs)."""

from __future__ import annotations

import os

from bot.charts import Drawing, draw
from core.charts import Chart


def die_on_poison(chart: Chart) -> Drawing:
    """The chart drawn, except for a chart named "poison": the process ends at once, as one
    that V8 aborts for want of memory does."""
    if chart.name == "poison":
        os._exit(134)
    return draw(chart)
