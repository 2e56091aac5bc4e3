"""Charts as data: a Vega-Lite spec with its numbers inline, and alt text that states them.

A report kind builds its charts from the figures its queries produced (`ReportKind.charts`);
a Cortex answer may carry the agent's own spec (`Answer.charts`). Turning a spec into an
image is for the channels (bot/charts), so core stays free of any medium.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
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


# The words a chart shows once drawn (each text on the image), or None when it cannot be
# drawn: given by the program that draws charts (bot.charts.files.chart_words), so that the
# guard reads what an agent's chart shows, not only what its spec says (an expression can
# spell a name that no string of the spec holds: `'Meri' + 'dian'`).
ChartWords = Callable[[Chart], Sequence[str] | None]

# An agent's spec (Cortex `response.chart`) is rendered only when it cannot make the renderer
# fetch anything (every value inline, no `url` anywhere: data, images, nested layers) and its
# cost is bounded by its size: no data generators (`sequence`, `graticule`, `sphere`, an
# `impute` key sequence, the `sequence()` expression) nor transforms that make rows out of
# parameters (`density`, `quantile`), at most MAX_ROWS inline rows in all, each view at most
# MAX_VIEW_PIXELS a side (larger sizes are clamped). That is no promise of speed: a spec can
# still be slow to draw (a fold over many fields, a facet per row), so the renderer draws in a
# child process it ends after a timeout, and refuses a drawing too large to rasterise
# (bot/charts: RENDER_TIMEOUT, MAX_DRAWING_SIDE).
MAX_SPEC_CHARS = 100_000
MAX_ROWS = 5_000
MAX_VIEW_PIXELS = 1_200
MAX_ALT_CHARS = 300
ALT_ROWS = 8  # data rows the alt text states
_GENERATORS = frozenset({"sequence", "graticule", "sphere"})  # a `data` that makes its own rows
_ROW_MAKERS = frozenset({"density", "quantile"})  # transforms whose rows count is a parameter
_PROSE = frozenset({"title", "subtitle", "description", "text"})  # words, never an expression
_SEQUENCE_CALL = re.compile(r"\bsequence\s*\(")


def agent_chart(spec_text: object, number: int) -> tuple[Chart | None, str]:
    """The agent's Vega-Lite spec (a JSON string) as a Chart named `agent-chart-<number>`, or
    (None, why it was refused): not JSON, too large, data not inline, a `url` anywhere, a data
    generator, or too many rows. A view wider or taller than MAX_VIEW_PIXELS is drawn at it."""
    if isinstance(spec_text, dict):
        spec_text = json.dumps(spec_text)
    if not isinstance(spec_text, str):
        return None, f"the spec is a {type(spec_text).__name__}, not a JSON string"
    if len(spec_text) > MAX_SPEC_CHARS:
        return None, f"the spec has {len(spec_text):,} characters (at most {MAX_SPEC_CHARS:,})"
    try:
        spec = json.loads(spec_text)
    except json.JSONDecodeError:
        return None, "the spec is not JSON"
    if not isinstance(spec, dict):
        return None, "the spec is not a JSON object"
    if (where := _url_in({k: v for k, v in spec.items() if k != "$schema"})) is not None:
        return None, f"the spec refers to a URL ({where}): only inline data is rendered"
    if (why := _unbounded(spec)) is not None:
        return None, why
    rows = inline_rows(spec)
    if not rows:
        return None, "the spec has no inline data values"
    title = _title(spec) or "Chart"
    return Chart(f"agent-chart-{number}", title, _alt_text(spec, title, rows), spec), ""


def _unbounded(spec: dict[str, Any]) -> str | None:
    """Why drawing `spec` could cost more than its size says (a generator, a transform making
    rows, too many rows), else None; clamps every view's width and height to MAX_VIEW_PIXELS.
    Inline rows are data: a column named `sequence` is no generator."""
    rows = 0
    stack: list[tuple[object, Any]] = [(None, spec)]  # (the key a value is under, the value)
    while stack:
        under, node = stack.pop()
        if isinstance(node, list):
            stack.extend((under, item) for item in node)
            continue
        if isinstance(node, str) and under not in _PROSE and _SEQUENCE_CALL.search(node):
            return "the spec calls sequence() in an expression: a data generator"
        if not isinstance(node, dict):
            continue
        for key, value in node.items():
            if key == "values" and isinstance(value, list):
                rows += len(value)
            elif key == "datasets" and isinstance(value, dict):
                rows += sum(len(v) for v in value.values() if isinstance(v, list))
            elif key in _GENERATORS:
                return f"the spec generates its data ({key}): only inline data is rendered"
            elif key in _ROW_MAKERS or (key == "keyvals" and isinstance(value, dict)):
                return f"the spec has a {key} transform, whose rows are a parameter"
            elif key in ("width", "height") and _number(value) and value > MAX_VIEW_PIXELS:
                node[key] = MAX_VIEW_PIXELS
            else:
                stack.append((key, value))
    if rows > MAX_ROWS:
        return f"the spec has {rows:,} data rows (at most {MAX_ROWS:,})"
    return None


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _url_in(node: Any, path: str = "") -> str | None:
    """The path of the first `url` key (or a nested `$schema`) under `node`, else None."""
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}.{key}" if path else str(key)
            if key in ("url", "$schema"):
                return here
            if (found := _url_in(value, here)) is not None:
                return found
    elif isinstance(node, list):
        for i, value in enumerate(node):
            if (found := _url_in(value, f"{path}[{i}]")) is not None:
                return found
    return None


def inline_rows(spec: dict[str, Any]) -> list[Any]:
    """The rows of the spec's inline data: top-level `data.values`, else its `datasets`, else
    the first layer's."""
    data = spec.get("data")
    if isinstance(data, dict) and isinstance(data.get("values"), list):
        return list(data["values"])
    for values in (spec.get("datasets") or {}).values() if isinstance(spec.get("datasets"), dict) else ():
        if isinstance(values, list) and values:
            return list(values)
    for part in spec.get("layer") or spec.get("vconcat") or spec.get("hconcat") or ():
        if isinstance(part, dict) and (rows := inline_rows(part)):
            return rows
    return []


def spec_tables(spec: Any) -> list[list[Any]]:
    """Every list of inline rows anywhere in `spec`: each `values` list (of a `data`, a nested
    layer's, a lookup's `from`, an axis's) and each `datasets` entry, however deep."""
    tables: list[list[Any]] = []
    for key, value in _walk(spec):
        if key == "values" and isinstance(value, list):
            tables.append(value)
        elif key == "datasets" and isinstance(value, dict):
            tables.extend(v for v in value.values() if isinstance(v, list))
    return tables


def spec_strings(spec: Any) -> set[str]:
    """Every string anywhere in `spec`, keys included: titles, subtitles, axis and legend
    titles, descriptions, a text mark's literal, expressions, data cells and column names."""
    found: set[str] = set()
    for key, value in _walk(spec):
        if isinstance(key, str):
            found.add(key)
        if isinstance(value, str):
            found.add(value)
    return found


def _walk(node: Any, key: object = None) -> Iterator[tuple[object, Any]]:
    """(key, value) for `node` and every value under it (a list's items under its key), depth first."""
    stack: list[tuple[object, Any]] = [(key, node)]
    while stack:
        key, node = stack.pop()
        yield key, node
        if isinstance(node, dict):
            stack.extend(node.items())
        elif isinstance(node, list):
            stack.extend((None, item) for item in node)


def _title(spec: dict[str, Any]) -> str:
    title = spec.get("title")
    if isinstance(title, dict):
        title = title.get("text")
    if isinstance(title, list):
        title = " ".join(str(t) for t in title)
    return " ".join(str(title).split()) if title else ""


def _alt_text(spec: dict[str, Any], title: str, rows: list[Any]) -> str:
    """The title, the description, and the first rows' values: "Revenue by channel: email
    20957, sms 6943 (+3 more rows)"."""
    description = spec.get("description")
    head = title + (f" ({' '.join(str(description).split())})" if description else "")
    shown = [
        ", ".join(_cell(v) for v in r.values()) if isinstance(r, dict) else _cell(r) for r in rows[:ALT_ROWS]
    ]
    more = f" (+{len(rows) - ALT_ROWS} more rows)" if len(rows) > ALT_ROWS else ""
    text = f"{head}: " + "; ".join(shown) + more
    return text if len(text) <= MAX_ALT_CHARS else text[: MAX_ALT_CHARS - 1] + "…"


def _cell(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return " ".join(str(value).split())
