"""Where the schema lives: `sql/setup.sql` is the single source of every table.

`weekly-report setup-snowflake` runs the whole file on an account. The embedded warehouse
runs the same file minus the statements tagged `-- @account-only` (warehouse, stage, role,
grants): what remains creates the database, the schema and every table.
"""

from __future__ import annotations

from pathlib import Path

from core.warehouse.base import Statement, scan_statements

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"
SCHEMA_FILE = SQL_DIR / "setup.sql"
ACCOUNT_ONLY = "account-only"


def setup_statements(path: Path = SCHEMA_FILE) -> list[Statement]:
    """Every statement of setup.sql, in order, with its tags."""
    return scan_statements(path.read_text())


def schema_statements(path: Path = SCHEMA_FILE) -> list[str]:
    """The statements of setup.sql that create the database, schema and tables, in order."""
    return [s.sql for s in setup_statements(path) if ACCOUNT_ONLY not in s.tags]


def file_statements(name: str) -> list[Statement]:
    """The statements of one file of sql/, in order, with their tags."""
    return scan_statements((SQL_DIR / name).read_text())
