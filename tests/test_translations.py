"""Queries translated once (core/warehouse/translations.py): a kept translation answers as a
first run does, with each run's own bound values; what must not be kept is not."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.errors import WarehouseError
from core.warehouse.embedded import EmbeddedWarehouse
from core.warehouse.translations import TRANSLATIONS

QUERY = (
    "SELECT customer_id, IFF(COUNT(*) > ?, 'many', 'few') AS how_many, "
    "PARSE_JSON('{\"a\": [1, 2]}'):a[1]::INTEGER AS second "
    "FROM CUSTOMER_SUCCESS_DATA.ANALYTICS.customers WHERE customer_id LIKE ? GROUP BY 1 ORDER BY 1"
)


@pytest.fixture
def wh(empty_home: Path) -> Iterator[EmbeddedWarehouse]:
    with EmbeddedWarehouse(empty_home) as warehouse:
        warehouse.execute(
            "INSERT INTO CUSTOMER_SUCCESS_DATA.ANALYTICS.customers (customer_id, customer_name, industry) "
            "VALUES ('CUST_1', 'One', 'Retail'), ('CUST_2', 'Two', 'Retail')"
        )
        yield warehouse


def _kept(sql: str) -> bool:
    return any(key[0] == sql for key in TRANSLATIONS._kept)


def test_a_kept_query_answers_as_its_first_run_with_each_runs_values(wh: EmbeddedWarehouse) -> None:
    first = wh.fetch(QUERY, [0, "CUST_%"])
    assert _kept(QUERY)
    again = wh.fetch(QUERY, [0, "CUST_%"])
    assert (
        again
        == first
        == (["CUSTOMER_ID", "HOW_MANY", "SECOND"], [("CUST_1", "many", 2), ("CUST_2", "many", 2)])
    )
    assert wh.fetch(QUERY, [5, "CUST_2"])[1] == [("CUST_2", "few", 2)]


def test_statements_that_change_things_or_depend_on_bound_names_are_not_kept(wh: EmbeddedWarehouse) -> None:
    insert = "INSERT INTO CUSTOMER_SUCCESS_DATA.ANALYTICS.customers (customer_id, customer_name, industry) VALUES (?, ?, ?)"
    wh.execute(insert, ["CUST_3", "Three", "Retail"])
    by_name = "SELECT COUNT(*) AS n FROM IDENTIFIER(?)"
    assert wh.fetch(by_name, ["CUSTOMER_SUCCESS_DATA.ANALYTICS.customers"])[1] == [(3,)]
    assert not _kept(insert) and not _kept(by_name)


def test_a_kept_query_fails_with_a_bad_value_as_a_first_run_would(wh: EmbeddedWarehouse) -> None:
    cast = "SELECT CAST(? AS INTEGER) + COUNT(*) AS x FROM CUSTOMER_SUCCESS_DATA.ANALYTICS.customers"
    assert wh.fetch(cast, ["40"])[1] == [(42,)]
    assert _kept(cast)
    with pytest.raises(WarehouseError, match="Could not convert string 'forty'"):
        wh.fetch(cast, ["forty"])
    assert wh.fetch(cast, ["1"])[1] == [(3,)]  # and the warehouse goes on


def test_a_merge_run_as_several_statements_is_not_kept_as_its_last_query(wh: EmbeddedWarehouse) -> None:
    """fakesnow runs a MERGE as several statements, the last a SELECT: kept under the MERGE's
    text, that SELECT ran in the MERGE's place the second time, with the MERGE's values."""
    merge = (
        "MERGE INTO CUSTOMER_SUCCESS_DATA.ANALYTICS.customers t "
        "USING (SELECT ? AS customer_id, ? AS customer_name) s ON t.customer_id = s.customer_id "
        "WHEN MATCHED THEN UPDATE SET customer_name = s.customer_name "
        "WHEN NOT MATCHED THEN INSERT (customer_id, customer_name, industry) VALUES (s.customer_id, s.customer_name, 'Retail')"
    )
    for name in ("Three", "Trois"):
        wh.execute(merge, ["CUST_3", name])
    assert not _kept(merge)
    assert wh.query(
        "SELECT customer_name FROM CUSTOMER_SUCCESS_DATA.ANALYTICS.customers WHERE customer_id = 'CUST_3'"
    ) == [{"customer_name": "Trois"}]


def test_a_kept_query_without_placeholders_ignores_values_as_a_first_run_does(wh: EmbeddedWarehouse) -> None:
    """fakesnow drops the values of a statement that has no `?`; the kept path must too."""
    plain = "SELECT COUNT(*) AS n FROM CUSTOMER_SUCCESS_DATA.ANALYTICS.customers"
    assert wh.fetch(plain, [5])[1] == [(2,)]
    assert _kept(plain)
    assert wh.fetch(plain, [5])[1] == [(2,)]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM CUSTOMER_SUCCESS_DATA.ANALYTICS.customers",
        "SELECT customer_id AS Cid, COUNT(*) n, 1 + 1, 'a' FROM CUSTOMER_SUCCESS_DATA.ANALYTICS.customers GROUP BY 1",
        "SELECT c.customer_id, d.customer_id FROM CUSTOMER_SUCCESS_DATA.ANALYTICS.customers c "
        "JOIN CUSTOMER_SUCCESS_DATA.ANALYTICS.customers d USING (customer_id)",
        "SELECT OBJECT_CONSTRUCT('a', 1) AS o, CURRENT_DATE()",
        "SHOW TABLES",
        "DELETE FROM CUSTOMER_SUCCESS_DATA.ANALYTICS.customers WHERE customer_id = 'none'",
    ],
)
def test_result_columns_are_the_names_fakesnow_describes(wh: EmbeddedWarehouse, sql: str) -> None:
    """`fetch` names the columns from the result fakesnow holds, not from its `description`
    (which plans the statement again on every read): the same names, in the same order."""
    columns, _ = wh.fetch(sql)
    described = [d.name for d in wh._cursor.description or []]
    assert columns == described and columns
