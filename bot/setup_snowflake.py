"""`weekly-report setup-snowflake`: create weekly-report's objects in the configured Snowflake account.

Runs the files of sql/ in order, one statement at a time, printing each as it goes:

1. setup.sql: warehouse, database, schema, tables, the semantic-model stage, the bot's role
2. executive_review_semantic_model.yaml: uploaded to that stage with PUT
3. coaching_semantic_model.yaml: the sales-coaching review's, uploaded the same way
4. case_study_search.sql: the Cortex Search service over case studies
5. agent.sql: the Cortex Agent that writes the executive business reviews
6. coaching_agent.sql: the Cortex Agent that writes the sales-coaching reviews
7. setup_weekly_task.sql: the report procedure and its Monday task (created suspended)

Optional, only with `--only row_access_policy.sql`: a row access policy on the customer
tables for accounts where each CSM queries as their own role (see the README, Security).

Every statement is idempotent, so after a failure the run is fixed and started again.
`--dry-run` prints the statements as one script and connects to nothing.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from core import Warehouse, load_settings, open_warehouse
from core.errors import ConfigError, InputError, WarehouseError
from core.warehouse.base import ANALYTICS
from core.warehouse.schema import ACCOUNT_ONLY, SQL_DIR, file_statements

SEMANTIC_MODEL = "executive_review_semantic_model.yaml"
COACHING_MODEL = "coaching_semantic_model.yaml"
SEMANTIC_MODELS = (SEMANTIC_MODEL, COACHING_MODEL)  # uploaded with PUT, not run
MODEL_STAGE = f"@{ANALYTICS}.SEMANTIC_MODELS"
SCHEMA_FILE = "setup.sql"
DEFAULT_FILES = (
    SCHEMA_FILE, SEMANTIC_MODEL, COACHING_MODEL, "case_study_search.sql", "agent.sql", "coaching_agent.sql",
    "setup_weekly_task.sql",
)  # fmt: skip
# Optional: run only when `--only` names it (accounts where each CSM queries as their own role).
ROW_ACCESS_POLICY = "row_access_policy.sql"
FILES = (*DEFAULT_FILES, ROW_ACCESS_POLICY)


@dataclass(frozen=True)
class Step:
    """One statement to run; `skip` says why it is left out, if it is."""

    file: str
    sql: str
    skip: str | None = None

    @property
    def summary(self) -> str:
        text = " ".join(self.sql.split())
        return text if len(text) <= 90 else text[:89] + "…"


def add_parser(subparsers: Any) -> None:
    """Register `setup-snowflake` on the CLI's subparsers."""
    p = subparsers.add_parser(
        "setup-snowflake",
        help="create the warehouse, tables, semantic model, search service, agent and weekly task in Snowflake",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--dry-run", action="store_true", help="print every statement in order; change nothing")
    p.add_argument(
        "--only", metavar="FILE", type=_file_name, help=f"run one file of sql/: {', '.join(FILES)}"
    )
    p.add_argument(
        "--schema-only",
        action="store_true",
        help=f"run only the database, schema and table statements of {SCHEMA_FILE} (what the embedded "
        f"warehouse runs), skipping those tagged @{ACCOUNT_ONLY}: warehouse, stage, role, grants",
    )
    p.set_defaults(handler=setup_snowflake)


def setup_snowflake(args: argparse.Namespace) -> int:
    steps = plan(args.only, args.schema_only)
    if args.dry_run:
        print_script(steps, sys.stdout)
        return 0
    settings = load_settings()
    if settings.backend != "snowflake":
        raise ConfigError(
            "`setup-snowflake` creates objects in a Snowflake account: set WEEKLY_REPORT_BACKEND=snowflake "
            "and SNOWFLAKE_CONNECTION_NAME to a connection whose role may create warehouses, roles and "
            "grants (or use --dry-run to see the statements)"
        )
    with open_warehouse(settings) as warehouse:
        run(warehouse, steps, sys.stdout)
    return 0


def plan(only: str | None = None, schema_only: bool = False) -> list[Step]:
    """The statements to run, in order."""
    if schema_only and only not in (None, SCHEMA_FILE):
        raise InputError(f"--schema-only applies to {SCHEMA_FILE} only, not to {only}")
    files = [SCHEMA_FILE] if schema_only else [only] if only else list(DEFAULT_FILES)
    steps: list[Step] = []
    for name in files:
        if name in SEMANTIC_MODELS:
            steps.append(Step(name, put_statement(SQL_DIR / name)))
            continue
        for statement in file_statements(name):
            skip = f"@{ACCOUNT_ONLY}" if schema_only and ACCOUNT_ONLY in statement.tags else None
            steps.append(Step(name, statement.sql, skip))
    return steps


def put_statement(path: Path) -> str:
    """Upload a file to the semantic-model stage as is (no gzip: Cortex Analyst reads it by name)."""
    return f"PUT '{path.resolve().as_uri()}' {MODEL_STAGE} AUTO_COMPRESS = FALSE OVERWRITE = TRUE"


def print_script(steps: list[Step], out: TextIO) -> None:
    """The plan as one SQL script, each statement headed by its file and position."""
    for file, position, count, step in _numbered(steps):
        if step.skip:
            print(f"-- {file} [{position}/{count}] skipped ({step.skip}): {step.summary}", file=out)
        else:
            print(f"-- {file} [{position}/{count}]\n{step.sql};\n", file=out)


def run(warehouse: Warehouse, steps: list[Step], out: TextIO) -> None:
    """Run the steps in order, one line of progress each; stop at the first failure."""
    current = None
    for file, position, count, step in _numbered(steps):
        if file != current:
            current = file
            print(f"{file}: {count} statement{'s' if count != 1 else ''}", file=out, flush=True)
        if step.skip:
            print(f"  [{position}/{count}] skipped ({step.skip}) {step.summary}", file=out, flush=True)
            continue
        print(f"  [{position}/{count}] {step.summary} ...", end=" ", file=out, flush=True)
        try:
            warehouse.execute(step.sql)
        except WarehouseError as exc:
            print("failed", file=out, flush=True)
            raise WarehouseError(
                f"{file} statement {position} failed: {exc}; fix it and run again "
                f"(every statement is idempotent), e.g. with --only {file}"
            ) from exc
        print("ok", file=out, flush=True)
    print(f"done: {sum(1 for s in steps if not s.skip)} statement(s) run", file=out)


def _numbered(steps: list[Step]) -> list[tuple[str, int, int, Step]]:
    counts: dict[str, int] = {}
    for step in steps:
        counts[step.file] = counts.get(step.file, 0) + 1
    seen: dict[str, int] = {}
    numbered = []
    for step in steps:
        seen[step.file] = seen.get(step.file, 0) + 1
        numbered.append((step.file, seen[step.file], counts[step.file], step))
    return numbered


def _file_name(value: str) -> str:
    name = Path(value).name
    if name not in FILES:
        raise argparse.ArgumentTypeError(f"'{value}' is not one of {', '.join(FILES)}")
    return name
