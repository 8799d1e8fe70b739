"""Processing-time lookup joins (`JOIN dim FOR SYSTEM_TIME AS OF o.proctime`) against a file-backed table.

Flink 2.3's filesystem connector has no lookup, so the oracle cannot run this case; the expected rows are
computed here from the same generated files: each order with amount > 50 joined with its user (NULLs when the
user is unknown), which is what a lookup into a static table gives.
"""
import json
import re
from pathlib import Path

import pytest

from sqlstream.core.errors import ValidationError
from tests.golden import case_sql, run_sql

CASE = Path(__file__).parent / "lookup"


def test_lookup_join_gives_each_row_its_dimension_row():
    sql = case_sql(CASE)
    data = re.search(r"'path' = '([^']+)/orders.json'", sql).group(1)
    users = {u["user_id"]: u for u in map(json.loads, open(f"{data}/users.json").read().splitlines())}
    expected = sorted((o["order_id"], o["user_id"], users.get(o["user_id"], {}).get("name"),
                       users.get(o["user_id"], {}).get("country"))
                      for o in map(json.loads, open(f"{data}/orders.json").read().splitlines())
                      if o["amount"] is not None and o["amount"] > 50)
    assert any(e[2] is None for e in expected) and any(e[2] is not None for e in expected)
    for batch in (None, 1, 7):
        got = sorted((r["order_id"], r["user_id"], r["name"], r["country"]) for r in run_sql(sql, batch))
        assert got == expected
    computed = sql.replace("ON o.user_id = u.user_id", "ON LOWER(o.user_id) = u.user_id AND u.name IS NOT NULL")
    assert computed != sql
    got = sorted((r["order_id"], r["user_id"], r["name"], r["country"]) for r in run_sql(computed))
    assert got == expected, "a lookup key computed from the left row (LOWER of an already lower-case id)"
    inner = sql.replace("LEFT JOIN users FOR", "JOIN users FOR")
    assert sorted((r["order_id"], r["user_id"], r["name"], r["country"]) for r in run_sql(inner)) == \
        [e for e in expected if e[2] is not None]


def test_lookup_needs_a_lookup_connector_and_an_equality():
    sql = case_sql(CASE)
    with pytest.raises(ValidationError, match="needs an equality between the left side and a column of .users."):
        run_sql(sql.replace("ON o.user_id = u.user_id", "ON o.amount > 1"))
    users_ddl = re.search(r"CREATE TABLE users \(.*?\) WITH \([^;]*\);", sql, re.S).group(0)
    generated = sql.replace(users_ddl, "CREATE TABLE users (user_id STRING, name STRING, country STRING) "
                                       "WITH ('connector' = 'datagen', 'number-of-rows' = '5');")
    with pytest.raises(ValidationError, match="'users' cannot be looked up: .*filesystem"):
        run_sql(generated)
