"""`/weekly-report pause [until DATE]` and `resume` (also as DM text), App Home, help, and a
paused CSM skipped by the Monday run while their on-demand reports still arrive."""

from __future__ import annotations

import datetime as dt
import json

from bot.pacing import Pacer
from bot.slack.requests import Help, Pause, Resume, parse
from bot.weekly import WeeklyJob
from core import DeliveryStore, Preferences, RunClaims, Week
from tests import test_bot_dispatch as dispatch
from tests.conftest import REPORT_WEEK
from tests.test_bot_dispatch import MICHAEL, OUTSIDER, SARAH, Bot, report_parents

# The dispatch tests' fixtures: the app under test against the local Slack server.
slack, responses, services, bot = dispatch.slack, dispatch.responses, dispatch.services, dispatch.bot


def test_pause_and_resume_parse() -> None:
    assert parse("pause") == Pause() and parse("PAUSE until 2026-12-01") == Pause(dt.date(2026, 12, 1))
    assert parse("pause 2026-12-01") == Pause(dt.date(2026, 12, 1)) and parse("resume") == Resume()
    problem = parse("pause until someday")
    assert isinstance(problem, Help) and "'someday' is not a date" in (problem.problem or "")
    assert isinstance(parse("resume now please"), Help) and isinstance(parse("pause a b c"), Help)


def test_pause_stops_the_monday_dms_until_resumed(bot: Bot) -> None:
    preferences = Preferences(bot.services.engine.warehouse, bot.services.settings.current_date)
    reply = bot.command("pause")
    assert "Your Monday report DMs are paused until you resume them" in reply
    pause = preferences.pause_of("CSM001")
    assert pause is not None and pause.until is None and pause.updated_by == SARAH

    # the App Home says so
    bot.event(
        {"type": "app_home_opened", "user": SARAH, "channel": bot.slack.dm_channel(SARAH), "tab": "home"}
    )
    bot.settle(lambda: bot.slack.views_published.get(SARAH))
    assert "*Monday DMs paused until resumed.*" in json.dumps(bot.slack.views_published[SARAH][-1])

    # the Monday run skips Sarah and says so; Michael gets his
    job = WeeklyJob(
        bot.services.settings, bot.services.engine, DeliveryStore(bot.services.engine.warehouse),
        bot.app.client, pacer=Pacer(interval=0.0), claims=RunClaims(bot.services.engine.warehouse),
    )  # fmt: skip
    summary = job.run(Week(REPORT_WEEK), ["CSM001", "CSM002"], scope="weekly:test")
    assert summary["paused"] == ["CSM001"] and summary["dms_sent"] == 2
    assert report_parents(bot.slack, SARAH) == [] and len(report_parents(bot.slack, MICHAEL)) == 2

    # on demand still works while paused
    bot.command("CUST_12345")
    bot.settle(lambda: len(report_parents(bot.slack, SARAH)) == 1)

    # resume as DM text: confirmed, with the next run in Sarah's own timezone
    bot.dm(SARAH, "resume")
    bot.settle()
    confirmation = [
        m["text"] for m in bot.slack.messages(bot.slack.dm_channel(SARAH)) if "back on" in m["text"]
    ]
    assert confirmation and "Monday" in confirmation[0] and "08:00 (America/Los_Angeles)" in confirmation[0]
    assert preferences.pause_of("CSM001") is None
    later = job.run(Week(REPORT_WEEK), ["CSM001"], scope="weekly:test-later")
    assert later["paused"] == [] and later["dms_sent"] == 3
    assert len(report_parents(bot.slack, SARAH)) == 4  # the on-demand one and the three Monday ones


def test_pause_until_a_date_and_who_may_pause(bot: Bot) -> None:
    reply = bot.command("pause until 2026-12-07")
    assert "paused until Monday, December 7" in reply
    assert "not after today" in bot.command("pause until 2026-11-01")
    assert "not a CSM" in bot.command("pause", user_id=OUTSIDER)
    assert "were not paused" in bot.command("resume", user_id=MICHAEL)
    assert "`/weekly-report pause`" in bot.command("help")
