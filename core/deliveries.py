"""The delivery ledger, `report_deliveries`: one row per (report_id, recipient).

A row is claimed (status `pending`) before anything is posted and updated as the delivery
progresses: `sending` (an attempt started, `attempts` counted) -> `posted` (the parent
message exists: its channel and ts are recorded, so its thread maps back to the report) ->
`delivered`, or `failed` with `last_error`. The channel and ts are opaque strings here;
this module knows nothing of the chat system that produced them.

"One row per key" comes from the claiming MERGE, not from a constraint (Snowflake does not
enforce them). Every statement here is `Portable` (the common subset of Snowflake and DuckDB
SQL), so the embedded warehouse runs it natively rather than through fakesnow's translation:
a delivery's ledger writes take about a millisecond there instead of about a hundred. The recipient is the key a delivery is counted under: a scheduled delivery
uses the person's id, so it happens once per report; an on-demand one uses
`on_demand_recipient()`, so every request gets its own row and every thread stays mapped.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from core.warehouse import Portable, Warehouse
from core.warehouse.base import ANALYTICS as T
from core.weeks import Week, period_of

PENDING, SENDING, POSTED, DELIVERED, FAILED = "pending", "sending", "posted", "delivered", "failed"
ERROR_LIMIT = 500

_CLAIM = Portable(f"""
MERGE INTO {T}.report_deliveries t
USING (SELECT ? AS report_id, ? AS recipient) s
ON t.report_id = s.report_id AND t.recipient = s.recipient
WHEN NOT MATCHED THEN INSERT (report_id, recipient, status, attempts)
VALUES (s.report_id, s.recipient, '{PENDING}', 0)
""")
_COLUMNS = "report_id, recipient, slack_channel_id, message_ts, status, attempts, last_error, delivered_at"


@dataclass(frozen=True)
class DeliveryRecord:
    """One ledger row."""

    report_id: str
    recipient: str
    channel: str | None
    message_ts: str | None
    status: str
    attempts: int
    last_error: str | None
    delivered_at: dt.datetime | None
    # True when this claim created the row: no earlier sender can have posted anything for it.
    created: bool = False


@dataclass(frozen=True)
class ThreadLink:
    """The report a delivered message (the parent of a thread) belongs to: its id, subject
    (`customer_id`: the subject of any kind), period, the ledger recipient, and its kind
    (weekly_reports.report_kind), so a follow-up goes to the kind the report is of."""

    report_id: str
    customer_id: str
    week: Week
    recipient: str
    kind: str = "ebr"


def on_demand_recipient(person: str) -> str:
    """A ledger key of its own for one on-demand delivery to `person`."""
    return f"{person}#{uuid.uuid4().hex[:12]}"


class DeliveryStore:
    """Reads and writes `report_deliveries`."""

    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse

    def claim(self, report_id: str, recipient: str) -> DeliveryRecord:
        """The row for (report_id, recipient), created `pending` unless it exists.

        When the MERGE inserted it (one row affected), the row is as the MERGE wrote it and is
        not read back. Another sender may move it on at once; `start_attempt(..., seen)`
        tells, as it would after a read.
        """
        if self.warehouse.execute(_CLAIM, [report_id, recipient]) == 1:
            return DeliveryRecord(report_id, recipient, None, None, PENDING, 0, None, None, created=True)
        record = self.get(report_id, recipient)
        assert record is not None  # the MERGE just made sure of it
        return record

    def get(self, report_id: str, recipient: str) -> DeliveryRecord | None:
        rows = self.warehouse.query(
            Portable(
                f"SELECT {_COLUMNS} FROM {T}.report_deliveries WHERE report_id = ? AND recipient = ? "
                "ORDER BY attempts DESC LIMIT 1"
            ),
            [report_id, recipient],
        )
        return _record(rows[0]) if rows else None

    def for_report(self, report_id: str) -> list[DeliveryRecord]:
        rows = self.warehouse.query(
            Portable(f"SELECT {_COLUMNS} FROM {T}.report_deliveries WHERE report_id = ? ORDER BY recipient"),
            [report_id],
        )
        return [_record(r) for r in rows]

    def start_attempt(self, report_id: str, recipient: str, seen: DeliveryRecord | None = None) -> bool:
        """Count an attempt before anything is posted, so a crash mid-post is visible.

        A row whose parent message is recorded goes back to `posted` (its replies resume),
        any other to `sending`. With `seen`, the update only applies while the row is still
        as read (same status and attempts), so of two senders one starts; returns whether it did.
        """
        assignments = (
            f"status = CASE WHEN message_ts IS NULL THEN '{SENDING}' ELSE '{POSTED}' END, "
            "attempts = attempts + 1, last_error = NULL"
        )
        where = "report_id = ? AND recipient = ?"
        values: list[Any] = [report_id, recipient]
        if seen is not None:
            where += " AND status = ? AND attempts = ?"
            values += [seen.status, seen.attempts]
        changed = self.warehouse.execute(
            Portable(f"UPDATE {T}.report_deliveries SET {assignments} WHERE {where}"), values
        )
        return bool(changed)

    def posted(self, report_id: str, recipient: str, channel: str, message_ts: str) -> None:
        """The parent message exists: remember where, so its thread maps back to the report."""
        self._update(
            "status = ?, slack_channel_id = ?, message_ts = ?",
            [POSTED, channel, message_ts],
            report_id,
            recipient,
        )

    def delivered(
        self, report_id: str, recipient: str, channel: str | None = None, message_ts: str | None = None
    ) -> None:
        """The delivery is complete. With `channel` and `message_ts`, also records where the
        message is, as `posted` would: one write for a message confirmed as it is sent (an
        email's provider id), where `posted` then `delivered` would be two."""
        if channel is None or message_ts is None:
            self._update("status = ?, delivered_at = ?", [DELIVERED, _now()], report_id, recipient)
            return
        self._update(
            "status = ?, slack_channel_id = ?, message_ts = ?, delivered_at = ?",
            [DELIVERED, channel, message_ts, _now()],
            report_id,
            recipient,
        )

    def failed(self, report_id: str, recipient: str, error: str) -> None:
        self._update("status = ?, last_error = ?", [FAILED, error[:ERROR_LIMIT]], report_id, recipient)

    def thread(self, channel: str, message_ts: str) -> ThreadLink | None:
        """The report whose delivered parent message is (channel, message_ts), if any."""
        rows = self.warehouse.query(
            Portable(
                f"SELECT d.report_id, d.recipient, r.customer_id, r.report_week_start, r.report_week_end, "
                "COALESCE(r.report_kind, 'ebr') AS report_kind "
                f"FROM {T}.report_deliveries d JOIN {T}.weekly_reports r ON r.report_id = d.report_id "
                "WHERE d.slack_channel_id = ? AND d.message_ts = ? LIMIT 1"
            ),
            [channel, message_ts],
        )
        if not rows:
            return None
        row = rows[0]
        week = period_of(row["report_week_start"], row["report_week_end"])
        return ThreadLink(row["report_id"], row["customer_id"], week, row["recipient"], row["report_kind"])

    def _update(self, assignments: str, values: list[Any], report_id: str, recipient: str) -> None:
        self.warehouse.execute(
            Portable(f"UPDATE {T}.report_deliveries SET {assignments} WHERE report_id = ? AND recipient = ?"),
            [*values, report_id, recipient],
        )


def _record(row: dict[str, Any]) -> DeliveryRecord:
    return DeliveryRecord(
        report_id=row["report_id"], recipient=row["recipient"], channel=row["slack_channel_id"],
        message_ts=row["message_ts"], status=row["status"], attempts=int(row["attempts"]),
        last_error=row["last_error"], delivered_at=row["delivered_at"],
    )  # fmt: skip


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)
