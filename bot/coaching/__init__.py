"""The sales-coaching review's delivery flow (issue 15): `run_coaching`, for
`weekly-report coaching` and the bot's schedule. See bot/coaching/flow.py."""

from __future__ import annotations

from bot.coaching.flow import run_coaching
from bot.coaching.result import CoachingResult

__all__ = ["CoachingResult", "run_coaching"]
