"""The warehouse seam: one interface, an embedded and a Snowflake implementation."""

from __future__ import annotations

from pathlib import Path

from core.errors import WarehouseLocked
from core.settings import Settings
from core.warehouse.base import DATABASE, SCHEMA, Portable, Row, Warehouse, variant
from core.warehouse.schema import SCHEMA_FILE, SQL_DIR

__all__ = [
    "DATABASE",
    "SCHEMA",
    "SCHEMA_FILE",
    "SQL_DIR",
    "Portable",
    "Row",
    "Warehouse",
    "open_embedded",
    "open_warehouse",
    "variant",
]


def open_warehouse(settings: Settings, borrow: bool = True) -> Warehouse:
    """The warehouse the settings choose.

    When the embedded one is held by a `bot` or `console` that shares it, `borrow` connects
    through that process's server (core/warehouse/shared.py); without `borrow` (a process
    that needs the files to itself) that is a WarehouseLocked naming the holder.
    """
    if settings.backend == "snowflake":
        from core.warehouse.snowflake import SnowflakeWarehouse

        overrides = {}
        if settings.snowflake_connections_file:
            overrides["connections_file_path"] = settings.snowflake_connections_file
        return SnowflakeWarehouse(settings.snowflake_connection_name, **overrides)
    return open_embedded(settings.home, borrow)


def open_embedded(home: Path, borrow: bool) -> Warehouse:
    """The embedded warehouse in `home`, or the holder's served one (see open_warehouse)."""
    from core.warehouse.embedded import EmbeddedWarehouse
    from core.warehouse.shared import endpoint_of

    try:
        return EmbeddedWarehouse(home)
    except WarehouseLocked as locked:
        endpoint = endpoint_of(home, locked)
        if endpoint is None:
            raise
        if not borrow:
            raise WarehouseLocked(
                f"a running `weekly-report bot` or `console` (pid {endpoint.pid}) holds the embedded "
                f"warehouse in {home}; stop it or use its Slack/console, or set WEEKLY_REPORT_BACKEND=snowflake",
                holder=endpoint.pid,
            ) from locked
        return endpoint.connect()
