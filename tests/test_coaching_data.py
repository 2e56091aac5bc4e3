"""The coaching data: its schema (issue 15's contract) and the demo's stories, each checked by
SQL of its own over the loaded tables (Snowflake SQL, through fakesnow), not by the generator."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.commands import _demo_data_current
from core import ReportEngine
from core.demo import load_demo
from core.demo.coaching import coaching_counts, reload_coaching
from core.warehouse.base import COACHING
from core.warehouse.embedded import EmbeddedWarehouse
from core.weeks import last_complete_week
from tests.conftest import AS_OF

W = last_complete_week(AS_OF)  # Mon 2026-11-09 .. Sun 2026-11-15
CONTRACT = {
    "speakers": ["speaker_id", "name", "email", "company_side", "manager_id", "slack_user_id", "timezone"],
    "calls": ["call_id", "rep_id", "title", "customer_name", "started_at", "duration_seconds"],
    "coaching_sessions": [
        "session_id", "call_id", "rep_id", "created_at", "product_knowledge", "discovery",
        "objection_handling", "engagement", "overall_score", "objections", "highlights",
    ],
    "transcripts": ["call_id", "speaker_id", "offset_seconds", "text", "rep_id"],
}  # fmt: skip
DIMENSIONS = ("product_knowledge", "discovery", "objection_handling", "engagement")


@pytest.fixture(scope="module")
def wh(demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedWarehouse]:
    """A copy of the session's demo warehouse: set up by sql/setup.sql, loaded by `load_demo`."""
    home = tmp_path_factory.mktemp("coaching") / "home"
    shutil.copytree(demo_template, home)
    with EmbeddedWarehouse(home) as warehouse:
        yield warehouse


def rep_id(wh: EmbeddedWarehouse, name: str) -> str:
    return str(wh.scalar(f"SELECT speaker_id FROM {COACHING}.speakers WHERE name = ?", [name]))


def weekly(wh: EmbeddedWarehouse, rep: str, column: str = "overall_score") -> dict[dt.date, float]:
    """Week start -> the rep's average `column` over the sessions of calls started that week."""
    rows = wh.query(
        f"SELECT DATE_TRUNC('WEEK', c.started_at)::DATE AS week, AVG(s.{column}) AS score "
        f"FROM {COACHING}.calls c JOIN {COACHING}.coaching_sessions s ON s.call_id = c.call_id "
        "WHERE c.rep_id = ? GROUP BY 1 ORDER BY 1",
        [rep],
    )
    return {r["week"]: float(r["score"]) for r in rows}


def sessions_between(wh: EmbeddedWarehouse, rep: str, start: dt.date, end: dt.date) -> int:
    return int(
        wh.scalar(
            f"SELECT COUNT(*) FROM {COACHING}.calls c JOIN {COACHING}.coaching_sessions s "
            "ON s.call_id = c.call_id WHERE c.rep_id = ? AND c.started_at >= ? AND c.started_at < ?",
            [rep, start, end + dt.timedelta(days=1)],
        )
    )


# --- schema -------------------------------------------------------------------------------


def test_setup_creates_the_coaching_tables_with_the_contracts_columns(wh: EmbeddedWarehouse) -> None:
    rows = wh.query(
        "SELECT table_name, column_name, data_type FROM CUSTOMER_SUCCESS_DATA.INFORMATION_SCHEMA.COLUMNS "
        "WHERE table_schema = 'COACHING' ORDER BY table_name, ordinal_position"
    )
    columns: dict[str, list[str]] = {}
    types: dict[tuple[str, str], str] = {}
    for r in rows:
        table, column = r["table_name"].lower(), r["column_name"].lower()
        columns.setdefault(table, []).append(column)
        types[table, column] = r["data_type"]
    assert columns == CONTRACT
    assert types["speakers", "company_side"] == "BOOLEAN"
    assert types["calls", "started_at"] == types["coaching_sessions", "created_at"] == "TIMESTAMP_NTZ"
    # fakesnow reports ARRAY columns as VARIANT (semi-structured, both JSON in DuckDB).
    assert types["coaching_sessions", "highlights"] == "VARIANT"
    assert types["coaching_sessions", "objections"] in ("ARRAY", "VARIANT")


def test_every_transcript_line_carries_its_calls_rep(wh: EmbeddedWarehouse) -> None:
    """transcripts.rep_id is the call's rep on every line, the customer's lines too, so a query
    restricted to one rep on it reads exactly that rep's calls."""
    mismatched = wh.scalar(
        f"SELECT COUNT(*) FROM {COACHING}.transcripts t LEFT JOIN {COACHING}.calls c ON c.call_id = t.call_id "
        "WHERE t.rep_id IS NULL OR c.rep_id IS NULL OR t.rep_id <> c.rep_id"
    )
    assert mismatched == 0
    spoken_by_others = wh.scalar(f"SELECT COUNT(*) FROM {COACHING}.transcripts WHERE speaker_id <> rep_id")
    assert spoken_by_others > 0


def test_a_warehouse_from_before_rep_id_gets_it_filled_from_calls(demo_home: Path) -> None:
    with EmbeddedWarehouse(demo_home) as old:  # as loaded before the column existed
        lines = old.scalar(f"SELECT COUNT(*) FROM {COACHING}.transcripts")
        old.execute(f"ALTER TABLE {COACHING}.transcripts DROP COLUMN rep_id")
    with EmbeddedWarehouse(demo_home) as opened:  # setup.sql's migration runs on opening
        filled = opened.query(
            f"SELECT COUNT(*) AS n, COUNT(t.rep_id) AS with_rep, COUNT_IF(t.rep_id = c.rep_id) AS right_rep "
            f"FROM {COACHING}.transcripts t JOIN {COACHING}.calls c ON c.call_id = t.call_id"
        )[0]
    assert (filled["n"], filled["with_rep"], filled["right_rep"]) == (lines, lines, lines)


def test_the_setup_sql_declares_array_and_variant_and_grants_read_only() -> None:
    text = (Path(__file__).resolve().parents[1] / "sql" / "setup.sql").read_text()
    assert "CREATE SCHEMA IF NOT EXISTS CUSTOMER_SUCCESS_DATA.COACHING;" in text
    assert "    objections ARRAY,\n    highlights VARIANT\n" in text
    for table in CONTRACT:
        assert f"CREATE TABLE IF NOT EXISTS CUSTOMER_SUCCESS_DATA.COACHING.{table} (" in text
        assert f"GRANT SELECT ON TABLE CUSTOMER_SUCCESS_DATA.COACHING.{table} TO ROLE" in text
    assert COACHING == "CUSTOMER_SUCCESS_DATA.COACHING"


# --- the people -----------------------------------------------------------------------------


def test_two_managers_with_four_reps_each_and_company_side_speakers(wh: EmbeddedWarehouse) -> None:
    teams = wh.query(
        f"SELECT m.name AS manager, COUNT(r.speaker_id) AS reps, MIN(r.company_side::INT) AS ours "
        f"FROM {COACHING}.speakers m JOIN {COACHING}.speakers r ON r.manager_id = m.speaker_id "
        "WHERE m.company_side GROUP BY m.name ORDER BY m.name"
    )
    assert [(t["manager"], t["reps"], t["ours"]) for t in teams] == [
        ("Marcus Reid", 4, 1),
        ("Olivia Bennett", 4, 1),
    ]
    # Every call's rep is on our side; every other speaker in a transcript is the customer's.
    sides = wh.query(
        f"SELECT DISTINCT (t.speaker_id = c.rep_id) AS is_rep, s.company_side FROM {COACHING}.transcripts t "
        f"JOIN {COACHING}.calls c ON c.call_id = t.call_id JOIN {COACHING}.speakers s ON s.speaker_id = t.speaker_id"
    )
    assert {(r["is_rep"], r["company_side"]) for r in sides} == {(True, True), (False, False)}
    assert wh.scalar(f"SELECT COUNT(*) FROM {COACHING}.speakers WHERE NOT company_side") >= 10
    emails = wh.query(f"SELECT email FROM {COACHING}.speakers")
    assert all(e["email"].endswith("example.com") and "@" in e["email"] for e in emails)
    assert len({e["email"] for e in emails}) == len(emails)


def test_twelve_weeks_of_calls_up_to_the_last_complete_week(wh: EmbeddedWarehouse) -> None:
    first, last, weeks = wh.fetch(
        f"SELECT MIN(started_at), MAX(started_at), COUNT(DISTINCT DATE_TRUNC('WEEK', started_at)) "
        f"FROM {COACHING}.calls"
    )[1][0]
    assert first.date() >= W.start - dt.timedelta(weeks=11)
    assert last.date() <= W.end
    assert weeks == 12
    orphans = wh.scalar(
        f"SELECT COUNT(*) FROM {COACHING}.coaching_sessions s LEFT JOIN {COACHING}.calls c "
        "ON c.call_id = s.call_id WHERE c.call_id IS NULL OR c.rep_id <> s.rep_id OR s.created_at < c.started_at"
    )
    assert orphans == 0
    out_of_range = wh.scalar(
        f"SELECT COUNT(*) FROM {COACHING}.coaching_sessions WHERE "
        + " OR ".join(f"{c} NOT BETWEEN 0 AND 100" for c in (*DIMENSIONS, "overall_score"))
    )
    assert out_of_range == 0
    # Some calls are not scored: a week's calls and its sessions are different counts.
    calls, sessions = (
        wh.scalar(f"SELECT COUNT(*) FROM {COACHING}.{t}") for t in ("calls", "coaching_sessions")
    )
    assert 0.8 * calls < sessions < calls


# --- the stories ----------------------------------------------------------------------------


def test_the_improving_rep_rises_and_the_declining_rep_falls_over_the_last_four_weeks(
    wh: EmbeddedWarehouse,
) -> None:
    improving = weekly(wh, rep_id(wh, "Jane Smith"))
    declining = weekly(wh, rep_id(wh, "David Park"))
    last_four = [W.start - dt.timedelta(weeks=k) for k in (3, 2, 1, 0)]
    up = [improving[w] for w in last_four]
    down = [declining[w] for w in last_four]
    assert up == sorted(up) and len(set(up)) == 4, up
    assert down == sorted(down, reverse=True) and len(set(down)) == 4, down
    assert up[-1] - up[0] >= 5 and down[0] - down[-1] >= 5


def test_the_new_rep_has_only_last_weeks_sessions(wh: EmbeddedWarehouse) -> None:
    rep = rep_id(wh, "Priya Natarajan")
    assert sessions_between(wh, rep, W.previous.start, W.previous.end) == 0
    assert sessions_between(wh, rep, W.start, W.end) > 0
    assert set(weekly(wh, rep)) == {W.start}


def test_one_rep_has_no_calls_in_the_last_complete_week_but_earlier(wh: EmbeddedWarehouse) -> None:
    rep = rep_id(wh, "Tom Alvarez")
    calls = wh.scalar(
        f"SELECT COUNT(*) FROM {COACHING}.calls WHERE rep_id = ? AND started_at >= ? AND started_at < ?",
        [rep, W.start, W.end + dt.timedelta(days=1)],
    )
    assert calls == 0
    assert sessions_between(wh, rep, W.previous.start, W.previous.end) > 0


def test_every_other_rep_has_sessions_in_the_last_complete_week(wh: EmbeddedWarehouse) -> None:
    reps = wh.query(f"SELECT speaker_id, name FROM {COACHING}.speakers WHERE manager_id IS NOT NULL")
    with_sessions = {r["name"] for r in reps if sessions_between(wh, r["speaker_id"], W.start, W.end)}
    assert with_sessions == {r["name"] for r in reps} - {"Tom Alvarez"}


def pricing_sessions(wh: EmbeddedWarehouse, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """Per rep, the sessions of the range whose objections include 'pricing'."""
    return wh.query(
        f"SELECT s.rep_id, COUNT(DISTINCT s.session_id) AS sessions FROM {COACHING}.coaching_sessions s "
        f"JOIN {COACHING}.calls c ON c.call_id = s.call_id, LATERAL FLATTEN(input => s.objections) o "
        "WHERE o.value::VARCHAR = 'pricing' AND c.started_at >= ? AND c.started_at < ? "
        "GROUP BY s.rep_id ORDER BY sessions DESC",
        [start, end + dt.timedelta(days=1)],
    )


def test_the_pricing_objection_recurs_for_one_rep_and_its_quotes_are_in_the_transcripts(
    wh: EmbeddedWarehouse,
) -> None:
    rep = rep_id(wh, "Aisha Okafor")
    top = pricing_sessions(wh, W.start, W.end)
    assert top[0]["rep_id"] == rep and top[0]["sessions"] >= 3
    assert all(r["sessions"] < top[0]["sessions"] for r in top[1:])
    quotes = wh.query(
        f"SELECT s.call_id, h.value:speaker_id::VARCHAR AS speaker_id, "
        "h.value:offset_seconds::INTEGER AS offset_seconds, h.value:quote::VARCHAR AS quote, "
        f"h.value:objection::VARCHAR AS objection FROM {COACHING}.coaching_sessions s "
        f"JOIN {COACHING}.calls c ON c.call_id = s.call_id, LATERAL FLATTEN(input => s.highlights) h "
        "WHERE s.rep_id = ? AND c.started_at >= ? AND c.started_at < ?",
        [rep, W.start, W.end + dt.timedelta(days=1)],
    )
    assert sum(q["objection"] == "pricing" for q in quotes) >= 6  # the customer's words and the answer
    for q in quotes:
        said = wh.query(
            f"SELECT text FROM {COACHING}.transcripts WHERE call_id = ? AND speaker_id = ? AND offset_seconds = ?",
            [q["call_id"], q["speaker_id"], q["offset_seconds"]],
        )
        assert [s["text"] for s in said] == [q["quote"]], q


def test_every_highlight_is_a_transcript_line_and_every_objection_has_one(wh: EmbeddedWarehouse) -> None:
    unmatched = wh.scalar(
        f"SELECT COUNT(*) FROM {COACHING}.coaching_sessions s, LATERAL FLATTEN(input => s.highlights) h "
        f"WHERE NOT EXISTS (SELECT 1 FROM {COACHING}.transcripts t WHERE t.call_id = s.call_id "
        "AND t.speaker_id = h.value:speaker_id::VARCHAR AND t.offset_seconds = h.value:offset_seconds::INTEGER "
        "AND t.text = h.value:quote::VARCHAR)"
    )
    assert unmatched == 0
    rows = wh.query(f"SELECT objections, highlights FROM {COACHING}.coaching_sessions")
    for r in rows:
        labels, highlights = json.loads(r["objections"]), json.loads(r["highlights"])
        assert sorted({h["objection"] for h in highlights}) == sorted(labels)
        assert all(h["speaker"] and h["quote"] for h in highlights)


def test_one_rep_is_strong_on_one_dimension_and_weak_on_another(wh: EmbeddedWarehouse) -> None:
    rep = rep_id(wh, "Lucas Meyer")
    team = wh.query(
        "SELECT "
        + ", ".join(f"AVG(CASE WHEN s.rep_id = ? THEN {d} END) - AVG({d}) AS {d}" for d in DIMENSIONS)
        + f" FROM {COACHING}.coaching_sessions s JOIN {COACHING}.calls c ON c.call_id = s.call_id "
        "WHERE c.started_at >= ? AND c.started_at < ?",
        [rep] * len(DIMENSIONS) + [W.start, W.end + dt.timedelta(days=1)],
    )[0]
    against_all = {d: float(team[d]) for d in DIMENSIONS}
    assert max(against_all, key=lambda d: against_all[d]) == "product_knowledge"
    assert min(against_all, key=lambda d: against_all[d]) == "discovery"
    assert against_all["product_knowledge"] > 10 and against_all["discovery"] < -15


# --- determinism and scale ------------------------------------------------------------------


def every_row(wh: EmbeddedWarehouse) -> dict[str, list[tuple[Any, ...]]]:
    """Each table's rows, in the order of their keys (the first three columns identify a row)."""
    return {t: wh.fetch(f"SELECT * FROM {COACHING}.{t} ORDER BY 1, 2, 3")[1] for t in CONTRACT}


def test_two_loads_give_identical_rows_and_a_reload_replaces_them(
    wh: EmbeddedWarehouse, demo_home: Path
) -> None:
    with EmbeddedWarehouse(demo_home) as other:
        assert reload_coaching(other, AS_OF + dt.timedelta(days=7), reps=20)["reps"] == 20
        later = every_row(other)
        assert reload_coaching(other, AS_OF) == coaching_counts(wh.native.cursor())
        again = every_row(other)
    first = every_row(wh)
    assert again == first and len(first["transcripts"]) > 1000
    assert later["calls"] != first["calls"] and len(later["speakers"]) > len(first["speakers"])


def test_reps_scale_the_coaching_data_from_the_command_line(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["load-demo", "--reps", "40", "--as-of", AS_OF.isoformat()]) == 0
    assert "coaching: 40 reps with " in capsys.readouterr().out
    with EmbeddedWarehouse(cli_env) as warehouse:
        counts = warehouse.query(
            f"SELECT COUNT(*) AS reps, COUNT(DISTINCT manager_id) AS managers FROM {COACHING}.speakers "
            "WHERE company_side AND manager_id IS NOT NULL"
        )[0]
        assert (counts["reps"], counts["managers"]) == (40, 2 + 4)
        active = warehouse.scalar(f"SELECT COUNT(DISTINCT rep_id) FROM {COACHING}.calls")
        assert 36 <= active <= 40  # a few generated reps are new or absent; none has no calls at all
        assert warehouse.scalar("SELECT COUNT(*) FROM customers") == 9  # the EBR data as before


def test_fewer_than_eight_reps_is_refused_and_nothing_changes(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["load-demo", "--reps", "7"]) == 2
    assert capsys.readouterr().err.strip() == "error: --reps must be at least 8 (the named demo reps)"
    with EmbeddedWarehouse(cli_env) as warehouse:
        with pytest.raises(ValueError, match="at least 8 reps"):
            load_demo(warehouse, AS_OF, reps=3)
        assert warehouse.scalar(f"SELECT COUNT(*) FROM {COACHING}.speakers WHERE manager_id IS NOT NULL") == 8


def test_demo_reloads_a_warehouse_loaded_before_the_coaching_data(engine: ReportEngine) -> None:
    assert _demo_data_current(engine)
    engine.warehouse.execute(f"DELETE FROM {COACHING}.calls")  # as a warehouse of before
    assert not _demo_data_current(engine)
