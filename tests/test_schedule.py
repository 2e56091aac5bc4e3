"""The weekly schedule: local 08:00 across daylight-saving changes and per-CSM timezones,
catch-up after downtime (same day only, once), and the jobs on a real APScheduler."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from bot.schedule import (
    REFRESH_JOB,
    Group,
    Plan,
    WeeklySchedule,
    catch_ups,
    cron,
    fire_times,
    last_fire,
    next_run,
    plan,
)
from core import Assignment, RunClaims, Settings, Week, last_complete_week
from core.errors import ConfigError
from core.runs import COMPLETED
from core.warehouse.embedded import EmbeddedWarehouse

UTC = dt.UTC
LA = ZoneInfo("America/Los_Angeles")
SETTINGS = Settings()  # Monday 08:00, America/Los_Angeles


def assignment(csm_id: str, timezone: str | None, customer_id: str = "CUST_1") -> Assignment:
    return Assignment(
        csm_id, csm_id.title(), f"{csm_id.lower()}@example.com", None, timezone, customer_id, "A"
    )


TEAM = [
    assignment("CSM001", None),
    assignment("CSM001", None, "CUST_2"),
    assignment("CSM002", "Asia/Singapore"),
    assignment("CSM003", "Europe/London"),
    assignment("CSM004", "America/Sao_Paulo"),
    assignment("CSM005", " "),
    assignment("CSM006", "Mars/Olympus_Mons"),
    assignment("CSM007", "Europe/London"),
]


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def mondays_utc(settings: Settings, timezone: str, start: dt.date, end: dt.date) -> list[dt.datetime]:
    begin = dt.datetime.combine(start, dt.time(), UTC)
    finish = dt.datetime.combine(end, dt.time(), UTC)
    return [f.astimezone(UTC) for f in fire_times(settings, timezone, begin, finish)]


# --- when it fires ---------------------------------------------------------------------------


def test_los_angeles_keeps_eight_local_across_the_spring_change() -> None:
    fires = mondays_utc(SETTINGS, "America/Los_Angeles", dt.date(2026, 2, 28), dt.date(2026, 3, 17))
    assert fires == [utc(2026, 3, 2, 16), utc(2026, 3, 9, 15), utc(2026, 3, 16, 15)]  # DST from 03-08
    assert {f.astimezone(LA).strftime("%a %H:%M") for f in fires} == {"Mon 08:00"}


def test_los_angeles_keeps_eight_local_across_the_autumn_change() -> None:
    fires = mondays_utc(SETTINGS, "America/Los_Angeles", dt.date(2026, 10, 20), dt.date(2026, 11, 10))
    assert fires == [utc(2026, 10, 26, 15), utc(2026, 11, 2, 16), utc(2026, 11, 9, 16)]  # DST ends 11-01
    assert {f.astimezone(LA).strftime("%a %H:%M") for f in fires} == {"Mon 08:00"}


def test_per_csm_timezones_fire_at_their_own_eight() -> None:
    def first(zone: str, start: dt.date) -> dt.datetime:
        return mondays_utc(SETTINGS, zone, start, start + dt.timedelta(days=7))[0]

    assert first("Europe/London", dt.date(2026, 10, 19)) == utc(2026, 10, 19, 7)  # BST
    assert first("Europe/London", dt.date(2026, 11, 16)) == utc(2026, 11, 16, 8)  # GMT
    assert first("Asia/Singapore", dt.date(2026, 11, 16)) == utc(2026, 11, 16, 0)
    assert first("America/Sao_Paulo", dt.date(2026, 11, 16)) == utc(2026, 11, 16, 11)  # no DST since 2019


def test_crontab_weekday_numbers_count_from_sunday() -> None:
    def days(schedule: str) -> list[str]:
        settings = Settings(schedule=schedule, timezone="UTC")
        fires = fire_times(settings, "UTC", utc(2026, 11, 15), utc(2026, 11, 22))  # Sun .. Sat
        return [f.strftime("%a") for f in fires]

    assert days("0 8 * * 1") == ["Mon"]
    assert days("0 8 * * 0") == days("0 8 * * 7") == days("0 8 * * SUN") == ["Sun"]
    assert days("0 8 * * 1-5") == ["Mon", "Tue", "Wed", "Thu", "Fri"]
    assert days("0 8 * * 5-7") == ["Sun", "Fri", "Sat"]
    assert days("0 8 * * */2") == ["Sun", "Tue", "Thu", "Sat"]
    assert days("0 8 * * 1,wed") == ["Mon", "Wed"]
    assert days("0 8 * * mon-fri") == days("0 8 * * 1-5")


@pytest.mark.parametrize("schedule", ["0 8 * *", "61 8 * * MON", "0 8 * * 9", "every monday"])
def test_a_bad_schedule_is_a_config_error(schedule: str) -> None:
    settings = Settings(schedule=schedule)
    with pytest.raises(ConfigError, match=r"WEEKLY_REPORT_SCHEDULE .* is not a 5-field cron"):
        cron(settings, settings.tz)
    with pytest.raises(ConfigError):
        WeeklySchedule(BackgroundScheduler(), settings, list, RecordingJob(), lambda w, s: True)


# --- who fires when ---------------------------------------------------------------------------


def test_csms_are_grouped_by_timezone_unknown_ones_fall_back_and_are_reported() -> None:
    p = plan(SETTINGS, TEAM)
    assert [(g.job_id, g.csm_ids) for g in p.groups] == [
        ("weekly:America/Los_Angeles", ("CSM001", "CSM005", "CSM006")),
        ("weekly:America/Sao_Paulo", ("CSM004",)),
        ("weekly:Asia/Singapore", ("CSM002",)),
        ("weekly:Europe/London", ("CSM003", "CSM007")),
    ]
    assert dict(p.unknown) == {"CSM006": "Mars/Olympus_Mons"}


def test_a_csm_with_one_known_timezone_among_their_rows_gets_it() -> None:
    rows = [assignment("CSM001", ""), assignment("CSM001", "Europe/Paris", "CUST_2")]
    assert plan(SETTINGS, rows).groups == (Group("Europe/Paris", ("CSM001",)),)


def test_next_run_for_app_home() -> None:
    now = utc(2026, 11, 18, 12)
    singapore = next_run(SETTINGS, [a for a in TEAM if a.csm_id == "CSM002"], now)
    assert (singapore.isoformat(), singapore.astimezone(UTC)) == (
        "2026-11-23T08:00:00+08:00",
        utc(2026, 11, 23),
    )
    sarah = next_run(SETTINGS, [a for a in TEAM if a.csm_id == "CSM001"], now)
    assert sarah.isoformat() == "2026-11-23T08:00:00-08:00"
    assert next_run(SETTINGS, TEAM, now) == utc(2026, 11, 23, 0)  # the team's earliest: Singapore
    assert next_run(SETTINGS, [], now).isoformat() == "2026-11-23T08:00:00-08:00"  # the default zone
    with pytest.raises(ConfigError, match="never fires"):
        next_run(Settings(schedule="0 8 30 2 *"), [], now)


# --- catch-up ---------------------------------------------------------------------------------


@pytest.fixture
def runs(empty_home: Path) -> Iterator[RunClaims]:
    """Run claims on a real (empty) embedded warehouse: the source of "has this run happened"."""
    with EmbeddedWarehouse(empty_home) as warehouse:
        yield RunClaims(warehouse, owner="bot-test")


def la(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=LA)


def test_down_at_eight_back_at_ten_runs_once_the_same_day(runs: RunClaims) -> None:
    only_la = Plan((Group("America/Los_Angeles", ("CSM001",)),))
    [decision] = catch_ups(SETTINGS, only_la, la(2026, 11, 16, 10), runs.needs_run)
    assert (decision.run, decision.missed, decision.week) == (
        True,
        la(2026, 11, 16, 8),
        Week(dt.date(2026, 11, 9)),
    )
    # the run happens; a later check (the periodic one, or another restart) leaves it alone
    claim = runs.claim(decision.week, decision.group.job_id)
    assert runs.finish(claim.run_id, {"status": COMPLETED})
    assert catch_ups(SETTINGS, only_la, la(2026, 11, 16, 11), runs.needs_run) == []


def test_back_the_next_day_is_skipped_and_reported(runs: RunClaims) -> None:
    only_la = Plan((Group("America/Los_Angeles", ("CSM001",)),))
    [decision] = catch_ups(SETTINGS, only_la, la(2026, 11, 17, 0, 5), runs.needs_run)
    assert (decision.run, decision.missed) == (False, la(2026, 11, 16, 8))


def test_already_completed_is_not_run(runs: RunClaims) -> None:
    claim = runs.claim(Week(dt.date(2026, 11, 9)), "weekly:America/Los_Angeles")
    runs.finish(claim.run_id, {"status": COMPLETED})
    only_la = Plan((Group("America/Los_Angeles", ("CSM001",)),))
    assert catch_ups(SETTINGS, only_la, la(2026, 11, 16, 10), runs.needs_run) == []


def test_before_the_firing_nothing_is_missed_yet(runs: RunClaims) -> None:
    only_la = Plan((Group("America/Los_Angeles", ("CSM001",)),))
    [decision] = catch_ups(SETTINGS, only_la, la(2026, 11, 16, 7, 59), runs.needs_run)
    assert (decision.run, decision.missed) == (False, la(2026, 11, 9, 8))  # last week's, if it never ran


def test_each_group_decides_by_its_own_local_date(runs: RunClaims) -> None:
    now = la(2026, 11, 16, 10)  # Monday 18:00 in London, Tuesday 02:00 in Singapore
    decisions = catch_ups(SETTINGS, plan(SETTINGS, TEAM), now, runs.needs_run)
    by_zone = {d.group.timezone: (d.run, d.missed.isoformat()) for d in decisions}
    assert by_zone == {
        "America/Los_Angeles": (True, "2026-11-16T08:00:00-08:00"),
        "America/Sao_Paulo": (True, "2026-11-16T08:00:00-03:00"),
        "Europe/London": (True, "2026-11-16T08:00:00+00:00"),
        "Asia/Singapore": (False, "2026-11-16T08:00:00+08:00"),
    }


def test_a_run_whose_owner_died_is_due_again_once_stale(runs: RunClaims) -> None:
    only_la = Plan((Group("America/Los_Angeles", ("CSM001",)),))
    week = Week(dt.date(2026, 11, 9))
    runs.claim(week, "weekly:America/Los_Angeles")  # claimed now, never finished
    assert catch_ups(SETTINGS, only_la, la(2026, 11, 16, 10), runs.needs_run) == []  # alive
    stale = RunClaims(runs.warehouse, owner="bot-other", clock=lambda: runs._clock() + dt.timedelta(hours=1))
    [decision] = catch_ups(SETTINGS, only_la, la(2026, 11, 16, 10), stale.needs_run)
    assert decision.run


def test_last_fire_with_a_frequent_schedule() -> None:
    every_five = Settings(schedule="*/5 * * * *", timezone="UTC")
    assert last_fire(every_five, "UTC", utc(2026, 11, 16, 10, 7)) == utc(2026, 11, 16, 10, 5)
    # strictly before: a firing at `now` is the scheduler's, not a missed one
    assert last_fire(every_five, "UTC", utc(2026, 11, 16, 10, 5)) == utc(2026, 11, 16, 10, 0)
    assert last_fire(every_five, "UTC", utc(2026, 11, 16, 0, 2)) == utc(2026, 11, 16, 0, 0)


# --- the jobs on APScheduler -----------------------------------------------------------------


@dataclass
class Call:
    csm_ids: tuple[str, ...]
    week_hint: dt.date
    trigger: str
    scope: str


class RecordingJob:
    """A weekly job that records its calls."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.called = threading.Event()

    def __call__(self, csm_ids: tuple[str, ...], week_hint: dt.date, *, trigger: str, scope: str) -> None:
        self.calls.append(Call(csm_ids, week_hint, trigger, scope))
        self.called.set()


@pytest.fixture
def scheduler() -> Iterator[BackgroundScheduler]:
    s = BackgroundScheduler(timezone=UTC)
    yield s
    if s.running:
        s.shutdown(wait=True)


def test_jobs_per_timezone_follow_the_assignments(
    scheduler: BackgroundScheduler, caplog: pytest.LogCaptureFixture
) -> None:
    team = list(TEAM)
    job = RecordingJob()
    at_midnight_utc = utc(2026, 11, 16, 0, 30)  # Monday in Singapore, still Sunday in Los Angeles
    schedule = WeeklySchedule(
        scheduler, SETTINGS, lambda: team, job, lambda w, s: False, clock=lambda: at_midnight_utc
    )
    with caplog.at_level(logging.WARNING, logger="weekly_report.bot.schedule"):
        schedule.sync()
    scheduler.start(paused=True)  # computes next run times, runs nothing
    jobs = {j.id: j for j in scheduler.get_jobs()}
    assert set(jobs) == {g.job_id for g in plan(SETTINGS, TEAM).groups}
    assert jobs["weekly:Europe/London"].args == (("CSM003", "CSM007"), "Europe/London")
    london_next = jobs["weekly:Europe/London"].next_run_time
    assert london_next.tzinfo == ZoneInfo("Europe/London") and london_next.strftime("%a %H:%M") == "Mon 08:00"
    assert "CSM006 has timezone 'Mars/Olympus_Mons'" in caplog.text

    team[:] = [*TEAM[:3], assignment("CSM003", "Asia/Tokyo"), assignment("CSM008", "Europe/London")]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="weekly_report.bot.schedule"):
        schedule.sync()
    jobs = {j.id: j for j in scheduler.get_jobs()}
    assert set(jobs) == {"weekly:America/Los_Angeles", "weekly:Asia/Singapore", "weekly:Asia/Tokyo",
                         "weekly:Europe/London"}  # fmt: skip
    assert jobs["weekly:Europe/London"].args == (("CSM008",), "Europe/London")
    assert jobs["weekly:Europe/London"].next_run_time == london_next  # updated in place
    assert caplog.text == ""  # CSM006 is gone; nothing new to report

    # what APScheduler calls at a firing: the week hint is the local date in each zone
    for job_id in ("weekly:Asia/Singapore", "weekly:America/Los_Angeles"):
        scheduled = scheduler.get_job(job_id)
        scheduled.func(*scheduled.args)
    assert job.calls == [
        Call(("CSM002",), dt.date(2026, 11, 16), "schedule", "weekly:Asia/Singapore"),
        Call(("CSM001",), dt.date(2026, 11, 15), "schedule", "weekly:America/Los_Angeles"),
    ]


def test_start_up_catch_up_wakes_the_job_and_skips_a_past_day(
    scheduler: BackgroundScheduler, caplog: pytest.LogCaptureFixture
) -> None:
    now = la(2026, 11, 16, 10)
    schedule = WeeklySchedule(
        scheduler, SETTINGS, lambda: TEAM, RecordingJob(), lambda w, s: True, clock=lambda: now
    )
    with caplog.at_level(logging.WARNING, logger="weekly_report.bot.schedule"):
        decisions = schedule.install()
    assert {d.group.timezone for d in decisions if not d.run} == {"Asia/Singapore"}
    assert (
        "weekly:Asia/Singapore missed its run" in caplog.text
        and "send-weekly --week 2026-11-09" in caplog.text
    )
    for zone in ("America/Los_Angeles", "America/Sao_Paulo", "Europe/London"):
        assert scheduler.get_job(f"weekly:{zone}").next_run_time == now  # due at once
    assert not hasattr(scheduler.get_job("weekly:Asia/Singapore"), "next_run_time")  # left to the cron
    assert scheduler.get_job(REFRESH_JOB) is not None


def local_zone_away_from_midnight() -> str:
    """A zone where it is now between 01:00 and 22:00, so "two minutes ago" is today."""
    for zone in ("UTC", "Etc/GMT-6", "Etc/GMT+6"):
        if 1 <= dt.datetime.now(ZoneInfo(zone)).hour <= 21:
            return zone
    raise AssertionError("unreachable: the zones are six hours apart")


def test_a_missed_run_runs_once_on_a_real_scheduler(scheduler: BackgroundScheduler, runs: RunClaims) -> None:
    zone = local_zone_away_from_midnight()
    missed = dt.datetime.now(ZoneInfo(zone)) - dt.timedelta(minutes=2)
    settings = Settings(schedule=f"{missed.minute} {missed.hour} * * *", timezone=zone)
    job = RecordingJob()

    def weekly(csm_ids: tuple[str, ...], week_hint: dt.date, *, trigger: str, scope: str) -> None:
        claim = runs.claim(last_complete_week(week_hint), scope, trigger)
        if claim.won:
            job(csm_ids, week_hint, trigger=trigger, scope=scope)
            runs.finish(claim.run_id, {"status": COMPLETED})

    team = [assignment("CSM001", None), assignment("CSM002", None, "CUST_2")]
    schedule = WeeklySchedule(scheduler, settings, lambda: team, weekly, runs.needs_run)
    [decision] = schedule.install()
    assert decision.run
    scheduler.start()
    assert job.called.wait(timeout=20)
    for _ in range(3):  # the periodic check, and a restart, find it done
        schedule.refresh()
        assert schedule.catch_up(report_skipped=True) == []
    scheduler.shutdown(wait=True)
    assert job.calls == [Call(("CSM001", "CSM002"), missed.date(), "schedule", f"weekly:{zone}")]
