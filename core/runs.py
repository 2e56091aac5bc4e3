"""Claims on weekly delivery runs in `report_runs`: of several running bots, one runs each.

A run is named by (week_start, scope), e.g. (2026-11-09, "weekly:Europe/London"). Claiming
it is a MERGE that inserts the claimant's row when none exists, then a verifying read. The
claim is won only when that read shows the claimant's row and no other: Snowflake serialises
MERGEs on a table so there is never another, and where concurrent inserts can both land (the
embedded engine's snapshot isolation) each claimant then sees the other's row, withdraws its
own and retries after a random pause, so no two claimants can both see only their own row.

The owner (host, process id, random part) refreshes `heartbeat_at` while the run goes on,
and only while it makes progress: a run that finished no report and no delivery for longer
than its stall bound stops heartbeating, so that a stuck run does not hold its claim forever.
A claim whose owner stopped heartbeating for longer than the lease, or whose run failed, can
be taken over by a conditional UPDATE (still that owner, still stale) and a verifying read:
that is how a killed run is resumed, under the same run_id. A finished run is not claimed
again: its status says so. The engine's own generation runs (scope NULL) are not claims.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from core.errors import WarehouseError
from core.warehouse import Warehouse
from core.warehouse.base import ANALYTICS as T
from core.weeks import Week

log = logging.getLogger("weekly_report.runs")

RUNNING, COMPLETED, COMPLETED_WITH_ERRORS, FAILED = "running", "completed", "completed_with_errors", "failed"
DEFAULT_LEASE = dt.timedelta(minutes=10)
CLAIM_ROUNDS = 8  # rounds of withdraw-and-retry after colliding inserts before giving up

# Every value is in the USING row: the embedded engine runs a MERGE as several statements and
# binds parameters to the first one only.
_CLAIM = f"""
MERGE INTO {T}.report_runs t
USING (SELECT ? AS week_start, ? AS scope, ? AS run_id, ? AS trigger, ? AS owner, ? AS now) s
ON t.week_start = s.week_start AND t.scope = s.scope
WHEN NOT MATCHED THEN INSERT (run_id, trigger, week_start, scope, owner, started_at, heartbeat_at, status)
VALUES (s.run_id, s.trigger, s.week_start, s.scope, s.owner, s.now, s.now, '{RUNNING}')
"""
_COLUMNS = (
    "run_id, trigger, week_start, scope, owner, status, started_at, heartbeat_at, finished_at, "
    "reports_generated, reports_failed, dms_sent, dms_failed"
)

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    """Naive UTC, as the TIMESTAMP_NTZ columns store it."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def new_owner() -> str:
    """This process's name in `owner`: host, process id and a random part."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class RunRecord:
    """One claimed run as stored."""

    run_id: str
    trigger: str
    week: Week
    scope: str
    owner: str | None
    status: str
    started_at: dt.datetime
    heartbeat_at: dt.datetime | None
    finished_at: dt.datetime | None
    counts: Mapping[str, int]

    @property
    def finished(self) -> bool:
        return self.status != RUNNING

    def stale(self, now: dt.datetime, lease: dt.timedelta) -> bool:
        """Running, but its owner has not heartbeaten within the lease."""
        beat = self.heartbeat_at or self.started_at
        return self.status == RUNNING and now - beat > lease


@dataclass(frozen=True)
class Claim:
    """The outcome of claiming a run: `won` it or not, and the run as it stands."""

    won: bool
    record: RunRecord
    resumed: bool = False  # won by taking over a stale or failed claim

    @property
    def run_id(self) -> str:
        return self.record.run_id


class Heartbeat(threading.Event):
    """Set when a run should stop: its claim was lost, or it made no progress for too long
    (then it no longer heartbeats, and another bot may take the run over after the lease)."""

    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self._clock = clock
        self.last_progress = clock()
        self.why = ""

    def progress(self) -> None:
        """The run did something (a report, a delivery): it is alive, keep its claim."""
        self.last_progress = self._clock()

    def on_report(self, done: int, total: int, customer_id: str) -> None:
        """The engine's progress callback: a report was built."""
        self.progress()

    def stop(self, why: str) -> None:
        self.why = why
        self.set()


class RunClaims:
    """Claims, heartbeats and finishes weekly runs for one owner (one per process)."""

    def __init__(
        self,
        warehouse: Warehouse,
        owner: str | None = None,
        lease: dt.timedelta = DEFAULT_LEASE,
        clock: Clock = utc_now,
        sleep: Callable[[float], None] = time.sleep,
        beat_every: float | None = None,
    ) -> None:
        self.warehouse = warehouse
        self.owner = owner or new_owner()
        self.lease, self._clock, self._sleep = lease, clock, sleep
        self.beat_every = beat_every if beat_every is not None else lease.total_seconds() / 4

    def claim(self, week: Week, scope: str, trigger: str = "schedule", retry_errors: bool = False) -> Claim:
        """Claim the run for (week, scope): won when no one holds it, or its holder went stale
        (or died: see `owner_gone`). A failed run is taken over too, and with `retry_errors`
        one that completed with errors (an operator's rerun retries what failed)."""
        for round_ in range(CLAIM_ROUNDS):
            run_id = uuid.uuid4().hex[:12]
            try:
                self.warehouse.execute(
                    _CLAIM, [week.start, scope, run_id, trigger, self.owner, self._clock()]
                )
            except WarehouseError as exc:  # a concurrent claim can fail it; the read decides
                log.info("claiming %s %s: %s", week, scope, exc)
            rows = self.records(week, scope)
            mine = [r for r in rows if r.run_id == run_id]
            others = [r for r in rows if r.run_id != run_id]
            if mine and not others:
                return Claim(True, mine[0])
            if mine:  # inserted side by side with another claimant: withdraw, retry
                log.info("claim of %s %s collided with %d other(s); retrying", week, scope, len(others))
                self._withdraw(run_id)
                self._pause(round_)
                continue
            if others:
                return self._take_over_or_yield(others, retry_errors)
            self._pause(round_)  # the MERGE failed and left nothing
        raise WarehouseError(
            f"could not claim the run for the week of {week} ({scope}) after {CLAIM_ROUNDS} tries; "
            "check the warehouse and run it again"
        )

    def get(self, week: Week, scope: str) -> RunRecord | None:
        """The current run for (week, scope): a finished one first, then the newest."""
        rows = self.records(week, scope)
        return _current(rows) if rows else None

    def records(self, week: Week, scope: str) -> list[RunRecord]:
        rows = self.warehouse.query(
            f"SELECT {_COLUMNS} FROM {T}.report_runs WHERE week_start = ? AND scope = ? ORDER BY run_id",
            [week.start, scope],
        )
        return [_record(r) for r in rows]

    def needs_run(self, week: Week, scope: str) -> bool:
        """Whether the run still has to happen: never started, or its owner stopped mid-run.

        A failed run is not retried by itself (it was reported); a claim may still take it.
        """
        record = self.get(week, scope)
        return record is None or self._abandoned(record)

    def heartbeat(self, run_id: str) -> bool:
        """Refresh the claim; False when it is no longer ours (taken over, or finished)."""
        return bool(
            self.warehouse.execute(
                f"UPDATE {T}.report_runs SET heartbeat_at = ? WHERE run_id = ? AND owner = ? AND status = ?",
                [self._clock(), run_id, self.owner, RUNNING],
            )
        )

    def finish(self, run_id: str, summary: Mapping[str, Any]) -> bool:
        """Store the run's summary and final status; False when the claim was no longer ours."""
        now = self._clock()
        counts = [
            summary.get(k, 0) for k in ("reports_generated", "reports_failed", "dms_sent", "dms_failed")
        ]
        details = json.dumps(dict(summary), default=str)
        updated = self.warehouse.execute(
            f"UPDATE {T}.report_runs SET finished_at = ?, heartbeat_at = ?, status = ?, reports_generated = ?, "
            "reports_failed = ?, dms_sent = ?, dms_failed = ?, details = PARSE_JSON(?) WHERE run_id = ? AND owner = ?",
            [now, now, summary["status"], *counts, details, run_id, self.owner],
        )
        return bool(updated)

    @contextmanager
    def keep_alive(
        self, run_id: str, every: float | None = None, stall: dt.timedelta | None = None
    ) -> Iterator[Heartbeat]:
        """Heartbeat from a background thread while the block runs, and while it makes progress.

        Yields a Heartbeat: the run calls its `progress()` as it goes; it is set if the claim
        is lost, or if no progress came for longer than `stall` (then the heartbeats stop and
        the claim goes stale), so that a long run can stop early.
        """
        interval = every if every is not None else self.beat_every
        stop, lost = threading.Event(), Heartbeat(self._clock)

        def beat() -> None:
            while not stop.wait(interval):
                idle = self._clock() - lost.last_progress
                if stall is not None and idle > stall:
                    log.warning(
                        "run %s made no progress for %s (more than %s); no longer heartbeating, so another "
                        "bot may take it over", run_id, idle, stall,
                    )  # fmt: skip
                    lost.stop(
                        f"the run made no progress for {idle} (more than {stall}) and gave up its claim"
                    )
                    return
                try:
                    if not self.heartbeat(run_id):
                        log.warning("lost the claim on run %s: another bot took it over", run_id)
                        lost.stop("another bot took the run over (this one stopped heartbeating)")
                        return
                except WarehouseError as exc:
                    log.warning("heartbeat for run %s failed (%s); retrying", run_id, exc)

        thread = threading.Thread(target=beat, name=f"heartbeat-{run_id}", daemon=True)
        thread.start()
        try:
            yield lost
        finally:
            stop.set()
            thread.join()

    def _abandoned(self, record: RunRecord) -> bool:
        """Running, but its owner stopped heartbeating or is a process of this host that died."""
        return record.status == RUNNING and (
            record.stale(self._clock(), self.lease) or owner_gone(record.owner)
        )

    def _take_over_or_yield(self, others: list[RunRecord], retry_errors: bool = False) -> Claim:
        """Someone else's row holds the run: yield to it unless it went stale or failed."""
        now = self._clock()
        for record in others:
            if record.status == RUNNING and not self._abandoned(record):
                return Claim(False, record)
        current = _current(others)
        takeable = (FAILED, COMPLETED_WITH_ERRORS) if retry_errors else (FAILED,)
        if current.finished and current.status not in takeable:
            return Claim(False, current)
        # Still that owner, still in that state, and (unless failed or dead) still stale.
        where = "run_id = ? AND owner = ? AND status = ?"
        values: list[Any] = [current.run_id, current.owner, current.status]
        if current.status == RUNNING and not owner_gone(current.owner):
            where += " AND heartbeat_at < ?"
            values.append(now - self.lease)
        try:
            self.warehouse.execute(
                f"UPDATE {T}.report_runs SET owner = ?, heartbeat_at = ?, status = ?, finished_at = NULL "
                f"WHERE {where}",
                [self.owner, now, RUNNING, *values],
            )
        except WarehouseError as exc:  # a concurrent takeover can fail it; the read decides
            log.info("taking over run %s: %s", current.run_id, exc)
        rows = self.records(current.week, current.scope)
        after = next((r for r in rows if r.run_id == current.run_id), None)
        if after is not None and after.owner == self.owner and after.status == RUNNING:
            log.info("took over run %s from %s (%s)", after.run_id, current.owner, current.status)
            return Claim(True, after, resumed=True)
        return Claim(False, after or current)

    def _pause(self, round_: int) -> None:
        """A random, growing pause, so that claimants who collided do not collide again."""
        self._sleep(random.uniform(0.02, min(2.0, 0.1 * 2**round_)))

    def _withdraw(self, run_id: str) -> None:
        self.warehouse.execute(
            f"DELETE FROM {T}.report_runs WHERE run_id = ? AND owner = ?", [run_id, self.owner]
        )


def owner_gone(owner: str | None) -> bool:
    """Whether `owner` (see `new_owner`) names a process of this host that no longer exists.

    A killed `send-weekly` is then resumed at once instead of after the lease; owners on other
    hosts, or named otherwise, are judged by their heartbeat alone.
    """
    host, _, rest = (owner or "").rpartition(":")[0].rpartition(":")
    if not host or host != socket.gethostname()[:60] or not rest.isdigit() or int(rest) == os.getpid():
        return False
    try:
        os.kill(int(rest), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def _current(rows: list[RunRecord]) -> RunRecord:
    """Of a key's rows, the one that speaks for the run: finished beats running, then newest start."""
    return max(rows, key=lambda r: (r.finished and r.status != FAILED, r.started_at, r.run_id))


def _record(row: dict[str, Any]) -> RunRecord:
    counts = {k: int(row[k] or 0) for k in ("reports_generated", "reports_failed", "dms_sent", "dms_failed")}
    return RunRecord(
        run_id=row["run_id"], trigger=row["trigger"], week=Week(row["week_start"]), scope=row["scope"],
        owner=row["owner"], status=row["status"], started_at=row["started_at"],
        heartbeat_at=row["heartbeat_at"], finished_at=row["finished_at"], counts=counts,
    )  # fmt: skip
