"""Slack messages: the message type, Slack's limits, mrkdwn, and cutting text to fit.

A message has at most 50 blocks, a section block at most 3,000 characters and the fallback
`text` stays under 4,000, so long text is split on paragraph, then line, then word
boundaries. mrkdwn is not Markdown: see `mrkdwn()`. Everything Slack-shaped the bot posts
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
