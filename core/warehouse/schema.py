"""Where the schema lives: `sql/setup.sql` is the single source of every table.

`weekly-report setup-snowflake` runs the whole file on an account. The embedded warehouse
runs the same file minus the statements tagged `-- @account-only` (warehouse, stage, role,
grants): what remains creates the database, the schema and every table.
"""

from __future__ import annotations

import functools
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


@functools.cache
def declared_columns(path: Path = SCHEMA_FILE) -> frozenset[tuple[str, str, str]] | None:
    """Every (schema, table, column), lower-case, that the schema statements create or add; None
    when a statement does anything else (then only running the statements can set the schema up).

    The statements are all `IF NOT EXISTS`: where every one of these columns exists, running them
    changes nothing. Parsed once per process (sqlglot comes with fakesnow).
    """
    import sqlglot
    from sqlglot import exp

    columns: set[tuple[str, str, str]] = set()
    for sql in schema_statements(path):
        statement = sqlglot.parse_one(sql, read="snowflake")
        kind = str(statement.args.get("kind")).upper()
        if isinstance(statement, exp.Create) and kind in ("DATABASE", "SCHEMA"):
            continue
        # A backfill runs in the same pass as the ALTER that adds its column: where the
        # column exists, it has run.
        if isinstance(statement, exp.Update):
            continue
        if isinstance(statement, exp.Create) and kind == "TABLE" and isinstance(statement.this, exp.Schema):
            table, added = statement.this.this, statement.this.expressions
        elif isinstance(statement, exp.Alter):
            table, added = statement.this, statement.args.get("actions") or []
        else:
            return None
        if not all(isinstance(c, exp.ColumnDef) for c in added):
            return None
        columns.update((table.db.lower(), table.name.lower(), c.name.lower()) for c in added)
    return frozenset(columns)
