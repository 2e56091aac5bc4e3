"""The weekly schedule inside `weekly-report bot`: a run missed earlier today is delivered when
the bot comes back, once; per-CSM timezones get jobs of their own."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.runner import BotRunner
from core import RunClaims, Settings, last_complete_week, load_settings
from core.warehouse.embedded import EmbeddedWarehouse
from tests.conftest import AS_OF, CSMS
from tests.slack_server import SlackServer
from tests.test_schedule import local_zone_away_from_midnight
from tests.test_weekly_job import reports_in_dm


def bot_settings(slack: SlackServer, home: Path, **extra: str) -> Settings:
    return load_settings(
        {
            "WEEKLY_REPORT_HOME": str(home),
            "WEEKLY_REPORT_TODAY": AS_OF.isoformat(),
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_APP_TOKEN": slack.app_token,
            "SLACK_API_URL": slack.api_url,
            "WEEKLY_REPORT_CONFIG": str(home / "no-such-config.toml"),
            "WEEKLY_REPORT_POST_INTERVAL": "0",  # pacing is test_pacing's and test_weekly_cli's subject
            "WEEKLY_REPORT_CHARTS": "off",  # chart images are test_slack_charts's subject
            **extra,
        }
    )


def test_a_run_missed_earlier_today_is_delivered_once_when_the_bot_comes_back(
    slack: SlackServer, demo_home: Path
) -> None:
    zone = local_zone_away_from_midnight()
    with EmbeddedWarehouse(demo_home) as warehouse:  # everyone in one zone where it is still today
        warehouse.execute("UPDATE csm_assignments SET timezone = ?", [zone])
    missed = dt.datetime.now(ZoneInfo(zone)) - dt.timedelta(minutes=2)
    settings = bot_settings(
        slack, demo_home, WEEKLY_REPORT_SCHEDULE=f"{missed.minute} {missed.hour} * * *", WEEKLY_REPORT_TZ=zone
    )
    week = last_complete_week(AS_OF)  # the pinned "today" decides the week, whatever the date
    bot = BotRunner(settings)
    bot.start()
    try:
        slack.wait_for(
            lambda: len(slack.calls_to("chat.postMessage")) >= 45,
            timeout=120,
            what="the missed run's 45 posts",
        )
        claims = RunClaims(bot.services.engine.warehouse)
        slack.wait_for(lambda: claims.get(week, f"weekly:{zone}") and claims.get(week, f"weekly:{zone}").finished,
                       timeout=60, what="the run to finish")  # fmt: skip
        [run] = claims.records(week, f"weekly:{zone}")
        assert (run.trigger, run.status, run.counts["dms_sent"]) == ("schedule", "completed", 9)
    finally:
        bot.stop(grace=30)
    assert not bot.scheduler.running
    for user_id, _, customers in CSMS.values():
        assert set(reports_in_dm(slack, user_id)) == set(customers)

    again = BotRunner(settings)  # restarted the same day: the run is done, nothing is sent again
    again.start()
    try:
        assert again.schedule.catch_up() == []
    finally:
        again.stop(grace=30)
    assert len(slack.calls_to("chat.postMessage")) == 45


def test_csm_timezones_get_their_own_monday_eight(slack: SlackServer, demo_home: Path) -> None:
    with EmbeddedWarehouse(demo_home) as warehouse:
        warehouse.execute("UPDATE csm_assignments SET timezone = 'Asia/Tokyo' WHERE csm_id = 'CSM002'")
        warehouse.execute("UPDATE csm_assignments SET timezone = NULL WHERE csm_id = 'CSM004'")
    bot = BotRunner(bot_settings(slack, demo_home))
    try:
        bot.schedule.sync()
        bot.scheduler.start(paused=True)
        jobs = {j.id: j for j in bot.scheduler.get_jobs()}
        zones = ("America/Los_Angeles", "Asia/Tokyo", "Europe/Madrid")
        assert set(jobs) == {f"weekly:{zone}" for zone in zones}
        # no timezone of their own: the default (WEEKLY_REPORT_TZ)
        assert jobs["weekly:America/Los_Angeles"].args == (("CSM001", "CSM004"), "America/Los_Angeles")
        for zone in zones:
            fire = jobs[f"weekly:{zone}"].next_run_time
            assert fire.tzinfo == ZoneInfo(zone) and fire.strftime("%a %H:%M") == "Mon 08:00"
    finally:
        bot.stop(grace=5)


def test_the_scheduled_job_runs_the_week_before_its_local_date(slack: SlackServer, demo_home: Path) -> None:
    """What APScheduler calls at Monday 08:00 in Los Angeles: last week's reports, to every CSM."""
    bot = BotRunner(bot_settings(slack, demo_home))
    try:
        summary = bot.weekly(
            ("CSM002",), dt.date(2026, 11, 16), trigger="schedule", scope="weekly:America/Los_Angeles"
        )
        assert (summary["week_start"], summary["dms_sent"], summary["status"]) == (
            "2026-11-09",
            2,
            "completed",
        )
        assert set(reports_in_dm(slack, "U0MICHAEL1")) == {"CUST_45678", "CUST_56789"}
    finally:
        bot.stop(grace=5)
