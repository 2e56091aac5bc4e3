"""A demo load's transaction, under a temporary cap on DuckDB's memory limit (which is global
to the database instance)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

from core.errors import WarehouseError
from core.warehouse.embedded import EmbeddedWarehouse

# DuckDB caches written blocks up to its memory limit, 80 % of RAM by default; a large load
# would keep gigabytes resident for nothing, so a load runs under this cap.
LOAD_MEMORY_LIMIT_MIB = 768


@contextmanager
def memory_capped(cursor: duckdb.DuckDBPyConnection, mib: int) -> Iterator[None]:
    """Lower DuckDB's memory limit to `mib` for the duration, unless it is lower already."""
    previous = _memory_limit(cursor)
    if _mebibytes(previous) <= mib:
        yield
        return
    cursor.execute(f"SET memory_limit = '{mib}MiB'")
    try:
        yield
    finally:
        # The setting reads back rounded ('18.8 GiB'): RESET restores the default exactly.
        cursor.execute("RESET memory_limit")
        if _memory_limit(cursor) != previous:
            cursor.execute(f"SET memory_limit = '{previous}'")


def _memory_limit(cursor: duckdb.DuckDBPyConnection) -> str:
    row = cursor.execute("SELECT current_setting('memory_limit')").fetchone()
    return str(row[0]) if row else ""


_UNITS = {"": 1 / 2**20, "k": 1 / 1024, "m": 1, "g": 1024, "t": 1024**2}


def _mebibytes(setting: str) -> float:
    """'18.8 GiB' -> 19251.2; unknown formats count as unlimited."""
    match = re.fullmatch(r"\s*([\d.]+)\s*([kmgt]?)i?b?\s*", setting.lower())
    if not match:
        return float("inf")
    return float(match.group(1)) * _UNITS[match.group(2)]


@contextmanager
def load_transaction(warehouse: EmbeddedWarehouse, what: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """A native cursor in one transaction, under LOAD_MEMORY_LIMIT_MIB: committed when the block
    ends, rolled back if it raises; a DuckDB error becomes WarehouseError("<what> failed: ...")."""
    with warehouse.lock:
        cursor = warehouse.native.cursor()
        try:
            with memory_capped(cursor, LOAD_MEMORY_LIMIT_MIB):
                cursor.execute("BEGIN")
                try:
                    yield cursor
                except BaseException:
                    cursor.execute("ROLLBACK")
                    raise
                cursor.execute("COMMIT")
        except duckdb.Error as exc:
            raise WarehouseError(f"{what} failed: {exc}") from exc
        finally:
            cursor.close()
