"""`load_demo`: (re)load the deterministic demo dataset into the embedded warehouse."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from core.demo import expand
from core.demo.benchmarks import benchmark_table
from core.demo.case_studies import case_study_table
from core.demo.coaching import coaching_counts, load_coaching
from core.demo.coaching_roster import DEMO_REPS
from core.demo.memory import load_transaction
from core.demo.profiles import channel_table, customer_table
from core.demo.roster import (
    DEMO_CSMS,
    DEMO_CUSTOMERS,
    DemoCsm,
    DemoCustomer,
    generated_csms,
    generated_customers,
)
from core.warehouse.embedded import EmbeddedWarehouse
from core.weeks import last_complete_week

DAYS = 730
BATCH_CUSTOMERS = 2_500
TABLES = (
    "customers",
    "csm_assignments",
    "conversions",
    "attributions",
    "historical_engagement",
    "industry_benchmarks",
    "case_studies",
    "weekly_reports",
    "report_sections",
    "report_deliveries",
    "followups",
    "report_runs",
    "agent_threads",
    "agent_messages",
)


@dataclass(frozen=True)
class DemoSummary:
    """What a demo load wrote, and how long it took."""

    customers: int
    csms: int
    conversions: int
    attributions: int
    engagement_rows: int
    benchmarks: int
    case_studies: int
    first_date: dt.date
    last_date: dt.date
    seconds: float
    reps: int = 0
    calls: int = 0
    coaching_sessions: int = 0
    transcript_lines: int = 0

    def describe(self) -> str:
        """One paragraph for a person."""
        return (
            f"Loaded {self.customers:,} customers managed by {self.csms:,} CSMs, with daily data from "
            f"{self.first_date} to {self.last_date}: {self.engagement_rows:,} engagement rows, "
            f"{self.conversions:,} conversions with {self.attributions:,} attribution rows, "
            f"{self.benchmarks:,} industry benchmarks and {self.case_studies:,} case studies; "
            f"coaching: {self.reps:,} reps with {self.calls:,} calls, {self.coaching_sessions:,} "
            f"coaching sessions and {self.transcript_lines:,} transcript lines; in {self.seconds:.1f} s."
        )


def load_demo(
    warehouse: EmbeddedWarehouse,
    as_of: dt.date,
    customers: int = len(DEMO_CUSTOMERS),
    progress: Callable[[str], None] | None = None,
    reps: int = len(DEMO_REPS),
) -> DemoSummary:
    """Empty every table of the schema, then load the demo dataset as of `as_of`, in one transaction.

    Data covers every day from `as_of` - 730 days to the day before `as_of`. `customers`
    (at least 9) scales the dataset: the nine named accounts plus generated ones. The same
    `as_of` and `customers` always give the same data. `reps` (at least 8) scales the coaching
    data the same way: twelve weeks of calls for the eight named reps plus generated ones.
    """
    if customers < len(DEMO_CUSTOMERS):
        raise ValueError(f"the demo needs at least {len(DEMO_CUSTOMERS)} customers, not {customers}")
    if reps < len(DEMO_REPS):
        raise ValueError(f"the demo needs at least {len(DEMO_REPS)} reps, not {reps}")
    started = time.perf_counter()
    say = progress or _quiet
    accounts = [*DEMO_CUSTOMERS, *generated_customers(customers)]
    csms = [*DEMO_CSMS, *generated_csms(customers)]
    with load_transaction(warehouse, "loading the demo dataset") as cursor:
        _load(cursor, accounts, csms, as_of, say)
        load_coaching(cursor, as_of, reps, say)
        counts = {**_counts(cursor), **coaching_counts(cursor)}
    return DemoSummary(
        **counts,
        first_date=as_of - dt.timedelta(days=DAYS),
        last_date=as_of - dt.timedelta(days=1),
        seconds=round(time.perf_counter() - started, 2),
    )


def _load(
    cursor: duckdb.DuckDBPyConnection,
    accounts: list[DemoCustomer],
    csms: list[DemoCsm],
    as_of: dt.date,
    say: Callable[[str], None],
) -> None:
    say("emptying tables")
    for table in TABLES:
        cursor.execute(f"DELETE FROM {expand.TABLE_PREFIX}{table}")
    say("customers and CSMs")
    _append(cursor, "customers", _customer_rows(accounts))
    _append(cursor, "csm_assignments", _assignment_rows(csms))
    say("benchmarks and case studies")
    _append(cursor, "industry_benchmarks", benchmark_table())
    _append(cursor, "case_studies", case_study_table())
    cursor.register("demo_customer", customer_table(accounts))
    cursor.register("demo_channel", channel_table(accounts))
    batches = _batches(len(accounts))
    params = _window(as_of)
    for label, statement, keys in (
        ("engagement", expand.ENGAGEMENT, params),
        ("conversions", expand.CONVERSIONS, params),
        ("attributions", expand.ATTRIBUTIONS, {}),
    ):
        for number, (lo, hi) in enumerate(batches, start=1):
            say(f"{label} {number}/{len(batches)}")
            cursor.execute(statement, {**keys, "lo": lo, "hi": hi})
    cursor.unregister("demo_customer")
    cursor.unregister("demo_channel")


def _window(as_of: dt.date) -> dict[str, object]:
    """The dates the expansion statements work from."""
    start = as_of - dt.timedelta(days=DAYS)
    week = last_complete_week(as_of)
    return {
        "start": start,
        "start_epoch": (start - dt.date(1970, 1, 1)).days,
        "days": DAYS,
        "w_start": week.start,
        "w_end": week.end,
        "w_end_d": (week.end - start).days,
        "collapse_from": week.previous.start,
    }


def _batches(total: int) -> list[tuple[int, int]]:
    return [(lo, min(lo + BATCH_CUSTOMERS, total) - 1) for lo in range(0, total, BATCH_CUSTOMERS)]


def _append(cursor: duckdb.DuckDBPyConnection, table: str, data: pa.Table) -> None:
    names = ", ".join(data.column_names)
    cursor.register("demo_incoming", data)
    try:
        cursor.execute(
            f"INSERT INTO {expand.TABLE_PREFIX}{table} ({names}) SELECT {names} FROM demo_incoming"
        )
    finally:
        cursor.unregister("demo_incoming")


def _customer_rows(accounts: list[DemoCustomer]) -> pa.Table:
    return pa.table(
        {
            "customer_id": [c.customer_id for c in accounts],
            "customer_name": [c.name for c in accounts],
            "industry": [c.industry for c in accounts],
            "segment": [c.segment for c in accounts],
            "region": [c.region for c in accounts],
        }
    )


def _assignment_rows(csms: list[DemoCsm]) -> pa.Table:
    pairs = [(csm, customer_id) for csm in csms for customer_id in csm.customer_ids]
    return pa.table(
        {
            "csm_id": [csm.csm_id for csm, _ in pairs],
            "csm_name": [csm.name for csm, _ in pairs],
            "csm_email": [csm.email for csm, _ in pairs],
            "region": [csm.region for csm, _ in pairs],
            "slack_user_id": pa.nulls(len(pairs), pa.string()),
            "timezone": [csm.timezone for csm, _ in pairs],
            "customer_id": [customer_id for _, customer_id in pairs],
        }
    )


def _counts(cursor: duckdb.DuckDBPyConnection) -> dict[str, int]:
    sources = {
        "customers": "SELECT count(*) FROM {p}customers",
        "csms": "SELECT count(DISTINCT csm_id) FROM {p}csm_assignments",
        "conversions": "SELECT count(*) FROM {p}conversions",
        "attributions": "SELECT count(*) FROM {p}attributions",
        "engagement_rows": "SELECT count(*) FROM {p}historical_engagement",
        "benchmarks": "SELECT count(*) FROM {p}industry_benchmarks",
        "case_studies": "SELECT count(*) FROM {p}case_studies",
    }
    counts = {}
    for key, sql in sources.items():
        row = cursor.execute(sql.format(p=expand.TABLE_PREFIX)).fetchone()
        counts[key] = int(row[0]) if row else 0
    return counts


def _quiet(_message: str) -> None:
    pass
