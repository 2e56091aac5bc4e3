"""The coaching demo dataset: twelve weeks of calls, coaching sessions and transcript snippets
for every rep, expanded set-based in DuckDB from the reps' stories (coaching_roster.py).

Every draw is `hash()` of the row's keys (core/demo/noise.py), so the same as-of date and rep
count always give the same rows. Week 0 is the last complete week before the as-of date.
The objection a customer raises is one set of rows (`coach_moment`): the transcript lines, the
session's `objections` and its `highlights` are all made from it, so every highlight quote is a
line of its call's transcript.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import duckdb
import pyarrow as pa

from core.demo.coaching_roster import (
    ACCOUNTS,
    CALL_TITLES,
    DEMO_MANAGERS,
    DEMO_REPS,
    WEEKS,
    contact_table,
    generated_managers,
    generated_reps,
    objection_table,
    rep_table,
    speaker_table,
)
from core.demo.memory import load_transaction
from core.demo.noise import sql_unit
from core.warehouse.base import COACHING
from core.warehouse.embedded import EmbeddedWarehouse
from core.weeks import last_complete_week

TABLES = ("speakers", "calls", "coaching_sessions", "transcripts")
MAX_CALLS_A_WEEK = 8
# The share of calls with no coaching session (not scored): a week's calls and sessions differ.
UNSCORED = 0.08
# Rows expanded per statement: bounds the memory of a large load.
BATCH_REPS = 2_500


def _u(*keys: str) -> str:
    return sql_unit(*keys)


def _sql_list(values: tuple[str, ...]) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


# One row per call: the rep's slot k of week w, kept if the week has that many calls.
_CALLS = f"""
CREATE OR REPLACE TEMP TABLE coach_call AS
WITH slots AS (
    SELECT r.*, w.range::INTEGER AS w, k.range::INTEGER AS k
    FROM coach_rep AS r, range({WEEKS}) AS w, range({MAX_CALLS_A_WEEK}) AS k
    WHERE r.ridx BETWEEN $lo AND $hi AND w.range <= r.first_week AND w.range <> r.skip_week
),
kept AS (
    SELECT *, $w0::DATE - 7 * w AS week_start FROM slots
    WHERE k < calls - 1 + floor(3 * {_u("ridx", "w", "1")})
)
SELECT kept.*,
    'CALL-' || rep_id || '-' || strftime(week_start, '%Y%m%d') || '-' || k AS call_id,
    (week_start + floor(5 * {_u("ridx", "w", "k", "2")})::INTEGER)::TIMESTAMP
        + to_hours(14 + floor(8 * {_u("ridx", "w", "k", "3")})::INTEGER)
        + to_minutes(15 * floor(4 * {_u("ridx", "w", "k", "4")})::INTEGER) AS started_at,
    60 * (15 + floor(46 * {_u("ridx", "w", "k", "5")})::INTEGER) AS duration_seconds,
    list_element({_sql_list(CALL_TITLES)}, 1 + floor({len(CALL_TITLES)} * {_u("ridx", "w", "k", "6")})::INTEGER)
        AS title,
    floor({len(ACCOUNTS)} * {_u("ridx", "w", "k", "7")})::INTEGER AS aidx,
    floor(2 * {_u("ridx", "w", "k", "8")})::INTEGER AS slot,
    {_u("ridx", "w", "k", "9")} >= {UNSCORED} AS scored
FROM kept
"""

# One row per objection a call's customer raises: the label, the words, when.
_MOMENTS = f"""
CREATE OR REPLACE TEMP TABLE coach_moment AS
WITH raised AS (
    SELECT c.call_id, c.rep_id, c.rep_name, c.duration_seconds, c.aidx, c.slot, l.lidx, l.label,
           floor(3 * {_u("c.ridx", "c.w", "c.k", "l.lidx", "11")})::INTEGER AS variant
    FROM coach_call AS c, (SELECT DISTINCT lidx, label, chance FROM coach_objection) AS l
    WHERE {_u("c.ridx", "c.w", "c.k", "l.lidx", "10")} < CASE
        WHEN l.label <> 'pricing' THEN l.chance
        WHEN c.pricing_now AND c.w = 0 THEN 1.0
        ELSE c.pricing END
)
SELECT r.*, o.quote, o.answer, p.speaker_id AS contact_id, p.contact_name,
    floor(r.duration_seconds * (0.1 + 0.12 * row_number() OVER (PARTITION BY r.call_id ORDER BY r.lidx)))::INTEGER
        AS offset_seconds
FROM raised AS r
JOIN coach_objection AS o ON o.lidx = r.lidx AND o.variant = r.variant
JOIN coach_contact AS p ON p.aidx = r.aidx AND p.slot = r.slot
"""

_INSERT_CALLS = f"""
INSERT INTO {COACHING}.calls (call_id, rep_id, title, customer_name, started_at, duration_seconds)
SELECT c.call_id, c.rep_id, c.title, p.customer_name, c.started_at, c.duration_seconds
FROM coach_call AS c JOIN coach_contact AS p ON p.aidx = c.aidx AND p.slot = c.slot
"""

OPENERS = (
    "We want to see how this would fit the way our team works.",
    "Sure. We have about thirty minutes, so let us focus on the rollout.",
    "Thanks. I looped in a colleague who will own this day to day.",
)

# The call's opening, the customer's context, each objection and its answer, the close; every
# line carries the call's rep (rep_id), whoever speaks it.
_INSERT_TRANSCRIPTS = f"""
INSERT INTO {COACHING}.transcripts (call_id, speaker_id, offset_seconds, text, rep_id)
SELECT call_id, speaker_id, offset_seconds, text, rep_id FROM (
    SELECT c.call_id, c.rep_id AS speaker_id, 5 AS offset_seconds,
           'Thanks for making the time today, ' || split_part(p.contact_name, ' ', 1) || '.' AS text,
           c.rep_id
    FROM coach_call AS c JOIN coach_contact AS p ON p.aidx = c.aidx AND p.slot = c.slot
    UNION ALL
    SELECT c.call_id, p.speaker_id, 40,
           list_element({_sql_list(OPENERS)}, 1 + floor(3 * {_u("c.ridx", "c.w", "c.k", "12")})::INTEGER),
           c.rep_id
    FROM coach_call AS c JOIN coach_contact AS p ON p.aidx = c.aidx AND p.slot = c.slot
    UNION ALL
    SELECT call_id, contact_id, offset_seconds, quote, rep_id FROM coach_moment
    UNION ALL
    SELECT call_id, rep_id, offset_seconds + 20, answer, rep_id FROM coach_moment
    UNION ALL
    SELECT call_id, rep_id, duration_seconds - 60, 'I will send a recap with next steps by end of day.', rep_id
    FROM coach_call
)
"""


def _score(level: str) -> str:
    """A dimension's score for a call: the rep's level moved back along the slope, plus noise."""
    noise = _u("c.ridx", "c.w", "c.k", f"'{level}'")
    return f"least(100, greatest(0, round(c.{level} - c.slope * c.w + 10 * ({noise} - 0.5))))::INTEGER"


_DIMENSION_LEVELS = ("l_product_knowledge", "l_discovery", "l_objection_handling", "l_engagement")

_INSERT_SESSIONS = f"""
INSERT INTO {COACHING}.coaching_sessions (session_id, call_id, rep_id, created_at, product_knowledge,
    discovery, objection_handling, engagement, overall_score, objections, highlights)
WITH scored AS (
    SELECT c.call_id, c.rep_id, c.started_at + to_seconds(c.duration_seconds + 900) AS created_at,
        {", ".join(f"{_score(level)} AS {level[2:]}" for level in _DIMENSION_LEVELS)}
    FROM coach_call AS c WHERE c.scored
),
said AS (
    -- Unordered aggregates (ordered ones buffer every row): labels are one per call and
    -- moment, and the highlights sort by their first field, the offset.
    SELECT call_id,
        to_json(list_sort(list(label))) AS objections,
        to_json(list_sort(list_concat(
            list(struct_pack(offset_seconds := offset_seconds, speaker_id := contact_id,
                             speaker := contact_name, quote := quote, objection := label)),
            list(struct_pack(offset_seconds := offset_seconds + 20, speaker_id := rep_id,
                             speaker := rep_name, quote := answer, objection := label))
        ))) AS highlights
    FROM coach_moment
    GROUP BY call_id
)
SELECT replace(s.call_id, 'CALL-', 'SES-'), s.call_id, s.rep_id, s.created_at, s.product_knowledge,
    s.discovery, s.objection_handling, s.engagement,
    round((s.product_knowledge + s.discovery + s.objection_handling + s.engagement) / 4)::INTEGER,
    coalesce(d.objections, '[]'::JSON), coalesce(d.highlights, '[]'::JSON)
FROM scored AS s LEFT JOIN said AS d ON d.call_id = s.call_id
"""


def load_coaching(
    cursor: duckdb.DuckDBPyConnection, as_of: dt.date, reps: int, say: Callable[[str], None]
) -> None:
    """Empty the coaching tables and load `reps` reps' twelve weeks ending with the last
    complete week before `as_of`, on `cursor` (inside the caller's transaction)."""
    stories = [*DEMO_REPS, *generated_reps(reps)]
    managers = [*DEMO_MANAGERS, *generated_managers(reps)]
    say("coaching speakers")
    for table in TABLES:
        cursor.execute(f"DELETE FROM {COACHING}.{table}")
    _append(cursor, "speakers", speaker_table(managers, stories))
    cursor.register("coach_rep", rep_table(stories))
    cursor.register("coach_contact", contact_table())
    cursor.register("coach_objection", objection_table())
    w0 = last_complete_week(as_of).start
    batches = [(lo, min(lo + BATCH_REPS, len(stories)) - 1) for lo in range(0, len(stories), BATCH_REPS)]
    for number, (lo, hi) in enumerate(batches, start=1):
        say(f"coaching calls {number}/{len(batches)}")
        cursor.execute(_CALLS, {"lo": lo, "hi": hi, "w0": w0})
        cursor.execute(_MOMENTS)
        for statement in (_INSERT_CALLS, _INSERT_TRANSCRIPTS, _INSERT_SESSIONS):
            cursor.execute(statement)
    # On failure the caller rolls back and closes the cursor, which drops these too.
    cursor.execute("DROP TABLE coach_moment")
    cursor.execute("DROP TABLE coach_call")
    for name in ("coach_rep", "coach_contact", "coach_objection"):
        cursor.unregister(name)


def reload_coaching(
    warehouse: EmbeddedWarehouse, as_of: dt.date, reps: int = len(DEMO_REPS)
) -> dict[str, int]:
    """Replace only the coaching data (the EBR's stays), in one transaction; the rows loaded.

    For benchmarks and tests of the coaching kind, which need not reload two years of EBR data.
    """
    if reps < len(DEMO_REPS):
        raise ValueError(f"the demo needs at least {len(DEMO_REPS)} reps, not {reps}")
    with load_transaction(warehouse, "loading the coaching demo data") as cursor:
        load_coaching(cursor, as_of, reps, _quiet)
        return coaching_counts(cursor)


def _quiet(_message: str) -> None:
    pass


def coaching_counts(cursor: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rows loaded: reps (company-side speakers who manage no one), calls, sessions, transcript lines."""
    sources = {
        "reps": f"SELECT count(*) FROM {COACHING}.speakers WHERE company_side AND speaker_id NOT IN "
        f"(SELECT manager_id FROM {COACHING}.speakers WHERE manager_id IS NOT NULL)",
        "calls": f"SELECT count(*) FROM {COACHING}.calls",
        "coaching_sessions": f"SELECT count(*) FROM {COACHING}.coaching_sessions",
        "transcript_lines": f"SELECT count(*) FROM {COACHING}.transcripts",
    }
    counts = {}
    for key, sql in sources.items():
        row = cursor.execute(sql).fetchone()
        counts[key] = int(row[0]) if row else 0
    return counts


def _append(cursor: duckdb.DuckDBPyConnection, table: str, data: pa.Table) -> None:
    names = ", ".join(data.column_names)
    cursor.register("coach_incoming", data)
    try:
        cursor.execute(f"INSERT INTO {COACHING}.{table} ({names}) SELECT {names} FROM coach_incoming")
    finally:
        cursor.unregister("coach_incoming")
