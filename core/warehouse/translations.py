"""Queries translated once: fakesnow's Snowflake-to-DuckDB translation of a query, kept by text.

Why: fakesnow parses and rewrites every statement with sqlglot, each time it runs: 20-200 ms
for the kinds' fact queries (the coaching review's seven took about 1 s a run), the same
text each time with only its bound `?` values differing. A query's translation depends only
on its text and the session's database and schema, so the translated expression is kept here
and handed back to fakesnow's own execution (`_execute`: the same DuckDB SQL, results and
errors as a first run), skipping the parse and the rewrite.

Only plain queries are kept: no `IDENTIFIER(...)` (translated with its bound value), no `$`
(session variables are inlined into the text first), nothing that changes the session.
This reaches into fakesnow's cursor (`_execute`, `_last_transformed`): fakesnow is pinned to
0.12 in pyproject.toml, and tests/test_translations.py checks the cached path gives the same
answers as a first run.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from sqlglot import exp

# Distinct query texts kept (a process runs a few dozen; the bound is for safety).
MAX_KEPT = 512
_NOT_KEPT = re.compile(r"\$|\bidentifier\s*\(", re.IGNORECASE)
# The statement itself must be a query: fakesnow runs some statements (a MERGE) as several,
# and the last of them, the one it remembers, can be a SELECT.
_QUERY = re.compile(r"\s*(SELECT|WITH)\b", re.IGNORECASE)

Key = tuple[str, str | None, str | None]


class Translations:
    """Translated queries by (text, database, schema), least recently used dropped first."""

    def __init__(self, limit: int = MAX_KEPT) -> None:
        self.limit = limit
        self._kept: OrderedDict[Key, exp.Expression] = OrderedDict()
        self._lock = threading.Lock()

    def run(self, cursor: Any, sql: str, params: Sequence[Any]) -> None:
        """Execute `sql` on fakesnow's `cursor`, from its kept translation when there is one."""
        bound = list(params) if params else None
        key: Key = (sql, cursor._conn.database, cursor._conn.schema)
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None:
                self._kept.move_to_end(key)
                kept = kept.copy()  # fakesnow's execution may annotate the expression it runs
        if kept is not None:
            cursor._sqlstate = None
            # As fakesnow does: DuckDB refuses values for a statement without placeholders.
            cursor._execute(kept, bound if kept.find(exp.Placeholder) else None)
            return
        cursor.execute(sql, tuple(params) if params else None)
        translated = cursor._last_transformed
        if _keepable(sql, translated):
            with self._lock:
                self._kept[key] = translated.copy()
                while len(self._kept) > self.limit:
                    self._kept.popitem(last=False)


def _keepable(sql: str, translated: Any) -> bool:
    return (
        isinstance(translated, exp.Query)
        and _QUERY.match(sql) is not None
        and not _NOT_KEPT.search(sql)
        and not any(translated.args.get(k) for k in ("set_database", "set_schema", "result_scan_sfqid"))
    )


TRANSLATIONS = Translations()  # one per process: the same queries run on every warehouse
