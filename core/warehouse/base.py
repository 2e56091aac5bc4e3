"""The warehouse interface: Snowflake SQL with bound parameters, on either backend."""

from __future__ import annotations

import json
import re
import threading
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self

if TYPE_CHECKING:
    from core.warehouse.merge import Upsert
    from core.warehouse.shared import Sharing

DATABASE = "CUSTOMER_SUCCESS_DATA"
SCHEMA = "ANALYTICS"
# The product's schema, qualified: every statement names its tables through this (or `qualified`).
ANALYTICS = f"{DATABASE}.{SCHEMA}"
# The coaching data's schema, qualified: every statement on the coaching tables names them through this.
COACHING = f"{DATABASE}.COACHING"

Row = dict[str, Any]


def variant(value: Any) -> Any:
    """A VARIANT column's value as Python. The Snowflake connector returns semi-structured
    values as JSON text, which is parsed; text that is not JSON is None; anything else (an
    already parsed value, NULL) is returned as it is."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


class Portable(str):
    """A statement written once in the common subset of Snowflake and DuckDB (>= 1.4) SQL.

    Why: the embedded warehouse runs Snowflake SQL through fakesnow, which translates every
    statement with sqlglot (10-100 ms each, most of a ledger write). A Portable statement needs
    no translation, so the embedded warehouse runs it natively in DuckDB (see
    `EmbeddedWarehouse`); every other warehouse runs it as it is, like any statement.

    The subset rule, for whoever marks a statement so:
    - plain SELECT, INSERT, UPDATE, DELETE, and MERGE (WHEN [NOT] MATCHED ... THEN
      INSERT/UPDATE); tables fully qualified (`ANALYTICS` or `qualified`), never resolved
      through the session's database and schema;
    - `?` parameters only, values bound, never formatted in; timestamps are bound too
      (no CURRENT_TIMESTAMP(), SYSDATE(), ...);
    - standard expressions only: comparisons, arithmetic, AND/OR, CASE, COALESCE, IS NULL;
      no Snowflake-only functions (IFF, PARSE_JSON, ...), VARIANT paths, QUALIFY or `::`;
    - results read by lower-cased name (`query`), numbers converted by the caller (DuckDB
      returns NUMBER(p, 0) as Decimal, Snowflake as int).
    Every Portable statement is tested on both backends: natively on the embedded warehouse
    and, through the Snowflake connector, on fakesnow's Snowflake-protocol server.
    """

    __slots__ = ()


class Warehouse(ABC):
    """Runs Snowflake SQL. Parameters are always bound (`?` placeholders), never formatted in.
    A `Portable` statement is Snowflake SQL too, that a warehouse may run without translating.

    Implementations serialise calls with one lock, so a warehouse may be shared by threads.
    """

    kind: str = "abstract"

    def __init__(self) -> None:
        self.lock = threading.RLock()

    @abstractmethod
    def fetch(self, sql: str, params: Sequence[Any] = ()) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run one statement; return the column names as the warehouse reports them, and the rows."""

    @abstractmethod
    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement that returns no rows of interest; return the affected row count."""

    @abstractmethod
    def insert_rows(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> int:
        """Append rows to `table` in bulk (one round trip, not one per row)."""

    def upsert(self, upsert: Upsert, rows: Sequence[Sequence[Any]]) -> None:
        """MERGE `rows` (values of `upsert.columns`) into `upsert.table` in one statement.

        Here through the stage table: the rows are bulk-loaded under a fresh batch id, MERGEd
        from that batch, and the batch is deleted again whatever happened.
        """
        if not rows:
            return
        batch = uuid.uuid4().hex
        self.insert_rows(upsert.stage, ("batch_id", *upsert.columns), [(batch, *row) for row in rows])
        try:
            self.execute(upsert.staged_merge_sql(), [batch])
        finally:
            self.execute(f"DELETE FROM {DATABASE}.{SCHEMA}.{upsert.stage} WHERE batch_id = ?", [batch])

    @abstractmethod
    def close(self) -> None:
        """Release the connection."""

    def share(self) -> Sharing | None:
        """Serve this warehouse to other local processes while this one holds it, if they could
        not reach it otherwise (the embedded one); None: they open it themselves."""
        return None

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run a query; rows as dicts keyed by lower-case column name."""
        columns, rows = self.fetch(sql, params)
        keys = [c.lower() for c in columns]
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        _, rows = self.fetch(sql, params)
        return rows[0][0] if rows else None

    def run_script(self, text: str) -> None:
        """Run a file of `;`-separated statements (comments allowed)."""
        for statement in split_statements(text):
            self.execute(statement)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """BEGIN ... COMMIT, ROLLBACK on error; holds the lock so no other thread interleaves."""
        with self.lock:
            self.execute("BEGIN")
            try:
                yield
            except BaseException:
                self.execute("ROLLBACK")
                raise
            self.execute("COMMIT")

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def split_statements(text: str) -> list[str]:
    """Split SQL text on semicolons outside quotes, $$ blocks and comments."""
    return [statement.sql for statement in scan_statements(text)]


@dataclass(frozen=True)
class Statement:
    """One statement of a SQL file and the tags (`-- @tag`) of the comment lines just before it."""

    sql: str
    tags: frozenset[str] = frozenset()


_TAG = re.compile(r"^--\s*@([A-Za-z][\w-]*)")


def scan_statements(text: str) -> list[Statement]:
    """Split SQL text like `split_statements`, keeping the tags of each statement's leading comments.

    `'...'` strings and `$$ ... $$` bodies (procedures, agent specifications) are copied whole,
    so semicolons and `--` inside them do not split or cut the statement.
    """
    statements: list[Statement] = []
    current: list[str] = []
    tags: set[str] = set()
    quote: str | None = None
    i = 0
    while i < len(text):
        ch, pair = text[i], text[i : i + 2]
        if quote:
            if text.startswith(quote, i):
                current.append(quote)
                i += len(quote)
                quote = None
            else:
                current.append(ch)
                i += 1
        elif pair == "--":
            end = text.find("\n", i)
            end = len(text) if end < 0 else end
            if not "".join(current).strip() and (tag := _TAG.match(text[i:end])):
                tags.add(tag.group(1).lower())
            i = end
        elif pair == "$$" or ch == "'":
            quote = pair if pair == "$$" else ch
            current.append(quote)
            i += len(quote)
        elif ch == ";":
            statements.append(Statement("".join(current).strip(), frozenset(tags)))
            current, tags = [], set()
            i += 1
        else:
            current.append(ch)
            i += 1
    statements.append(Statement("".join(current).strip(), frozenset(tags)))
    return [s for s in statements if s.sql]
