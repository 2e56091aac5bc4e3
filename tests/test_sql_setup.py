"""sql/ for a Snowflake account: setup.sql as the one schema, the semantic model checked against it
and run on the demo data, the search service, agent and task files, and `setup-snowflake`
against fakesnow's Snowflake-protocol server."""

from __future__ import annotations

import ast
import hashlib
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlglot
import yaml

# Bound at import: calling it imports the submodule fakesnow.server, which replaces the name.
from fakesnow import server as fakesnow_server
from sqlglot import expressions as exp

from bot.cli import main
from bot.setup_snowflake import (
    COACHING_MODEL,
    DEFAULT_FILES,
    FILES,
    MODEL_STAGE,
    ROW_ACCESS_POLICY,
    SEMANTIC_MODEL,
    plan,
    put_statement,
    run,
)
from core import ReportEngine, Settings, open_warehouse
from core.errors import WarehouseError
from core.format import relative_change
from core.guard.sql import check_statement
from core.kinds.ebr.analytics import Analytics
from core.kinds.ebr.scope import EBR_SCOPE
from core.kinds.ebr.sections import SECTIONS
from core.templating import render
from core.warehouse import SQL_DIR, Warehouse
from core.warehouse.base import scan_statements, split_statements
from core.warehouse.embedded import EmbeddedWarehouse
from core.warehouse.schema import (
    ACCOUNT_ONLY,
    SCHEMA_FILE,
    declared_columns,
    file_statements,
    schema_statements,
    setup_statements,
)
from core.weeks import Week
from tests.conftest import REPORT_WEEK

MODEL = yaml.safe_load((SQL_DIR / SEMANTIC_MODEL).read_text())
SOURCE_TABLES = {
    "customers", "csm_assignments", "conversions", "attributions", "historical_engagement",
    "industry_benchmarks", "case_studies",
}  # fmt: skip
CREATE_TABLE = re.compile(
    r"^CREATE TABLE IF NOT EXISTS CUSTOMER_SUCCESS_DATA\.ANALYTICS\.(\w+) \((.*)\)$", re.S
)
# semantic-model data_type -> INFORMATION_SCHEMA data_type of the embedded warehouse
TYPE_FAMILY = {"VARCHAR": "TEXT", "NUMBER": "NUMBER", "FLOAT": "FLOAT", "DATE": "DATE"}
TYPE_FAMILY["TIMESTAMP_NTZ"] = "TIMESTAMP_NTZ"
# A column added after a table's first release, idempotently (see report_runs in setup.sql).
ADD_COLUMN = r"ALTER TABLE IF EXISTS \S+\s+ADD COLUMN IF NOT EXISTS "
# A backfill of columns added after the first release (runs again harmlessly: WHERE ... IS NULL).
BACKFILL = r"UPDATE \S+\s+SET .* WHERE .* IS NULL"
# The optional row access policy (re)attached to a table.
ROW_ACCESS = r"ALTER TABLE \S+\s+(DROP ALL ROW ACCESS POLICIES|ADD ROW ACCESS POLICY )"
# What the semantic model exposes: the analytic tables only, exactly what answers may read.
ANALYTIC_TABLES = SOURCE_TABLES - {"csm_assignments"}


def ddl_tables() -> dict[str, list[str]]:
    """Table -> column names, in order, as setup.sql declares them."""
    tables = {}
    for statement in setup_statements():
        if match := CREATE_TABLE.match(statement.sql):
            columns = [line.split()[0] for line in match.group(2).strip().splitlines()]
            tables[match.group(1)] = columns
    return tables


def model_tables() -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in MODEL["tables"]}


def logical_columns(table: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for kind in ("dimensions", "time_dimensions", "facts") for c in table.get(kind, [])]


def physical_sql(sql: str) -> str:
    """A verified query in logical names as plain SQL: `__<table>` read as its base table."""
    tables = model_tables()

    def base(match: re.Match[str]) -> str:
        b = tables[match.group(1)]["base_table"]
        return f"{b['database']}.{b['schema']}.{b['table']}"

    return re.sub(r"\b__(\w+)\b", base, sql)


def information_schema(warehouse: Warehouse) -> dict[str, dict[str, str]]:
    rows = warehouse.query(
        "SELECT table_name, column_name, data_type FROM CUSTOMER_SUCCESS_DATA.INFORMATION_SCHEMA.COLUMNS "
        "WHERE table_schema = 'ANALYTICS' ORDER BY table_name, ordinal_position"
    )
    tables: dict[str, dict[str, str]] = {}
    for r in rows:
        tables.setdefault(r["table_name"].lower(), {})[r["column_name"].lower()] = r["data_type"]
    return tables


# --- setup.sql is the schema ---------------------------------------------------------------


def test_embedded_warehouse_creates_every_table_and_column_of_setup_sql(tmp_path: Path) -> None:
    declared = ddl_tables()
    with EmbeddedWarehouse(tmp_path) as warehouse:
        created = information_schema(warehouse)
    assert len(declared) == 16
    assert {t: list(c) for t, c in created.items()} == declared


def test_the_columns_declared_are_setup_sqls_and_anything_else_makes_them_unknown(tmp_path: Path) -> None:
    coaching = {
        ("coaching", t, c)
        for s in setup_statements()
        if (
            match := re.match(
                r"CREATE TABLE IF NOT EXISTS CUSTOMER_SUCCESS_DATA\.COACHING\.(\w+) \((.*)\)$", s.sql, re.S
            )
        )
        for t, c in ((match.group(1), line.split()[0]) for line in match.group(2).strip().splitlines())
    }
    assert len({t for _, t, _ in coaching}) == 4
    assert (
        declared_columns()
        == {("analytics", t, c) for t, columns in ddl_tables().items() for c in columns} | coaching
    )
    with_view = tmp_path / "setup.sql"
    with_view.write_text(
        SCHEMA_FILE.read_text()
        + "\nCREATE VIEW IF NOT EXISTS CUSTOMER_SUCCESS_DATA.ANALYTICS.v AS SELECT 1 AS x;\n"
    )
    assert declared_columns(with_view) is None  # only running the statements would tell


def test_opening_the_embedded_warehouse_puts_back_a_missing_table(empty_home: Path) -> None:
    with EmbeddedWarehouse(empty_home) as warehouse:  # a copy of setup.sql's schema
        warehouse.execute("DROP TABLE csm_preferences")
        assert "csm_preferences" not in information_schema(warehouse)
    with EmbeddedWarehouse(empty_home) as warehouse:
        assert {t: list(c) for t, c in information_schema(warehouse).items()} == ddl_tables()


def test_only_account_level_statements_are_left_to_the_account() -> None:
    statements = setup_statements()
    tagged = [s.sql for s in statements if ACCOUNT_ONLY in s.tags]
    untagged = [s.sql for s in statements if ACCOUNT_ONLY not in s.tags]
    assert untagged == schema_statements()
    assert all(
        re.match(rf"CREATE (DATABASE|SCHEMA|TABLE) IF NOT EXISTS |{ADD_COLUMN}|{BACKFILL}", s, re.S)
        for s in untagged
    )
    assert all(re.match(r"(CREATE (WAREHOUSE|STAGE|ROLE) IF NOT EXISTS|GRANT) ", s) for s in tagged)
    kinds = {" ".join(s.split()[:2]) for s in tagged}
    assert {"CREATE WAREHOUSE", "CREATE STAGE", "CREATE ROLE", "GRANT SELECT", "GRANT USAGE"} <= kinds


def test_the_old_schema_file_is_gone() -> None:
    assert not (SQL_DIR / "schema.sql").exists()
    assert sorted(p.name for p in SQL_DIR.iterdir()) == sorted(FILES)


def test_scan_statements_keeps_bodies_whole_and_tags_from_leading_comments() -> None:
    text = """
    -- a section heading
    -- @account-only: only in an account
    CREATE WAREHOUSE w; -- @not-a-tag for the next statement's leading comments? yes, it leads it
    CREATE TABLE t (a VARCHAR DEFAULT 'x;y''z'); -- trailing
    CREATE PROCEDURE p() AS $$
    x = 'it''s; -- not a comment'  # ; neither
    $$;
    CREATE TABLE u ( -- @account-only inside a statement is no tag
      b VARCHAR);
    """
    statements = scan_statements(text)
    assert [s.tags for s in statements] == [
        frozenset({"account-only"}),
        frozenset({"not-a-tag"}),
        frozenset(),
        frozenset(),
    ]
    assert statements[1].sql == "CREATE TABLE t (a VARCHAR DEFAULT 'x;y''z')"
    assert statements[2].sql.endswith("x = 'it''s; -- not a comment'  # ; neither\n    $$")
    assert split_statements(text) == [s.sql for s in statements]


# --- every file of sql/ ----------------------------------------------------------------------


@pytest.mark.parametrize("name", [f for f in FILES if f.endswith(".sql")])
def test_each_sql_file_parses_into_statements(name: str) -> None:
    statements = file_statements(name)
    assert statements
    for s in statements:
        assert re.match(rf"(CREATE|GRANT) |{ADD_COLUMN}|{ROW_ACCESS}|{BACKFILL}", s.sql, re.S), s.sql[:80]
        assert s.sql.count("$$") in (0, 2), s.sql[:80]
        assert s.sql.count("(") == s.sql.count(")") or "$$" in s.sql, s.sql[:80]


def dollar_body(sql: str) -> str:
    return sql.split("$$")[1]


def statement_starting(name: str, prefix: str) -> str:
    [sql] = [s.sql for s in file_statements(name) if s.sql.startswith(prefix)]
    return sql


def test_search_service_indexes_case_studies_with_industry_and_title() -> None:
    sql = statement_starting("case_study_search.sql", "CREATE OR REPLACE CORTEX SEARCH SERVICE")
    assert re.search(
        r"SEARCH SERVICE CUSTOMER_SUCCESS_DATA\.ANALYTICS\.CASE_STUDY_SEARCH\s+ON content\s", sql
    )
    assert re.search(
        r"ATTRIBUTES industry, title\s+WAREHOUSE = CUSTOMER_SUCCESS_WH\s+TARGET_LAG = '1 hour'", sql
    )
    assert "FROM CUSTOMER_SUCCESS_DATA.ANALYTICS.case_studies" in sql
    query = sqlglot.parse_one(sql.split(" AS\n", 1)[1], read="snowflake")
    selected = {e.alias_or_name for e in query.expressions}
    assert {"case_study_id", "title", "industry", "content"} <= selected
    assert set(ddl_tables()["case_studies"]) >= selected


def agent_spec() -> dict[str, Any]:
    sql = statement_starting(
        "agent.sql", "CREATE OR REPLACE AGENT SNOWFLAKE_INTELLIGENCE.AGENTS.EXECUTIVE_REVIEW_ASSISTANT"
    )
    spec: dict[str, Any] = yaml.safe_load(dollar_body(sql))
    return spec


def test_agent_specification() -> None:
    spec = agent_spec()
    assert set(spec) >= {"models", "orchestration", "instructions", "tools", "tool_resources"}
    assert set(spec["instructions"]) >= {"response", "orchestration", "sample_questions"}
    response = spec["instructions"]["response"]
    assert "Never state a figure the tools did not return" in response
    for section in SECTIONS:
        assert f'"Section: {section.title}"' in response
    assert "3 to 5" in response and "Case study" in response and "Expected" in response
    assert all(q["question"] for q in spec["instructions"]["sample_questions"])

    tools = {t["tool_spec"]["type"]: t["tool_spec"]["name"] for t in spec["tools"]}
    assert set(tools) == {"cortex_analyst_text_to_sql", "cortex_search"}
    assert set(spec["tool_resources"]) == set(tools.values())
    analyst = spec["tool_resources"][tools["cortex_analyst_text_to_sql"]]
    assert analyst["semantic_model_file"] == f"{MODEL_STAGE}/{SEMANTIC_MODEL}"
    assert analyst["execution_environment"] == {
        "type": "warehouse",
        "warehouse": "CUSTOMER_SUCCESS_WH",
        "query_timeout": 60,
    }
    search = spec["tool_resources"][tools["cortex_search"]]
    assert search["search_service"] == "CUSTOMER_SUCCESS_DATA.ANALYTICS.CASE_STUDY_SEARCH"
    assert (search["title_column"], search["id_column"], search["max_results"]) == (
        "title",
        "case_study_id",
        5,
    )


def test_agent_names_objects_that_setup_creates() -> None:
    setup = " ".join(s.sql for s in setup_statements())
    stage = MODEL_STAGE.lstrip("@")
    assert f"CREATE STAGE IF NOT EXISTS {stage}" in setup
    assert "CREATE WAREHOUSE IF NOT EXISTS CUSTOMER_SUCCESS_WH" in setup
    assert put_statement(SQL_DIR / SEMANTIC_MODEL).split()[2] == MODEL_STAGE
    grants = [s.sql for s in file_statements("agent.sql") if s.sql.startswith("GRANT")]
    assert (
        "GRANT USAGE ON AGENT SNOWFLAKE_INTELLIGENCE.AGENTS.EXECUTIVE_REVIEW_ASSISTANT TO ROLE WEEKLY_REPORT_ROLE"
        in grants
    )
    assert "CREATE ROLE IF NOT EXISTS WEEKLY_REPORT_ROLE" in setup


def procedure_sections() -> list[tuple[str, str, str]]:
    body = dollar_body(statement_starting("setup_weekly_task.sql", "CREATE OR REPLACE PROCEDURE"))
    module = ast.parse(body)
    [node] = [n for n in module.body if isinstance(n, ast.Assign) and ast.unparse(n.targets[0]) == "SECTIONS"]
    sections: list[tuple[str, str, str]] = ast.literal_eval(node.value)
    return sections


def test_weekly_task_procedure_compiles_and_asks_the_report_prompts() -> None:
    body = dollar_body(statement_starting("setup_weekly_task.sql", "CREATE OR REPLACE PROCEDURE"))
    compile(body, "GENERATE_WEEKLY_REPORTS", "exec")
    sections = procedure_sections()
    assert [(key, title) for key, title, _ in sections] == [(s.key, s.title) for s in SECTIONS]
    week = Week(REPORT_WEEK)
    context = {
        "customer_id": "CUST_12345", "customer_name": "Northwind Outfitters", "industry": "Retail",
        "week_start": week.start, "week_end": week.end, "previous_start": week.previous.start,
        "previous_end": week.previous.end, "year_ago_start": week.year_ago.start, "year_ago_end": week.year_ago.end,
    }  # fmt: skip
    for key, _title, prompt in sections:
        as_text = {k: str(v) for k, v in context.items()}
        assert prompt.format(**as_text) == render(f"ebr/prompts/{key}.j2", **context)


def test_weekly_task_is_scheduled_suspended_and_documented() -> None:
    task = statement_starting("setup_weekly_task.sql", "CREATE OR REPLACE TASK")
    assert "SCHEDULE = 'USING CRON 0 8 * * MON America/Los_Angeles'" in task
    assert task.rstrip().endswith("CALL CUSTOMER_SUCCESS_DATA.ANALYTICS.GENERATE_WEEKLY_REPORTS()")
    assert not any("RESUME" in s.sql for s in file_statements("setup_weekly_task.sql"))
    procedure = statement_starting("setup_weekly_task.sql", "CREATE OR REPLACE PROCEDURE")
    assert "_snowflake.send_snow_api_request" in procedure and "MERGE INTO" in procedure
    text = (SQL_DIR / "setup_weekly_task.sql").read_text()
    for usage in (
        "RESUME;",
        "EXECUTE TASK CUSTOMER_SUCCESS_DATA.ANALYTICS.WEEKLY_REPORTS_TASK;",
        "TASK_HISTORY(",
    ):
        assert usage in text


# --- the semantic model against setup.sql ----------------------------------------------------


def test_semantic_model_has_the_required_parts() -> None:
    assert {"name", "description", "tables", "relationships", "verified_queries"} <= set(MODEL)
    tables = model_tables()
    assert set(tables) == ANALYTIC_TABLES == EBR_SCOPE.allowed_tables
    for table in tables.values():
        assert set(table["base_table"]) == {"database", "schema", "table"}
        assert table["description"] and (table.get("dimensions") or table.get("time_dimensions"))
    metrics = {m["name"]: m["expr"] for t in tables.values() for m in t.get("metrics", [])}
    assert metrics["total_revenue"] == "SUM(conversions.revenue)"
    assert metrics["conversion_count"] == "COUNT(conversions.conversion_id)"
    assert metrics["average_conversion_value"] == (
        "SUM(conversions.revenue) / NULLIF(COUNT(conversions.conversion_id), 0)"
    )
    assert metrics["open_rate"] == (
        "SUM(historical_engagement.opens) / NULLIF(SUM(historical_engagement.sends), 0)"
    )
    assert metrics["click_through_rate"] == (
        "SUM(historical_engagement.clicks) / NULLIF(SUM(historical_engagement.sends), 0)"
    )
    queries = MODEL["verified_queries"]
    assert len(queries) >= 8
    assert len({q["name"] for q in queries}) == len(queries)
    assert all(set(q) >= {"name", "question", "sql"} for q in queries)


ELEMENT_KINDS = ("dimensions", "time_dimensions", "facts", "metrics", "filters")


def model_terms() -> list[tuple[str, str, str, bool]]:
    """Every name the semantic model offers Cortex Analyst: (normalised term, table, element,
    whether the element is a column or filter rather than a metric). Terms are lower-case with underscores read as spaces, as a question says them."""
    terms = []
    for table in MODEL["tables"]:
        for term in [table["name"], *table.get("synonyms", [])]:
            terms.append((normalised(term), table["name"], "(table)", False))
        for kind in ELEMENT_KINDS:
            for element in table.get(kind, []):
                terms.append((normalised(element["name"]), table["name"], element["name"], kind != "metrics"))
                for synonym in element.get("synonyms", []):
                    terms.append((normalised(synonym), table["name"], element["name"], kind != "metrics"))
    return terms


def normalised(term: str) -> str:
    return " ".join(term.lower().replace("_", " ").split())


def test_semantic_model_names_and_synonyms_are_unambiguous() -> None:
    """No name or synonym may stand for two things (a table, or an element of a table), or
    Cortex Analyst may pick the wrong one. The one exception: a column or filter (dimension,
    time dimension, fact, filter) of the same name in several tables, such as the customer_id
    join key or the last_complete_week filter, with the same synonyms: one concept, which
    Analyst qualifies by its table."""
    seen: dict[str, tuple[str, str, bool]] = {}
    collisions = []
    for term, table, element, is_column in model_terms():
        other = seen.setdefault(term, (table, element, is_column))
        same_thing = other[:2] == (table, element)
        same_column_elsewhere = is_column and other[2] and other[0] != table and element == other[1]
        if not (same_thing or same_column_elsewhere):
            collisions.append(f"{term!r}: {other[0]}.{other[1]} and {table}.{element}")
    assert not collisions, "ambiguous names in the semantic model:\n" + "\n".join(collisions)


def test_semantic_model_names_only_tables_and_columns_of_setup_sql(empty_home: Path) -> None:
    with EmbeddedWarehouse(empty_home) as warehouse:
        physical = information_schema(warehouse)
    tables = model_tables()
    for name, table in tables.items():
        base = table["base_table"]
        assert (base["database"], base["schema"]) == ("CUSTOMER_SUCCESS_DATA", "ANALYTICS")
        columns = physical[base["table"]]
        for column in logical_columns(table):
            # logical name == physical name, so verified queries read as plain SQL too
            assert column["name"] == column["expr"], f"{name}.{column['name']}"
            assert column["expr"] in columns, f"{name}.{column['expr']} is not in setup.sql"
            assert TYPE_FAMILY[column["data_type"]] == columns[column["expr"]], f"{name}.{column['name']}"
        names = {c["name"] for c in logical_columns(table)}
        assert set(table.get("primary_key", {}).get("columns", [])) <= names
        for metric in table.get("metrics", []):
            for owner, column in re.findall(r"(\w+)\.(\w+)", metric["expr"]):
                assert owner in tables and column in {c["name"] for c in logical_columns(tables[owner])}


def test_semantic_model_relationships_join_on_keys() -> None:
    tables = model_tables()
    for rel in MODEL["relationships"]:
        left, right = tables[rel["left_table"]], tables[rel["right_table"]]
        pairs = [(c["left_column"], c["right_column"]) for c in rel["relationship_columns"]]
        assert {lc for lc, _ in pairs} <= {c["name"] for c in logical_columns(left)}
        assert [rc for _, rc in pairs] == right["primary_key"]["columns"]
        assert (rel["join_type"], rel["relationship_type"]) == ("left_outer", "many_to_one")


def test_semantic_model_exposes_only_analytic_tables() -> None:
    """No CSM emails, reports, sections or other product tables for Cortex Analyst to query."""
    text = (SQL_DIR / SEMANTIC_MODEL).read_text()
    for table in set(ddl_tables()) - ANALYTIC_TABLES:
        assert not re.search(rf"\b(__)?{table}\b", text), table
    assert "csm_email" not in text
    named = {t for rel in MODEL["relationships"] for t in (rel["left_table"], rel["right_table"])}
    assert named <= ANALYTIC_TABLES


def test_every_verified_query_passes_the_answer_guard() -> None:
    """The model teaches Cortex Analyst queries the guard lets through for their customer."""
    for query in MODEL["verified_queries"]:
        assert check_statement(physical_sql(query["sql"]), EBR_SCOPE, "CUST_12345") is None, query["name"]
        assert check_statement(physical_sql(query["sql"]), EBR_SCOPE, "CUST_45678") is not None


def test_row_access_policy_is_optional_parses_and_covers_every_customer_table() -> None:
    assert ROW_ACCESS_POLICY in FILES and ROW_ACCESS_POLICY not in DEFAULT_FILES
    assert [s.file for s in plan()] == [s.file for s in plan() if s.file != ROW_ACCESS_POLICY]
    statements = [s.sql for s in plan(ROW_ACCESS_POLICY)]
    [policy] = [s for s in statements if s.startswith("CREATE ROW ACCESS POLICY IF NOT EXISTS")]
    for (
        sql
    ) in statements:  # statements sqlglot does not model (ALTER ... ROW ACCESS, roles) parse as commands
        if sql != policy:  # sqlglot 30 fails on CREATE ROW ACCESS POLICY itself: its parts are checked below
            assert sqlglot.parse(sql, read="snowflake"), sql[:60]
    signature, body = policy.split("->", 1)
    assert re.fullmatch(
        r"CREATE ROW ACCESS POLICY IF NOT EXISTS CUSTOMER_SUCCESS_DATA\.ANALYTICS\.customer_rows\s+"
        r"AS \((\w+) VARCHAR\) RETURNS BOOLEAN\s*",
        signature,
    )
    body = body.split("COMMENT =")[0]
    parsed = sqlglot.parse_one(f"SELECT {body}", read="snowflake", error_level=sqlglot.ErrorLevel.RAISE)
    assert {t.name for t in parsed.find_all(exp.Table)} == {"customer_access"}
    name = "CUSTOMER_SUCCESS_DATA.ANALYTICS.customer_rows"
    for table in EBR_SCOPE.scoped_tables:
        target = f"ALTER TABLE CUSTOMER_SUCCESS_DATA.ANALYTICS.{table}"
        assert f"{target} DROP ALL ROW ACCESS POLICIES" in statements
        assert f"{target}\n    ADD ROW ACCESS POLICY {name} ON ({EBR_SCOPE.subject_column})" in statements


def query_names(sql: str) -> tuple[set[str], set[str], set[str]]:
    """(tables, columns, names the query defines itself: CTEs and aliases)."""
    tree = sqlglot.parse_one(sql, read="snowflake")
    tables = {t.name for t in tree.find_all(exp.Table)}
    columns = {c.name for c in tree.find_all(exp.Column)}
    defined = {c.alias_or_name for c in tree.find_all(exp.CTE)} | {a.alias for a in tree.find_all(exp.Alias)}
    defined |= {t.alias for t in tree.find_all(exp.Table) if t.alias}
    return tables, columns, defined


def test_verified_queries_use_logical_names_only() -> None:
    tables = model_tables()
    logical = {c["name"] for t in tables.values() for c in logical_columns(t)}
    for query in MODEL["verified_queries"]:
        used_tables, used_columns, defined = query_names(query["sql"])
        for table in used_tables - defined:
            assert table.startswith("__") and table[2:] in tables, f"{query['name']}: {table}"
        assert used_tables - defined, query["name"]
        assert used_columns <= logical | defined, f"{query['name']}: {used_columns - logical - defined}"


@pytest.fixture
def reported(engine: ReportEngine) -> ReportEngine:
    """The demo warehouse with this week's reports written, so product tables have rows too."""
    engine.generate(engine.targets(), Week(REPORT_WEEK))
    return engine


def test_every_verified_query_runs_on_the_demo_data(reported: ReportEngine) -> None:
    for query in MODEL["verified_queries"]:
        rows = reported.warehouse.query(physical_sql(query["sql"]))
        assert rows, query["name"]
        assert any(v is not None for v in rows[0].values()), query["name"]
    trend = next(q for q in MODEL["verified_queries"] if q["name"] == "four_week_engagement_trend")
    assert len(reported.warehouse.query(physical_sql(trend["sql"]))) == 4


def test_verified_query_figures_are_the_engines(engine: ReportEngine) -> None:
    def verified(name: str) -> list[dict[str, Any]]:
        query = next(q for q in MODEL["verified_queries"] if q["name"] == name)
        return engine.warehouse.query(physical_sql(query["sql"]))

    data = Analytics(engine.warehouse).snapshot(Week(REPORT_WEEK), ["CUST_12345"]).customers["CUST_12345"]
    week, previous = data.week(0), data.week(-1)
    [sales] = verified("weekly_conversions_and_revenue")
    assert float(sales["conversions"]) == week.conversions
    assert float(sales["revenue"]) == pytest.approx(week.revenue)
    assert float(sales["average_conversion_value"]) == pytest.approx(week.avg_conversion_value)
    [rates] = verified("weekly_engagement_rates")
    assert float(rates["open_rate"]) == pytest.approx(week.open_rate)
    assert float(rates["click_through_rate"]) == pytest.approx(week.click_through_rate)
    assert float(rates["engagement_score"]) == pytest.approx(week.engagement_score)
    [wow] = verified("week_over_week_revenue")
    assert float(wow["revenue_change"]) == pytest.approx(relative_change(week.revenue, previous.revenue))
    vs = {r["metric_name"]: r for r in verified("performance_vs_industry_benchmark")}
    assert float(vs["conversion_rate"]["customer_value"]) == pytest.approx(week.conversion_rate)
    assert float(vs["click_through_rate"]["benchmark_value"]) == data.benchmarks["click_through_rate"].value
    yoy = {r["period"]: r for r in verified("year_over_year_performance")}
    assert float(yoy["last_year"]["revenue"]) == pytest.approx(data.week(-52).revenue)


# --- weekly-report setup-snowflake -----------------------------------------------------------


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["setup-snowflake", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def test_dry_run_prints_every_file_in_order_and_changes_nothing(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = tree_digest(cli_env)
    code, out, err = run_cli(capsys, "--dry-run")
    assert (code, err) == (0, "")
    firsts = [out.index(f"-- {name} [1/") for name in DEFAULT_FILES]
    assert firsts == sorted(firsts) and ROW_ACCESS_POLICY not in out  # optional: only with --only
    position = 0
    for name in DEFAULT_FILES:
        steps = plan(name)
        for n, step in enumerate(steps, start=1):
            position = out.index(f"-- {name} [{n}/{len(steps)}]\n{step.sql};\n", position)
    assert f"PUT '{(SQL_DIR / SEMANTIC_MODEL).as_uri()}' {MODEL_STAGE} AUTO_COMPRESS = FALSE" in out
    assert split_statements(out) == [s.sql for name in DEFAULT_FILES for s in plan(name)]
    assert tree_digest(cli_env) == before


def test_refuses_on_the_embedded_backend(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = tree_digest(cli_env)
    code, out, err = run_cli(capsys)
    assert code == 1 and out == ""
    assert err.startswith("error: `setup-snowflake` creates objects in a Snowflake account: set ")
    assert "WEEKLY_REPORT_BACKEND=snowflake" in err and err.count("\n") == 1
    assert tree_digest(cli_env) == before


def test_bad_file_choices(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        run_cli(capsys, "--dry-run", "--only", "schema.sql")
    assert stopped.value.code == 2
    assert "'schema.sql' is not one of setup.sql" in capsys.readouterr().err
    code, _, err = run_cli(capsys, "--dry-run", "--schema-only", "--only", "agent.sql")
    assert (code, err) == (2, "error: --schema-only applies to setup.sql only, not to agent.sql\n")
    code, out, _ = run_cli(capsys, "--dry-run", "--only", "sql/agent.sql")
    assert code == 0 and "-- agent.sql [1/" in out and "setup.sql" not in out


# --- against fakesnow's server, through the real connector -------------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[dict[str, Any]]:
    with fakesnow_server() as kwargs:
        yield kwargs


def connections_toml(folder: Path, port: int, db_path: str | None) -> Path:
    """A connections.toml for fakesnow; without db_path its sessions share one database."""
    toml = folder / "connections.toml"
    shared = "" if db_path is None else f'FAKESNOW_DB_PATH = "{db_path}"\n'
    toml.write_text(
        f'[fake]\naccount = "fakesnow"\nuser = "fake"\npassword = "snow"\nhost = "127.0.0.1"\nport = {port}\n'
        'protocol = "http"\n[fake.session_parameters]\nCLIENT_OUT_OF_BAND_TELEMETRY_ENABLED = false\n'
        + shared
    )
    toml.chmod(0o600)
    return toml


def snowflake_settings(toml: Path) -> Settings:
    return Settings(backend="snowflake", snowflake_connection_name="fake", snowflake_connections_file=toml)


@pytest.fixture
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def shared_account(
    server: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_proxy: None
) -> Iterator[Path]:
    """The CLI's environment for fakesnow's shared database, emptied before and after the test."""
    toml = connections_toml(tmp_path, int(server["port"]), None)
    for name, value in {
        "WEEKLY_REPORT_BACKEND": "snowflake", "SNOWFLAKE_CONNECTION_NAME": "fake",
        "SNOWFLAKE_CONNECTIONS_FILE": str(toml), "WEEKLY_REPORT_CONFIG": str(tmp_path / "none.toml"),
    }.items():  # fmt: skip
        monkeypatch.setenv(name, value)

    def drop() -> None:  # fakesnow has no DROP DATABASE
        with open_warehouse(snowflake_settings(toml)) as warehouse:
            warehouse.execute("CREATE DATABASE IF NOT EXISTS CUSTOMER_SUCCESS_DATA")
            warehouse.execute("DROP SCHEMA IF EXISTS CUSTOMER_SUCCESS_DATA.ANALYTICS CASCADE")
            warehouse.execute("DROP SCHEMA IF EXISTS CUSTOMER_SUCCESS_DATA.COACHING CASCADE")
            assert information_schema(warehouse) == {}

    drop()
    yield toml
    drop()


def test_setup_sql_creates_the_tables_on_a_snowflake_server(
    shared_account: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(capsys, "--only", "setup.sql", "--schema-only")
    assert (code, err) == (0, "")
    statements = setup_statements()
    assert out.startswith(f"setup.sql: {len(statements)} statements\n")
    assert out.count(" ok\n") == len(schema_statements())
    assert out.count("skipped (@account-only)") == len(statements) - len(schema_statements())
    with open_warehouse(snowflake_settings(shared_account)) as warehouse:
        created = warehouse.query(
            "SELECT table_name FROM CUSTOMER_SUCCESS_DATA.INFORMATION_SCHEMA.TABLES WHERE table_schema = 'ANALYTICS'"
        )
        assert {r["table_name"].lower() for r in created} == set(ddl_tables())
        assert {t: list(c) for t, c in information_schema(warehouse).items()} == ddl_tables()
        coaching = warehouse.query(  # the contract of issue 15, 28 columns, and transcripts.rep_id
            "SELECT table_name, column_name FROM CUSTOMER_SUCCESS_DATA.INFORMATION_SCHEMA.COLUMNS "
            "WHERE table_schema = 'COACHING' ORDER BY table_name, ordinal_position"
        )
        assert len(coaching) == 29
        assert {(r["table_name"].lower(), r["column_name"].lower()) for r in coaching} == {
            (t, c) for schema, t, c in declared_columns() or () if schema == "coaching"
        }
    assert run_cli(capsys, "--only", "setup.sql", "--schema-only")[0] == 0  # idempotent


def test_semantic_model_is_uploaded_to_its_stage(
    shared_account: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(capsys, "--only", "setup.sql", "--schema-only")[0] == 0
    stage = next(s.sql for s in setup_statements() if s.sql.startswith("CREATE STAGE"))
    with open_warehouse(snowflake_settings(shared_account)) as warehouse:
        warehouse.execute(stage)  # fakesnow can create the stage; the grants around it it cannot
    code, out, err = run_cli(capsys, "--only", SEMANTIC_MODEL)
    assert (code, err) == (0, "")
    assert f"{SEMANTIC_MODEL}: 1 statement\n  [1/1] PUT '" in out
    with open_warehouse(snowflake_settings(shared_account)) as warehouse:
        listed = warehouse.query(f"LIST {MODEL_STAGE}")
    # The coaching model may be there too (tests/test_coaching_cortex_setup.py): fakesnow keeps
    # stage files in one folder per process, and cannot REMOVE them.
    files = {r["name"].rsplit("/", 1)[-1]: int(r["size"]) for r in listed}
    assert set(files) <= {SEMANTIC_MODEL, COACHING_MODEL}
    assert files[SEMANTIC_MODEL] == (SQL_DIR / SEMANTIC_MODEL).stat().st_size


def test_a_failing_statement_stops_the_run_with_its_file_and_position(
    server: dict[str, Any], tmp_path: Path, no_proxy: None, capsys: pytest.CaptureFixture[str]
) -> None:
    toml = connections_toml(tmp_path, int(server["port"]), ":isolated:")
    with open_warehouse(snowflake_settings(toml)) as warehouse, pytest.raises(WarehouseError) as failed:
        run(warehouse, plan("setup.sql"), sys.stdout)
    message = str(failed.value)
    assert message.startswith("setup.sql statement 1 failed: ")
    assert message.endswith(
        "fix it and run again (every statement is idempotent), e.g. with --only setup.sql"
    )
    assert "\n" not in message
    out = capsys.readouterr().out
    assert out.startswith("setup.sql: ") and "CREATE WAREHOUSE IF NOT EXISTS CUSTOMER_SUCCESS_WH" in out
    assert out.rstrip().endswith("failed")


class _Rows:
    def __init__(self, warehouse: Warehouse, text: str, params: list[Any] | None) -> None:
        self.warehouse, self.text, self.params = warehouse, text, params or []

    def collect(self) -> list[tuple[Any, ...]]:
        return self.warehouse.fetch(self.text, self.params)[1]


class _Session:
    """The part of a Snowpark session the procedure's storage uses, over a warehouse."""

    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse

    def sql(self, text: str, params: list[Any] | None = None) -> _Rows:
        return _Rows(self.warehouse, text, params)


def test_weekly_task_procedure_stores_reports_as_generations(
    empty_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The procedure's own statements, run on the embedded warehouse: a report it stores reads
    whole, and replacing it leaves only the new generation's sections."""
    import types

    from core.storage import ReportStore

    monkeypatch.setitem(sys.modules, "_snowflake", types.ModuleType("_snowflake"))
    procedure: dict[str, Any] = {}
    exec(dollar_body(statement_starting("setup_weekly_task.sql", "CREATE OR REPLACE PROCEDURE")), procedure)
    week = Week(REPORT_WEEK)

    def row(status: str, thread: str) -> tuple[Any, ...]:
        return ("CUST_1-20261109", "CSM001", "CUST_1", str(week.start), str(week.end), f"report {thread}",
                status, thread, 7, '{"customer_name": "One"}')  # fmt: skip

    def sections(thread: str) -> list[tuple[Any, ...]]:
        return [(key, i, title, f"{key} {thread}", i, "complete", None) for i, (key, title, _) in
                enumerate(procedure["SECTIONS"], 1)]  # fmt: skip

    with EmbeddedWarehouse(empty_home) as warehouse:
        session = _Session(warehouse)
        assert procedure["store"](session, row("partial", "t1"), sections("t1"))
        assert procedure["store"](session, row("complete", "t2"), sections("t2"))
        assert not procedure["store"](session, row("complete", "t3"), sections("t3"))  # complete is kept
        loaded = ReportStore(warehouse).load("CUST_1", week)
        assert loaded.agent_thread_id == "t2" and [s.content for s in loaded.sections] == [
            f"{key} t2" for key, _, _ in procedure["SECTIONS"]
        ]
        assert warehouse.scalar("SELECT COUNT(*) FROM report_sections") == len(procedure["SECTIONS"])
