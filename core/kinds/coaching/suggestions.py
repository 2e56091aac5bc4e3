"""Three follow-up questions that fit one coaching review, offered as buttons in its thread.

Built from the review's stored headline (its weakest dimension, its most frequent objection)
and worded the way the coaching answerer's grammar (followup_intent.py) reads them, so a
click gets an answer. tests/test_suggested_questions.py asks every suggestion of every demo review.
"""

from __future__ import annotations

from core.kinds.coaching.headline import CoachingHeadline

FOCUS = "What should I focus on?"
BEST_CALL = "What was the best call this week?"


def coaching_questions(headline: CoachingHeadline | None) -> tuple[str, ...]:
    """The weakest dimension's trend, the calls with the top objection (the best call when no
    objection came up), and the focus areas; () for a review without scores."""
    if not isinstance(headline, CoachingHeadline):
        return ()
    scored = [d for d in headline.dimensions if d.get("points") is not None]
    if not scored:
        return ()
    weakest = min(scored, key=lambda d: d["points"])
    trend = f"How did the {str(weakest['label']).lower()} score move over the last month?"
    objection = (headline.objections or [{}])[0].get("label")
    calls = f"Which calls had {objection} objections?" if objection else BEST_CALL
    return trend, calls, FOCUS
