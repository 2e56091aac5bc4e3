"""The sales-coaching review's Cortex objects: its semantic model checked against sql/setup.sql,
by the guard and on the demo data, its agent's specification, and `setup-snowflake` uploading
the model to the stage of fakesnow's Snowflake-protocol server."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlglot
import yaml
from sqlglot import expressions as exp

from bot.setup_snowflake import (
    COACHING_MODEL,
    DEFAULT_FILES,
    MODEL_STAGE,
    SEMANTIC_MODEL,
    plan,
    put_statement,
)
from core.agent.base import AskContext
from core.guard.sql import check_statement
from core.kinds.coaching.followup import answer
from core.kinds.coaching.scope import COACHING_SCOPE
from core.settings import DEFAULT_COACHING_AGENT
from core.warehouse import SQL_DIR
from core.warehouse.base import COACHING
from core.warehouse.embedded import EmbeddedWarehouse
from core.warehouse.schema import file_statements, setup_statements
from core.weeks import Week
from tests.test_sql_setup import no_proxy, run_cli, server, shared_account, snowflake_settings

__all__ = ["no_proxy", "server", "shared_account"]  # fixtures, shared with test_sql_setup

MODEL: dict[str, Any] = yaml.safe_load((SQL_DIR / COACHING_MODEL).read_text())
AGENT_FILE = "coaching_agent.sql"
TYPE_FAMILY = {"VARCHAR": "TEXT", "NUMBER": "NUMBER", "TIMESTAMP_NTZ": "TIMESTAMP_NTZ"}
# The one logical column that is an expression: the objections ARRAY as JSON text.
DERIVED = {"objection_list": "TO_VARCHAR(objections)"}
SECTION_TITLES = ("Summary", "Scores by Dimension", "Recurring Objections", "Calls This Week", "Focus Areas")
WEEK = Week(dt.date(2026, 11, 9))


def tables() -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in MODEL["tables"]}


def columns(table: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for kind in ("dimensions", "time_dimensions", "facts") for c in table.get(kind, [])]


def physical_sql(sql: str) -> str:
    """A verified query as plain SQL: `__<table>` read as its base table, derived columns as their expressions."""

    def base(match: re.Match[str]) -> str:
        b = tables()[match.group(1)]["base_table"]
        return f"{b['database']}.{b['schema']}.{b['table']}"

    sql = re.sub(r"\b__(\w+)\b", base, sql)
    for name, expr in DERIVED.items():
        column = expr[expr.index("(") + 1 : -1]
        sql = re.sub(rf"\b(\w+\.)?{name}\b", lambda m, e=expr, c=column: e.replace(c, (m[1] or "") + c), sql)
    return sql


def rep_of(sql: str) -> str:
    [rep] = set(re.findall(r"'(REP\d+)'", sql))
    return rep


# --- the semantic model against setup.sql ---------------------------------------------------------


def test_the_model_exposes_exactly_the_coaching_scopes_tables() -> None:
    assert {"name", "description", "tables", "relationships", "verified_queries"} <= set(MODEL)
    assert set(tables()) == COACHING_SCOPE.scoped_tables == {"calls", "coaching_sessions", "transcripts"}
    for table in tables().values():
        assert table["base_table"] == {
            "database": "CUSTOMER_SUCCESS_DATA",
            "schema": "COACHING",
            "table": table["name"],
        }
        assert "rep_id" in {c["name"] for c in columns(table)}, table["name"]
    text = (SQL_DIR / COACHING_MODEL).read_text()
    assert not re.search(r"\b__speakers\b|\bemail\b|\bslack_user_id\b|\bmanager_id\b", text)


def test_every_logical_column_is_a_column_of_setup_sql(empty_home: Path) -> None:
    with EmbeddedWarehouse(empty_home) as warehouse:  # a copy of what setup.sql creates
        rows = warehouse.query(
            "SELECT table_name, column_name, data_type FROM CUSTOMER_SUCCESS_DATA.INFORMATION_SCHEMA.COLUMNS "
            "WHERE table_schema = 'COACHING'"
        )
    physical: dict[str, dict[str, str]] = {}
    for r in rows:
        physical.setdefault(r["table_name"].lower(), {})[r["column_name"].lower()] = r["data_type"]
    for name, table in tables().items():
        for column in columns(table):
            if column["name"] in DERIVED:
                assert column["expr"] == DERIVED[column["name"]] and column["data_type"] == "VARCHAR"
                continue
            assert column["name"] == column["expr"], f"{name}.{column['name']}"
            assert TYPE_FAMILY[column["data_type"]] == physical[name][column["expr"]], (
                f"{name}.{column['name']}"
            )
        for metric in table.get("metrics", []):
            for owner, column in re.findall(r"(\w+)\.(\w+)", metric["expr"]):
                assert column in {c["name"] for c in columns(tables()[owner])}, metric["name"]
        assert set(table.get("primary_key", {}).get("columns", [])) <= {c["name"] for c in columns(table)}
    for rel in MODEL["relationships"]:
        right = tables()[rel["right_table"]]
        assert [c["right_column"] for c in rel["relationship_columns"]] == right["primary_key"]["columns"]
        assert (rel["join_type"], rel["relationship_type"]) == ("left_outer", "many_to_one")


def test_no_name_or_synonym_stands_for_two_things() -> None:
    """As the EBR model's test: a term names one table or element; a column shared by several
    tables (call_id, rep_id) is one concept with the same name."""
    seen: dict[str, tuple[str, str, bool]] = {}
    for table in MODEL["tables"]:
        terms = [(t, "(table)", False) for t in [table["name"], *table.get("synonyms", [])]]
        for kind in ("dimensions", "time_dimensions", "facts", "metrics"):
            for element in table.get(kind, []):
                for term in [element["name"], *element.get("synonyms", [])]:
                    terms.append((term, element["name"], kind != "metrics"))
        for term, element, is_column in terms:
            key = " ".join(term.lower().replace("_", " ").split())
            other = seen.setdefault(key, (table["name"], element, is_column))
            same = other[:2] == (table["name"], element) or (is_column and other[2] and other[1] == element)
            assert same, f"{key!r}: {other[0]}.{other[1]} and {table['name']}.{element}"


# --- verified queries: the guard, the logical names, the demo data --------------------------------


def test_every_verified_query_passes_the_guard_for_its_rep_only() -> None:
    queries = MODEL["verified_queries"]
    assert len(queries) >= 6 and len({q["name"] for q in queries}) == len(queries)
    for query in queries:
        sql = physical_sql(query["sql"])
        rep = rep_of(sql)
        assert check_statement(sql, COACHING_SCOPE, rep) is None, query["name"]
        assert check_statement(sql, COACHING_SCOPE, "REP999") is not None, query["name"]
        # Without the rep filters, every one of them is refused: the filters are what passes them.
        unscoped = re.sub(rf"\w+\.rep_id = '{rep}'", "TRUE", sql)
        assert unscoped != sql
        verdict = check_statement(unscoped, COACHING_SCOPE, rep)
        assert verdict is not None and verdict[0] == "unscoped_table", query["name"]


def test_verified_queries_use_logical_names_only() -> None:
    logical = {c["name"] for t in tables().values() for c in columns(t)}
    for query in MODEL["verified_queries"]:
        tree = sqlglot.parse_one(query["sql"], read="snowflake")
        defined = {c.alias_or_name for c in tree.find_all(exp.CTE)} | {
            a.alias for a in tree.find_all(exp.Alias)
        }
        defined |= {t.alias for t in tree.find_all(exp.Table) if t.alias}
        used = {t.name for t in tree.find_all(exp.Table)} - defined
        assert used and all(t.startswith("__") and t[2:] in tables() for t in used), query["name"]
        names = {c.name for c in tree.find_all(exp.Column)}
        assert names <= logical | defined | {"value"}, f"{query['name']}: {names - logical - defined}"


@pytest.fixture(scope="module")
def wh(demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedWarehouse]:
    home = tmp_path_factory.mktemp("coaching-model") / "home"
    shutil.copytree(demo_template, home)
    with EmbeddedWarehouse(home) as warehouse:
        yield warehouse


def verified(wh: EmbeddedWarehouse, name: str) -> list[dict[str, Any]]:
    query = next(q for q in MODEL["verified_queries"] if q["name"] == name)
    return wh.query(physical_sql(query["sql"]))


def test_every_verified_query_runs_on_the_demo_data(wh: EmbeddedWarehouse) -> None:
    for query in MODEL["verified_queries"]:
        rows = wh.query(physical_sql(query["sql"]))
        assert rows and any(v is not None for v in rows[0].values()), query["name"]
    assert len(verified(wh, "discovery_trend_four_weeks")) == 4
    assert [r["which"] for r in verified(wh, "best_and_worst_call")] == ["best", "worst"]


def test_verified_query_figures_agree_with_the_local_answers(wh: EmbeddedWarehouse) -> None:
    [week] = verified(wh, "weekly_scores")
    own = wh.query(
        f"SELECT COUNT(*) AS calls, AVG(s.overall_score) AS overall FROM {COACHING}.calls c LEFT JOIN "
        f"{COACHING}.coaching_sessions s ON s.call_id = c.call_id WHERE c.rep_id = 'REP001' "
        "AND c.started_at >= '2026-11-09' AND c.started_at < '2026-11-16'"
    )[0]
    assert (week["calls"], float(week["overall_score"])) == (
        own["calls"],
        pytest.approx(float(own["overall"])),
    )
    pricing = verified(wh, "calls_with_pricing_objection")
    context = AskContext("REP005", "Aisha Okafor", "Marcus Reid", WEEK, kind="coaching")
    local = answer(wh, "Which calls had pricing objections?", context)
    assert local.sources == [r["call_id"] for r in pricing]
    counts = {r["objection"]: r["calls"] for r in verified(wh, "objection_counts")}
    assert counts["pricing"] == len(pricing)
    moments = verified(wh, "objection_moments")
    assert {r["title"] for r in moments} == {r["title"] for r in pricing}
    assert any(r["said_by_rep"] for r in moments) and not all(r["said_by_rep"] for r in moments)


# --- the agent ------------------------------------------------------------------------------------


def agent_spec() -> dict[str, Any]:
    [sql] = [s.sql for s in file_statements(AGENT_FILE) if s.sql.startswith("CREATE OR REPLACE AGENT")]
    assert sql.startswith(f"CREATE OR REPLACE AGENT {DEFAULT_COACHING_AGENT}\n")
    spec: dict[str, Any] = yaml.safe_load(sql.split("$$")[1])
    return spec


def test_the_agent_is_the_settings_default_with_the_analyst_over_the_coaching_model() -> None:
    spec = agent_spec()
    assert set(spec) >= {"models", "orchestration", "instructions", "tools", "tool_resources"}
    response = spec["instructions"]["response"]
    assert "Never state a figure or a quote the tools did not return" in response
    for title in SECTION_TITLES:
        assert f'"Section: {title}"' in response
    assert "another rep" in spec["instructions"]["orchestration"]
    [tool] = [t["tool_spec"] for t in spec["tools"]]
    assert tool["type"] == "cortex_analyst_text_to_sql"
    resource = spec["tool_resources"][tool["name"]]
    assert resource["semantic_model_file"] == f"{MODEL_STAGE}/{COACHING_MODEL}"
    assert resource["execution_environment"] == {
        "type": "warehouse",
        "warehouse": "CUSTOMER_SUCCESS_WH",
        "query_timeout": 60,
    }
    grants = [s.sql for s in file_statements(AGENT_FILE) if s.sql.startswith("GRANT")]
    assert f"GRANT USAGE ON AGENT {DEFAULT_COACHING_AGENT} TO ROLE WEEKLY_REPORT_ROLE" in grants
    setup = " ".join(s.sql for s in setup_statements())
    for table in COACHING_SCOPE.scoped_tables:  # what its tool reads, the bot's role may read
        assert (
            f"GRANT SELECT ON TABLE CUSTOMER_SUCCESS_DATA.COACHING.{table} TO ROLE WEEKLY_REPORT_ROLE"
            in setup
        )
    for statement in file_statements(AGENT_FILE):
        assert sqlglot.parse(statement.sql, read="snowflake"), statement.sql[:60]


def test_setup_snowflake_uploads_the_model_after_the_ebrs_and_creates_the_agent_after_the_ebrs() -> None:
    order = list(DEFAULT_FILES)
    assert order.index(SEMANTIC_MODEL) < order.index(COACHING_MODEL) < order.index("agent.sql")
    assert order.index("agent.sql") < order.index(AGENT_FILE) < order.index("setup_weekly_task.sql")
    [put] = [s.sql for s in plan(COACHING_MODEL)]
    assert put == put_statement(SQL_DIR / COACHING_MODEL)
    assert put.endswith(f"{MODEL_STAGE} AUTO_COMPRESS = FALSE OVERWRITE = TRUE")


def test_the_coaching_model_is_uploaded_and_the_agents_schema_created_on_a_snowflake_server(
    shared_account: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from core import open_warehouse

    assert run_cli(capsys, "--only", "setup.sql", "--schema-only")[0] == 0
    stage = next(s.sql for s in setup_statements() if s.sql.startswith("CREATE STAGE"))
    with open_warehouse(snowflake_settings(shared_account)) as warehouse:
        warehouse.execute(stage)
        for statement in file_statements(AGENT_FILE):  # the parts fakesnow runs: no AGENT, no GRANT
            if statement.sql.startswith(("CREATE DATABASE", "CREATE SCHEMA")):
                warehouse.execute(statement.sql)
        schemas = warehouse.query(
            "SELECT schema_name FROM SNOWFLAKE_INTELLIGENCE.INFORMATION_SCHEMA.SCHEMATA"
        )
        assert "AGENTS" in {r["schema_name"].upper() for r in schemas}
    code, out, err = run_cli(capsys, "--only", COACHING_MODEL)
    assert (code, err) == (0, "")
    assert f"{COACHING_MODEL}: 1 statement\n  [1/1] PUT '" in out
    with open_warehouse(snowflake_settings(shared_account)) as warehouse:
        listed = warehouse.query(f"LIST {MODEL_STAGE}")
    # (The EBR's model may be there too: fakesnow keeps stage files in one folder per process.)
    files = {r["name"].rsplit("/", 1)[-1]: int(r["size"]) for r in listed}
    assert files[COACHING_MODEL] == (SQL_DIR / COACHING_MODEL).stat().st_size
