"""Bulk upserts: many rows MERGEd into a table in one statement, on either backend.

Snowflake has no upsert-on-insert, so rows are first bulk-loaded into a stage table under a
batch id and MERGEd from there. The embedded warehouse MERGEs straight from the rows in
memory (an Arrow table), which skips the stage's insert and delete and fakesnow's
multi-statement MERGE emulation.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.warehouse.base import DATABASE, SCHEMA


@dataclass(frozen=True)
class Upsert:
    """Rows keyed by `keys` replace the stored row with those keys, or are inserted.

    `replace_if` (SQL over the stored row `t`) limits which stored rows are replaced;
    `json_columns` arrive as JSON text and are stored parsed (VARIANT); `stamp` names a
    timestamp column set to the time of the write. `stage` is the Snowflake stage table:
    `batch_id` followed by `columns`.
    """

    table: str
    stage: str
    columns: tuple[str, ...]
    keys: tuple[str, ...]
    json_columns: tuple[str, ...] = ()
    stamp: str | None = None
    replace_if: str = ""

    def merge_sql(self, source: str, now: str, parse_json: str = "PARSE_JSON({})") -> str:
        """The MERGE from `source` (what follows FROM, giving `columns`); `now` is the stamp's
        value and `parse_json` the dialect's JSON parsing, around `{}`."""
        picked = ", ".join(
            f"{parse_json.format(c)} AS {c}" if c in self.json_columns else c for c in self.columns
        )
        on = " AND ".join(f"t.{k} = s.{k}" for k in self.keys)
        updated = [f"{c} = s.{c}" for c in self.columns if c not in self.keys]
        inserted, values = list(self.columns), [f"s.{c}" for c in self.columns]
        if self.stamp:
            updated.append(f"{self.stamp} = {now}")
            inserted.append(self.stamp)
            values.append(now)
        condition = f" AND {self.replace_if}" if self.replace_if else ""
        return (
            f"MERGE INTO {qualified(self.table)} t USING (SELECT {picked} FROM {source}) s ON {on} "
            f"WHEN MATCHED{condition} THEN UPDATE SET {', '.join(updated)} "
            f"WHEN NOT MATCHED THEN INSERT ({', '.join(inserted)}) VALUES ({', '.join(values)})"
        )

    def staged_merge_sql(self) -> str:
        """Snowflake's MERGE from one batch of the stage table (the batch id is the parameter)."""
        return self.merge_sql(f"{qualified(self.stage)} WHERE batch_id = ?", "CURRENT_TIMESTAMP()")


def qualified(table: str) -> str:
    return f"{DATABASE}.{SCHEMA}.{table}"
