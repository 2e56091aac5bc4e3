"""The embedded warehouse: Snowflake SQL on DuckDB files through fakesnow, no account needed."""

from __future__ import annotations

import datetime as dt
import re
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa
import snowflake.connector.errors
from fakesnow.instance import FakeSnow

from core.errors import ConfigError, WarehouseError, WarehouseLocked
from core.warehouse.base import DATABASE, SCHEMA, Portable, Warehouse
from core.warehouse.merge import Upsert
from core.warehouse.schema import declared_columns, schema_statements
from core.warehouse.translations import TRANSLATIONS

if TYPE_CHECKING:
    from core.warehouse.shared import Sharing

# DuckDB's own memory (buffer cache, hash tables) per warehouse. The file's pages stay in the
# operating system's cache, so a larger buffer cache buys little: a 10,000-customer run took
# as long at 128 MiB as at 384 MiB (21-24 s), with a peak RSS 240 MB lower.
MEMORY_LIMIT_MIB = 192
# Bulk loads bypass DuckDB's write-ahead log: their rows go to the file uncompressed and are
# compressed at the next checkpoint, which DuckDB would otherwise leave to close() (3-4 s at
# the end of a 10,000-report run). Checkpointing every this many bytes loaded spreads that
# work over the run, on the thread that writes, while reports are still being built.
CHECKPOINT_EVERY_BYTES = 128 << 20

# fakesnow asks DuckDB for an Arrow result of every query, which DuckDB 2 warns about.
warnings.filterwarnings("ignore", message="Arrow output on a DB-API result", category=UserWarning)


class EmbeddedWarehouse(Warehouse):
    """DuckDB files under `home`, spoken to in Snowflake SQL through fakesnow.

    DuckDB admits one writing process per file: a second process gets WarehouseLocked.
    Bulk inserts and upserts bypass fakesnow's per-statement transpiling: they run natively
    in DuckDB over an Arrow table. So do `Portable` statements (the delivery ledger's), on a
    DuckDB connection of their own: about 0.5 ms each instead of 10-100 ms. Inside
    `transaction()`, whose BEGIN is on fakesnow's connection, they go through fakesnow so
    that they belong to the transaction.
    """

    kind = "embedded"

    def __init__(self, home: Path, memory_limit_mib: int = MEMORY_LIMIT_MIB) -> None:
        super().__init__()
        self.home = Path(home)
        _make_home(self.home)
        try:
            self._fakesnow = FakeSnow(db_path=self.home)
            # DuckDB's default (80% of RAM) would let its cache grow with every scan of a
            # long-running bot; above the limit it evicts and spills to disk instead.
            self._fakesnow.duck_conn.execute(f"SET memory_limit = '{int(memory_limit_mib)}MiB'")
            # Attaches the database's file (creating it, and the schema, if new).
            self._conn = self._fakesnow.connect(database=DATABASE, schema=SCHEMA, paramstyle="qmark")
            self._cursor = self._conn.cursor()
            # setup.sql through fakesnow takes ~0.5 s (transpiling), a cost on every command and
            # test: skipped when every table and column it declares is already there.
            if not self._schema_in_place():
                for statement in schema_statements():
                    self.execute(statement)
            self._loaded_bytes = 0  # bulk-loaded since the last checkpoint
            self._portable = self.native.cursor()  # Portable statements' own DuckDB connection
            self._transactions = 0  # open transaction() blocks (Portable then goes through fakesnow)
        except duckdb.IOException as exc:
            raise _locked_or_failed(exc, self.home) from exc
        except duckdb.Error as exc:
            raise disk_full(exc, self.home) or WarehouseError(
                f"cannot open the embedded warehouse in {self.home}: {_one_line(str(exc))}"
            ) from exc

    @property
    def native(self) -> duckdb.DuckDBPyConnection:
        """The DuckDB connection under fakesnow, for bulk loads that need no transpiling."""
        return self._fakesnow.duck_conn

    def share(self) -> Sharing:
        """Serve this warehouse to local processes (see core/warehouse/shared.py) until the
        returned Sharing is stopped."""
        from core.warehouse.shared import Sharing

        return Sharing(self._fakesnow, self.home).start()

    def fetch(self, sql: str, params: Sequence[Any] = ()) -> tuple[list[str], list[tuple[Any, ...]]]:
        with self.lock:
            if self._natively(sql):
                cursor = self._run_native(sql, params)
                columns = [str(d[0]) for d in cursor.description or []]
                return columns, [tuple(r) for r in cursor.fetchall()] if columns else []
            self._run(sql, params)
            columns = result_columns(self._cursor)
            return columns, [tuple(r) for r in self._cursor.fetchall()] if columns else []

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        with self.lock:
            if self._natively(sql):
                return max(self._run_native(sql, params).rowcount or 0, 0)
            self._run(sql, params)
            return max(self._cursor.rowcount or 0, 0)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self.lock, super().transaction():
            self._transactions += 1
            try:
                yield
            finally:
                self._transactions -= 1

    def insert_rows(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> int:
        if not rows:
            return 0
        return self.insert_arrow(table, _arrow(columns, rows))

    def insert_arrow(self, table: str, data: pa.Table) -> int:
        """Append an Arrow table whose column names match `table`'s."""
        _check_identifier(table, *data.column_names)
        names = ", ".join(data.column_names)
        sql = f"INSERT INTO {DATABASE}.{SCHEMA}.{table} ({names}) SELECT {names} FROM _incoming"
        self._native_from(data, sql, (), f"bulk insert into {table}")
        return data.num_rows

    def upsert(self, upsert: Upsert, rows: Sequence[Sequence[Any]]) -> None:
        """One native DuckDB MERGE straight from the rows, with no stage table."""
        if not rows:
            return
        _check_identifier(upsert.table, *upsert.columns, *([upsert.stamp] if upsert.stamp else []))
        sql = upsert.merge_sql("_incoming", "CAST(? AS TIMESTAMP)", parse_json="CAST({} AS JSON)")
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        stamps = (now, now) if upsert.stamp else ()  # once for the update, once for the insert
        self._native_from(_arrow(upsert.columns, rows), sql, stamps, f"bulk merge into {upsert.table}")

    def _native_from(self, data: pa.Table, sql: str, params: Sequence[Any], what: str) -> None:
        """Run `sql` natively in DuckDB with `data` readable as `_incoming`."""
        with self.lock:
            cursor = self.native.cursor()
            try:
                cursor.register("_incoming", data)
                cursor.execute(sql, list(params))
                self._loaded_bytes += data.nbytes
                if self._loaded_bytes >= CHECKPOINT_EVERY_BYTES:
                    cursor.execute(f"CHECKPOINT {DATABASE}")
                    self._loaded_bytes = 0
            except duckdb.Error as exc:
                raise disk_full(exc, self.home) or WarehouseError(
                    f"{what} failed: {_one_line(str(exc))}"
                ) from exc
            finally:
                cursor.close()

    def close(self) -> None:
        with self.lock:
            try:
                self._portable.close()
                self._fakesnow.duck_conn.close()  # checkpoints: writes the log into the file
            except duckdb.Error as exc:
                raise disk_full(exc, self.home) or WarehouseError(_one_line(str(exc))) from exc

    def _schema_in_place(self) -> bool:
        declared = declared_columns()
        if declared is None:
            return False
        present = self.native.execute(
            "SELECT lower(table_schema), lower(table_name), lower(column_name) "
            "FROM information_schema.columns WHERE upper(table_catalog) = ?",
            [DATABASE.upper()],
        ).fetchall()
        return declared <= {tuple(row) for row in present}

    def _natively(self, sql: str) -> bool:
        return isinstance(sql, Portable) and not self._transactions

    def _run_native(self, sql: str, params: Sequence[Any]) -> duckdb.DuckDBPyConnection:
        """Run a Portable statement in DuckDB as written (its `?` are DuckDB's too)."""
        try:
            return self._portable.execute(sql, list(params))
        except duckdb.IOException as exc:
            raise disk_full(exc, self.home) or _locked_or_failed(exc, self.home) from exc
        except duckdb.Error as exc:
            raise disk_full(exc, self.home) or WarehouseError(_one_line(str(exc))) from exc

    def _run(self, sql: str, params: Sequence[Any]) -> None:
        try:
            TRANSLATIONS.run(self._cursor, sql, params)
            # fakesnow keeps every statement's result and parsed SQL, for RESULT_SCAN, which
            # nothing here uses: kept, a long-running bot grew by about 1,600 objects per
            # request, and its garbage collections (all threads stopped) to over 250 ms.
            self._fakesnow.results_cache.clear()
        except snowflake.connector.errors.Error as exc:
            text = _one_line(getattr(exc, "msg", None) or str(exc))
            raise disk_full(exc, self.home) or WarehouseError(text) from exc
        except duckdb.IOException as exc:
            raise disk_full(exc, self.home) or _locked_or_failed(exc, self.home) from exc
        except duckdb.Error as exc:
            raise disk_full(exc, self.home) or WarehouseError(_one_line(str(exc))) from exc


def result_columns(cursor: Any) -> list[str]:
    """The column names of the result fakesnow's `cursor` holds.

    Not `cursor.description`: fakesnow works that out again on every read, by parsing
    `DESCRIBE <the statement>` with sqlglot and running it in DuckDB (about 70 ms for the EBR
    snapshot query, a quarter of a report run's time). The Arrow table it already holds has
    the same names (tests/test_translations.py checks); `description` stays the fallback.
    """
    table = getattr(cursor, "_arrow_table", None)
    if table is None:
        return [d.name for d in cursor.description or []]
    return [str(name) for name in table.column_names]


def _arrow(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> pa.Table:
    return pa.table({c: [r[i] for r in rows] for i, c in enumerate(columns)})


_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _check_identifier(*names: str) -> None:
    for name in names:
        if not _IDENTIFIER.match(name):
            raise WarehouseError(f"not a plain identifier: {name!r}")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _make_home(home: Path) -> None:
    """Create the warehouse folder, or say in one line why it cannot be."""
    if home.exists() and not home.is_dir():
        raise ConfigError(
            f"WEEKLY_REPORT_HOME ({home}) is a file, not a folder; set WEEKLY_REPORT_HOME to a folder "
            "(it is created if missing)"
        )
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot create WEEKLY_REPORT_HOME ({home}): {exc.strerror or exc}; "
            "set WEEKLY_REPORT_HOME to a folder you can write"
        ) from exc


# How the operating system's "disk full" (ENOSPC) reaches DuckDB's messages, whichever the
# exception class: an IO error on a write, or a failed commit of the write-ahead log.
_NO_SPACE = re.compile(r'Could not write file "([^"]+)": No space left on device|No space left on device')


def disk_full(exc: Exception, home: Path) -> WarehouseError | None:
    """A WarehouseError saying the disk is full and where, when `exc` is DuckDB out of space."""
    found = _NO_SPACE.search(str(getattr(exc, "msg", None) or exc))
    if found is None:
        return None
    what = found.group(1) or "its files"
    return WarehouseError(
        f"the disk holding the embedded warehouse ({home}) is full: DuckDB could not write {what}; "
        "free some space there, or set WEEKLY_REPORT_HOME to a folder on a disk with room"
    )


def _locked_or_failed(exc: duckdb.IOException, home: Path) -> WarehouseError:
    text = str(exc)
    if "lock" in text.lower():
        holder = re.search(r"PID (\d+)", text)
        who = f" (process {holder.group(1)})" if holder else ""
        return WarehouseLocked(
            f"the embedded warehouse in {home} is in use by another process{who}, "
            "for example a running `weekly-report bot`; stop it, or set WEEKLY_REPORT_HOME "
            "to another folder",
            holder=int(holder.group(1)) if holder else None,
        )
    return WarehouseError(f"cannot open the embedded warehouse in {home}: {_one_line(text)}")
