"""Two generations of one report stored at once: one run wins whole (its report row and its
sections), whatever the interleaving, on the embedded warehouse and on fakesnow's server
through the real connector (two connections standing for two processes). Nothing relies on
constraints: Snowflake enforces none.

Each save runs in its own thread on a `Stepper`, which pauses the save after a chosen
number of warehouse calls until the test lets it go on; every pause point of one save
is combined with every pause point of the other."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

# Bound at import: calling it imports the submodule fakesnow.server, which replaces the name.
from fakesnow import server as fakesnow_server

from core import Warehouse, open_warehouse
from core.models import Report, SectionResult
from core.storage import ReportStore
from core.warehouse.embedded import EmbeddedWarehouse
from core.warehouse.merge import Upsert
from core.warehouse.schema import schema_statements
from core.weeks import Week
from tests.test_sql_setup import connections_toml, snowflake_settings

WEEK = Week(dt.date(2026, 11, 9))
REPORT_ID = "CUST_1-20261109"
KEYS = ("performance", "business_value", "recommendations")


class Stepper(Warehouse):
    """Another warehouse's calls, one step at a time: a statement, or a whole transaction, is a
    step. After `pause_at` steps the calling thread waits (holding no lock) until `go()`."""

    kind = "stepper"

    def __init__(self, inner: Warehouse, pause_at: int | None) -> None:
        super().__init__()
        self.inner, self.pause_at = inner, pause_at
        self.lock = inner.lock  # one connection: its transactions are not interleaved
        self.steps, self.depth = 0, 0
        self.paused, self._go = threading.Event(), threading.Event()

    def go(self) -> None:
        self._go.set()

    def _step(self) -> None:
        """Before each step outside a transaction: pause once `pause_at` steps are done."""
        if self.depth:
            return
        if self.steps == self.pause_at:
            self.paused.set()
            assert self._go.wait(60), "the test never let the save go on"
        self.steps += 1

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self._step()
        self.depth += 1
        try:
            with super().transaction():
                yield
        finally:
            self.depth -= 1

    def fetch(self, sql: str, params: Sequence[Any] = ()) -> tuple[list[str], list[tuple[Any, ...]]]:
        self._step()
        return self.inner.fetch(sql, params)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        self._step()
        return self.inner.execute(sql, params)

    def insert_rows(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> int:
        self._step()
        return self.inner.insert_rows(table, columns, rows)

    def upsert(self, upsert: Upsert, rows: Sequence[Sequence[Any]]) -> None:
        self._step()
        self.inner.upsert(upsert, rows)

    def close(self) -> None:
        pass


def report(generation: str, status: str = "complete") -> Report:
    sections = [
        SectionResult(key, key.title(), i, f"{key} by {generation}", 100 + i, "complete")
        for i, key in enumerate(KEYS, 1)
    ]
    return Report(
        REPORT_ID, "CSM001", "CUST_1", "One", "Retail", WEEK, status, sections, None,
        f"thread-{generation}", 103, dt.datetime(2026, 11, 16), f"full report by {generation}",
        {"customer_name": "One"},
    )  # fmt: skip


class Save:
    """One save of one generation, run in a thread that stops at `pause_at`."""

    def __init__(self, warehouse: Warehouse, generation: str, pause_at: int | None) -> None:
        self.stepper = Stepper(warehouse, pause_at)
        self.generation = generation
        self.done = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name=f"save-{generation}", daemon=True)

    def _run(self) -> None:
        try:
            ReportStore(self.stepper).save([report(self.generation)], refresh=True)
        except BaseException as exc:  # surfaced by finish()
            self.error = exc
        finally:
            self.done.set()
            self.stepper.paused.set()

    def start(self) -> Save:
        """Run until the pause point (or the end)."""
        self.thread.start()
        assert self.stepper.paused.wait(60)
        return self

    def finish(self) -> None:
        self.stepper.go()
        self.thread.join(60)
        assert self.done.is_set() and self.error is None, self.error


def interleave(first: Warehouse, second: Warehouse, a_pause: int, b_pause: int) -> None:
    """A takes `a_pause` steps; B takes `b_pause` steps; A finishes; B finishes."""
    a = Save(first, "A", a_pause).start()
    b = Save(second, "B", b_pause).start()
    a.finish()
    b.finish()


def assert_one_winner(warehouse: Warehouse) -> str:
    """The stored report and every section row (as users query them, by report_id) are one run's."""
    [row] = warehouse.query(
        "SELECT agent_thread_id, full_report FROM weekly_reports WHERE report_id = ?", [REPORT_ID]
    )
    winner = str(row["agent_thread_id"]).removeprefix("thread-")
    assert row["full_report"] == f"full report by {winner}"
    sections = warehouse.query(
        "SELECT section_key, content FROM report_sections WHERE report_id = ? ORDER BY position", [REPORT_ID]
    )
    assert [(s["section_key"], s["content"]) for s in sections] == [(k, f"{k} by {winner}") for k in KEYS]
    loaded = ReportStore(warehouse).load("CUST_1", WEEK)
    assert {s.content for s in loaded.sections} == {f"{k} by {winner}" for k in KEYS}
    return winner


def steps_of_one_save(warehouse: Warehouse) -> int:
    stepper = Stepper(warehouse, None)
    ReportStore(stepper).save([report("probe")], refresh=True)
    return stepper.steps


def clear(warehouse: Warehouse) -> None:
    warehouse.execute("DELETE FROM weekly_reports")
    warehouse.execute("DELETE FROM report_sections")


STEPS = 4  # of one save: the MERGE, reading the rows back, the sections' transaction, the last delete


def test_a_save_takes_the_steps_the_interleavings_cover(empty_home: Path) -> None:
    with EmbeddedWarehouse(empty_home) as warehouse:
        assert steps_of_one_save(warehouse) == STEPS


def distinct_pauses(a_pause: int) -> list[int]:
    """B's pause points that, with A's `a_pause`, make a distinct order of steps.

    The order is A[:a], B[:b], A[a:], B[b:]. With b = 0, or with a = STEPS (A has no step left
    to pause before), it is A whole then B whole, for any a or b: those 9 pairs are one order,
    run once, as (STEPS, 0). The other 16 pairs are all distinct orders, and all run."""
    if a_pause == STEPS:
        return [0]
    return list(range(1, STEPS + 1))


def test_the_interleavings_run_are_every_distinct_order_of_steps_once() -> None:
    def order(a: int, b: int) -> tuple[str, ...]:
        return (*[f"A{i}" for i in range(a)], *[f"B{i}" for i in range(b)],
                *[f"A{i}" for i in range(a, STEPS)], *[f"B{i}" for i in range(b, STEPS)])  # fmt: skip

    every = {order(a, b) for a in range(STEPS + 1) for b in range(STEPS + 1)}
    run = [order(a, b) for a in range(STEPS + 1) for b in distinct_pauses(a)]
    assert len(run) == len(set(run)) and set(run) == every


def check_every_interleaving(first: Warehouse, second: Warehouse, a_pause: int) -> set[str]:
    """A paused after `a_pause` steps, B after each number of steps in turn that makes a new
    order (split by `a_pause` so that the interleavings run on several test workers)."""
    winners = set()
    for b_pause in distinct_pauses(a_pause):
        clear(first)
        ReportStore(first).save([report("old")], refresh=True)  # a report delivered earlier
        interleave(first, second, a_pause, b_pause)
        try:
            winners.add(assert_one_winner(first))
        except AssertionError as exc:
            raise AssertionError(f"A paused after {a_pause} steps, B after {b_pause}: {exc}") from exc
    return winners


@pytest.fixture
def embedded(empty_home: Path) -> Iterator[EmbeddedWarehouse]:
    with EmbeddedWarehouse(empty_home) as warehouse:
        yield warehouse


def test_a_save_paused_before_its_report_row_loses_its_sections_on_the_embedded_warehouse(
    embedded: Warehouse,
) -> None:
    """The order that broke: A stores its sections, B stores everything, A stores its row."""
    interleave(embedded, embedded, 1, 1000)
    assert_one_winner(embedded)


@pytest.mark.parametrize("a_pause", range(STEPS + 1))
def test_every_interleaving_of_two_saves_has_one_winner_on_the_embedded_warehouse(
    embedded: Warehouse, a_pause: int
) -> None:
    assert check_every_interleaving(embedded, embedded, a_pause) <= {"A", "B"}


@pytest.fixture(scope="module")
def server() -> Iterator[dict[str, Any]]:
    with fakesnow_server() as kwargs:
        yield kwargs


def _columns(warehouse: Warehouse) -> list[tuple[str, str]]:
    rows = warehouse.query(
        "SELECT LOWER(table_name) AS t, LOWER(column_name) AS c FROM information_schema.columns "
        "WHERE LOWER(table_schema) = 'analytics' ORDER BY 1, 2"
    )
    return [(r["t"], r["c"]) for r in rows]


_FRESH: dict[int, list[tuple[str, str]]] = {}  # server port -> the columns setup.sql made there


@contextmanager
def two_connections(
    server: dict[str, Any], tmp_path: Path, fresh: bool
) -> Iterator[tuple[Warehouse, Warehouse]]:
    """Two connections to the server's one database, its schema as setup.sql makes it, empty.

    `fresh`: dropped and made again (a test that alters the schema). Otherwise the schema a test
    before left is emptied when its columns are setup.sql's (~0.2 s of CPU through fakesnow, where
    making it again costs ~0.9 s), and made again only when they are not."""
    settings = snowflake_settings(connections_toml(tmp_path, int(server["port"]), None))
    first, second = open_warehouse(settings), open_warehouse(settings)
    port = int(server["port"])

    def reset() -> None:  # fakesnow has no DROP DATABASE; its shared database outlives a test
        first.execute("CREATE DATABASE IF NOT EXISTS CUSTOMER_SUCCESS_DATA")
        first.execute("DROP SCHEMA IF EXISTS CUSTOMER_SUCCESS_DATA.ANALYTICS CASCADE")

    first.execute("CREATE DATABASE IF NOT EXISTS CUSTOMER_SUCCESS_DATA")
    if not fresh and port in _FRESH and _columns(first) == _FRESH[port]:
        for table in sorted({t for t, _ in _FRESH[port]}):
            first.execute(f"DELETE FROM {table}")
    else:
        reset()
        for statement in schema_statements():
            first.execute(statement)
        _FRESH[port] = _columns(first)
    try:
        yield first, second
    finally:
        if fresh:
            reset()
        first.close()
        second.close()


def _without_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def two_processes(
    server: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Warehouse, Warehouse]]:
    _without_proxies(monkeypatch)
    with two_connections(server, tmp_path, fresh=False) as pair:
        yield pair


@pytest.fixture
def two_processes_fresh(
    server: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Warehouse, Warehouse]]:
    _without_proxies(monkeypatch)
    with two_connections(server, tmp_path, fresh=True) as pair:
        yield pair


def test_a_save_paused_before_its_report_row_loses_its_sections_on_snowflake(
    two_processes: tuple[Warehouse, Warehouse],
) -> None:
    first, second = two_processes
    interleave(first, second, 1, 1000)
    assert_one_winner(first)


@pytest.mark.parametrize("a_pause", range(STEPS + 1))
def test_every_interleaving_of_two_saves_has_one_winner_on_snowflake(
    two_processes: tuple[Warehouse, Warehouse], a_pause: int
) -> None:
    first, second = two_processes
    assert check_every_interleaving(first, second, a_pause) <= {"A", "B"}


# --- warehouses created before generations ---------------------------------------------------

GENERATION_TABLES = ("weekly_reports", "weekly_reports_stage", "report_sections")


def make_previous_schema(warehouse: Warehouse) -> None:
    """The tables as the release before generations created them, holding one report."""
    for table in GENERATION_TABLES:
        warehouse.execute(f"ALTER TABLE {table} DROP COLUMN generation_id")
    warehouse.execute(
        "INSERT INTO weekly_reports (report_id, csm_id, customer_id, report_week_start, report_week_end, "
        "full_report, generation_timestamp, status, agent_thread_id, last_message_id) VALUES "
        "(?, 'CSM001', 'CUST_1', '2026-11-09', '2026-11-15', 'full report by old', '2026-11-16 08:00', "
        "'complete', 'thread-old', 103)",
        [REPORT_ID],
    )
    for i, key in enumerate(KEYS, 1):
        warehouse.execute(
            "INSERT INTO report_sections (report_id, section_key, position, title, content, agent_message_id, "
            "status) VALUES (?, ?, ?, ?, ?, ?, 'complete')",
            [REPORT_ID, key, i, key.title(), f"{key} by old", 100 + i],
        )


def generation_columns(warehouse: Warehouse) -> set[str]:
    rows = warehouse.query(
        "SELECT LOWER(table_name) AS t FROM information_schema.columns "
        "WHERE LOWER(column_name) = 'generation_id' AND LOWER(table_schema) = 'analytics'"
    )
    return {r["t"] for r in rows}


def check_upgraded(warehouse: Warehouse) -> None:
    assert generation_columns(warehouse) == set(GENERATION_TABLES)
    assert assert_one_winner(warehouse) == "old"  # the report from before still reads whole
    ReportStore(warehouse).save([report("new")], refresh=True)
    assert assert_one_winner(warehouse) == "new"


def test_an_embedded_warehouse_from_before_generations_gains_the_column(empty_home: Path) -> None:
    home = empty_home  # a copy of setup.sql's schema, made once per run
    with EmbeddedWarehouse(home) as warehouse:
        make_previous_schema(warehouse)
        assert generation_columns(warehouse) == set()
    with EmbeddedWarehouse(home) as warehouse:  # opening runs setup.sql again
        check_upgraded(warehouse)


def test_a_snowflake_account_from_before_generations_gains_the_column(
    two_processes_fresh: tuple[Warehouse, Warehouse],
) -> None:
    first, _ = two_processes_fresh
    make_previous_schema(first)
    assert generation_columns(first) == set()
    for statement in schema_statements():  # `weekly-report setup-snowflake` again
        first.execute(statement)
    check_upgraded(first)
