"""The coaching team summary's text (bot/coaching/summary.py): the seed's format line by line,
every direction of the trend, a range other than a week, Slack escaping and long teams."""

from __future__ import annotations

import datetime as dt

from bot.coaching.summary import summary_parts, summary_title, team_summary
from bot.mrkdwn import MESSAGE_TEXT_LIMIT
from core import Week
from core.kinds.coaching.headline import CoachingHeadline

WEEK = Week(dt.date(2026, 11, 23))


def rep(name: str, points: int | None, trend: int | None, direction: str, calls: int = 6) -> CoachingHeadline:
    return CoachingHeadline(
        rep_id="REP001", rep_name=name, manager_id="MGR001", manager_name="Olivia Bennett", calls=calls,
        sessions=calls, score=None if points is None else float(points), score_points=points,
        previous_points=None if trend is None or points is None else points - trend, trend=trend,
        direction=direction,
    )  # fmt: skip


def test_the_seeds_format_with_every_direction() -> None:
    text = team_summary(
        WEEK,
        [
            rep("Jane Smith", 78, -2, "down"),
            rep("Hannah Kim", 88, 3, "up"),
            rep("Lucas Meyer", 72, 0, "flat", calls=5),
            rep("Priya Natarajan", 70, None, "new", calls=1),
            rep("Sam Quiet", None, None, "unscored", calls=2),
        ],
        emailed=True,
    )
    assert text.splitlines() == [
        "📊 Weekly Coaching Report - Week of November 23, 2026",
        "",
        "Generated reports for 5 reps:",
        "• Jane Smith: 78/100 📉 (-2 from last week) (6 calls)",
        "• Hannah Kim: 88/100 📈 (+3 from last week) (6 calls)",
        "• Lucas Meyer: 72/100 ➡️ (0 from last week) (5 calls)",
        "• Priya Natarajan: 70/100 (new) (1 call)",
        "• Sam Quiet: no score (no coaching sessions) (2 calls)",
        "",
        "Individual reports sent via email",
    ]


def test_no_email_line_when_no_email_went_out_and_one_rep_is_singular() -> None:
    text = team_summary(WEEK, [rep("Jane Smith", 78, -2, "down")], emailed=False)
    assert text.splitlines()[2] == "Generated reports for 1 rep:"
    assert "Individual reports sent via email" not in text


def test_a_range_other_than_a_week_is_titled_by_its_dates_and_compared_with_the_days_before() -> None:
    month = Week(dt.date(2026, 11, 1), 30)
    text = team_summary(month, [rep("Jane Smith", 78, -2, "down")], emailed=True)
    assert text.startswith("📊 Coaching Report - November 1, 2026 – November 30, 2026\n")
    assert "• Jane Smith: 78/100 📉 (-2 from the previous 30 days) (6 calls)" in text
    assert summary_title(Week(dt.date(2026, 11, 2))) == "Weekly Coaching Report - Week of November 2, 2026"


def test_names_are_shown_as_typed_never_as_slack_markup() -> None:
    text = team_summary(WEEK, [rep("<!channel> & <@U123|boss>", 78, -2, "down")], emailed=False, team="A&B")
    assert "• &lt;!channel&gt; &amp; &lt;@U123|boss&gt;: 78/100" in text
    assert "<!channel>" not in text and "A&amp;B's team" in text.splitlines()[0]


def test_a_large_team_is_cut_into_messages_at_line_breaks_losing_no_rep() -> None:
    reps = [
        rep(f"Rep Number {i:05d}", 70 + i % 20, i % 5 - 2, "up" if i % 5 > 2 else "down") for i in range(400)
    ]
    text = team_summary(WEEK, reps, emailed=True)
    parts = summary_parts(text)
    assert len(parts) > 1 and all(len(p) <= MESSAGE_TEXT_LIMIT for p in parts)
    assert parts[0].startswith("📊 Weekly Coaching Report - Week of November 23, 2026\n")
    assert all(
        p.startswith("📊 Weekly Coaching Report - Week of November 23, 2026 (continued)") for p in parts[1:]
    )
    lines = [line for p in parts for line in p.splitlines() if line.startswith("• ")]
    assert lines == [line for line in text.splitlines() if line.startswith("• ")]
    assert parts[-1].endswith("Individual reports sent via email")
    assert summary_parts("short") == ["short"]
