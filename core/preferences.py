"""CSM preferences in `csm_preferences`, one row per CSM: pausing the Monday reports, and email.

A pause is indefinite (until resumed) or lasts until a date: the CSM gets no scheduled DMs
on days before `paused_until` and gets them again from that date on. On-demand reports are
never paused. `email_reports` is the CSM's own choice about the weekly email (NULL: the
channels WEEKLY_REPORT_DELIVERY names; see `channels_for`). Rows are written with a MERGE on
csm_id, so there is one per CSM on either backend (Snowflake does not enforce keys); each
MERGE sets only its own columns, so a pause keeps the email choice and the other way round.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from core.directory import shown, validate_csm_id
from core.errors import InputError
from core.warehouse import Warehouse
from core.warehouse.base import ANALYTICS as T

BY_LIMIT = 200

# Values ride in the USING row: the embedded engine binds parameters to a MERGE's first statement.
_UPSERT = f"""
MERGE INTO {T}.csm_preferences t
USING (SELECT ? AS csm_id, ? AS paused, ? AS paused_until, ? AS updated_at, ? AS updated_by) s
ON t.csm_id = s.csm_id
WHEN MATCHED THEN UPDATE SET paused = s.paused, paused_until = s.paused_until,
  updated_at = s.updated_at, updated_by = s.updated_by
WHEN NOT MATCHED THEN INSERT (csm_id, paused, paused_until, updated_at, updated_by)
VALUES (s.csm_id, s.paused, s.paused_until, s.updated_at, s.updated_by)
"""
_UPSERT_EMAIL = f"""
MERGE INTO {T}.csm_preferences t
USING (SELECT ? AS csm_id, ? AS email_reports, ? AS updated_at, ? AS updated_by) s
ON t.csm_id = s.csm_id
WHEN MATCHED THEN UPDATE SET email_reports = s.email_reports, updated_at = s.updated_at,
  updated_by = s.updated_by
WHEN NOT MATCHED THEN INSERT (csm_id, paused, email_reports, updated_at, updated_by)
VALUES (s.csm_id, FALSE, s.email_reports, s.updated_at, s.updated_by)
"""
EMAIL = "email"  # the channel a CSM may turn on or off for themselves
# Paused on a date: paused, and either indefinitely or until a later date.
_PAUSED_ON = "paused AND (paused_until IS NULL OR paused_until > ?)"


@dataclass(frozen=True)
class Pause:
    """A CSM's pause: `until` is the date the DMs resume (None: until resumed)."""

    csm_id: str
    until: dt.date | None
    updated_at: dt.datetime
    updated_by: str | None

    def describe(self) -> str:
        return f"paused until {self.until}" if self.until else "paused until resumed"


def channels_for(default: Sequence[str], email: bool | None) -> tuple[str, ...]:
    """The channels a CSM's weekly reports go to: WEEKLY_REPORT_DELIVERY's, with email added or
    removed by their own choice (None: no choice made)."""
    chosen = [name for name in default if name != EMAIL or email is not False]
    if email and EMAIL not in chosen:
        chosen.append(EMAIL)
    return tuple(chosen)


def parse_until(text: str) -> dt.date:
    """The date of `pause until DATE` (YYYY-MM-DD), or InputError."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"'{shown(text)}' is not a date; use YYYY-MM-DD, e.g. 2026-12-01") from None


class Preferences:
    """Reads and writes `csm_preferences`. `today` is the date pauses are checked against."""

    def __init__(self, warehouse: Warehouse, today: Callable[[], dt.date]) -> None:
        self.warehouse = warehouse
        self._today = today

    def pause(self, csm_id: str, until: dt.date | None = None, by: str | None = None) -> Pause:
        """Stop the CSM's scheduled DMs until `until` (exclusive) or until resumed."""
        csm_id = self._known_csm(csm_id)
        today = self._today()
        if until is not None and until <= today:
            raise InputError(
                f"{until} is not after today ({today}); pause until a later date, or resume instead"
            )
        self._write(csm_id, True, until, by)
        pause = self.pause_of(csm_id)
        assert pause is not None  # just written
        return pause

    def resume(self, csm_id: str, by: str | None = None) -> bool:
        """Restart the CSM's scheduled DMs; False (and nothing written) when they were not paused."""
        if self.pause_of(csm_id) is None:
            return False
        self._write(validate_csm_id(csm_id), False, None, by)
        return True

    def pause_of(self, csm_id: str, on: dt.date | None = None) -> Pause | None:
        """The CSM's pause in force on `on` (default today), if any."""
        rows = self.warehouse.query(
            f"SELECT csm_id, paused_until, updated_at, updated_by FROM {T}.csm_preferences "
            f"WHERE csm_id = ? AND {_PAUSED_ON} ORDER BY updated_at DESC LIMIT 1",
            [validate_csm_id(csm_id), on or self._today()],
        )
        return _pause(rows[0]) if rows else None

    def pauses(self, on_date: dt.date) -> dict[str, Pause]:
        """csm_id -> pause, for every CSM paused on `on_date`."""
        rows = self.warehouse.query(
            f"SELECT csm_id, paused_until, updated_at, updated_by FROM {T}.csm_preferences "
            f"WHERE {_PAUSED_ON} ORDER BY csm_id",
            [on_date],
        )
        return {r["csm_id"]: _pause(r) for r in rows}

    def set_email(self, csm_id: str, on: bool, by: str | None = None) -> None:
        """The CSM's own choice: their weekly reports by email too (`on`), or not by email."""
        csm_id = self._known_csm(csm_id)
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        self.warehouse.execute(_UPSERT_EMAIL, [csm_id, on, now, (by or None) and by[:BY_LIMIT]])

    def email_choice(self, csm_id: str) -> bool | None:
        """The CSM's choice about email (None: none made, WEEKLY_REPORT_DELIVERY decides)."""
        value = self.warehouse.scalar(
            f"SELECT email_reports FROM {T}.csm_preferences WHERE csm_id = ? ORDER BY updated_at DESC LIMIT 1",
            [validate_csm_id(csm_id)],
        )
        return None if value is None else bool(value)

    def email_choices(self) -> dict[str, bool]:
        """csm_id -> their choice about email, for every CSM who made one."""
        rows = self.warehouse.query(
            f"SELECT csm_id, email_reports FROM {T}.csm_preferences WHERE email_reports IS NOT NULL "
            "ORDER BY csm_id"
        )
        return {r["csm_id"]: bool(r["email_reports"]) for r in rows}

    def paused_csms(self, on_date: dt.date) -> set[str]:
        """The CSMs whose scheduled DMs are paused on `on_date`."""
        return set(self.pauses(on_date))

    def _known_csm(self, csm_id: str) -> str:
        csm_id = validate_csm_id(csm_id)
        found = self.warehouse.scalar(f"SELECT COUNT(*) FROM {T}.csm_assignments WHERE csm_id = ?", [csm_id])
        if not found:
            raise InputError(f"unknown CSM {csm_id}: not in csm_assignments")
        return csm_id

    def _write(self, csm_id: str, paused: bool, until: dt.date | None, by: str | None) -> None:
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        self.warehouse.execute(_UPSERT, [csm_id, paused, until, now, (by or None) and by[:BY_LIMIT]])


def _pause(row: dict[str, object]) -> Pause:
    until, at, by = row["paused_until"], row["updated_at"], row["updated_by"]
    assert isinstance(at, dt.datetime)
    return Pause(
        csm_id=str(row["csm_id"]),
        until=until if isinstance(until, dt.date) else None,
        updated_at=at,
        updated_by=str(by) if by is not None else None,
    )
