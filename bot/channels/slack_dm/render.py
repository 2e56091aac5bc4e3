"""A report as Slack DM messages: a parent (headline figures) and the sections for its thread.

Each section is split into as many messages as its length needs, within Slack's limits
(bot.mrkdwn). The parent's text comes from the report kind's Slack template
(`templates/<kind>/slack/parent.md.j2`), Markdown turned into mrkdwn here.
"""

from __future__ import annotations

from typing import Any

from bot.mrkdwn import (
    HEADER_LIMIT,
    MAX_BLOCKS,
    SlackMessage,
    Table,
    escape,
    fallback,
    mrkdwn,
    split_tables,
    split_text,
)
from core import Report, render_template
from core.kinds import get_kind


def slack_parent(report: Report) -> SlackMessage:
    body = mrkdwn(render_template(f"{report.kind}/slack/parent.md.j2", r=report, h=report.headline))
    header = f"{get_kind(report.kind).heading}: {report.customer_name} ({report.customer_id})"[:HEADER_LIMIT]
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": header}}]
    blocks += [{"type": "section", "text": {"type": "mrkdwn", "text": p}} for p in split_text(body)]
    blocks.append(
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": "Reply in this thread to ask a follow-up."}],
        }
    )
    # The header block is plain_text, but `text` (what notifications show) is mrkdwn.
    return SlackMessage(fallback(f"{escape(header)}\n{body}"), blocks[:MAX_BLOCKS])


def slack_sections(report: Report) -> list[SlackMessage]:
    """The thread replies: each section, split into as many messages as its length needs; a
    Markdown table in it goes as a `table` block (one per message; text in `text`)."""
    messages = []
    for section in report.sections:
        title = f"{section.position}. {section.title}"
        body = (
            section.content if section.content else f"_This section could not be generated: {section.error}_"
        )
        pieces: list[str | Table] = []
        for part in split_tables(body):
            pieces += [part] if isinstance(part, Table) else split_text(mrkdwn(part))
        messages += _messages(title, pieces)
    return messages


def _messages(title: str, pieces: list[str | Table]) -> list[SlackMessage]:
    """Pieces packed in order into messages of a header and at most MAX_BLOCKS - 1 blocks, of
    which at most one table (Slack takes one per message)."""
    groups: list[list[str | Table]] = [[]]
    for piece in pieces:
        group = groups[-1]
        table_again = isinstance(piece, Table) and any(isinstance(p, Table) for p in group)
        if len(group) >= MAX_BLOCKS - 1 or table_again:
            groups.append(group := [])
        group.append(piece)
    messages = []
    for n, group in enumerate(g for g in groups if g):
        heading = title if n == 0 else f"{title} (continued)"
        blocks = [{"type": "header", "text": {"type": "plain_text", "text": heading[:HEADER_LIMIT]}}]
        blocks += [
            p.block() if isinstance(p, Table) else {"type": "section", "text": {"type": "mrkdwn", "text": p}}
            for p in group
        ]
        text = "\n".join(escape(p.text()) if isinstance(p, Table) else p for p in group)
        messages.append(SlackMessage(fallback(f"{escape(heading)}\n{text}"), blocks))
    return messages


SUGGESTED_ACTION = "suggested_question"  # each button's action_id: suggested_question_1, _2, _3
BUTTON_TEXT = 75  # Slack's limit for a button's text


def slack_suggestions(report: Report) -> list[SlackMessage]:
    """The thread's last part: the report kind's suggested follow-up questions as buttons
    (a click asks the question in the thread); none when the kind suggests none."""
    questions = list(get_kind(report.kind).suggested_questions(report))[:3]
    if not questions:
        return []
    buttons = [
        {
            "type": "button",
            "action_id": f"{SUGGESTED_ACTION}_{n}",
            "text": {"type": "plain_text", "text": _button_text(q)},
            "value": q[:2000],
        }
        for n, q in enumerate(questions, start=1)
    ]
    intro = "*Ask me about this report:* pick a question, or reply in this thread with your own."
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": intro}},
        {"type": "actions", "elements": buttons},
    ]
    return [
        SlackMessage(fallback("Suggested questions: " + " · ".join(escape(q) for q in questions)), blocks)
    ]


def slack_thread(report: Report) -> list[SlackMessage]:
    """Every thread reply of a report's DM: its sections, then its suggested questions."""
    return slack_sections(report) + slack_suggestions(report)


def _button_text(question: str) -> str:
    return question if len(question) <= BUTTON_TEXT else question[: BUTTON_TEXT - 1].rstrip() + "…"
