"""Claims on weekly runs: one winner among concurrent claimants, stale claims taken over,
finished runs left alone; on the embedded warehouse and on fakesnow's server through the
real connector (two connections standing for two running bots)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# Bound at import: calling it imports the submodule fakesnow.server, which replaces the name.
from fakesnow import server as fakesnow_server

from core import ReportEngine, RunClaims, Warehouse
from core.runs import COMPLETED, FAILED, RUNNING, Claim
from core.storage import ReportStore
from core.warehouse.embedded import EmbeddedWarehouse
from core.weeks import Week
from tests.conftest import REPORT_WEEK
from tests.test_report_race import two_connections

WEEK = Week(REPORT_WEEK)
SCOPE = "weekly:America/Los_Angeles"
T0 = dt.datetime(2026, 11, 16, 16, 0)
LEASE = dt.timedelta(minutes=10)
SUMMARY = {"status": COMPLETED, "reports_generated": 9, "reports_failed": 0, "dms_sent": 9, "dms_failed": 0}


class Clock:
    def __init__(self, now: dt.datetime = T0) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def claims(warehouse: Warehouse, name: str, clock: Callable[[], dt.datetime] | None = None) -> RunClaims:
    return RunClaims(warehouse, owner=f"bot-{name}", lease=LEASE, clock=clock or Clock())


def rows_for(warehouse: Warehouse, scope: str = SCOPE) -> list[dict[str, Any]]:
    return warehouse.query(
        "SELECT run_id, owner, status FROM report_runs WHERE week_start = ? AND scope = ?",
        [WEEK.start, scope],
    )


def claim_together(bots: list[RunClaims], scope: str = SCOPE) -> list[Claim]:
    """Every bot claims the same run at the same moment, each from its own thread."""
    start = threading.Barrier(len(bots))
    results: list[Claim | None] = [None] * len(bots)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            start.wait()
            results[i] = bots[i].claim(WEEK, scope)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(bots))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert all(r is not None for r in results)
    return [r for r in results if r is not None]


# --- embedded --------------------------------------------------------------------------------


@pytest.fixture
def embedded(empty_home: Path) -> Iterator[EmbeddedWarehouse]:
    with EmbeddedWarehouse(empty_home) as warehouse:
        yield warehouse


def test_the_first_claim_wins_and_a_live_one_is_not_taken(embedded: Warehouse) -> None:
    a, b = claims(embedded, "a"), claims(embedded, "b")
    won = a.claim(WEEK, SCOPE)
    assert (won.won, won.resumed, won.record.owner, won.record.status) == (True, False, "bot-a", RUNNING)
    lost = b.claim(WEEK, SCOPE)
    assert (lost.won, lost.run_id, lost.record.owner) == (False, won.run_id, "bot-a")
    assert a.claim(WEEK, SCOPE).won is False  # the same owner does not get it twice either
    assert len(rows_for(embedded)) == 1
    assert b.claim(WEEK, "weekly:Europe/London").won  # another scope is another run
    assert b.claim(WEEK.previous, SCOPE).won  # and so is another week


def test_threads_claiming_at_once_one_wins(embedded: Warehouse) -> None:
    results = claim_together([claims(embedded, str(n)) for n in range(6)])
    assert sum(r.won for r in results) == 1
    assert len({r.run_id for r in results}) == 1
    assert len(rows_for(embedded)) == 1


def test_a_stale_claim_is_taken_over_and_the_old_owner_notices(embedded: Warehouse) -> None:
    clock = Clock()
    a, b = claims(embedded, "a", clock), claims(embedded, "b", clock)
    first = a.claim(WEEK, SCOPE)
    clock.now += dt.timedelta(minutes=9)
    assert a.heartbeat(first.run_id)
    clock.now += dt.timedelta(minutes=9)  # 9 minutes after the heartbeat: still alive
    assert not b.claim(WEEK, SCOPE).won
    assert not b.needs_run(WEEK, SCOPE)
    clock.now += dt.timedelta(minutes=2)  # 11 minutes: a stopped
    assert b.needs_run(WEEK, SCOPE)
    taken = b.claim(WEEK, SCOPE)
    assert (taken.won, taken.resumed, taken.run_id, taken.record.owner) == (True, True, first.run_id, "bot-b")
    assert taken.record.heartbeat_at == clock.now
    assert not a.heartbeat(first.run_id)  # a, back from the dead, has lost it
    assert not a.finish(first.run_id, SUMMARY)
    assert b.finish(taken.run_id, SUMMARY)
    assert len(rows_for(embedded)) == 1


def test_a_completed_run_is_not_claimed_again(embedded: Warehouse) -> None:
    clock = Clock()
    a, b = claims(embedded, "a", clock), claims(embedded, "b", clock)
    run = a.claim(WEEK, SCOPE)
    assert a.finish(run.run_id, SUMMARY)
    clock.now += dt.timedelta(days=1)
    again = b.claim(WEEK, SCOPE)
    assert (again.won, again.record.status, again.record.counts["dms_sent"]) == (False, COMPLETED, 9)
    assert not b.needs_run(WEEK, SCOPE)
    assert not a.heartbeat(run.run_id)


def test_a_failed_run_can_be_claimed_again_but_is_not_due_by_itself(embedded: Warehouse) -> None:
    a, b = claims(embedded, "a"), claims(embedded, "b")
    run = a.claim(WEEK, SCOPE)
    a.finish(run.run_id, {**SUMMARY, "status": FAILED})
    assert not b.needs_run(WEEK, SCOPE)
    retry = b.claim(WEEK, SCOPE, trigger="command")
    assert (retry.won, retry.resumed, retry.run_id, retry.record.status) == (True, True, run.run_id, RUNNING)
    assert retry.record.finished_at is None


def test_finish_stores_the_summary_where_runs_lists_it(embedded: Warehouse) -> None:
    bot = claims(embedded, "a")
    run = bot.claim(WEEK, SCOPE)
    summary = {**SUMMARY, "reports_failed": 1, "dms_failed": 2, "failures": ["CUST_1: failed"]}
    assert bot.finish(run.run_id, summary)
    [listed] = [r for r in ReportStore(embedded).runs() if r["run_id"] == run.run_id]
    assert (listed["status"], listed["reports_generated"], listed["reports_failed"]) == (COMPLETED, 9, 1)
    assert (listed["dms_sent"], listed["dms_failed"], listed["trigger"]) == (9, 2, "schedule")
    assert "CUST_1: failed" in str(listed["details"])
    record = bot.get(WEEK, SCOPE)
    assert record is not None and record.finished and record.finished_at == T0


def test_keep_alive_heartbeats_and_reports_a_lost_claim(embedded: Warehouse) -> None:
    a = RunClaims(embedded, owner="bot-a", lease=LEASE)  # the real clock
    run = a.claim(WEEK, SCOPE)
    before = run.record.heartbeat_at
    assert before is not None
    with a.keep_alive(run.run_id, every=0.05) as lost:
        later = Clock(dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(hours=1))
        assert claims(embedded, "b", later).claim(WEEK, SCOPE).won  # b sees a as stale
        assert lost.wait(timeout=10)
    record = a.get(WEEK, SCOPE)
    assert record is not None and record.owner == "bot-b"


def test_keep_alive_moves_the_heartbeat(embedded: Warehouse) -> None:
    a = RunClaims(embedded, owner="bot-a", lease=LEASE)
    run = a.claim(WEEK, SCOPE)
    first = run.record.heartbeat_at
    with a.keep_alive(run.run_id, every=0.02) as lost:
        for _ in range(500):
            record = a.get(WEEK, SCOPE)
            if record and record.heartbeat_at and first and record.heartbeat_at > first:
                break
            threading.Event().wait(0.02)
        else:
            pytest.fail("the heartbeat never moved")
    assert not lost.is_set()


def test_a_run_without_progress_stops_heartbeating_and_is_taken_over(embedded: Warehouse) -> None:
    clock = Clock()
    a = claims(embedded, "a", clock)
    run = a.claim(WEEK, SCOPE)
    stall = dt.timedelta(minutes=20)

    def heartbeat_reaches(when: dt.datetime, tries: int = 500) -> bool:
        for _ in range(tries):
            record = a.get(WEEK, SCOPE)
            if record and record.heartbeat_at and record.heartbeat_at >= when:
                return True
            threading.Event().wait(0.01)
        return False

    with a.keep_alive(run.run_id, every=0.01, stall=stall) as beat:
        clock.now += dt.timedelta(minutes=15)
        beat.progress()  # a report was built
        clock.now += dt.timedelta(minutes=15)  # 30 minutes in all, but only 15 without progress
        assert heartbeat_reaches(clock.now) and not beat.is_set()
        clock.now += dt.timedelta(minutes=6)  # 21 minutes without progress: stuck
        assert beat.wait(timeout=10)
        assert beat.why.startswith("the run made no progress for 0:21:00 (more than 0:20:00)")
        last = a.get(WEEK, SCOPE)
        clock.now += LEASE + dt.timedelta(minutes=1)
        assert not heartbeat_reaches(clock.now, tries=20)  # no longer heartbeating ...
        assert last is not None and last.owner == "bot-a" and last.status == RUNNING
        taken = claims(embedded, "b", clock).claim(WEEK, SCOPE)
        assert taken.won and taken.resumed  # ... so another copy takes the run over after the lease
    assert taken.run_id == run.run_id and not a.heartbeat(run.run_id)


def test_engine_runs_are_untouched_by_claims(engine: ReportEngine) -> None:
    bot = claims(engine.warehouse, "a")
    run = bot.claim(WEEK, SCOPE)
    summary = engine.generate(engine.targets(csm_id="CSM001"), WEEK, trigger="schedule")
    assert summary.status == COMPLETED
    listed = {r["run_id"]: r for r in engine.store.runs()}
    assert listed[summary.run_id]["status"] == COMPLETED
    assert listed[run.run_id]["status"] == RUNNING
    scopes = engine.warehouse.query("SELECT run_id, scope FROM report_runs")
    assert {r["run_id"]: r["scope"] for r in scopes} == {summary.run_id: None, run.run_id: SCOPE}


def test_a_warehouse_from_the_previous_schema_gains_the_claim_columns(empty_home: Path) -> None:
    home = empty_home  # a copy of setup.sql's schema, made once per run
    with EmbeddedWarehouse(home) as warehouse:
        for column in ("scope", "owner", "heartbeat_at"):
            warehouse.execute(f"ALTER TABLE report_runs DROP COLUMN {column}")
        warehouse.execute(  # a run row as the previous release's start_run wrote it
            "INSERT INTO report_runs (run_id, trigger, week_start, started_at, status) VALUES (?, ?, ?, ?, ?)",
            ["oldrun000001", "manual", WEEK.start, T0, "completed"],
        )
        columns = warehouse.query(
            "SELECT LOWER(column_name) AS name FROM information_schema.columns WHERE table_name = 'REPORT_RUNS'"
        )
        assert {c["name"] for c in columns} >= {"run_id", "details"} and "scope" not in {
            c["name"] for c in columns
        }
    with EmbeddedWarehouse(home) as warehouse:  # opening runs setup.sql again
        assert warehouse.scalar("SELECT COUNT(*) FROM report_runs WHERE trigger = 'manual'") == 1
        assert claims(warehouse, "a").claim(WEEK, SCOPE).won


# --- fakesnow's server, through the connector ---------------------------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[dict[str, Any]]:
    with fakesnow_server() as kwargs:
        yield kwargs


@pytest.fixture
def two_bots(
    server: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[list[Warehouse]]:
    """Two connections to one shared database: two bots on one Snowflake account, its schema as
    setup.sql makes it, empty (test_report_race's: the schema a test before left is emptied
    when its columns are setup.sql's, ~0.2 s of CPU, instead of made again, ~0.9 s; that
    setup.sql runs, and runs twice, on Snowflake is test_sql_setup's
    test_setup_sql_creates_the_tables_on_a_snowflake_server)."""
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    with two_connections(server, tmp_path, fresh=False) as (first, second):
        yield [first, second]


def test_two_bots_claiming_at_once_on_snowflake_one_wins(two_bots: list[Warehouse]) -> None:
    for round_ in range(4):
        scope = f"weekly:round-{round_}"
        bots = [claims(w, f"{n}-{round_}") for n, w in enumerate(two_bots)]
        results = claim_together(bots, scope)
        assert sum(r.won for r in results) == 1, results
        assert len(rows_for(two_bots[0], scope)) == 1
        assert len({r.run_id for r in results}) == 1


def test_a_stale_claim_is_taken_over_on_snowflake(two_bots: list[Warehouse]) -> None:
    clock = Clock()
    a, b = claims(two_bots[0], "a", clock), claims(two_bots[1], "b", clock)
    first = a.claim(WEEK, SCOPE)
    assert first.won and not b.claim(WEEK, SCOPE).won
    clock.now += dt.timedelta(minutes=11)
    taken = b.claim(WEEK, SCOPE)
    assert (taken.won, taken.resumed, taken.run_id) == (True, True, first.run_id)
    assert not a.heartbeat(first.run_id)
    assert b.heartbeat(first.run_id)


def test_a_completed_run_is_not_claimed_again_on_snowflake(two_bots: list[Warehouse]) -> None:
    clock = Clock()
    a, b = claims(two_bots[0], "a", clock), claims(two_bots[1], "b", clock)
    run = a.claim(WEEK, SCOPE)
    assert a.finish(run.run_id, SUMMARY)
    clock.now += dt.timedelta(hours=5)
    again = b.claim(WEEK, SCOPE)
    assert (again.won, again.record.status) == (False, COMPLETED)
    assert not b.needs_run(WEEK, SCOPE)
    assert len(rows_for(two_bots[1])) == 1
