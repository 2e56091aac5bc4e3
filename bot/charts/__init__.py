"""Charts as images: core.charts.Chart specs rendered to PNG by vl-convert (Vega-Lite in Rust).

One renderer for every channel (Slack uploads, email CID images, the console's chart folder),
so a chart looks the same wherever it is shown.
"""

from __future__ import annotations

import copy
import json
import threading
from collections import OrderedDict
from typing import Any

import vl_convert

from core.charts import Chart

# Slack shows uploads as thumbnails about 360 px wide and full size on click; email clients
# scale images to the message width. Twice the spec's pixel size stays sharp on high-DPI
# screens at both.
SCALE = 2.0
# Compiling Vega-Lite to Vega is a fifth of a render; a report kind's charts differ from one
# customer to the next only in their inline data, so the compiled Vega is kept per spec
# without its data and the data put back in (bench/charts.py measures the gain).
COMPILED_KEPT = 256
_compiled: OrderedDict[str, dict[str, Any]] = OrderedDict()
_lock = threading.Lock()


def render_png(chart: Chart, scale: float = SCALE) -> bytes:
    """The chart as PNG bytes. Nothing is fetched: a spec is rendered from its inline data
    only (an agent's spec that refers to a URL is refused before, see core.charts.agent_chart;
    `allowed_base_urls=[]` makes the renderer refuse one too)."""
    vega = compiled(chart.spec)
    if vega is None:
        return bytes(vl_convert.vegalite_to_png(chart.spec, scale=scale, allowed_base_urls=[]))
    return bytes(vl_convert.vega_to_png(vega, scale=scale, allowed_base_urls=[]))


def compiled(spec: dict[str, Any]) -> dict[str, Any] | None:
    """The spec compiled to Vega, with its inline data; None for a spec whose data is not one
    top-level `data.values` (it is then rendered from Vega-Lite directly)."""
    data = spec.get("data")
    if not isinstance(data, dict) or set(data) != {"values"} or not isinstance(data["values"], list):
        return None
    key = json.dumps({**spec, "data": None}, sort_keys=True, default=str)
    with _lock:
        template = _compiled.get(key)
        if template is not None:
            _compiled.move_to_end(key)
    if template is None:
        template = vl_convert.vegalite_to_vega({**spec, "data": {"values": []}})
        sources = [d for d in template.get("data", ()) if "values" in d]
        if len(sources) != 1 or sources[0]["values"] != []:
            return None
        with _lock:
            _compiled[key] = template
            while len(_compiled) > COMPILED_KEPT:
                _compiled.popitem(last=False)
    vega = copy.copy(template)
    vega["data"] = [{**d, "values": data["values"]} if "values" in d else d for d in template["data"]]
    return vega
