"""Scripted Cortex turns for the answer guard: leaking and benign answers, in every event shape.

Each `Scripted` answer is one turn's events as Snowflake streams them (status, tool use and
results, text deltas, the aggregated text, user/assistant metadata, the final `response`),
with the SQL, or the result set, carried in exactly one of the shapes the service emits:

    tool_result      `response.tool_result` content JSON `sql` (and `result_set`)
    analyst_delta    `response.tool_result.analyst.delta` `delta.sql`
    final_response   only in the final `response`'s tool_result content item
    execute_sql      `response.tool_use` of type `system_execute_sql`, the statement in `input.sql`
    table            `response.table` `result_set` (Snowflake SQL API shape)

so that a leak is caught through that one channel and no other. Use one as a Fault's script:

    server.faults.append(Fault(prompt="every customer", script=LEAKS["sarah_group_by"]))
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

ME, OTHER, OTHER_NAME = "CUST_12345", "CUST_45678", "Meridian Health Partners"
T = "CUSTOMER_SUCCESS_DATA.ANALYTICS"
WEEK = "conversion_date BETWEEN '2026-11-09'::DATE AND '2026-11-15'::DATE"
# Sarah's reproduction (issue 12): revenue of every customer, no customer filter.
SARAH_SQL = (
    f"SELECT customer_id, SUM(revenue) AS revenue FROM {T}.conversions WHERE {WEEK} GROUP BY customer_id"
)
SQL_SHAPES = ("tool_result", "analyst_delta", "final_response", "execute_sql")
# Innocuous text: a SQL-shaped leak must be caught by its SQL, not by what the text says.
PLAIN_TEXT = "Revenue last week: $48,210.00 in total, $12,400.00 of it from email."


@dataclass(frozen=True)
class Scripted:
    """One turn: its text, and the SQL or result set it carries in one shape."""

    text: str = PLAIN_TEXT
    sql: str | None = None
    shape: str = "tool_result"
    table: tuple[tuple[str, ...], tuple[tuple[Any, ...], ...]] | None = None  # (columns, rows)
    table_in: str = "table"  # `response.table`, or "tool_result": the analyst result's `result_set`

    def __call__(
        self, prompt: str, thread_id: int, user_id: int, assistant_id: int
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        yield "response.status", {"status": "planning", "message": "Planning the next steps"}
        final_items: list[dict[str, Any]] = []
        if self.sql is not None:
            yield from self._sql_events(final_items)
        if self.table is not None and self.table_in == "table":
            yield (
                "response.table",
                {"content_index": 2, "tool_use_id": "toolu_01", "result_set": _result_set(*self.table)},
            )
        half = len(self.text) // 2
        for piece in (self.text[:half], self.text[half:]):
            yield "response.text.delta", {"content_index": 3, "text": piece, "is_elicitation": False}
        yield (
            "response.text",
            {"content_index": 3, "text": self.text, "annotations": [], "is_elicitation": False},
        )
        yield "metadata", {"role": "user", "message_id": user_id}
        yield "metadata", {"role": "assistant", "message_id": assistant_id}
        final_items.append({"type": "text", "text": self.text})
        meta = {"thread_id": thread_id, "user_message_id": user_id, "assistant_message_id": assistant_id}
        yield "response", {"role": "assistant", "content": final_items, "metadata": meta}

    def _sql_events(self, final_items: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
        analyst = {"tool_use_id": "toolu_01", "type": "cortex_analyst_text2sql", "name": "customer_analytics"}
        data: dict[str, Any] = {"sql": self.sql, "text": "ok"}
        if self.table is not None and self.table_in == "tool_result":
            data["result_set"] = _result_set(*self.table)
        result = {**analyst, "status": "success", "content": [{"type": "json", "json": data}]}
        if self.shape == "execute_sql":
            yield "response.tool_use", {"content_index": 1, "tool_use_id": "toolu_01", "type": "system_execute_sql",
                                        "name": "execute_sql", "input": {"sql": self.sql}}  # fmt: skip
            return
        yield "response.tool_use", {"content_index": 1, **analyst, "input": {"query": "revenue"}}
        if self.shape == "tool_result":
            yield "response.tool_result", {"content_index": 1, **result}
        elif self.shape == "analyst_delta":
            yield (
                "response.tool_result.analyst.delta",
                {"content_index": 1, **analyst, "delta": {"sql": self.sql}},
            )
        elif self.shape == "final_response":
            final_items.append({"type": "tool_result", "tool_result": result})
        else:
            raise ValueError(f"unknown SQL shape {self.shape}")


def _result_set(columns: tuple[str, ...], rows: tuple[tuple[Any, ...], ...]) -> dict[str, Any]:
    """A result set as Snowflake's SQL API returns it (every value a string)."""
    return {
        "statementHandle": "01b2-0001",
        "resultSetMetaData": {
            "numRows": len(rows),
            "rowType": [{"name": c, "type": "text"} for c in columns],
        },
        "data": [[None if v is None else str(v) for v in row] for row in rows],
    }


# -- leaking answers: each must be withheld, by the rule named --------------------------------

EVERYONE = ((("CUSTOMER_ID", "REVENUE"), ((ME, "1234.50"), (OTHER, "48210.00"))),)[0]
LEAKS: dict[str, tuple[str, Scripted]] = {
    **{
        f"sarah_group_by_{shape}": ("unscoped_table", Scripted(sql=SARAH_SQL, shape=shape))
        for shape in SQL_SHAPES
    },
    "other_id_in_sql": (
        "foreign_subject",
        Scripted(sql=f"SELECT SUM(revenue) FROM {T}.conversions WHERE customer_id = '{OTHER}' AND {WEEK}"),
    ),
    "or_escape": (
        "unscoped_table",
        Scripted(
            sql=f"SELECT SUM(revenue) FROM {T}.conversions WHERE customer_id = '{ME}' OR {WEEK}",
            shape="analyst_delta",
        ),
    ),
    "unrestricted_cte": (
        "unscoped_table",
        Scripted(
            sql=f"WITH t AS (SELECT customer_id, SUM(revenue) r FROM {T}.conversions GROUP BY customer_id) "
            f"SELECT r FROM t WHERE customer_id = '{ME}'",
            shape="execute_sql",
        ),
    ),
    "subquery_over_everyone": (
        "unscoped_table",
        Scripted(
            sql=f"SELECT (SELECT AVG(revenue) FROM {T}.conversions) AS everyone, SUM(revenue) FROM "
            f"{T}.conversions WHERE customer_id = '{ME}'",
            shape="final_response",
        ),
    ),
    "join_without_customer": (
        "unscoped_table",
        Scripted(
            sql=f"SELECT SUM(a.credit) FROM {T}.attributions a JOIN {T}.conversions c "
            f"ON c.conversion_id = a.conversion_id WHERE c.customer_id = '{ME}'"
        ),
    ),
    "csm_assignments": (
        "forbidden_table",
        Scripted(
            sql=f"SELECT csm_name, csm_email FROM {T}.csm_assignments WHERE customer_id = '{ME}'",
            shape="execute_sql",
        ),
    ),
    "information_schema": (
        "forbidden_table",
        Scripted(sql="SELECT table_name FROM CUSTOMER_SUCCESS_DATA.INFORMATION_SCHEMA.TABLES"),
    ),
    "weekly_reports": (
        "forbidden_table",
        Scripted(sql=f"SELECT full_report FROM {T}.weekly_reports", shape="analyst_delta"),
    ),
    "response_table_other_id": ("result_set_other_subject", Scripted(table=EVERYONE)),
    "analyst_result_set_other_id": (
        "result_set_other_subject",
        Scripted(
            sql=f"SELECT customer_name, SUM(revenue) FROM {T}.conversions WHERE customer_id = '{ME}' GROUP BY 1",
            table=(("CUSTOMER_NAME", "REVENUE"), ((OTHER_NAME, "48210.00"),)),
            table_in="tool_result",
        ),
    ),
    "text_other_id": ("text_names_other_subject", Scripted(text=f"{OTHER} earned $48,210.00 last week.")),
    "text_other_name": (
        "text_names_other_subject",
        Scripted(text=f"{OTHER_NAME} earned $48,210.00 last week."),
    ),
}


def shape_of(script: Scripted) -> str:
    """Where the leak travels: the SQL's shape, a result set, or the text."""
    if script.table is not None:
        return "result_set" if script.table_in == "tool_result" else "table"
    return script.shape if script.sql else "text"


# -- benign answers: each must pass ---------------------------------------------------------

MINE = ((("CUSTOMER_ID", "REVENUE"), ((ME, "1234.50"),)),)[0]
BENIGN: dict[str, Scripted] = {
    "equality": Scripted(
        text=f"Acme Retail ({ME}) earned $1,234.50 last week.",
        sql=f"SELECT customer_id, SUM(revenue) AS revenue FROM {T}.conversions WHERE customer_id = '{ME}' "
        f"AND {WEEK} GROUP BY customer_id",
        table=MINE,
    ),
    "in_one_id": Scripted(
        sql=f"SELECT channel, SUM(revenue) FROM {T}.conversions WHERE customer_id IN ('{ME}') GROUP BY channel",
        shape="analyst_delta",
    ),
    "cte": Scripted(
        sql=f"WITH mine AS (SELECT channel, revenue FROM {T}.conversions WHERE customer_id = '{ME}' AND {WEEK}) "
        "SELECT channel, SUM(revenue) FROM mine GROUP BY channel",
        shape="final_response",
    ),
    "join_through_conversions": Scripted(
        sql=f"SELECT a.attribution_model, SUM(a.credit * c.revenue) FROM {T}.attributions a "
        f"JOIN {T}.conversions c ON c.conversion_id = a.conversion_id AND c.customer_id = a.customer_id "
        f"WHERE c.customer_id = '{ME}' GROUP BY a.attribution_model",
        shape="execute_sql",
    ),
    "benchmarks_and_case_studies": Scripted(
        text="Retail's click-through benchmark is 2.1 %; see 'Retail: win-back emails lift conversions 18%'.",
        sql=f"SELECT b.benchmark_value FROM {T}.industry_benchmarks b JOIN {T}.customers c "
        f"ON c.customer_id = '{ME}' AND b.industry = c.industry WHERE b.metric_name = 'click_through_rate'; "
        f"SELECT title FROM {T}.case_studies WHERE industry = 'Retail'",
    ),
}
