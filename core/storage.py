"""Reports, sections, follow-ups and runs in the warehouse.

"One report per (customer, week)" is made by the statements, not by constraints (Snowflake
does not enforce them): reports are MERGEd in one statement per batch (see `Upsert`);
sections are replaced only for the reports this batch actually wrote.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from core.errors import ReportNotFound
from core.models import Headline, Report, SectionResult
from core.warehouse import Warehouse, variant
from core.warehouse.merge import Upsert
from core.weeks import Week

T = "CUSTOMER_SUCCESS_DATA.ANALYTICS"
REPORT_UPSERT_COLUMNS = (
    "report_id", "csm_id", "customer_id", "report_week_start", "report_week_end",
    "full_report", "status", "agent_thread_id", "last_message_id", "metadata",
)  # fmt: skip
UPSERT_REPLACE = Upsert(
    table="weekly_reports", stage="weekly_reports_stage", columns=REPORT_UPSERT_COLUMNS,
    keys=("customer_id", "report_week_start"), json_columns=("metadata",), stamp="generation_timestamp",
)  # fmt: skip
# Without refresh a stored complete report is kept; partial and failed ones are replaced.
UPSERT_KEEP_COMPLETE = replace(UPSERT_REPLACE, replace_if="t.status <> 'complete'")
SECTION_COLUMNS = [
    "report_id",
    "section_key",
    "position",
    "title",
    "content",
    "agent_message_id",
    "status",
    "error",
]
REPORT_COLUMNS = (
    "report_id, csm_id, customer_id, report_week_start, report_week_end, full_report, "
    "generation_timestamp, status, agent_thread_id, last_message_id, metadata"
)


def _scope(ids: Sequence[str]) -> tuple[str, list[Any]]:
    return "IN (SELECT f.value::VARCHAR FROM TABLE(FLATTEN(input => PARSE_JSON(?))) f)", [
        json.dumps(list(ids))
    ]


class ReportStore:
    """Reads and writes the product's tables."""

    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse

    def statuses(self, customer_ids: Sequence[str], week: Week) -> dict[str, str]:
        """customer_id -> status of the stored report for `week`, for those that have one."""
        clause, params = _scope(customer_ids)
        rows = self.warehouse.query(
            f"SELECT customer_id, status FROM {T}.weekly_reports WHERE report_week_start = ? AND customer_id {clause}",
            [week.start, *params],
        )
        return {r["customer_id"]: r["status"] for r in rows}

    def save(self, reports: Sequence[Report], refresh: bool = False) -> list[str]:
        """Store reports and their sections in bulk; return the ids actually written.

        Callers pass only reports that should replace what is stored (the engine skips
        customers whose complete report exists unless refreshing). The MERGE still keeps
        a complete report that appeared meanwhile; only the reports whose row carries this
        batch's agent thread afterwards count as written.
        """
        if not reports:
            return []
        # Sections first, in a transaction; then the reports in one MERGE (a MERGE cannot
        # share a transaction on the embedded backend). A crash in between leaves new
        # sections under a report still marked partial/failed, which the next run redoes.
        clause, params = _scope([r.report_id for r in reports])
        with self.warehouse.transaction():
            self.warehouse.execute(f"DELETE FROM {T}.report_sections WHERE report_id {clause}", params)
            sections = [_section_row(r.report_id, s) for r in reports for s in r.sections]
            self.warehouse.insert_rows("report_sections", SECTION_COLUMNS, sections)
        upsert = UPSERT_REPLACE if refresh else UPSERT_KEEP_COMPLETE
        self.warehouse.upsert(upsert, [_report_row(r) for r in reports])
        return sorted(self._written(reports))

    def _written(self, reports: Sequence[Report]) -> set[str]:
        """The reports whose row now carries this batch's agent thread: the ones we wrote."""
        clause, params = _scope([r.report_id for r in reports])
        rows = self.warehouse.query(
            f"SELECT report_id, agent_thread_id FROM {T}.weekly_reports WHERE report_id {clause}", params
        )
        stored = {r["report_id"]: r["agent_thread_id"] for r in rows}
        return {r.report_id for r in reports if stored.get(r.report_id) == r.agent_thread_id}

    def load(self, customer_id: str, week: Week | None = None) -> Report:
        """The stored report (the latest week when `week` is None) with its sections."""
        params: list[Any]
        where, params = "customer_id = ?", [customer_id]
        if week is not None:
            where, params = where + " AND report_week_start = ?", [customer_id, week.start]
        rows = self.warehouse.query(
            f"SELECT {REPORT_COLUMNS} FROM {T}.weekly_reports WHERE {where} "
            "ORDER BY report_week_start DESC, generation_timestamp DESC LIMIT 1",
            params,
        )
        if not rows:
            when = f" for the week of {week.start}" if week else ""
            raise ReportNotFound(
                f"no stored report for {customer_id}{when}; run `weekly-report generate` first"
            )
        sections = self.warehouse.query(
            f"SELECT section_key, position, title, content, agent_message_id, status, error "
            f"FROM {T}.report_sections WHERE report_id = ? ORDER BY position",
            [rows[0]["report_id"]],
        )
        return _report(rows[0], sections)

    def record_followup(
        self,
        report_id: str,
        asked_by: str | None,
        question: str,
        answer: str,
        parent_id: int,
        message_id: int | None,
        refusal_reason: str | None = None,
    ) -> None:
        """Store the exchange; an answered one advances the report's last assistant message id.

        With `refusal_reason` the exchange is stored as refused (the answer failed the guard):
        `answer` is what the person was told instead, and the report's thread stays where it
        was, so the next question continues from the last answer that was shown.
        """
        status = "answered" if refusal_reason is None else "refused"
        with self.warehouse.transaction():
            self.warehouse.execute(
                f"INSERT INTO {T}.followups (report_id, asked_by, question, answer, parent_message_id, "
                "agent_message_id, asked_at, status, refusal_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    report_id,
                    asked_by,
                    question,
                    answer,
                    parent_id,
                    message_id,
                    _now(),
                    status,
                    refusal_reason,
                ],
            )
            if message_id is not None and refusal_reason is None:
                self.warehouse.execute(
                    f"UPDATE {T}.weekly_reports SET last_message_id = ? WHERE report_id = ?",
                    [message_id, report_id],
                )

    def start_run(self, trigger: str, week: Week) -> str:
        run_id = uuid.uuid4().hex[:12]
        self.warehouse.execute(
            f"INSERT INTO {T}.report_runs (run_id, trigger, week_start, started_at, status) VALUES (?, ?, ?, ?, ?)",
            [run_id, trigger, week.start, _now(), "running"],
        )
        return run_id

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
        """The latest runs, newest first; `details` parsed (a dict, or None)."""
        rows = self.warehouse.query(
            f"SELECT run_id, trigger, week_start, started_at, finished_at, status, reports_generated, "
            f"reports_failed, dms_sent, dms_failed, details FROM {T}.report_runs "
            "ORDER BY started_at DESC LIMIT ?",
            [limit],
        )
        return [{**row, "details": variant(row["details"])} for row in rows]


def _report_row(r: Report) -> tuple[Any, ...]:
    metadata = json.dumps(r.metadata, default=str)
    return (
        r.report_id, r.csm_id, r.customer_id, r.week.start, r.week.end,
        r.full_report, r.status, r.agent_thread_id, r.last_message_id, metadata,
    )  # fmt: skip


def _section_row(report_id: str, s: SectionResult) -> tuple[Any, ...]:
    return (report_id, s.key, s.position, s.title, s.content, s.agent_message_id, s.status, s.error)


def _report(row: dict[str, Any], sections: list[dict[str, Any]]) -> Report:
    metadata = variant(row["metadata"]) or {}
    headline = metadata.get("headline")
    return Report(
        report_id=row["report_id"], csm_id=row["csm_id"], customer_id=row["customer_id"],
        customer_name=metadata.get("customer_name", row["customer_id"]), industry=metadata.get("industry", ""),
        week=Week(row["report_week_start"]), status=row["status"],
        sections=[
            SectionResult(
                s["section_key"], s["title"], int(s["position"]), s["content"],
                _int(s["agent_message_id"]), s["status"], s["error"],
            )
            for s in sections
        ],
        headline=Headline(**headline) if headline else None, agent_thread_id=row["agent_thread_id"],
        last_message_id=_int(row["last_message_id"]), generated_at=row["generation_timestamp"],
        full_report=row["full_report"] or "", metadata=metadata,
    )  # fmt: skip


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)
