"""Plain-text views for a terminal: Slack messages as they would read, and result tables."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from bot.mrkdwn import SlackMessage


def slack_as_text(message: SlackMessage, indent: str = "") -> str:
    """A Slack message's blocks as a terminal would show them."""
    lines = []
    for block in message.blocks:
        kind = block["type"]
        if kind == "header":
            lines.append(f"▌ {block['text']['text']}")
        elif kind == "section":
            lines.append(_unescape(block["text"]["text"]))
        elif kind == "context":
            lines.extend(f"  {_unescape(e.get('text', ''))}" for e in block["elements"])
    return "\n".join(indent + line for text in lines for line in text.splitlines())


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def plain(value: Any) -> Any:
    """A warehouse value as JSON would carry it."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    return value


def table(columns: Sequence[str], rows: Sequence[Sequence[Any]], max_width: int = 60) -> str:
    cells = [[_cell(v, max_width) for v in row] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    line = "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))
    rule = "  ".join("-" * w for w in widths)
    body = ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join([line, rule, *body, f"({len(rows)} row{'s' if len(rows) != 1 else ''})"])


def as_csv(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    writer.writerows([[plain(v) for v in r] for r in rows])
    return out.getvalue().rstrip("\n")


def as_json(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    return json.dumps(
        [{c: plain(v) for c, v in zip(columns, r, strict=True)} for r in rows], indent=2, default=str
    )


def _cell(value: Any, max_width: int) -> str:
    text = "NULL" if value is None else " ".join(str(plain(value)).split())
    return text if len(text) <= max_width else text[: max_width - 1] + "…"
