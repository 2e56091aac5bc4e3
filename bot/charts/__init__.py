"""Charts as images: core.charts.Chart specs rendered to PNG by vl-convert (Vega-Lite in Rust).

One renderer for every channel (Slack uploads, email CID images, the console's chart folder),
so a chart looks the same wherever it is shown.
"""

from __future__ import annotations

import copy
import json
import re
import threading
import xml.etree.ElementTree as ElementTree
from collections import OrderedDict
from dataclasses import dataclass
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
# The largest drawing rasterised, in pixels a side before SCALE: an agent's views are clamped
# to 1,200 px (core.charts.MAX_VIEW_PIXELS), but a facet or concatenation of many is wider
# (4,800 px a side at scale 2 is at most 92 MB of pixels). The EBR's charts are about 600×300.
MAX_DRAWING_SIDE = 2_400
_SVG_ROOT = re.compile(r"<svg\b[^>]*>")
_SVG_SIZE = re.compile(r'\s(width|height)="([0-9.]+)"')
_compiled: OrderedDict[str, dict[str, Any]] = OrderedDict()
_lock = threading.Lock()


@dataclass(frozen=True)
class Drawing:
    """A chart drawn: its PNG, and the words it shows (each text it draws, in drawing order:
    titles, axis and legend labels, a text mark's values), which the guard reads for an
    agent's chart, since an expression may spell what no string of its spec holds."""

    png: bytes
    words: tuple[str, ...]


def render_png(chart: Chart, scale: float = SCALE) -> bytes:
    """The chart as PNG bytes (`draw`)."""
    return draw(chart, scale).png


def draw(chart: Chart, scale: float = SCALE) -> Drawing:
    """The chart drawn. Nothing is fetched: a spec is rendered from its inline data only (an
    agent's spec that refers to a URL is refused before, see core.charts.agent_chart;
    `allowed_base_urls=[]` makes the renderer refuse one too). Drawn as SVG first (the same
    bytes as straight to PNG, at the same cost), so that its words can be read and a drawing
    larger than MAX_DRAWING_SIDE is refused (ValueError) before a pixel of it is allocated."""
    vega = compiled(chart.spec)
    if vega is None:
        svg = vl_convert.vegalite_to_svg(chart.spec, allowed_base_urls=[])
    else:
        svg = vl_convert.vega_to_svg(vega, allowed_base_urls=[])
    width, height = _size(svg)
    if max(width, height) > MAX_DRAWING_SIDE:
        raise ValueError(
            f"the chart would be {width:,.0f}×{height:,.0f} px (at most {MAX_DRAWING_SIDE:,} a side)"
        )
    return Drawing(bytes(vl_convert.svg_to_png(svg, scale=scale)), drawn_words(svg))


_SVG_TEXT = "{http://www.w3.org/2000/svg}text"


def drawn_words(svg: str) -> tuple[str, ...]:
    """The text of each `<text>` element of an SVG drawing (its `<tspan>` lines joined by a
    space), entities decoded: what a person sees written on the image."""
    try:
        root = ElementTree.fromstring(svg)
    except ElementTree.ParseError as exc:
        raise ValueError(f"the renderer drew SVG that cannot be read ({exc})") from None
    return tuple(" ".join(t for t in element.itertext() if t) for element in root.iter(_SVG_TEXT))


def _size(svg: str) -> tuple[float, float]:
    """The width and height of an SVG drawing (its root element's attributes)."""
    root = _SVG_ROOT.search(svg)
    if root is None:
        raise ValueError("the renderer drew no SVG")
    size = dict(_SVG_SIZE.findall(root.group(0)))
    try:
        return float(size["width"]), float(size["height"])
    except (KeyError, ValueError):
        raise ValueError("the drawing has no size") from None


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
