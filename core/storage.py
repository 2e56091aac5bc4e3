"""Reports, sections, follow-ups and runs in the warehouse.

"One report per (kind, subject, week)" is made by the statements, not by constraints (Snowflake
does not enforce them): reports are MERGEd in one statement per batch (see `Upsert`), keyed by
(report_kind, subject_id, report_week_start, report_week_end): a kind that takes date ranges
stores reports of one start and different ends side by side, while an EBR's end is always its
start + 6, so its key is its week as before. weekly_reports keeps the column names its users
query: customer_id holds the subject for every kind (for the EBR, the customer; subject_id
is the same value under a kind-neutral name).

Every save is a generation (a random id stored on the report row and on each of its section
rows). The MERGE goes first; only the reports whose row then carries this generation get
their sections written, and any section row whose generation is not its report's current one
is deleted, inside the sections' transaction and once more after it. So when two saves of
one report race, whichever MERGE lands last owns the row and, once both saves are done, the
only section rows left (see `_write_sections` for why every interleaving ends so); readers
join sections on the row's generation, so they never mix two runs even meanwhile.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from core.errors import ReportNotFound
from core.kinds import get_kind
from core.models import COMPLETE, Report, SectionResult
from core.runs import DEFAULT_LEASE, RUNNING, new_owner, owner_gone, utc_now
from core.warehouse import Warehouse, variant
from core.warehouse.base import ANALYTICS as T
from core.warehouse.merge import Upsert
from core.weeks import Week, period_of

FEEDBACK_VALUES = ("positive", "negative")


@dataclass(frozen=True)
class StoredFollowUp:
    """A stored exchange in a report's thread, as its buttons need it: the report and its
    kind and subject (for authorisation), the statements its answer ran, the latest feedback."""

    followup_id: str
    report_id: str
    kind: str
    subject_id: str
    question: str
    status: str | None
    sql: tuple[str, ...]
    feedback: str | None


REPORT_UPSERT_COLUMNS = (
    "report_id", "csm_id", "customer_id", "report_week_start", "report_week_end",
    "full_report", "status", "agent_thread_id", "last_message_id", "metadata", "generation_id",
    "report_kind", "subject_id",
)  # fmt: skip
# Without refresh a stored complete report is kept; partial and failed ones are replaced.
UPSERT_KEEP_COMPLETE = Upsert(
    table="weekly_reports", stage="weekly_reports_stage", columns=REPORT_UPSERT_COLUMNS,
    keys=("report_kind", "subject_id", "report_week_start", "report_week_end"), json_columns=("metadata",),
    stamp="generation_timestamp", replace_if="t.status <> 'complete'",
)  # fmt: skip
# A refresh replaces a stored complete report only with a complete one: a refresh that ends
# partial or failed (a wrong token, an unreachable account) keeps the report, its sections
# and the agent thread its delivered Slack thread continues.
UPSERT_REFRESH = replace(UPSERT_KEEP_COMPLETE, replace_if="(t.status <> 'complete' OR s.status = 'complete')")
SECTION_COLUMNS = [
    "report_id",
    "section_key",
    "position",
    "title",
    "content",
    "agent_message_id",
    "status",
    "error",
    "generation_id",
]
REPORT_COLUMNS = (
    "report_id, csm_id, customer_id, report_week_start, report_week_end, full_report, "
    "generation_timestamp, status, agent_thread_id, last_message_id, metadata, generation_id, "
    "report_kind, subject_id"
)
# Section rows of these reports that are not their report row's current generation.
_STALE_SECTIONS = (
    f"DELETE FROM {T}.report_sections WHERE report_id {{scope}} AND NOT EXISTS ("
    f"SELECT 1 FROM {T}.weekly_reports r WHERE r.report_id = report_sections.report_id "
    "AND r.generation_id = report_sections.generation_id)"
)
INTERRUPTED = "interrupted"
# A report's period in WHERE clauses: its start and its end (parameters, in that order).
_PERIOD = "report_week_start = ? AND report_week_end = ?"


def _scope(ids: Sequence[str]) -> tuple[str, list[Any]]:
    return "IN (SELECT f.value::VARCHAR FROM TABLE(FLATTEN(input => PARSE_JSON(?))) f)", [
        json.dumps(list(ids))
    ]


@dataclass(frozen=True)
class StoredReport:
    """What a report's row holds after a save: its status and when it was generated."""

    status: str
    generated_at: dt.datetime | None


@dataclass(frozen=True)
class Saved:
    """The outcome of saving a batch: the ids written, and the rows that stayed instead."""

    written: set[str] = field(default_factory=set)
    stayed: dict[str, StoredReport] = field(default_factory=dict)

    def kept_complete(self, report: Report) -> StoredReport | None:
        """The stored complete report kept in place of `report` (which was not complete), if so."""
        stored = self.stayed.get(report.report_id)
        if stored is None or stored.status != COMPLETE or report.status == COMPLETE:
            return None
        return stored


class ReportStore:
    """Reads and writes the product's tables.

    Generation runs it starts are owned by `owner` (host, process id, random part, as weekly
    claims are): a run whose owner is gone is marked interrupted instead of staying running.
    """

    def __init__(
        self,
        warehouse: Warehouse,
        owner: str | None = None,
        lease: dt.timedelta = DEFAULT_LEASE,
        clock: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        self.warehouse = warehouse
        self.owner = owner or new_owner()
        self.lease, self._clock = lease, clock

    def statuses(self, subject_ids: Sequence[str], week: Week, kind: str = "ebr") -> dict[str, str]:
        """subject_id -> status of the stored report of `kind` for `week`, for those that have one."""
        clause, params = _scope(subject_ids)
        rows = self.warehouse.query(
            f"SELECT subject_id, status FROM {T}.weekly_reports WHERE report_kind = ? AND {_PERIOD} "
            f"AND subject_id {clause}",
            [kind, week.start, week.end, *params],
        )
        return {r["subject_id"]: r["status"] for r in rows}

    def demote_sectionless(self, subject_ids: Sequence[str], week: Week, kind: str = "ebr") -> None:
        """Mark partial the complete reports of `week` whose generation has no sections.

        That is what a save killed between its MERGE and its sections leaves (see `write`).
        Marked partial, the report is regenerated by the next run instead of being reused,
        and a refresh that fails may replace it. A save still between those two steps right
        now is marked too: its report is then regenerated once more, never lost.
        """
        clause, params = _scope(subject_ids)
        self.warehouse.execute(
            f"UPDATE {T}.weekly_reports SET status = 'partial' WHERE report_kind = ? AND {_PERIOD} "
            f"AND subject_id {clause} AND status = 'complete' AND generation_id IS NOT NULL "
            f"AND NOT EXISTS (SELECT 1 FROM {T}.report_sections s WHERE s.report_id = weekly_reports.report_id "
            "AND s.generation_id = weekly_reports.generation_id)",
            [kind, week.start, week.end, *params],
        )

    def save(self, reports: Sequence[Report], refresh: bool = False) -> list[str]:
        """Store reports and their sections in bulk; return the ids actually written."""
        return sorted(self.write(reports, refresh).written)

    def write(self, reports: Sequence[Report], refresh: bool = False) -> Saved:
        """Store reports and their sections in bulk, as one generation.

        Callers pass only reports that should replace what is stored (the engine skips
        customers whose complete report exists unless refreshing). The MERGE still keeps a
        complete report that appeared meanwhile, and under `refresh` keeps a complete report
        the new one would degrade; only the reports whose row carries this generation
        afterwards count as written, and only theirs get sections.

        A crash between the MERGE and the sections leaves a row whose generation has no
        sections: the next run marks it partial (`demote_sectionless`) and regenerates it.
        """
        if not reports:
            return Saved()
        generation = uuid.uuid4().hex
        upsert = UPSERT_REFRESH if refresh else UPSERT_KEEP_COMPLETE
        self.warehouse.upsert(upsert, [_report_row(r, generation) for r in reports])
        stored = self._stored(reports)
        won = [r for r in reports if stored.get(r.report_id, ("", None))[0] == generation]
        if won:
            self._write_sections(won, generation)
        written = {r.report_id for r in won}
        stayed = {
            r.report_id: stored[r.report_id][1]
            for r in reports
            if r.report_id not in written and r.report_id in stored
        }
        return Saved(written, stayed)

    def _write_sections(self, reports: Sequence[Report], generation: str) -> None:
        """Insert these reports' sections as `generation`, and delete every section row of
        theirs that is not their row's current generation: in one transaction, then again.

        Why every interleaving of two saves ends with the last MERGE's sections only: the
        winner W inserts after its MERGE, and every delete after that MERGE spares W's rows
        (they match the row), while deletes before it cannot see them. A loser's rows go
        either in W's deletes (when committed before W's MERGE) or in the loser's own second
        delete (which then runs after W's MERGE and finds the row W's).
        """
        clause, params = _scope([r.report_id for r in reports])
        stale = _STALE_SECTIONS.format(scope=clause)
        rows = [_section_row(r.report_id, s, generation) for r in reports for s in r.sections]
        with self.warehouse.transaction():
            self.warehouse.insert_rows("report_sections", SECTION_COLUMNS, rows)
            self.warehouse.execute(stale, params)
        self.warehouse.execute(stale, params)

    def _stored(self, reports: Sequence[Report]) -> dict[str, tuple[str, StoredReport]]:
        """report_id -> (generation, status and time) of the rows as they stand now."""
        clause, params = _scope([r.report_id for r in reports])
        rows = self.warehouse.query(
            f"SELECT report_id, generation_id, status, generation_timestamp FROM {T}.weekly_reports "
            f"WHERE report_id {clause}",
            params,
        )
        return {
            r["report_id"]: (r["generation_id"] or "", StoredReport(r["status"], r["generation_timestamp"]))
            for r in rows
        }

    def load(self, subject_id: str, week: Week | None = None, kind: str = "ebr") -> Report:
        """The stored report of `kind` on the subject for `week` (its start and end), with its
        sections; when `week` is None, the latest: the one ending last (of two ending the same
        day, the one starting last)."""
        params: list[Any]
        where, params = "report_kind = ? AND subject_id = ?", [kind, subject_id]
        if week is not None:
            where, params = f"{where} AND {_PERIOD}", [*params, week.start, week.end]
        rows = self.warehouse.query(
            f"SELECT {REPORT_COLUMNS} FROM {T}.weekly_reports WHERE {where} "
            "ORDER BY report_week_end DESC, report_week_start DESC, generation_timestamp DESC LIMIT 1",
            params,
        )
        if not rows:
            when = f" for {_period_words(week)}" if week else ""
            raise ReportNotFound(
                f"no stored report for {subject_id}{when}; run `weekly-report generate` first"
            )
        return self._with_sections(rows)[subject_id]

    def load_many(self, subject_ids: Sequence[str], week: Week, kind: str = "ebr") -> dict[str, Report]:
        """The stored reports of `kind` on these subjects for `week`, with their sections, in two
        statements; subjects without one are left out."""
        if not subject_ids:
            return {}
        clause, params = _scope(subject_ids)
        rows = self.warehouse.query(
            f"SELECT {REPORT_COLUMNS} FROM {T}.weekly_reports WHERE report_kind = ? AND {_PERIOD} "
            f"AND subject_id {clause}",
            [kind, week.start, week.end, *params],
        )
        return self._with_sections(rows)

    def _with_sections(self, rows: Sequence[dict[str, Any]]) -> dict[str, Report]:
        """The reports of these rows by subject id, each with the sections of its row's
        generation (rows written before generations: all their sections)."""
        if not rows:
            return {}
        clause, params = _scope([r["report_id"] for r in rows])
        sections: dict[str, list[dict[str, Any]]] = {r["report_id"]: [] for r in rows}
        generation = {r["report_id"]: r["generation_id"] for r in rows}
        for s in self.warehouse.query(
            f"SELECT report_id, section_key, position, title, content, agent_message_id, status, error, "
            f"generation_id FROM {T}.report_sections WHERE report_id {clause} ORDER BY report_id, position",
            params,
        ):
            if not generation[s["report_id"]] or s["generation_id"] == generation[s["report_id"]]:
                sections[s["report_id"]].append(s)
        return {r["subject_id"]: _report(r, sections[r["report_id"]]) for r in rows}

    def record_followup(
        self,
        report_id: str,
        asked_by: str | None,
        question: str,
        answer: str,
        parent_id: int,
        message_id: int | None,
        refusal_reason: str | None = None,
        sql: Sequence[str] = (),
    ) -> str:
        """Store the exchange; an answered one advances the report's last assistant message id.
        Returns the exchange's followup_id (what the buttons under its answer name).

        With `refusal_reason` the exchange is stored as refused (the answer failed the guard):
        `answer` is what the person was told instead, no SQL is kept, and the report's thread
        stays where it was, so the next question continues from the last answer that was shown.
        """
        status = "answered" if refusal_reason is None else "refused"
        sql_text = "\n;\n".join(sql) if sql and refusal_reason is None else None
        followup_id = uuid.uuid4().hex[:16]
        row = [
            report_id,
            asked_by,
            question,
            answer,
            parent_id,
            message_id,
            _now(),
            status,
            refusal_reason,
            sql_text,
            followup_id,
        ]
        with self.warehouse.transaction():
            self.warehouse.execute(
                f"INSERT INTO {T}.followups (report_id, asked_by, question, answer, parent_message_id, "
                "agent_message_id, asked_at, status, refusal_reason, sql_text, followup_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            if message_id is not None and refusal_reason is None:
                self.warehouse.execute(
                    f"UPDATE {T}.weekly_reports SET last_message_id = ? WHERE report_id = ?",
                    [message_id, report_id],
                )
        return followup_id

    def followup(self, followup_id: str) -> StoredFollowUp | None:
        """One stored exchange by its followup_id (None when there is none)."""
        rows = self.warehouse.query(
            f"SELECT f.followup_id, f.report_id, r.report_kind, r.subject_id, f.question, f.status, "
            f"f.sql_text, f.feedback FROM {T}.followups f JOIN {T}.weekly_reports r "
            "ON r.report_id = f.report_id WHERE f.followup_id = ?",
            [followup_id],
        )
        if not rows:
            return None
        row = rows[0]
        sql = tuple(s.strip() for s in (row["sql_text"] or "").split("\n;\n") if s.strip())
        return StoredFollowUp(
            row["followup_id"], row["report_id"], row["report_kind"] or "ebr", row["subject_id"],
            row["question"], row["status"], sql, row["feedback"],
        )  # fmt: skip

    def record_feedback(self, followup_id: str, feedback: str, by: str | None) -> bool:
        """Store a click of an answer's feedback buttons; the latest click wins. False when
        there is no such exchange."""
        if feedback not in FEEDBACK_VALUES:
            raise ValueError(f"feedback is one of {', '.join(FEEDBACK_VALUES)}, not {feedback!r}")
        if self.followup(followup_id) is None:
            return False
        self.warehouse.execute(
            f"UPDATE {T}.followups SET feedback = ?, feedback_by = ?, feedback_at = ? WHERE followup_id = ?",
            [feedback, by, _now(), followup_id],
        )
        return True

    def start_run(self, trigger: str, week: Week) -> str:
        """Record a generation run as running, owned by this store's owner (see `keep_alive`)."""
        self.interrupt_abandoned()
        run_id = uuid.uuid4().hex[:12]
        now = self._clock()
        self.warehouse.execute(
            f"INSERT INTO {T}.report_runs (run_id, trigger, week_start, started_at, heartbeat_at, status, owner) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [run_id, trigger, week.start, now, now, RUNNING, self.owner],
        )
        return run_id

    def interrupt_abandoned(self) -> list[str]:
        """Mark as interrupted the generation runs still `running` whose owner is gone: a
        process of this host that no longer exists, or (another host, or no owner recorded)
        no heartbeat within the lease. Weekly claims (scope set) are left to `RunClaims`,
        which resumes them. Returns the run ids marked."""
        rows = self.warehouse.query(
            f"SELECT run_id, owner, COALESCE(heartbeat_at, started_at) AS beat FROM {T}.report_runs "
            "WHERE status = ? AND scope IS NULL",
            [RUNNING],
        )
        cutoff = self._clock() - self.lease
        marked = []
        for row in rows:
            owner = row["owner"]
            if owner == self.owner or not (
                owner_gone(owner) or (not _of_this_host(owner) and row["beat"] < cutoff)
            ):
                continue
            # Still running and no newer heartbeat: a run that just beat is not marked.
            if self.warehouse.execute(
                f"UPDATE {T}.report_runs SET status = ?, finished_at = ? "
                "WHERE run_id = ? AND status = ? AND COALESCE(heartbeat_at, started_at) = ?",
                [INTERRUPTED, self._clock(), row["run_id"], RUNNING, row["beat"]],
            ):
                marked.append(row["run_id"])
        return marked

    def finish_run(self, run_id: str, summary: dict[str, Any]) -> None:
        self.warehouse.execute(
            f"UPDATE {T}.report_runs SET finished_at = ?, status = ?, reports_generated = ?, reports_failed = ?, "
            "dms_sent = ?, dms_failed = ?, details = PARSE_JSON(?) WHERE run_id = ?",
            [
                _now(), summary["status"], summary["reports_generated"], summary["reports_failed"],
                summary.get("dms_sent", 0), summary.get("dms_failed", 0), json.dumps(summary, default=str), run_id,
            ],
        )  # fmt: skip

    def runs(self, limit: int = 20) -> list[dict[str, Any]]:
        """The latest runs, newest first (abandoned ones marked interrupted); `details` parsed."""
        self.interrupt_abandoned()
        rows = self.warehouse.query(
            f"SELECT run_id, trigger, week_start, started_at, finished_at, status, reports_generated, "
            f"reports_failed, dms_sent, dms_failed, details FROM {T}.report_runs "
            "ORDER BY started_at DESC LIMIT ?",
            [limit],
        )
        return [{**row, "details": variant(row["details"])} for row in rows]


def _report_row(r: Report, generation: str) -> tuple[Any, ...]:
    metadata = json.dumps(r.metadata, default=str)
    return (
        r.report_id, r.csm_id, r.subject_id, r.week.start, r.week.end,
        r.full_report, r.status, r.agent_thread_id, r.last_message_id, metadata, generation,
        r.kind, r.subject_id,
    )  # fmt: skip


def _section_row(report_id: str, s: SectionResult, generation: str) -> tuple[Any, ...]:
    return (
        report_id,
        s.key,
        s.position,
        s.title,
        s.content,
        s.agent_message_id,
        s.status,
        s.error,
        generation,
    )


def _report(row: dict[str, Any], sections: list[dict[str, Any]]) -> Report:
    metadata = variant(row["metadata"]) or {}
    kind = get_kind(row["report_kind"])
    subject_id = row["subject_id"] or row["customer_id"]
    subject = kind.subject_from_metadata(subject_id, metadata)
    return Report(
        report_id=row["report_id"], csm_id=row["csm_id"], customer_id=subject_id,
        customer_name=subject.name, industry=subject.group,
        week=period_of(row["report_week_start"], row["report_week_end"]), status=row["status"],
        sections=[
            SectionResult(
                s["section_key"], s["title"], int(s["position"]), s["content"],
                _int(s["agent_message_id"]), s["status"], s["error"],
            )
            for s in sections
        ],
        headline=kind.stored_headline(metadata.get("headline")), agent_thread_id=row["agent_thread_id"],
        last_message_id=_int(row["last_message_id"]), generated_at=row["generation_timestamp"],
        full_report=row["full_report"] or "", metadata=metadata, kind=kind.name, subject_id=subject_id,
    )  # fmt: skip


def _period_words(week: Week) -> str:
    if week.days == 7:
        return f"the week of {week.start}"
    return f"{week.start} to {week.end}"


def _of_this_host(owner: str | None) -> bool:
    """Whether `owner` (host:pid:random) names a process of this host."""
    host = (owner or "").rpartition(":")[0].rpartition(":")[0]
    return bool(host) and host == socket.gethostname()[:60]


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)
