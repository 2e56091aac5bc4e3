"""The sales-coaching review in the Slack bot: its schedule (Monday 06:00 UTC, its own cron,
claimed once across bots), the services' engine per kind, `/weekly-report coaching`, and
follow-ups in a review's thread authorised by the coaching kind (a rep their own, a manager
their team's, an admin everyone's), through the real Bolt app and the local Slack server."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from bot.coaching.flow import run_coaching
from bot.runner import BotRunner
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
from bot.services import Services, build_engines, close_shared
from bot.slack import create_app
from bot.slack.replies import LOOKING_INTO_IT
from bot.workers import TrackedExecutor, Workers
from core import DeliveryStore, ReportEngine, RunClaims, Settings, Week, make_agent
from core.agent.testing import ScriptedAgent
from core.errors import ConfigError, DeliveryError, InputError
from core.kinds import COACHING, registered_kinds
from core.runs import COMPLETED, COMPLETED_WITH_ERRORS, FAILED
from core.warehouse.embedded import EmbeddedWarehouse
from tests.cortex_server import CortexServer
from tests.slack_server import SlackServer
from tests.test_bot_dispatch import (
    BOT_USER,
    COMMAND,
    SARAH,
    TEAM,
    Bot,
    ResponseUrls,
    report_parents,
    thread_replies,
)
from tests.test_weekly_schedule import bot_settings

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
def runs(empty_home: Path) -> Iterator[RunClaims]:
    """Run claims on a real (empty) embedded warehouse: the source of "has this run happened"."""
    with EmbeddedWarehouse(empty_home) as warehouse:
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
    assert coaching_catch_up(MONDAY_UTC, utc(2026, 11, 23, 10), runs.needs_run) is not None  # next week's
    assert coaching_catch_up(MONDAY_UTC, utc(2026, 11, 16, 10), runs.needs_run) is None


def test_a_pinned_today_is_today_so_a_real_mondays_run_is_not_caught_up(runs: RunClaims) -> None:
    pinned = dataclasses.replace(MONDAY_UTC, today=dt.date(2026, 11, 18))  # a Wednesday
    decision = coaching_catch_up(pinned, utc(2026, 11, 30, 9), runs.needs_run)  # a real Monday, 09:00
    assert decision is not None and not decision.run and decision.week == Week(dt.date(2026, 11, 9))
    on_the_day = dataclasses.replace(MONDAY_UTC, today=dt.date(2026, 11, 30))
    same_day = coaching_catch_up(on_the_day, utc(2026, 11, 30, 9), runs.needs_run)
    assert same_day is not None and same_day.run


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


def test_the_job_fires_at_monday_six_utc_and_runs_last_week(scheduler: BackgroundScheduler) -> None:
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
        self.result = result or {"status": "completed", "reps_processed": 7, "reports_generated": 7,
                                 "emails_sent": 7, "slack_posted": True, "reps_dmed": 5, "managers_dmed": 2,
                                 "run_id": "gen123"}  # fmt: skip
        self.error, self.hold = error, hold
        self.runs: list[dict[str, Any]] = []
        self.started = threading.Event()

    def __call__(
        self, settings: Settings, engine: ReportEngine, deliveries: DeliveryStore, *, week: Week,
        send_emails: bool, send_slack: bool, dry_run: bool, resend: bool, client: Any = None,
        poster: Any = None, people: Any = None, out: TextIO | None = None, trigger: str = "manual",
    ) -> FlowResult:  # fmt: skip
        self.runs.append({"week": week, "send_emails": send_emails, "send_slack": send_slack, "dry_run": dry_run,
                          "resend": resend, "engine": engine, "people": people, "client": client,
                          "trigger": trigger})  # fmt: skip
        self.started.set()
        if self.hold:
            threading.Event().wait(self.hold)
        if self.error is not None:
            raise self.error
        return FlowResult(self.result)


@pytest.fixture
def warehouse(empty_home: Path) -> Iterator[EmbeddedWarehouse]:
    with EmbeddedWarehouse(empty_home) as w:
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
    assert ran[0]["reports_generated"] == 7 and ran[0]["flow_status"] == "completed"
    [record] = RunClaims(warehouse).records(Week(dt.date(2026, 11, 9)), COACHING_JOB)
    assert (record.status, record.trigger, record.counts["reports_generated"]) == (COMPLETED, "schedule", 7)
    assert (record.run_id, ran[0]["generation_run_id"], record.counts["dms_sent"]) == (
        ran[0]["run_id"],
        "gen123",
        7,
    )
    assert run["trigger"] == "schedule"
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

    partly = {"reports_generated": 3, "emails_sent": 2, "emails_failed": 1, "slack_posted": True}
    assert run_status(partly) == COMPLETED_WITH_ERRORS
    assert run_status({**partly, "emails_failed": 0}) == COMPLETED
    assert (
        run_status({**partly, "emails_failed": 0, "flow_status": COMPLETED_WITH_ERRORS})
        == COMPLETED_WITH_ERRORS
    )
    assert (
        run_status({**partly, "flow_status": "success"}) == COMPLETED_WITH_ERRORS
    )  # not a run status: derived
    # a failed run may be claimed again (an operator's rerun, or the next bot)
    again = scheduled(warehouse, RecordingFlow(), "bot-b")
    assert again(dt.date(2026, 11, 16), trigger="manual", scope=COACHING_JOB)["status"] == COMPLETED


# --- the bot: one engine per kind ----------------------------------------------------------------

JANE, DAVID, TOM, AISHA = (
    "U0JANE0001",
    "U0DAVID001",
    "U0TOM00001",
    "U0AISHA001",
)  # REP001, REP002, REP004, REP005
OLIVIA, MARCUS = "U0OLIVIA01", "U0MARCUS01"  # managers: MGR001 (REP001-REP004), MGR002 (REP005-REP008)
BOSS, STRANGER = "U0BOSS0001", "U0STRANGE1"


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[SlackServer]:
    """The local Slack, knowing the demo's sales reps and managers by their emails."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    with SlackServer(team_id=TEAM, bot_user_id=BOT_USER, bot_id="BBOT0001") as server:
        for user_id, email in (
            (JANE, "jane.smith"), (DAVID, "david.park"), (TOM, "tom.alvarez"), (AISHA, "aisha.okafor"),
            (OLIVIA, "olivia.bennett"), (MARCUS, "marcus.reid"), (BOSS, "boss"), (STRANGER, "someone"),
        ):  # fmt: skip
            server.add_user(user_id, email=f"{email}@example.com", name=email.replace(".", " ").title())
        yield server


@pytest.fixture
def services(settings: Settings, slack: SlackServer) -> Iterator[Services]:
    connected = dataclasses.replace(
        settings, slack_bot_token=slack.bot_token, slack_api_url=slack.api_url, admins=("BOSS@example.com",),
        slack_post_interval=0.0,  # no pause between posts to one DM: pacing is test_pacing's subject
    )  # fmt: skip
    services = Services.start(connected)
    yield services
    services.close()


@pytest.fixture
def responses() -> Iterator[ResponseUrls]:
    urls = ResponseUrls()
    yield urls
    urls.server.shutdown()
    urls.server.server_close()


@pytest.fixture
def bot(services: Services, slack: SlackServer, responses: ResponseUrls) -> Bot:
    return Bot(create_app(services.settings, services), services, slack, responses)


def test_services_hold_an_engine_per_kind_over_one_warehouse_and_agent(services: Services) -> None:
    engines = services.engines
    assert set(engines) == set(registered_kinds()) >= {"ebr", "coaching"}
    assert services.engine is engines["ebr"] and engines["coaching"].kind.name == "coaching"
    assert (
        len({id(e.warehouse) for e in engines.values()}) == len({id(e.agent) for e in engines.values()}) == 1
    )
    assert services.engine_for("coaching") is engines["coaching"]
    with pytest.raises(InputError, match=r"^this bot has no 'nps' reports \(it has: coaching, ebr\)$"):
        services.engine_for("nps")


def test_on_cortex_each_kind_has_its_own_agent_object(settings: Settings) -> None:
    with CortexServer() as cortex:
        on_cortex = dataclasses.replace(
            settings, agent="cortex", cortex_base_url=cortex.url, cortex_token=cortex.token,
            snowflake_connections_file=Path("/nonexistent/connections.toml"),
        )  # fmt: skip
        engines = build_engines(on_cortex)
        try:
            agents = {name: str(e.agent.client.config.agent) for name, e in engines.items()}  # type: ignore[attr-defined]
            assert agents == {"ebr": on_cortex.cortex_agent, "coaching": on_cortex.cortex_coaching_agent}
            assert len({id(e.warehouse) for e in engines.values()}) == 1
        finally:
            close_shared([e.agent for e in engines.values()], [e.warehouse for e in engines.values()])


class ClosingAgent(ScriptedAgent):
    """An agent that counts how often it is closed."""

    def __init__(self) -> None:
        super().__init__({})
        self.closed = 0

    def close(self) -> None:
        self.closed += 1


def test_shared_agent_and_warehouse_are_closed_once(settings: Settings) -> None:
    warehouse = EmbeddedWarehouse(settings.home)
    agent = ClosingAgent()
    engines = {
        name: ReportEngine(settings, warehouse, agent, kind=kind) for name, kind in registered_kinds().items()
    }
    services = Services(
        settings,
        engines["ebr"],
        DeliveryStore(warehouse),
        Workers(1),
        TrackedExecutor(1, "test"),
        engines=engines,
    )
    services.close(timeout=1)
    assert agent.closed == 1
    with EmbeddedWarehouse(settings.home) as again:  # the files are free: the warehouse was closed
        assert again.scalar("SELECT COUNT(*) FROM CUSTOMER_SUCCESS_DATA.COACHING.speakers") > 0


# --- /weekly-report coaching ---------------------------------------------------------------------------


def review_parents(slack: SlackServer, user_id: str) -> list[dict[str, Any]]:
    return [
        p
        for p in report_parents(slack, user_id)
        if p["metadata"]["event_payload"]["report_id"].startswith("coaching:")
    ]


def test_a_rep_gets_their_latest_review_as_a_threaded_dm_recorded_for_follow_ups(bot: Bot) -> None:
    note = bot.command("coaching", user_id=JANE)
    assert "*Jane Smith* (REP001)" in note and "arrive in your DMs" in note
    bot.settle()
    [parent] = review_parents(bot.slack, JANE)
    assert parent["metadata"]["event_payload"]["report_id"] == "coaching:REP001-20261109"
    sections = thread_replies(bot.slack, JANE, parent["ts"])
    assert len(sections) == 6 and "Summary" in sections[0]["text"]  # 5 sections, the suggested questions
    link = bot.services.deliveries.thread(parent["channel"], parent["ts"])
    assert link is not None and (link.kind, link.customer_id, link.week) == (
        "coaching",
        "REP001",
        Week(dt.date(2026, 11, 9)),
    )
    assert bot.responses.texts == []  # nothing went wrong
    # asked again, in a DM this time: the stored review is sent again, not generated again
    bot.dm(JANE, "coaching")
    bot.settle()
    assert len(review_parents(bot.slack, JANE)) == 2
    assert bot.count("CUSTOMER_SUCCESS_DATA.ANALYTICS.weekly_reports WHERE report_kind = 'coaching'") == 1


def test_managers_get_their_teams_reviews_and_admins_anyones(bot: Bot) -> None:
    team = bot.command("coaching", user_id=OLIVIA)  # no rep named: her team, nothing sent
    assert team.startswith(f"Your team's sales-coaching reviews: `{COMMAND} coaching REP001` DMs you one.")
    assert "Jane Smith `REP001`" in team and "Tom Alvarez `REP004`" in team and "REP005" not in team
    assert "*Jane Smith* (REP001)" in bot.command("coaching REP001", user_id=OLIVIA)
    assert "*Aisha Okafor* (REP005)" in bot.command("coaching rep005", user_id=BOSS)
    refused = bot.command("coaching REP001", user_id=MARCUS)
    assert refused.startswith(":no_entry: Sorry, ") and "\n" not in refused
    bot.settle()
    assert [p["metadata"]["event_payload"]["customer_id"] for p in review_parents(bot.slack, OLIVIA)] == [
        "REP001"
    ]
    assert [p["metadata"]["event_payload"]["customer_id"] for p in review_parents(bot.slack, BOSS)] == [
        "REP005"
    ]
    assert review_parents(bot.slack, MARCUS) == []


def test_after_a_reps_move_to_another_team_the_engine_refuses_their_old_manager(bot: Bot) -> None:
    bot.command("coaching REP001", user_id=OLIVIA)
    bot.settle()
    assert len(review_parents(bot.slack, OLIVIA)) == 1
    bot.services.engine.warehouse.execute(
        "UPDATE CUSTOMER_SUCCESS_DATA.COACHING.speakers SET manager_id = 'MGR002' WHERE speaker_id = 'REP001'"
    )
    # The cached reps still put Jane in Olivia's team, so the ack accepts; the engine refuses before any work.
    assert "*Jane Smith* (REP001)" in bot.command("coaching REP001", user_id=OLIVIA)
    bot.settle(lambda: bot.responses.texts)
    assert bot.responses.texts == [
        ":no_entry: Sorry, olivia.bennett@example.com may see only their own sales-coaching reviews and their "
        "team's, not REP001's."
    ]
    assert len(review_parents(bot.slack, OLIVIA)) == 1


def test_one_line_errors_and_nothing_generated(bot: Bot) -> None:
    stranger = bot.command("coaching", user_id=STRANGER)
    assert stranger.startswith(":no_entry: Sorry, you are not a sales rep in COACHING.speakers")
    assert "\n" not in stranger
    assert bot.command("coaching REP001", user_id=DAVID).startswith(":no_entry: Sorry, ")  # a colleague's
    unknown = bot.command("coaching REP999", user_id=BOSS)
    assert unknown.startswith(":warning: ") and "REP999" in unknown and "\n" not in unknown
    assert "“CUST_12345” is not a rep id such as REP001." in bot.command("coaching CUST_12345", user_id=JANE)
    bot.settle()
    assert bot.count("report_runs") == 0 and not review_parents(bot.slack, BOSS)
    # Tom had no calls in the last complete week and has no earlier review: said once the work starts
    bot.command("coaching", user_id=TOM)
    bot.settle(lambda: bot.responses.texts)
    [no_calls] = bot.responses.texts
    assert (
        no_calls
        == ":warning: REP004 had no calls between 2026-11-09 and 2026-11-15 and has no earlier coaching review."
    )
    assert not review_parents(bot.slack, TOM)


def test_without_calls_last_week_a_reps_latest_earlier_review_is_sent_with_a_note(bot: Bot) -> None:
    engine = bot.services.engine_for("coaching")
    earlier = Week(dt.date(2026, 11, 2))
    engine.generate(COACHING.active_targets(engine.warehouse, earlier, ["REP004"]), earlier)
    assert "*Tom Alvarez* (REP004)" in bot.command("coaching", user_id=TOM)
    bot.settle(lambda: bot.responses.texts)
    assert bot.responses.texts == [
        f":information_source: REP004 had no calls in the week of {Week(dt.date(2026, 11, 9)).label()}; "
        f"this is their latest review, the week of {earlier.label()}."
    ]
    [parent] = review_parents(bot.slack, TOM)
    assert parent["metadata"]["event_payload"]["report_id"] == "coaching:REP004-20261102"


# --- follow-ups in a review's thread ----------------------------------------------------------------


def reply_in(bot: Bot, owner: str, thread_ts: str, user_id: str, question: str) -> dict[str, Any]:
    """`user_id` replies in the thread `thread_ts` of `owner`'s DM; the bot's last reply there."""
    before = len(thread_replies(bot.slack, owner, thread_ts))
    ts = f"{time.time():.6f}"
    event = {
        "type": "message", "channel": bot.slack.dm_channel(owner), "channel_type": "im", "user": user_id,
        "text": question, "ts": ts, "event_ts": ts, "thread_ts": thread_ts, "client_msg_id": str(uuid.uuid4()),
    }  # fmt: skip
    assert bot.event(event).status == 200
    bot.settle()
    replies = thread_replies(bot.slack, owner, thread_ts)
    assert len(replies) == before + 1
    return replies[-1]


def asked(bot: Bot, reply: dict[str, Any]) -> bool:
    """Whether the reply is an answer the coaching engine was asked for (streamed into the thread)."""
    return reply["text"] != LOOKING_INTO_IT and any(s.ts == reply["ts"] for s in bot.slack.streams())


def test_follow_ups_go_to_the_coaching_engine_for_the_rep_their_manager_and_admins(bot: Bot) -> None:
    bot.command("coaching", user_id=JANE)
    bot.command("coaching REP001", user_id=OLIVIA)
    bot.command("coaching REP001", user_id=BOSS)
    bot.settle()
    for user_id in (JANE, OLIVIA, BOSS):
        [parent] = review_parents(bot.slack, user_id)
        reply = reply_in(bot, user_id, parent["ts"], user_id, "Which calls had pricing objections?")
        assert asked(bot, reply) and "Jane Smith" in reply["text"] and "“pricing”" in reply["text"], reply[
            "text"
        ]
    rows = bot.services.engine.warehouse.query("SELECT report_id, asked_by FROM followups ORDER BY asked_at")
    assert [(r["report_id"], r["asked_by"]) for r in rows] == [
        ("coaching:REP001-20261109", email)
        for email in ("jane.smith@example.com", "olivia.bennett@example.com", "boss@example.com")
    ]


def test_a_rep_replying_in_someone_elses_review_thread_is_refused_and_nothing_is_asked(bot: Bot) -> None:
    bot.command("coaching", user_id=JANE)
    bot.settle()
    [parent] = review_parents(bot.slack, JANE)
    for intruder in (DAVID, MARCUS, STRANGER):  # a teammate, another team's manager, someone else
        reply = reply_in(bot, JANE, parent["ts"], intruder, "How did Jane's discovery score move?")
        assert reply["text"].startswith(":no_entry: Sorry, ") and "\n" not in reply["text"], reply["text"]
    assert not bot.slack.streams() and not bot.slack.calls_to("chat.update")  # nothing was ever answered
    assert bot.count("followups") == 0
    assert not [m for m in thread_replies(bot.slack, JANE, parent["ts"]) if m["text"] == LOOKING_INTO_IT]


def test_an_ebr_thread_still_goes_to_the_ebr_engine(bot: Bot, slack: SlackServer) -> None:
    slack.add_user(SARAH, email="sarah.johnson@example.com", name="Sarah Johnson")
    bot.command("CUST_12345", user_id=SARAH)
    bot.settle()
    [parent] = report_parents(bot.slack, SARAH)
    link = bot.services.deliveries.thread(parent["channel"], parent["ts"])
    assert link is not None and link.kind == "ebr"
    reply = reply_in(bot, SARAH, parent["ts"], SARAH, "What was revenue by channel?")
    assert asked(bot, reply) and bot.count("followups") == 1
    assert reply_in(bot, SARAH, parent["ts"], JANE, "And conversions?")["text"].startswith(
        ":no_entry: Sorry, "
    )


# --- help and App Home ------------------------------------------------------------------------------


def test_help_and_app_home_say_how_to_get_a_review_and_when_they_go_out(bot: Bot) -> None:
    fire = next_coaching_run(bot.services.settings)
    assert fire is not None
    when = f"on {fire:%A, %B} {fire.day} at 06:00 UTC"
    reply = bot.command("help", user_id=JANE)
    [line] = [x for x in reply.splitlines() if x.startswith(f"• `{COMMAND} coaching`")]
    assert f"`{COMMAND} coaching`" in line and f"`{COMMAND} coaching REP001`" in line and when in line
    assert reply.endswith(f"You are a sales rep: `{COMMAND} coaching` sends you your latest sales-coaching review. "
                          "You are not a CSM in csm_assignments, so no customer reports are available to you.")  # fmt: skip
    assert f"You manage a sales team: `{COMMAND} coaching` lists your reps" in bot.command(
        "help", user_id=MARCUS
    )
    assert "ask whoever runs weekly-report to add your email" in bot.command("help", user_id=STRANGER)
    for user_id in (JANE, OLIVIA, BOSS, STRANGER):
        bot.event(
            {
                "type": "app_home_opened",
                "user": user_id,
                "channel": bot.slack.dm_channel(user_id),
                "tab": "home",
            }
        )
    bot.settle()

    def coaching_line(user_id: str) -> str | None:
        [view] = bot.slack.views_published[user_id]
        lines = [
            b["text"]["text"] for b in view["blocks"] if "Sales-coaching" in b.get("text", {}).get("text", "")
        ]
        return lines[0] if lines else None

    assert coaching_line(JANE) == (
        f"*Sales-coaching reviews:* `{COMMAND} coaching` DMs you your latest review; "
        f"the next ones go out by email and DM {when}."
    )
    assert f"`{COMMAND} coaching REP001` DMs you a review of one of your team" in (
        coaching_line(OLIVIA) or ""
    )
    assert "any rep's review" in (coaching_line(BOSS) or "")
    assert coaching_line(STRANGER) is None


# --- the runner wires the schedule -------------------------------------------------------------------


def test_the_bot_schedules_the_coaching_flow_on_the_coaching_engine(
    slack: SlackServer, demo_home: Path
) -> None:
    flow = RecordingFlow()
    runner = BotRunner(bot_settings(slack, demo_home), coaching_flow=flow)
    try:
        assert runner.coaching_schedule is not None
        runner.coaching_schedule.install()
        runner.scheduler.start(paused=True)
        job = runner.scheduler.get_job(COACHING_JOB)
        assert job.next_run_time.strftime("%a %H:%M %Z") == "Mon 06:00 UTC"
        job.func(*job.args)  # the firing: last week's run, claimed, on the coaching engine
        [run] = flow.runs
        assert run["engine"].kind.name == "coaching" and run["engine"] is runner.services.engines["coaching"]
        assert run["people"].coaching is run["engine"] and run["client"] is runner.app.client
        assert run["week"] == Week(dt.date(2026, 11, 9))  # WEEKLY_REPORT_TODAY pins the week
        record = RunClaims(runner.services.engine.warehouse).get(Week(dt.date(2026, 11, 9)), COACHING_JOB)
        assert record is not None and (record.status, record.trigger) == (COMPLETED, "schedule")
    finally:
        runner.stop(grace=5)


def test_the_scheduled_run_with_the_real_flow_dms_reviews_whose_threads_take_follow_ups(
    slack: SlackServer, demo_home: Path, responses: ResponseUrls
) -> None:
    """The Monday firing end to end: the coaching flow on the coaching engine, claimed once;
    Jane's review arrives as a DM thread, and her reply in it is answered by the coaching kind."""
    runner = BotRunner(bot_settings(slack, demo_home, WEEKLY_REPORT_ADMINS="boss@example.com"))
    try:
        assert runner.coaching_schedule is not None
        runner.coaching_schedule.install()
        runner.scheduler.start(paused=True)
        job = runner.scheduler.get_job(COACHING_JOB)
        summary = job.func(*job.args)
        assert (summary["status"], summary["reports_generated"], summary["trigger"]) == (
            COMPLETED,
            7,
            "schedule",
        )
        other = ScheduledCoaching(runner.settings, runner.services.engines["coaching"], runner.services.deliveries,
                                  run_coaching, claims=RunClaims(runner.services.engine.warehouse, owner="bot-2"))  # fmt: skip
        assert other(dt.date(2026, 11, 18), trigger="schedule", scope=COACHING_JOB)["already_claimed"]
        bot = Bot(runner.app, runner.services, slack, responses)
        [parent] = review_parents(slack, JANE)
        assert parent["metadata"]["event_payload"]["report_id"] == "coaching:REP001-20261109"
        reply = reply_in(bot, JANE, parent["ts"], JANE, "Which calls had authority objections?")
        assert asked(bot, reply) and "“authority”" in reply["text"], reply["text"]
        refused = reply_in(bot, JANE, parent["ts"], DAVID, "Which calls had authority objections?")
        assert refused["text"].startswith(":no_entry: Sorry, ")
    finally:
        runner.stop(grace=5)
