"""The sales-coaching review in the Slack bot: its schedule (Monday 06:00 UTC, its own cron,
claimed once across bots), the services' engine per kind, `/weekly-report coaching`, and
follow-ups in a review's thread authorised by the coaching kind (a rep their own, a manager
their team's, an admin everyone's), through the real Bolt app and the local Slack server."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from bot.schedule import (
    COACHING_JOB,
    COACHING_REFRESH_JOB,
    UTC,
    CoachingSchedule,
    coaching_catch_up,
    coaching_cron,
    next_coaching_run,
)
from bot.scheduled_coaching import ScheduledCoaching, run_status
from core import DeliveryStore, ReportEngine, RunClaims, Settings, Week, make_agent
from core.errors import ConfigError, DeliveryError
from core.runs import COMPLETED, COMPLETED_WITH_ERRORS, FAILED
from core.warehouse.embedded import EmbeddedWarehouse

MONDAY_UTC = Settings()  # the default coaching schedule: Monday 06:00 UTC


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def fires(settings: Settings, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    trigger, out = coaching_cron(settings), []
    fire = trigger.get_next_fire_time(None, start)
    while fire is not None and fire < end:
        out.append(fire)
        fire = trigger.get_next_fire_time(None, fire + dt.timedelta(seconds=1))
    return out


# --- when it fires ---------------------------------------------------------------------------


def test_the_coaching_schedule_is_monday_six_utc_whatever_the_bots_timezone() -> None:
    los_angeles = dataclasses.replace(MONDAY_UTC, timezone="America/Los_Angeles")
    # Across the end of daylight saving time in Los Angeles (2026-11-01): still 06:00 UTC.
    got = fires(los_angeles, utc(2026, 10, 20), utc(2026, 11, 10))
    assert got == [utc(2026, 10, 26, 6), utc(2026, 11, 2, 6), utc(2026, 11, 9, 6)]
    assert next_coaching_run(los_angeles, utc(2026, 11, 18, 12)) == utc(2026, 11, 23, 6)
    assert next_coaching_run(los_angeles, utc(2026, 11, 23, 6)) == utc(2026, 11, 23, 6)


def test_its_own_cron_setting_is_read_as_crontab_in_utc() -> None:
    tuesdays = dataclasses.replace(MONDAY_UTC, coaching_schedule="30 7 * * 2", schedule="0 9 * * 5")
    assert fires(tuesdays, utc(2026, 11, 15), utc(2026, 11, 29)) == [
        utc(2026, 11, 17, 7, 30),
        utc(2026, 11, 24, 7, 30),
    ]
    never = dataclasses.replace(MONDAY_UTC, coaching_schedule="0 6 30 2 *")
    assert next_coaching_run(never, utc(2026, 11, 18)) is None


@pytest.mark.parametrize("schedule", ["0 6 * *", "every monday", "0 25 * * MON"])
def test_a_bad_coaching_schedule_is_one_config_error_naming_its_setting(schedule: str) -> None:
    settings = dataclasses.replace(MONDAY_UTC, coaching_schedule=schedule)
    with pytest.raises(ConfigError, match=r"^WEEKLY_REPORT_COACHING_SCHEDULE '.*' is not a 5-field cron"):
        coaching_cron(settings)
    with pytest.raises(ConfigError, match="WEEKLY_REPORT_COACHING_SCHEDULE"):
        CoachingSchedule(BackgroundScheduler(), settings, RecordingJob(), lambda w, s: True)


# --- catch-up -------------------------------------------------------------------------------------


@pytest.fixture
def runs(tmp_path: Path) -> Iterator[RunClaims]:
    """Run claims on a real (empty) embedded warehouse: the source of "has this run happened"."""
    with EmbeddedWarehouse(tmp_path / "home") as warehouse:
        yield RunClaims(warehouse, owner="bot-test")


def test_down_at_six_back_at_nine_runs_the_same_day_once(runs: RunClaims) -> None:
    decision = coaching_catch_up(MONDAY_UTC, utc(2026, 11, 16, 9), runs.needs_run)
    assert decision is not None
    assert (decision.run, decision.missed, decision.week) == (
        True,
        utc(2026, 11, 16, 6),
        Week(dt.date(2026, 11, 9)),
    )
    claim = runs.claim(decision.week, COACHING_JOB)
    runs.finish(claim.run_id, {"status": COMPLETED})
    assert coaching_catch_up(MONDAY_UTC, utc(2026, 11, 16, 10), runs.needs_run) is None


def test_back_on_tuesday_the_missed_run_is_skipped_and_the_ebr_runs_are_another_scope(
    runs: RunClaims,
) -> None:
    week = Week(dt.date(2026, 11, 9))
    done = runs.claim(week, "weekly:UTC")  # the EBR's run of that week says nothing of coaching
    runs.finish(done.run_id, {"status": COMPLETED})
    decision = coaching_catch_up(MONDAY_UTC, utc(2026, 11, 17, 0, 5), runs.needs_run)
    assert decision is not None and (decision.run, decision.week) == (False, week)


# --- the job on APScheduler ------------------------------------------------------------------------


@dataclass
class Call:
    week_hint: dt.date
    trigger: str
    scope: str


class RecordingJob:
    """A coaching job that records its calls."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.called = threading.Event()

    def __call__(self, week_hint: dt.date, *, trigger: str, scope: str) -> None:
        self.calls.append(Call(week_hint, trigger, scope))
        self.called.set()


@pytest.fixture
def scheduler() -> Iterator[BackgroundScheduler]:
    s = BackgroundScheduler(timezone="America/Los_Angeles")  # the bot's scheduler: WEEKLY_REPORT_TZ
    yield s
    if s.running:
        s.shutdown(wait=True)


def test_the_job_fires_at_monday_six_utc_and_runs_last_week(
    scheduler: BackgroundScheduler, caplog: pytest.LogCaptureFixture
) -> None:
    job = RecordingJob()
    sunday_night_la = utc(2026, 11, 16, 5, 0)  # Sunday 21:00 in Los Angeles, Monday 05:00 UTC
    schedule = CoachingSchedule(scheduler, MONDAY_UTC, job, lambda w, s: False, clock=lambda: sunday_night_la)
    assert schedule.install() is None
    scheduler.start(paused=True)  # computes next run times, runs nothing
    coaching = scheduler.get_job(COACHING_JOB)
    fire = coaching.next_run_time  # from the real clock: next Monday's
    assert (fire.tzinfo, fire.strftime("%a %H:%M")) == (UTC, "Mon 06:00")
    assert scheduler.get_job(COACHING_REFRESH_JOB) is not None
    coaching.func(*coaching.args)  # what APScheduler calls at the firing
    assert job.calls == [Call(dt.date(2026, 11, 16), "schedule", "coaching")]  # the UTC date, not LA's


def test_start_up_wakes_todays_missed_run_and_reports_an_older_one(
    scheduler: BackgroundScheduler, caplog: pytest.LogCaptureFixture
) -> None:
    now = utc(2026, 11, 16, 9)
    schedule = CoachingSchedule(scheduler, MONDAY_UTC, RecordingJob(), lambda w, s: True, clock=lambda: now)
    decision = schedule.install()
    assert decision is not None and decision.run
    assert scheduler.get_job(COACHING_JOB).next_run_time == now  # due at once

    later = CoachingSchedule(
        BackgroundScheduler(),
        MONDAY_UTC,
        RecordingJob(),
        lambda w, s: True,
        clock=lambda: utc(2026, 11, 18, 9),
    )
    with caplog.at_level(logging.WARNING, logger="weekly_report.bot.schedule"):
        skipped = later.install()
    assert skipped is not None and not skipped.run
    assert "coaching missed its run at 2026-11-16T06:00:00+00:00 (week of 2026-11-09)" in caplog.text
    assert "weekly-report coaching --week-start 2026-11-09 --send-emails --send-slack" in caplog.text


# --- the scheduled run: claimed once across bots -----------------------------------------------------


@dataclass
class FlowResult:
    values: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return dict(self.values)


class RecordingFlow:
    """Stands in for `bot.coaching.flow.run_coaching` (its signature): records each run, and
    returns the seed's result, or raises what it is given."""

    def __init__(
        self, result: dict[str, Any] | None = None, error: Exception | None = None, hold: float = 0.0
    ) -> None:
        self.result = result or {"status": "success", "reps_processed": 7, "reports_generated": 7,
                                 "emails_sent": 7, "slack_posted": True}  # fmt: skip
        self.error, self.hold = error, hold
        self.runs: list[dict[str, Any]] = []
        self.started = threading.Event()

    def __call__(
        self, settings: Settings, engine: ReportEngine, deliveries: DeliveryStore, *, week: Week,
        send_emails: bool, send_slack: bool, dry_run: bool, resend: bool, client: Any = None,
        poster: Any = None, people: Any = None, out: TextIO | None = None,
    ) -> FlowResult:  # fmt: skip
        self.runs.append({"week": week, "send_emails": send_emails, "send_slack": send_slack,
                          "dry_run": dry_run, "resend": resend, "engine": engine})  # fmt: skip
        self.started.set()
        if self.hold:
            threading.Event().wait(self.hold)
        if self.error is not None:
            raise self.error
        return FlowResult(self.result)


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[EmbeddedWarehouse]:
    with EmbeddedWarehouse(tmp_path / "home") as w:
        yield w


def scheduled(warehouse: EmbeddedWarehouse, flow: RecordingFlow, owner: str) -> ScheduledCoaching:
    settings = Settings()
    engine = ReportEngine(settings, warehouse, make_agent(settings, warehouse))
    claims = RunClaims(warehouse, owner=owner)
    return ScheduledCoaching(settings, engine, DeliveryStore(warehouse), flow, claims=claims)


def test_of_several_bots_one_runs_the_week_and_stores_its_result(warehouse: EmbeddedWarehouse) -> None:
    flow = RecordingFlow(hold=0.3)
    bots = [scheduled(warehouse, flow, f"bot-{n}") for n in range(3)]
    results: list[dict[str, Any]] = []
    threads = [
        threading.Thread(
            target=lambda b=b: results.append(
                b(dt.date(2026, 11, 16), trigger="schedule", scope=COACHING_JOB)
            )
        )
        for b in bots
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(flow.runs) == 1
    [run] = flow.runs
    assert run["week"] == Week(dt.date(2026, 11, 9))
    assert (run["send_emails"], run["send_slack"], run["dry_run"], run["resend"]) == (
        True,
        True,
        False,
        False,
    )
    ran = [r for r in results if not r.get("already_claimed")]
    assert len(ran) == 1 and len(results) == 3
    assert ran[0]["reports_generated"] == 7 and ran[0]["flow_status"] == "success"
    [record] = RunClaims(warehouse).records(Week(dt.date(2026, 11, 9)), COACHING_JOB)
    assert (record.status, record.trigger, record.counts["reports_generated"]) == (COMPLETED, "schedule", 7)
    # the next week's firing is a run of its own; the same week's again is not
    bots[1](dt.date(2026, 11, 16), trigger="schedule", scope=COACHING_JOB)
    bots[2](dt.date(2026, 11, 23), trigger="schedule", scope=COACHING_JOB)
    assert [r["week"] for r in flow.runs] == [Week(dt.date(2026, 11, 9)), Week(dt.date(2026, 11, 16))]


def test_a_failed_flow_is_stored_failed_and_a_failed_email_completed_with_errors(
    warehouse: EmbeddedWarehouse, caplog: pytest.LogCaptureFixture
) -> None:
    broken = scheduled(
        warehouse,
        RecordingFlow(error=DeliveryError("webhook https://hooks.example/[redacted] said 500")),
        "bot-a",
    )
    with caplog.at_level(logging.ERROR, logger="weekly_report.bot.coaching"):
        summary = broken(dt.date(2026, 11, 16), trigger="schedule", scope=COACHING_JOB)
    assert summary["status"] == FAILED and summary["failures"] == [
        "run: webhook https://hooks.example/[redacted] said 500"
    ]
    assert "coaching run for the week of 2026-11-09 failed" in caplog.text
    assert RunClaims(warehouse).get(Week(dt.date(2026, 11, 9)), COACHING_JOB).status == FAILED

    partly = {
        "status": "success",
        "reports_generated": 3,
        "emails_sent": 2,
        "emails_failed": 1,
        "slack_posted": True,
    }
    assert run_status(partly) == COMPLETED_WITH_ERRORS
    assert run_status({**partly, "emails_failed": 0}) == COMPLETED
    # a failed run may be claimed again (an operator's rerun, or the next bot)
    again = scheduled(warehouse, RecordingFlow(), "bot-b")
    assert again(dt.date(2026, 11, 16), trigger="manual", scope=COACHING_JOB)["status"] == COMPLETED
