"""The warehouse seam: one interface, an embedded and a Snowflake implementation."""

from __future__ import annotations

from core.settings import Settings
from core.warehouse.base import DATABASE, SCHEMA, Row, Warehouse, variant
from core.warehouse.schema import SCHEMA_FILE, SQL_DIR

__all__ = ["DATABASE", "SCHEMA", "SCHEMA_FILE", "SQL_DIR", "Row", "Warehouse", "open_warehouse", "variant"]


def open_warehouse(settings: Settings) -> Warehouse:
    """The warehouse the settings choose."""
    if settings.backend == "snowflake":
        from core.warehouse.snowflake import SnowflakeWarehouse

        overrides = {}
        if settings.snowflake_connections_file:
            overrides["connections_file_path"] = settings.snowflake_connections_file
        return SnowflakeWarehouse(settings.snowflake_connection_name, **overrides)
    from core.warehouse.embedded import EmbeddedWarehouse

    return EmbeddedWarehouse(settings.home)
