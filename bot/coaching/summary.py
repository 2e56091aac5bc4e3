"""The coaching team summary, in the seed's format, and a period's names.

    📊 Weekly Coaching Report - Week of November 23, 2026

    Generated reports for 7 reps:
    • Jane Smith: 78/100 📉 (-2 from last week) (6 calls)
    • Hannah Kim: 86/100 📈 (+1 from last week) (6 calls)
    • Lucas Meyer: 72/100 ➡️ (0 from last week) (5 calls)
    • Priya Natarajan: 71/100 (new) (5 calls)

    Individual reports sent via email

The figures and the direction are the headline's (core.kinds.coaching: score_points,
trend, direction), so the summary says what the report and the email say. A rep with calls
but no coaching session shows "no score (no coaching sessions)". A period other than a
Monday–Sunday week says "Coaching Report - November 1 – November 30, 2026" and compares with
"the previous 30 days". The text is Slack's (an incoming webhook's `text`, or the bot's
message): names are escaped as mrkdwn, and a long team is cut into messages of at most
MESSAGE_TEXT_LIMIT characters at line boundaries (the first one is the seed's message; later
ones repeat the title, "(continued)").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.mrkdwn import MESSAGE_TEXT_LIMIT, SlackMessage, escape, split_text
from core import Week, render_template
from core.kinds.coaching.headline import CoachingHeadline

TEMPLATE = "coaching/slack/team_summary.txt.j2"


def _day(day: Any) -> str:
    return f"{day:%B} {day.day}, {day.year}"


def summary_title(week: Week) -> str:
    """'Weekly Coaching Report - Week of November 23, 2026', or the range for another period."""
    if week.days == 7:
        return f"Weekly Coaching Report - Week of {_day(week.start)}"
    return f"Coaching Report - {_day(week.start)} – {_day(week.end)}"


def since(week: Week) -> str:
    """What a trend is measured from: the previous period of the same length."""
    return "last week" if week.days == 7 else f"the previous {week.days} days"


def team_summary(
    week: Week, headlines: Sequence[CoachingHeadline], *, emailed: bool, team: str | None = None
) -> str:
    """The summary of `headlines` (CoachingHeadlines, in the order shown); `emailed`: at least
    one rep's email went out; `team`: a manager's name, for their own team's summary."""
    title = summary_title(week) + (f" - {escape(team)}'s team" if team else "")
    return render_template(
        TEMPLATE, title=title, reps=list(headlines), since=since(week), emailed=emailed, esc=escape
    )


def summary_parts(text: str, limit: int = MESSAGE_TEXT_LIMIT) -> list[str]:
    """The summary as messages of at most `limit` characters, cut at line boundaries."""
    if len(text) <= limit:
        return [text]
    lines = text.split("\n")
    heading = f"{lines[0]} (continued)"
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for line in lines:
        line = line[: limit - len(heading) - 2]  # one line never exceeds a message
        if current and size + len(line) + 1 > limit:
            parts.append("\n".join(current).strip())
            current, size = [heading, ""], len(heading) + 1
        current.append(line)
        size += len(line) + 1
    if current:
        parts.append("\n".join(current).strip())
    return parts


def summary_message(text: str) -> SlackMessage:
    """One part of the summary as the bot posts it: the text, in section blocks."""
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": p}} for p in split_text(text)]
    return SlackMessage(text, blocks)
