"""Charts as images: core.charts.Chart specs rendered to PNG by vl-convert (Vega-Lite in Rust).

One renderer for every channel (Slack uploads, email CID images, the console's chart folder),
so a chart looks the same wherever it is shown.
"""

from __future__ import annotations

import vl_convert

from core.charts import Chart

# Slack shows uploads as thumbnails about 360 px wide and full size on click; email clients
# scale images to the message width. Twice the spec's pixel size stays sharp on high-DPI
# screens at both.
SCALE = 2.0


def render_png(chart: Chart, scale: float = SCALE) -> bytes:
    """The chart as PNG bytes. Nothing is fetched: a spec is rendered from its inline data
    only (an agent's spec that refers to a URL is refused before, see core.charts.agent_chart;
    `allowed_base_urls=[]` makes the renderer refuse one too)."""
    return bytes(vl_convert.vegalite_to_png(chart.spec, scale=scale, allowed_base_urls=[]))
