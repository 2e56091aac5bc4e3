"""The answer guard on its own: the SQL checker statement by statement, result sets, text."""

from __future__ import annotations

import pytest

from core.agent.base import Answer, ResultTable
from core.guard import RULES, Scope, Subjects, check
from core.guard.sql import check_statement
from core.kinds.ebr.scope import EBR_SCOPE

ME = "CUST_12345"
T = "CUSTOMER_SUCCESS_DATA.ANALYTICS"
NAMES = {
    "CUST_12345": "Acme Retail Co",
    "CUST_45678": "Meridian Health Partners",
    "CUST_23456": "Meridian Health",  # a name inside another's
    "CUST_56789": "Northwind",
}
SUBJECTS = Subjects(NAMES, EBR_SCOPE.id_pattern)
SCOPE = Scope(EBR_SCOPE, ME, SUBJECTS)


def rule(sql: str, subject: str = ME) -> str | None:
    refusal = check_statement(sql, EBR_SCOPE, subject)
    return refusal[0] if refusal else None


# --- statements that stay with the report's customer --------------------------------------

BENIGN = {
    "equality": f"SELECT SUM(revenue) FROM {T}.conversions WHERE customer_id = '{ME}'",
    "equality reversed, bare name": f"SELECT SUM(revenue) FROM conversions WHERE '{ME}' = customer_id",
    "IN with one id": f"SELECT COUNT(*) FROM historical_engagement WHERE customer_id IN ('{ME}') AND sends > 0",
    "quoted upper-case identifiers": (
        f'SELECT SUM("REVENUE") FROM "CUSTOMER_SUCCESS_DATA"."ANALYTICS"."CONVERSIONS" '
        f"WHERE \"CUSTOMER_ID\" = '{ME}'"
    ),
    "schema-qualified, mixed case": f"select sum(Revenue) from Analytics.Conversions c where C.Customer_Id = '{ME}'",
    "qualified by alias, with a date range": (
        f"SELECT c.channel, SUM(c.revenue) FROM conversions AS c WHERE c.customer_id = '{ME}' "
        "AND c.conversion_date BETWEEN '2026-11-09'::DATE AND '2026-11-15'::DATE GROUP BY c.channel"
    ),
    "cast literal": f"SELECT 1 FROM conversions WHERE customer_id = '{ME}'::VARCHAR",
    "OR whose branches both pin": (
        f"SELECT 1 FROM conversions WHERE (customer_id = '{ME}' AND channel = 'sms') "
        f"OR (customer_id = '{ME}' AND channel = 'email')"
    ),
    "restricted CTE": (
        f"WITH w AS (SELECT channel, revenue FROM conversions WHERE customer_id = '{ME}') "
        "SELECT channel, SUM(revenue) FROM w GROUP BY channel"
    ),
    "two restricted CTEs joined": (
        f"WITH s AS (SELECT channel, SUM(revenue) r FROM conversions WHERE customer_id = '{ME}' GROUP BY channel), "
        f"e AS (SELECT channel, SUM(sends) n FROM historical_engagement WHERE customer_id = '{ME}' GROUP BY channel) "
        "SELECT e.channel, s.r, e.n FROM e LEFT JOIN s ON s.channel = e.channel"
    ),
    "join through conversions to attributions on customer_id": (
        "SELECT a.attribution_model, SUM(a.credit * c.revenue) FROM attributions AS a "
        "JOIN conversions AS c ON c.conversion_id = a.conversion_id AND c.customer_id = a.customer_id "
        f"WHERE c.customer_id = '{ME}' GROUP BY a.attribution_model"
    ),
    "both tables filtered": (
        "SELECT SUM(a.credit) FROM attributions a JOIN conversions c ON c.conversion_id = a.conversion_id "
        f"WHERE a.customer_id = '{ME}' AND c.customer_id = '{ME}'"
    ),
    "LEFT JOIN pinned through its ON from a pinned table": (
        "SELECT c.customer_name, e.sends FROM customers c LEFT JOIN historical_engagement e "
        f"ON e.customer_id = c.customer_id WHERE c.customer_id = '{ME}'"
    ),
    "restricted CTE joined to a table on customer_id": (
        f"WITH me AS (SELECT customer_id, industry FROM customers WHERE customer_id = '{ME}') "
        "SELECT SUM(x.revenue) FROM me JOIN conversions x ON x.customer_id = me.customer_id"
    ),
    "benchmarks of the customer's industry": (
        "SELECT b.metric_name, b.benchmark_value FROM industry_benchmarks AS b "
        f"JOIN customers AS c ON c.customer_id = '{ME}' AND b.industry = c.industry"
    ),
    "benchmarks alone": "SELECT metric_name, benchmark_value FROM industry_benchmarks WHERE industry = 'Retail'",
    "case studies": "SELECT title, results FROM CUSTOMER_SUCCESS_DATA.ANALYTICS.case_studies WHERE industry = 'Retail'",
    "subquery in WHERE, restricted": (
        f"SELECT SUM(revenue) FROM conversions WHERE customer_id = '{ME}' AND channel IN "
        f"(SELECT channel FROM historical_engagement WHERE customer_id = '{ME}' AND sends > 100)"
    ),
    "derived table, restricted inside": (
        f"SELECT t.channel FROM (SELECT channel, SUM(revenue) r FROM conversions WHERE customer_id = '{ME}' "
        "GROUP BY channel) t ORDER BY t.r DESC LIMIT 1"
    ),
    "UNION ALL of restricted branches": (
        f"SELECT 'sales' k, SUM(revenue) v FROM conversions WHERE customer_id = '{ME}' "
        f"UNION ALL SELECT 'sends', SUM(sends) FROM historical_engagement WHERE customer_id = '{ME}'"
    ),
    "FLATTEN of a pinned table's value": (
        f"SELECT f.value FROM conversions c, LATERAL FLATTEN(input => PARSE_JSON(c.campaign)) f "
        f"WHERE c.customer_id = '{ME}'"
    ),
    "no table at all": "SELECT CURRENT_DATE() AS today",
    "two statements, both scoped": (
        f"SELECT 1 FROM conversions WHERE customer_id = '{ME}'; "
        f"SELECT 2 FROM historical_engagement WHERE customer_id = '{ME}'"
    ),
}


@pytest.mark.parametrize("sql", BENIGN.values(), ids=BENIGN.keys())
def test_statements_scoped_to_the_subject_pass(sql: str) -> None:
    assert rule(sql) is None


# --- statements that reach beyond it ------------------------------------------------------

LEAKS = {
    "Sarah's reproduction: GROUP BY customer_id, no filter": (
        "unscoped_table",
        f"SELECT customer_id, SUM(revenue) AS revenue FROM {T}.conversions "
        "WHERE conversion_date >= '2026-11-09' GROUP BY customer_id",
    ),
    "another customer's id": (
        "foreign_subject",
        "SELECT SUM(revenue) FROM conversions WHERE customer_id = 'CUST_45678'",
    ),
    "another customer's id, lower case": (
        "foreign_subject",
        "SELECT SUM(revenue) FROM conversions WHERE customer_id = 'cust_45678'",
    ),
    "IN with the subject and another": (
        "foreign_subject",
        f"SELECT SUM(revenue) FROM conversions WHERE customer_id IN ('{ME}', 'CUST_45678')",
    ),
    "OR escape": (
        "unscoped_table",
        f"SELECT SUM(revenue) FROM conversions WHERE customer_id = '{ME}' OR 1 = 1",
    ),
    "OR escape on another column": (
        "unscoped_table",
        f"SELECT SUM(revenue) FROM conversions WHERE customer_id = '{ME}' OR channel = 'sms'",
    ),
    "NOT IN": ("unscoped_table", f"SELECT 1 FROM conversions WHERE customer_id NOT IN ('{ME}')"),
    "inequality": ("unscoped_table", f"SELECT 1 FROM conversions WHERE customer_id <> '{ME}'"),
    "LIKE": ("unscoped_table", "SELECT 1 FROM conversions WHERE customer_id LIKE 'CUST_%'"),
    "a function of the column": (
        "unscoped_table",
        f"SELECT 1 FROM conversions WHERE UPPER(customer_id) = '{ME}'",
    ),
    "filter only in HAVING": (
        "unscoped_table",
        f"SELECT customer_id, SUM(revenue) FROM conversions GROUP BY customer_id HAVING customer_id = '{ME}'",
    ),
    "unrestricted CTE filtered outside": (
        "unscoped_table",
        "WITH t AS (SELECT customer_id, SUM(revenue) r FROM conversions GROUP BY customer_id) "
        f"SELECT r FROM t WHERE customer_id = '{ME}'",
    ),
    "unused unrestricted CTE": (
        "unscoped_table",
        f"WITH t AS (SELECT * FROM conversions) SELECT 1 FROM historical_engagement WHERE customer_id = '{ME}'",
    ),
    "scalar subquery over everyone": (
        "unscoped_table",
        f"SELECT (SELECT SUM(revenue) FROM conversions) AS everyone FROM customers WHERE customer_id = '{ME}'",
    ),
    "IN subquery over everyone": (
        "unscoped_table",
        "SELECT SUM(revenue) FROM conversions WHERE customer_id IN (SELECT customer_id FROM customers)",
    ),
    "join on conversion_id only: attributions unpinned": (
        "unscoped_table",
        "SELECT SUM(a.credit) FROM attributions a JOIN conversions c ON c.conversion_id = a.conversion_id "
        f"WHERE c.customer_id = '{ME}'",
    ),
    "LEFT JOIN does not pin the left side": (
        "unscoped_table",
        f"SELECT 1 FROM conversions c LEFT JOIN customers k ON k.customer_id = '{ME}' "
        "AND k.customer_id = c.customer_id",
    ),
    "FULL JOIN pins nothing": (
        "unscoped_table",
        f"SELECT 1 FROM conversions c FULL JOIN customers k ON k.customer_id = c.customer_id "
        f"WHERE c.customer_id = '{ME}'",
    ),
    "USING is not relied on": (
        "unscoped_table",
        f"SELECT 1 FROM conversions c JOIN attributions a USING (customer_id) WHERE c.customer_id = '{ME}'",
    ),
    "ambiguous unqualified column": (
        "unscoped_table",
        f"SELECT 1 FROM conversions c, historical_engagement e WHERE customer_id = '{ME}'",
    ),
    "one UNION branch unrestricted": (
        "unscoped_table",
        f"SELECT revenue FROM conversions WHERE customer_id = '{ME}' UNION ALL SELECT revenue FROM conversions",
    ),
    "customers listed": ("unscoped_table", "SELECT customer_id, customer_name FROM customers"),
    "csm_assignments (emails)": (
        "forbidden_table",
        f"SELECT csm_email FROM {T}.csm_assignments WHERE customer_id = '{ME}'",
    ),
    "weekly_reports": (
        "forbidden_table",
        f"SELECT full_report FROM weekly_reports WHERE customer_id = '{ME}'",
    ),
    "report_sections": ("forbidden_table", "SELECT content FROM report_sections"),
    "followups": ("forbidden_table", "SELECT answer FROM followups"),
    "report_deliveries": ("forbidden_table", "SELECT * FROM report_deliveries"),
    "report_runs": ("forbidden_table", "SELECT * FROM report_runs"),
    "agent threads": ("forbidden_table", "SELECT content FROM agent_messages"),
    "INFORMATION_SCHEMA": (
        "forbidden_table",
        "SELECT table_name FROM CUSTOMER_SUCCESS_DATA.INFORMATION_SCHEMA.TABLES",
    ),
    "ACCOUNT_USAGE": ("forbidden_table", "SELECT query_text FROM SNOWFLAKE.ACCOUNT_USAGE.QUERY_HISTORY"),
    "another database's conversions": (
        "forbidden_table",
        f"SELECT 1 FROM OTHER_DB.ANALYTICS.conversions WHERE customer_id = '{ME}'",
    ),
    "another schema's conversions": (
        "forbidden_table",
        f"SELECT 1 FROM CUSTOMER_SUCCESS_DATA.STAGING.conversions WHERE customer_id = '{ME}'",
    ),
    "unknown table": ("forbidden_table", "SELECT * FROM payroll"),
    "forbidden table inside a subquery": (
        "forbidden_table",
        f"SELECT SUM(revenue) FROM conversions WHERE customer_id = '{ME}' "
        "AND channel IN (SELECT region FROM csm_assignments)",
    ),
    "RESULT_SCAN": ("forbidden_table", "SELECT * FROM TABLE(RESULT_SCAN(LAST_QUERY_ID()))"),
    "a stage": ("forbidden_table", "SELECT $1 FROM @CUSTOMER_SUCCESS_DATA.ANALYTICS.SEMANTIC_MODELS"),
    "UPDATE": ("forbidden_statement", f"UPDATE conversions SET revenue = 0 WHERE customer_id = '{ME}'"),
    "DELETE": ("forbidden_statement", f"DELETE FROM conversions WHERE customer_id = '{ME}'"),
    "INSERT ... SELECT": (
        "forbidden_statement",
        f"INSERT INTO conversions SELECT * FROM conversions WHERE customer_id = '{ME}'",
    ),
    "DROP": ("forbidden_statement", "DROP TABLE conversions"),
    "CREATE TABLE AS": (
        "forbidden_statement",
        f"CREATE TABLE x AS SELECT * FROM conversions WHERE customer_id = '{ME}'",
    ),
    "SHOW": ("forbidden_statement", "SHOW TABLES"),
    "a second statement that is not scoped": (
        "unscoped_table",
        f"SELECT 1 FROM conversions WHERE customer_id = '{ME}'; SELECT SUM(revenue) FROM conversions",
    ),
    "unparseable": ("unparseable_sql", "SELECT FROM WHERE ((("),
    "empty": ("unparseable_sql", "  ;  "),
}


@pytest.mark.parametrize(("expected", "sql"), LEAKS.values(), ids=LEAKS.keys())
def test_statements_reaching_other_subjects_or_tables_are_refused(expected: str, sql: str) -> None:
    assert rule(sql) == expected


def test_the_subject_decides_what_is_foreign() -> None:
    sql = "SELECT SUM(revenue) FROM conversions WHERE customer_id = 'CUST_45678'"
    assert rule(sql, subject="CUST_45678") is None
    assert rule(sql, subject=ME) == "foreign_subject"


def test_refusal_reasons_quote_no_data() -> None:
    refusal = check_statement(
        "SELECT revenue FROM conversions WHERE customer_id = 'CUST_45678'", EBR_SCOPE, ME
    )
    assert refusal is not None and "CUST_45678" not in refusal[1]


# --- whole answers: SQL, result sets, text --------------------------------------------------


def answer(
    text: str = f"{ME} grew 4%.", sql: tuple[str, ...] = (), tables: tuple[ResultTable, ...] = ()
) -> Answer:
    return Answer(text, 7, sql, (), tables)


def test_a_benign_answer_passes() -> None:
    table = ResultTable(("CUSTOMER_ID", "REVENUE"), ((ME, "1234.50"),))
    verdict = check(
        answer(f"Acme Retail Co ({ME}) earned $1,234.50.", (BENIGN["equality"],), (table,)), SCOPE
    )
    assert verdict.ok and verdict.rule is None


@pytest.mark.parametrize(
    "table",
    [
        ResultTable(("customer_id", "revenue"), ((ME, 1.0), ("CUST_45678", 2.0))),
        ResultTable(("CUSTOMER_ID",), (("CUST_99999",),)),  # an id not even in `customers`
        ResultTable(("name", "revenue"), (("Meridian Health Partners", 2.0),)),
        ResultTable(("note",), (("see cust_45678",),)),
    ],
    ids=["customer_id column", "unknown id", "another's name", "id in a cell"],
)
def test_a_result_set_with_another_subject_is_refused(table: ResultTable) -> None:
    assert check(answer(tables=(table,)), SCOPE).rule == "result_set_other_subject"


@pytest.mark.parametrize(
    "text",
    [
        "CUST_45678 earned $9,000 last week.",
        "Revenue for every customer: cust_56789 $1, ...",
        "Meridian Health Partners earned $9,000.",
        "MERIDIAN HEALTH did better than you.",
        "Compared with Northwind, Acme Retail Co lags.",
    ],
)
def test_text_naming_another_subject_is_refused(text: str) -> None:
    assert check(answer(text), SCOPE).rule == "text_names_other_subject"


@pytest.mark.parametrize(
    "text",
    [
        f"Acme Retail Co ({ME}) earned $1,234.",
        "Northwinds of change: a trend, not a customer.",  # word boundary: not "Northwind"
        "Meridians and health checks are fine words.",
    ],
)
def test_text_about_the_subject_alone_passes(text: str) -> None:
    assert check(answer(text), SCOPE).ok


def test_the_subjects_own_name_containing_anothers_is_its_own() -> None:
    subjects = Subjects(
        {"CUST_1": "Meridian Health Partners", "CUST_2": "Meridian Health"}, EBR_SCOPE.id_pattern
    )
    assert not subjects.names_other("Meridian Health Partners grew.", "CUST_1")
    assert subjects.names_other("Meridian Health grew.", "CUST_1")
    assert subjects.names_other("Meridian Health Partners grew.", "CUST_2")


def test_sql_is_checked_before_anything_else_and_every_rule_is_listed() -> None:
    leak = answer(f"{ME} is fine.", (LEAKS["Sarah's reproduction: GROUP BY customer_id, no filter"][1],))
    assert check(leak, SCOPE).rule == "unscoped_table"
    used = {expected for expected, _ in LEAKS.values()} | {
        "result_set_other_subject",
        "text_names_other_subject",
        "chart_other_subject",  # tests/test_cortex_charts.py
    }
    assert used == set(RULES)


def test_names_are_found_among_10000_customers() -> None:
    names = {f"CUST_{n:05d}": f"Company {n} Holdings" for n in range(10_000)}
    subjects = Subjects(names, EBR_SCOPE.id_pattern)
    text = "Company 42 Holdings grew. " + "Revenue rose in every channel this week. " * 200
    assert subjects.names_other(text, "CUST_00007")
    assert not subjects.names_other(text.replace("42", "7"), "CUST_00007")
    assert not subjects.names_other(text.replace("42 Holdings", "42"), "CUST_00007")  # half a name
    assert subjects.count == 10_000
