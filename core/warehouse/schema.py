"""Where the schema lives: `sql/schema.sql` is the single source of every table."""

from __future__ import annotations

from pathlib import Path

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"
SCHEMA_FILE = SQL_DIR / "schema.sql"
