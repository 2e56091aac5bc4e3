"""Three follow-up questions that fit one EBR, offered as buttons in its thread.

Each is built from the report's stored headline (its verdict, its biggest weekly change, the
metric its verdict finds below the benchmark) and worded the way the local analyst's grammar
(core/agent/local/intent.py) reads it, so a click gets an answer rather than "I can't answer
that". tests/test_suggested_questions.py asks every suggestion of every demo report.
"""

from __future__ import annotations

import re

from core.models import Headline

# The headline's weekly changes, as a question names each metric.
MOVERS = (
    ("revenue", "revenue"),
    ("conversions", "conversions"),
    ("click_through_rate", "click-through"),
    ("engagement_score", "engagement score"),
)
# A verdict reason that puts a metric below its benchmark ("open rate 11.80% vs the benchmark 21.90%").
_BELOW_BENCHMARK = re.compile(
    r"\b(click-through|open rate|engagement score|conversion rate) [\d.,]+%? vs the benchmark", re.IGNORECASE
)
FALLBACK_TREND = "What's the revenue trend over the last 8 weeks?"
BY_CHANNEL = "What was revenue by channel last week?"


def ebr_questions(headline: Headline | None) -> tuple[str, ...]:
    """The verdict's why, the biggest mover's why, and case studies on the metric below its
    benchmark (revenue by channel when none is); () for a report without figures."""
    if not isinstance(headline, Headline):
        return ()
    verdict = f"Why is the account {headline.health}?"
    mover = biggest_mover(headline)
    moved = f"Why did {mover[0]} {'rise' if mover[1] > 0 else 'fall'} last week?" if mover else FALLBACK_TREND
    below = _BELOW_BENCHMARK.search(headline.health_reasons or "")
    third = f"Are there case studies on improving {below.group(1).lower()}?" if below else BY_CHANNEL
    return verdict, moved, third


def biggest_mover(headline: Headline) -> tuple[str, float] | None:
    """The headline metric with the largest week-over-week change (its name, the change); None
    when no metric has a change (no week before)."""
    changes = [(name, getattr(headline, f"{key}_wow")) for key, name in MOVERS]
    known = [(name, wow) for name, wow in changes if wow is not None and wow == wow and wow != 0]
    return max(known, key=lambda c: abs(c[1])) if known else None
