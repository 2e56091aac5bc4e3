"""The team rollup as Slack messages for WEEKLY_REPORT_ROLLUP_CHANNEL.

The data is core's (core.rollup.collect_rollup); here it becomes mrkdwn: each paragraph (the
summary, then one per CSM) gets its own section block, and a large team is split into
several messages within Slack's limits (bot.mrkdwn), each with its own header.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.mrkdwn import HEADER_LIMIT, MAX_BLOCKS, SlackMessage, fallback, mrkdwn, split_text
from core import CsmRollup, RollupRow, Week, render_template
from core.rollup import totals

FLAGS = {"Healthy": ":large_green_circle:", "Watch": ":large_yellow_circle:", "At risk": ":red_circle:"}
NO_FLAG = ":white_circle:"  # no headline figures: no report, or one without them


def flag(row: RollupRow) -> str:
    """The health verdict's emoji for a customer's line."""
    return FLAGS.get(row.headline.health, NO_FLAG) if row.headline else NO_FLAG


def rollup_messages(team: Sequence[CsmRollup], week: Week) -> list[SlackMessage]:
    """The rollup as Slack messages: as few as the limits allow, each with its own header."""
    body = mrkdwn(
        render_template("ebr/slack/rollup.md.j2", team=team, totals=totals(team), flags=FLAGS, flag=flag)
    )
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": piece}}
        for paragraph in body.split("\n\n")
        for piece in split_text(paragraph)
    ]
    title = f"Team rollup: week of {week.label()}"
    per_message = MAX_BLOCKS - 1  # one goes to the header
    parts = [blocks[i : i + per_message] for i in range(0, len(blocks), per_message)]
    messages = []
    for n, part in enumerate(parts, start=1):
        heading = (title if len(parts) == 1 else f"{title} ({n}/{len(parts)})")[:HEADER_LIMIT]
        header = {"type": "header", "text": {"type": "plain_text", "text": heading}}
        text = "\n".join([heading, *(b["text"]["text"] for b in part)])
        messages.append(SlackMessage(fallback(text), [header, *part]))
    return messages
