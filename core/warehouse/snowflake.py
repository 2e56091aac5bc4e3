"""The production warehouse: Snowflake through snowflake-connector-python."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import snowflake.connector
import snowflake.connector.errors

from core.errors import ConfigError, WarehouseError
from core.warehouse.base import DATABASE, SCHEMA, Warehouse


class SnowflakeWarehouse(Warehouse):
    """A connector connection chosen by name from connections.toml.

    `paramstyle="qmark"` makes the server bind parameters; `executemany` sends one array
    binding per batch instead of one request per row.
    """

    kind = "snowflake"

    def __init__(self, connection_name: str | None, **overrides: Any) -> None:
        super().__init__()
        options: dict[str, Any] = {"paramstyle": "qmark", "database": DATABASE, "schema": SCHEMA}
        if connection_name:
            options["connection_name"] = connection_name
        options.update(overrides)
        try:
            self._conn = snowflake.connector.connect(**options)
        except snowflake.connector.errors.Error as exc:
            raise WarehouseError(
                f"cannot connect to Snowflake{_which(connection_name)}: {_message(exc)}"
            ) from exc
        except (KeyError, ValueError, OSError) as exc:
            raise ConfigError(
                f"Snowflake connection{_which(connection_name)} is not usable ({type(exc).__name__}: "
                f"{exc}); check ~/.snowflake/connections.toml"
            ) from exc

    def fetch(self, sql: str, params: Sequence[Any] = ()) -> tuple[list[str], list[tuple[Any, ...]]]:
        with self.lock, self._conn.cursor() as cursor:
            self._run(cursor, sql, params)
            columns = [d.name for d in cursor.description or []]
            return columns, [tuple(r) for r in cursor.fetchall()] if columns else []

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        with self.lock, self._conn.cursor() as cursor:
            self._run(cursor, sql, params)
            return max(cursor.rowcount or 0, 0)

    def insert_rows(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> int:
        if not rows:
            return 0
        marks = ", ".join("?" for _ in columns)
        sql = f"INSERT INTO {DATABASE}.{SCHEMA}.{table} ({', '.join(columns)}) VALUES ({marks})"
        with self.lock, self._conn.cursor() as cursor:
            try:
                cursor.executemany(sql, [tuple(r) for r in rows])
            except snowflake.connector.errors.Error as exc:
                raise WarehouseError(f"bulk insert into {table} failed: {_message(exc)}") from exc
        return len(rows)

    def close(self) -> None:
        with self.lock:
            self._conn.close()

    @staticmethod
    def _run(cursor: Any, sql: str, params: Sequence[Any]) -> None:
        try:
            cursor.execute(sql, tuple(params) if params else None)
        except snowflake.connector.errors.Error as exc:
            raise WarehouseError(_message(exc)) from exc


def _which(name: str | None) -> str:
    return f" '{name}'" if name else ""


def _message(exc: Exception) -> str:
    text = getattr(exc, "msg", None) or str(exc)
    return " ".join(str(text).split())
