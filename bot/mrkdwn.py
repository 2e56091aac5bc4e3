"""Slack messages: the message type, Slack's limits, mrkdwn, and cutting text to fit.

A message has at most 50 blocks, a section block at most 3,000 characters and the fallback
`text` stays under 4,000, so long text is split on paragraph, then line, then word
boundaries. mrkdwn is not Markdown: see `mrkdwn()`. A Markdown table (a section's channel
effectiveness) can go as Slack's `table` block instead: see `split_tables`. Everything Slack-shaped the bot posts
(reports, the rollup, alerts, answers) is built from these.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

BLOCK_TEXT_LIMIT = 3000
MESSAGE_TEXT_LIMIT = 3900
MAX_BLOCKS = 50
HEADER_LIMIT = 150


@dataclass(frozen=True)
class SlackMessage:
    text: str
    blocks: list[dict[str, Any]]


def escape(text: str) -> str:
    """Text as mrkdwn shows it literally (no mentions, links or `<!channel>`): escape &, <, >."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mrkdwn(text: str) -> str:
    """Markdown to Slack mrkdwn: escape &, <, >; **bold** -> *bold*; headings -> bold lines."""
    text = escape(text)
    text = re.sub(r"^#{1,6}\s+(.+)$", r"*\1*", text, flags=re.MULTILINE)
    text = re.sub(r"\*\*(.+?)\*\*", r"*\1*", text)
    text = re.sub(r"__(.+?)__", r"*\1*", text)
    return re.sub(r"^(\s*)[-*] ", r"\1• ", text, flags=re.MULTILINE)


def split_text(text: str, limit: int = BLOCK_TEXT_LIMIT) -> list[str]:
    """Pieces of at most `limit` characters, cut at paragraph, line, then word boundaries."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n\n"), 0) or max(window.rfind("\n"), 0) or max(window.rfind(" "), 0) or limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def fallback(text: str) -> str:
    """A message's `text` (what notifications show), cut under MESSAGE_TEXT_LIMIT."""
    return text if len(text) <= MESSAGE_TEXT_LIMIT else text[: MESSAGE_TEXT_LIMIT - 1] + "…"


def markdown(text: str) -> str:
    """Text for Slack's Markdown surfaces (a streamed message's `markdown_text`, a `markdown`
    block) that can carry no mention, no link and no image it did not mean to: &, < and > as
    entities (no `<@U123>`, `<!channel>`, `<url|text>`), and `[` escaped (no `[text](url)`,
    no `![](url)`). Each character is handled on its own, so a text cut anywhere, as a stream
    is, comes out the same piece by piece as whole."""
    return escape(text).replace("[", "\\[")


# Slack's `table` block: at most 100 rows of at most 20 cells, one table per message.
TABLE_ROWS = 100
TABLE_CELLS = 20
_ROW = re.compile(r"^\s*\|(.*)\|\s*$")
_RULE = re.compile(r"^\s*:?-+:?\s*$")


@dataclass(frozen=True)
class Table:
    """A Markdown (GFM) table: its header and body rows as plain cell text, each column's alignment."""

    rows: tuple[tuple[str, ...], ...]
    align: tuple[str, ...]  # left | center | right per column

    def block(self) -> dict[str, Any]:
        """The table as a Slack `table` block (raw_text cells: nothing in them is formatted)."""
        return {
            "type": "table",
            "column_settings": [{"align": a} for a in self.align],
            "rows": [[{"type": "raw_text", "text": cell or " "} for cell in row] for row in self.rows],
        }

    def text(self) -> str:
        """The table as lines of text, for a message's fallback `text`."""
        return "\n".join(" | ".join(row) for row in self.rows)


def split_tables(markdown: str) -> list[str | Table]:
    """Markdown cut into its text and its tables, in order. A table Slack's `table` block cannot
    hold (over TABLE_ROWS rows or TABLE_CELLS cells in a row), or a ragged one, stays text."""
    parts: list[str | Table] = []
    lines, text = markdown.split("\n"), []
    i = 0
    while i < len(lines):
        table, end = _table_at(lines, i)
        if table is None:
            text.append(lines[i])
            i += 1
            continue
        if "\n".join(text).strip():
            parts.append("\n".join(text))
        parts.append(table)
        text, i = [], end
    if "\n".join(text).strip():
        parts.append("\n".join(text))
    return parts


def _table_at(lines: list[str], i: int) -> tuple[Table | None, int]:
    """The table whose header row is lines[i], and the index after it; (None, i) if none."""
    if i + 1 >= len(lines) or not (_ROW.match(lines[i]) and _ROW.match(lines[i + 1])):
        return None, i
    header, rule = _cells(lines[i]), _cells(lines[i + 1])
    if len(rule) != len(header) or not all(_RULE.match(c) for c in rule):
        return None, i
    body, end = [], i + 2
    while end < len(lines) and _ROW.match(lines[end]):
        body.append(_cells(lines[end]))
        end += 1
    rows = [header, *body]
    if len(rows) > TABLE_ROWS or len(header) > TABLE_CELLS or any(len(r) != len(header) for r in body):
        return None, i
    align = tuple(
        "center" if c.startswith(":") and c.endswith(":") else "right" if c.endswith(":") else "left"
        for c in (c.strip() for c in rule)
    )
    return Table(tuple(tuple(_plain(c) for c in r) for r in rows), align), end


def _cells(line: str) -> list[str]:
    inner = _ROW.match(line)
    assert inner is not None
    return [c.strip() for c in re.split(r"(?<!\\)\|", inner.group(1))]


def _plain(cell: str) -> str:
    """A cell's Markdown as the plain text a raw_text cell shows: no ** or `, \\| as |."""
    cell = re.sub(r"\*\*(.+?)\*\*|__(.+?)__", lambda m: m.group(1) or m.group(2), cell)
    return cell.replace("`", "").replace("\\|", "|").strip()
