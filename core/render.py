"""Reports as Markdown (the stored `full_report`) and as Slack messages within Slack's limits.

Slack: a parent message (headline figures) and one or more messages per section for the
thread. A message has at most 50 blocks, a section block at most 3,000 characters and the
fallback `text` stays under 4,000, so long sections are split on paragraph, then line,
boundaries. mrkdwn is not Markdown: see `mrkdwn()`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.templating import render

if TYPE_CHECKING:
    from core.models import Report

BLOCK_TEXT_LIMIT = 3000
MESSAGE_TEXT_LIMIT = 3900
MAX_BLOCKS = 50
HEADER_LIMIT = 150


@dataclass(frozen=True)
class SlackMessage:
    text: str
    blocks: list[dict[str, Any]]


def markdown(report: Report) -> str:
    return render("ebr/report.md.j2", r=report, h=report.headline)


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


def slack_parent(report: Report) -> SlackMessage:
    body = mrkdwn(render("slack/parent.md.j2", r=report, h=report.headline))
    header = f"Weekly report: {report.customer_name} ({report.customer_id})"[:HEADER_LIMIT]
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": header}}]
    blocks += [{"type": "section", "text": {"type": "mrkdwn", "text": p}} for p in split_text(body)]
    blocks.append(
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": "Reply in this thread to ask a follow-up."}],
        }
    )
    # The header block is plain_text, but `text` (what notifications show) is mrkdwn.
    return SlackMessage(_fallback(f"{escape(header)}\n{body}"), blocks[:MAX_BLOCKS])


def slack_sections(report: Report) -> list[SlackMessage]:
    """The thread replies: each section, split into as many messages as its length needs."""
    messages = []
    for section in report.sections:
        title = f"{section.position}. {section.title}"
        body = (
            section.content if section.content else f"_This section could not be generated: {section.error}_"
        )
        chunks = split_text(mrkdwn(body))
        for start in range(0, len(chunks), MAX_BLOCKS - 1):
            part = chunks[start : start + MAX_BLOCKS - 1]
            heading = title if start == 0 else f"{title} (continued)"
            blocks = [{"type": "header", "text": {"type": "plain_text", "text": heading[:HEADER_LIMIT]}}]
            blocks += [{"type": "section", "text": {"type": "mrkdwn", "text": c}} for c in part]
            messages.append(SlackMessage(_fallback(f"{escape(heading)}\n" + "\n".join(part)), blocks))
    return messages


def _fallback(text: str) -> str:
    return text if len(text) <= MESSAGE_TEXT_LIMIT else text[: MESSAGE_TEXT_LIMIT - 1] + "…"
