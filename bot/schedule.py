"""The weekly schedule: one APScheduler job per timezone in which CSMs get their Monday DMs.

WEEKLY_REPORT_SCHEDULE (a 5-field cron) is evaluated in each CSM's own timezone
(`csm_assignments.timezone`; empty or unknown: WEEKLY_REPORT_TZ), so "Monday 08:00" is 08:00
local for everyone on both sides of a daylight-saving change. CSMs sharing a timezone share a
job, `weekly:<timezone>`, which calls `job(csm_ids, week_hint, trigger="schedule",
scope="weekly:<timezone>")`; `week_hint` is the local date of the firing (its last complete
week is the report week) and `scope` names the run to claim (core.runs).

A group whose firing was missed (the bot was down) is run when the bot comes back on the same
local day, once; on a later day it is skipped and reported. The same check repeats every
`refresh` (with re-reading the assignments), so a run whose owner was killed is resumed once
its claim goes stale: the check only wakes the job, the claim decides who runs it.
Every decision is a pure function of an injected `now`.

The sales-coaching reviews have a schedule of their own (`CoachingSchedule`):
WEEKLY_REPORT_COACHING_SCHEDULE (default Monday 06:00), always in UTC, one job `coaching`
calling `job(week_hint, trigger="schedule", scope="coaching")`, with the same catch-up rule
(today's missed firing runs once, an earlier day's is reported) and the same claims.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from core import Settings, Week, WeeklyReportError, last_complete_week
from core.errors import ConfigError

log = logging.getLogger("weekly_report.bot.schedule")

JOB_PREFIX = "weekly:"
REFRESH_JOB = "schedule-refresh"
COACHING_JOB = "coaching"  # the coaching job's id, and the scope its run is claimed under
COACHING_REFRESH_JOB = "coaching-refresh"
UTC = ZoneInfo("UTC")
DEFAULT_REFRESH = dt.timedelta(minutes=10)
LOOKBACK = dt.timedelta(days=7)  # how far back a missed firing is looked for
# A firing delayed by a busy or suspended host still runs within this many seconds; a later
# one is left to the catch-up check, which knows about "same day only".
MISFIRE_GRACE_SECONDS = 3600
_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_DOW_ITEM = re.compile(r"^(\*|\d+)(?:-(\d+))?(?:/(\d+))?$")

Clock = Callable[[], dt.datetime]


class AssignmentLike(Protocol):
    """What the schedule needs of a `csm_assignments` row (core.Assignment fits)."""

    @property
    def csm_id(self) -> str: ...

    @property
    def timezone(self) -> str | None: ...


class WeeklyJob(Protocol):
    """The weekly run for some CSMs: generate and deliver their reports."""

    def __call__(
        self, csm_ids: tuple[str, ...], week_hint: dt.date, *, trigger: str, scope: str
    ) -> object: ...


class CoachingJob(Protocol):
    """The coaching run: every rep's review for the week before `week_hint`, and the summaries."""

    def __call__(self, week_hint: dt.date, *, trigger: str, scope: str) -> object: ...


@dataclass(frozen=True)
class Group:
    """CSMs who get their DMs at the same moment: those sharing a timezone."""

    timezone: str
    csm_ids: tuple[str, ...]

    @property
    def job_id(self) -> str:
        """The APScheduler job id, also the scope its run is claimed under."""
        return f"{JOB_PREFIX}{self.timezone}"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class Plan:
    """The groups to schedule, and the CSMs whose timezone is unknown (they get the default)."""

    groups: tuple[Group, ...]
    unknown: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CatchUp:
    """A group's missed firing: run it now (same local day) or skip it (a later day)."""

    group: Group
    missed: dt.datetime  # the firing, in the group's timezone
    week: Week
    run: bool


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def cron(settings: Settings, tz: ZoneInfo) -> CronTrigger:
    """WEEKLY_REPORT_SCHEDULE in `tz`; weekday numbers read as in crontab (0 and 7 are Sunday)."""
    return crontab(settings.schedule, tz, "WEEKLY_REPORT_SCHEDULE", "0 8 * * MON")


def coaching_cron(settings: Settings) -> CronTrigger:
    """WEEKLY_REPORT_COACHING_SCHEDULE, in UTC."""
    return crontab(settings.coaching_schedule, UTC, "WEEKLY_REPORT_COACHING_SCHEDULE", "0 6 * * MON")


def crontab(expression: str, tz: ZoneInfo, setting: str, example: str) -> CronTrigger:
    """A 5-field cron `expression` in `tz`; ConfigError naming `setting` when it is not one."""
    fields = expression.split()
    try:
        if len(fields) == 5:
            # APScheduler 3 numbers weekdays from Monday; crontab from Sunday. Names agree.
            fields[4] = _weekday_names(fields[4])
        return CronTrigger.from_crontab(" ".join(fields), timezone=tz)
    except ValueError as exc:
        raise ConfigError(
            f"{setting} '{expression[:40]}' is not a 5-field cron expression such as '{example}' ({exc})"
        ) from exc


def _weekday_names(expr: str) -> str:
    """A crontab day-of-week field with its numbers spelled as names: '1-5' -> 'mon,tue,...'."""
    if expr == "*" or not any(c.isdigit() for c in expr):
        return expr
    out: list[str] = []
    for item in expr.lower().split(","):
        match = _DOW_ITEM.match(item)
        if not match:
            out.append(item)  # names, or something APScheduler will reject with its own message
            continue
        first, last, step = match.groups()
        low, high = (0, 6) if first == "*" else (int(first), int(last or first))
        if step and first != "*" and last is None:
            high = 7
        if not 0 <= low <= high <= 7:
            raise ValueError(f"day of week '{item}' is out of range 0-7")
        out += [_WEEKDAYS[d % 7] for d in range(low, high + 1, int(step or 1))]
    return ",".join(dict.fromkeys(out))


def known_zone(name: str | None) -> ZoneInfo | None:
    """The timezone called `name`, or None when it is empty or unknown."""
    name = (name or "").strip()
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def plan(settings: Settings, assignments: Sequence[AssignmentLike]) -> Plan:
    """Group CSMs by timezone: the first known `timezone` of their rows, else the default."""
    given: dict[str, list[str]] = {}
    for a in assignments:
        given.setdefault(a.csm_id, []).append((a.timezone or "").strip())
    by_zone: dict[str, list[str]] = {}
    unknown: dict[str, str] = {}
    for csm_id, names in given.items():
        known = [n for n in names if n and known_zone(n)]
        if not known and (bad := [n for n in names if n]):
            unknown[csm_id] = bad[0]
        by_zone.setdefault(known[0] if known else settings.timezone, []).append(csm_id)
    groups = tuple(Group(zone, tuple(sorted(ids))) for zone, ids in sorted(by_zone.items()))
    return Plan(groups, unknown)


def fire_times(settings: Settings, timezone: str, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    """The schedule's firings in `timezone` from `start` (inclusive) to `end` (exclusive)."""
    return _fires(cron(settings, ZoneInfo(timezone)), start, end)


def _fires(trigger: CronTrigger, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    fires = []
    fire = trigger.get_next_fire_time(None, start)
    while fire is not None and fire < end:
        fires.append(fire)
        fire = trigger.get_next_fire_time(None, fire + dt.timedelta(seconds=1))
    return fires


def last_fire(
    settings: Settings, timezone: str, now: dt.datetime, lookback: dt.timedelta = LOOKBACK
) -> dt.datetime | None:
    """The most recent firing in `timezone` strictly before `now`, within `lookback`."""
    return _last_fire(cron(settings, ZoneInfo(timezone)), now, lookback)


def _last_fire(
    trigger: CronTrigger, now: dt.datetime, lookback: dt.timedelta = LOOKBACK
) -> dt.datetime | None:
    local = now.astimezone(trigger.timezone)
    midnight = dt.datetime.combine(local.date(), dt.time(0), tzinfo=local.tzinfo)
    # Today first: a frequent schedule has many firings in a week.
    for start in (midnight, local - lookback):
        fires = _fires(trigger, start, local)
        if fires:
            return fires[-1]
    return None


def next_run(
    settings: Settings, assignments: Sequence[AssignmentLike], now: dt.datetime | None = None
) -> dt.datetime:
    """When the schedule next fires for these assignments (e.g. one CSM's), in their timezone."""
    now = now or utc_now()
    groups = plan(settings, assignments).groups or (Group(settings.timezone, ()),)
    fires = [
        fire
        for g in groups
        if (fire := cron(settings, g.tz).get_next_fire_time(None, now.astimezone(g.tz))) is not None
    ]
    if not fires:
        raise ConfigError(f"WEEKLY_REPORT_SCHEDULE '{settings.schedule[:40]}' never fires")
    return min(fires)


def catch_ups(
    settings: Settings, plan: Plan, now: dt.datetime, needs_run: Callable[[Week, str], bool]
) -> list[CatchUp]:
    """The groups whose last firing before `now` has not run (`needs_run(week, scope)`).

    Each is to run now when that firing was on the group's local date of `now`, and is
    skipped otherwise: a Monday report arriving on Tuesday is worse than a reported gap.
    """
    decisions = []
    for group in plan.groups:
        missed = last_fire(settings, group.timezone, now)
        if missed is None:
            continue
        # A pinned "today" (WEEKLY_REPORT_TODAY, for reproducible runs) decides the week.
        week = last_complete_week(settings.today or missed.date())
        if needs_run(week, group.job_id):
            same_day = missed.date() == now.astimezone(group.tz).date()
            decisions.append(CatchUp(group, missed, week, run=same_day))
    return decisions


class WeeklySchedule:
    """The weekly jobs on an APScheduler scheduler, kept in step with `csm_assignments`.

    `assignments` reads the current rows; `needs_run(week, scope)` says whether a group's run
    still has to happen (not started, or its owner stopped before finishing); `job` runs it.
    """

    def __init__(
        self,
        scheduler: BaseScheduler,
        settings: Settings,
        assignments: Callable[[], Sequence[AssignmentLike]],
        job: WeeklyJob,
        needs_run: Callable[[Week, str], bool],
        clock: Clock = utc_now,
        refresh: dt.timedelta = DEFAULT_REFRESH,
    ) -> None:
        cron(settings, settings.tz)  # a bad schedule fails at start-up, not at the first firing
        self.scheduler, self.settings = scheduler, settings
        self._assignments, self._job, self._needs_run = assignments, job, needs_run
        self._clock, self._refresh = clock, refresh
        self.plan = Plan(())

    def install(self) -> list[CatchUp]:
        """Add the jobs and the periodic refresh; return the start-up catch-up decisions."""
        self.sync()
        self.scheduler.add_job(
            self.refresh, IntervalTrigger(seconds=self._refresh.total_seconds()), id=REFRESH_JOB,
            name="weekly schedule: re-read assignments, resume missed runs", replace_existing=True,
            coalesce=True, max_instances=1,
        )  # fmt: skip
        return self.catch_up(report_skipped=True)

    def sync(self) -> Plan:
        """Add, update and remove the `weekly:<timezone>` jobs to match the assignments."""
        new = plan(self.settings, self._assignments())
        wanted = {g.job_id: g for g in new.groups}
        for job in self.scheduler.get_jobs():
            if job.id.startswith(JOB_PREFIX) and job.id not in wanted:
                job.remove()
                log.info("removed %s: no CSM left in that timezone", job.id)
        for job_id, group in wanted.items():
            args = (group.csm_ids, group.timezone)
            existing = self.scheduler.get_job(job_id)
            if existing is None:
                self.scheduler.add_job(
                    self._fire, cron(self.settings, group.tz), args=args, id=job_id,
                    name=f"weekly reports, {group.timezone}", coalesce=True, max_instances=1,
                    misfire_grace_time=MISFIRE_GRACE_SECONDS,
                )  # fmt: skip
            elif tuple(existing.args) != args:
                existing.modify(args=args)  # keeps its next run time
        for csm_id, name in sorted(new.unknown.items()):
            if self.plan.unknown.get(csm_id) != name:
                log.warning(
                    "%s has timezone '%s' in csm_assignments, which is not a known timezone; "
                    "using %s (check the IANA name, e.g. Europe/London)",
                    csm_id, name[:60], self.settings.timezone,
                )  # fmt: skip
        self.plan = new
        return new

    def catch_up(self, report_skipped: bool = False) -> list[CatchUp]:
        """Wake the jobs of today's missed firings; log those of earlier days when asked."""
        now = self._clock()
        decisions = catch_ups(self.settings, self.plan, now, self._needs_run)
        for c in decisions:
            if c.run:
                log.warning("%s missed its run at %s; running it now", c.group.job_id, c.missed.isoformat())
                self.scheduler.modify_job(c.group.job_id, next_run_time=now)
            elif report_skipped:
                log.warning(
                    "%s missed its run at %s (week of %s) and that day is over in %s: not sent; "
                    "run `weekly-report send-weekly --week %s` to send it",
                    c.group.job_id, c.missed.isoformat(), c.week, c.group.timezone, c.week,
                )  # fmt: skip
        return decisions

    def refresh(self) -> None:
        """The periodic job: re-read the assignments, then resume today's unfinished runs."""
        try:
            self.sync()
            self.catch_up()
        except WeeklyReportError as exc:
            log.warning("could not refresh the weekly schedule (%s); keeping the current jobs", exc)

    def _fire(self, csm_ids: tuple[str, ...], timezone: str) -> None:
        week_hint = self.settings.today or self._clock().astimezone(ZoneInfo(timezone)).date()
        self._job(csm_ids, week_hint, trigger="schedule", scope=f"{JOB_PREFIX}{timezone}")


# -- the sales-coaching reviews ----------------------------------------------------------------


@dataclass(frozen=True)
class CoachingCatchUp:
    """The coaching run's missed firing: run it now (same UTC day) or skip it (a later day)."""

    missed: dt.datetime  # the firing, in UTC
    week: Week
    run: bool


def next_coaching_run(settings: Settings, now: dt.datetime | None = None) -> dt.datetime | None:
    """When the coaching schedule next fires (UTC); None when it never does."""
    now = (now or utc_now()).astimezone(UTC)
    fire: dt.datetime | None = coaching_cron(settings).get_next_fire_time(None, now)
    return fire


def coaching_catch_up(
    settings: Settings, now: dt.datetime, needs_run: Callable[[Week, str], bool]
) -> CoachingCatchUp | None:
    """The coaching run's last firing before `now`, when it has not run (`needs_run`): to run
    now when it was on today's UTC date, skipped otherwise (as the weekly runs' `catch_ups`).
    A pinned "today" (WEEKLY_REPORT_TODAY, for reproducible runs) is today here too, so a bot
    started with one never sends a real Monday's reviews by itself."""
    missed = _last_fire(coaching_cron(settings), now)
    if missed is None:
        return None
    week = last_complete_week(settings.today or missed.date())
    if not needs_run(week, COACHING_JOB):
        return None
    today = settings.today or now.astimezone(UTC).date()
    return CoachingCatchUp(missed, week, run=missed.date() == today)


class CoachingSchedule:
    """The coaching job on an APScheduler scheduler: one UTC cron job, `coaching`, and a
    periodic check that wakes it for today's firing when no bot has run it (the bot was down,
    or the run's owner died: its claim went stale). `job(week_hint, trigger=, scope=)` claims
    and runs; of several bots, the claim lets one run it."""

    def __init__(
        self,
        scheduler: BaseScheduler,
        settings: Settings,
        job: CoachingJob,
        needs_run: Callable[[Week, str], bool],
        clock: Clock = utc_now,
        refresh: dt.timedelta = DEFAULT_REFRESH,
    ) -> None:
        coaching_cron(settings)  # a bad schedule fails at start-up, not at the first firing
        self.scheduler, self.settings = scheduler, settings
        self._job, self._needs_run, self._clock, self._refresh = job, needs_run, clock, refresh

    def install(self) -> CoachingCatchUp | None:
        """Add the job and its periodic check; return the start-up catch-up decision."""
        self.scheduler.add_job(
            self._fire, coaching_cron(self.settings), id=COACHING_JOB, name="sales-coaching reviews (UTC)",
            replace_existing=True, coalesce=True, max_instances=1, misfire_grace_time=MISFIRE_GRACE_SECONDS,
        )  # fmt: skip
        self.scheduler.add_job(
            self.refresh, IntervalTrigger(seconds=self._refresh.total_seconds()), id=COACHING_REFRESH_JOB,
            name="coaching schedule: resume a missed run", replace_existing=True, coalesce=True,
            max_instances=1,
        )  # fmt: skip
        return self.catch_up(report_skipped=True)

    def catch_up(self, report_skipped: bool = False) -> CoachingCatchUp | None:
        """Wake the job for today's missed firing; log an earlier day's when asked."""
        now = self._clock()
        decision = coaching_catch_up(self.settings, now, self._needs_run)
        if decision is None:
            return None
        if decision.run:
            log.warning("%s missed its run at %s; running it now", COACHING_JOB, decision.missed.isoformat())
            self.scheduler.modify_job(COACHING_JOB, next_run_time=now)
        elif report_skipped:
            log.warning(
                "%s missed its run at %s (week of %s) and that day is over in UTC: not sent; run "
                "`weekly-report coaching --week-start %s --send-emails --send-slack` to send it",
                COACHING_JOB, decision.missed.isoformat(), decision.week, decision.week,
            )  # fmt: skip
        return decision

    def refresh(self) -> None:
        """The periodic check; a warehouse hiccup is logged, the job stays."""
        try:
            self.catch_up()
        except WeeklyReportError as exc:
            log.warning("could not check the coaching schedule (%s); will check again", exc)

    def _fire(self) -> object:
        """The firing: the job for the UTC date (or the pinned today); returns what it did."""
        week_hint = self.settings.today or self._clock().astimezone(UTC).date()
        return self._job(week_hint, trigger="schedule", scope=COACHING_JOB)
