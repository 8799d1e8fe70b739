"""DDL executed, not only parsed: CREATE [TEMPORARY] TABLE|VIEW [IF NOT EXISTS], DROP [TEMPORARY] .., column
nullability and primary keys, with Flink's rules and messages (probed on Flink 2.3)."""
import re

import pytest

from sqlstream.core.errors import ValidationError
from sqlstream.session import Session, parse_script

GEN = "WITH ('connector' = 'datagen', 'number-of-rows' = '3')"


def execute(session: Session, sql: str):
    out = None
    for stmt in parse_script(sql):
        out = session.execute(stmt)
    return out


def describe(session: Session, name: str) -> dict:
    return {r[0]: r[1:] for r in execute(session, f"DESCRIBE {name};").rows}


def test_create_temporary_table_with_options():
    s = Session()
    execute(s, f"CREATE TEMPORARY TABLE t (a INT) {GEN};")
    assert s.catalog.lookup("t").temporary
    assert s.catalog.lookup("t").options == {"connector": "datagen", "number-of-rows": "3"}


@pytest.mark.parametrize("kind, body", [("TABLE", f"(a INT) {GEN}"), ("VIEW", "AS SELECT a FROM base")])
def test_create_if_not_exists_forms(kind, body):
    s = Session()
    execute(s, f"CREATE TABLE base (a INT) {GEN};")
    for temp in ("", "TEMPORARY "):
        execute(s, f"CREATE {temp}{kind} o {body};")
        execute(s, f"CREATE {temp}{kind} IF NOT EXISTS o {body};")
        with pytest.raises(ValidationError, match="already exists"):
            execute(s, f"CREATE {temp}{kind} o {body};")
    assert "o" in (s.catalog.tables if kind == "TABLE" else s.catalog.views)


def test_drop_table_and_view_execute():
    s = Session()
    execute(s, f"CREATE TABLE t (a INT) {GEN}; CREATE VIEW v AS SELECT a FROM t;")
    execute(s, "DROP VIEW v; DROP TABLE t;")
    assert not s.catalog.tables and not s.catalog.views
    execute(s, "DROP TABLE IF EXISTS t; DROP VIEW IF EXISTS v; DROP TEMPORARY TABLE IF EXISTS t;")
    with pytest.raises(ValidationError, match=r"Table with identifier 'default_catalog.default_database.t' "
                                              r"does not exist"):
        execute(s, "DROP TABLE t;")


def test_drop_follows_flink_rules_for_kinds_and_temporary_objects():
    s = Session()
    execute(s, f"CREATE TABLE t (a INT) {GEN}; CREATE VIEW v AS SELECT a FROM t;")
    with pytest.raises(ValidationError, match="Table with identifier 'default_catalog.default_database.v' does"):
        execute(s, "DROP TABLE v;")
    with pytest.raises(ValidationError, match="View with identifier 'default_catalog.default_database.t' does"):
        execute(s, "DROP VIEW t;")
    with pytest.raises(ValidationError, match="Temporary table or view with identifier "
                                              "'default_catalog.default_database.t' does not exist"):
        execute(s, "DROP TEMPORARY TABLE t;")
    # a temporary table shadows the permanent one and must be dropped first
    execute(s, "CREATE TEMPORARY TABLE t (b STRING) WITH ('connector' = 'datagen');")
    assert [c.name for c in s.catalog.lookup("t").columns] == ["b"]
    with pytest.raises(ValidationError, match="Drop it first before removing the permanent table"):
        execute(s, "DROP TABLE t;")
    execute(s, "DROP TEMPORARY TABLE t;")
    assert [c.name for c in s.catalog.lookup("t").columns] == ["a"]
    execute(s, "DROP TABLE t;")


def test_null_column_is_nullable_and_not_null_is_not():
    s = Session()
    execute(s, f"CREATE TABLE t (a DOUBLE NULL, b INT NOT NULL, c STRING) {GEN};")
    rows = describe(s, "t")
    assert [rows[c][1] for c in "abc"] == ["TRUE", "FALSE", "TRUE"]


@pytest.mark.parametrize("ddl", ["(a INT, PRIMARY KEY (a))", "(a INT PRIMARY KEY)"])
def test_enforced_primary_key_is_rejected(ddl):
    with pytest.raises(ValidationError, match="Flink doesn't support ENFORCED mode for PRIMARY KEY constraint"):
        execute(Session(), f"CREATE TABLE t {ddl} {GEN};")


def test_not_enforced_primary_key_forms():
    s = Session()
    execute(s, f"CREATE TABLE t (a INT PRIMARY KEY NOT ENFORCED, b INT) {GEN};")
    assert s.catalog.lookup("t").primary_key == ["a"]
    assert describe(s, "t")["a"][1:3] == ["FALSE", "PRI(a)"]


def test_result_types_follow_declared_nullability_as_flink():
    """The golden case null_column: Flink's result types (meta.json), NOT NULL where Flink says so and only there."""
    import json
    from pathlib import Path

    from tests.golden import GOLDEN_STATIC, static_case_sql
    case = Path(GOLDEN_STATIC) / "null_column"
    s = Session()
    *ddl, query = parse_script(static_case_sql(case))
    for stmt in ddl:
        s.execute(stmt)
    flink = [(c["name"], c["type"]) for c in json.loads((case / "meta.json").read_text())["columns"]]
    assert [(f.name, str(f.type)) for f in s.plan(query).fields] == flink


@pytest.mark.parametrize("sql, message", [
    (f"CREATE TABLE x (a INT(5)) {GEN};", 'line 1, column 22: Encountered "("'),
    (f"CREATE TABLE x (a BIGINT(5)) {GEN};", 'line 1, column 25: Encountered "("'),
    (f"CREATE TABLE x (a INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts, WATERMARK FOR ts AS ts) {GEN};",
     "Multiple WATERMARK declarations are not supported yet."),
    (f"CREATE TABLE x (a INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1') {GEN};",
     'line 1, column 78: Encountered ")"'),
    (f"CREATE TABLE x (a INT, ts TIMESTAMP(3)) {GEN};\nSELECT ts + INTERVAL '1' FROM x;",
     'line 2, column 26: Encountered "FROM"')])
def test_declarations_flink_does_not_parse_are_parse_errors(sql, message):
    """Flink 2.3 fails to parse these at the same position; before, they were accepted (INT(5) as INT, the last
    WATERMARK won, INTERVAL '1' was taken as seconds)."""
    from sqlstream.core.errors import SqlError
    with pytest.raises(SqlError, match=re.escape(message)):
        execute(Session(), sql)


@pytest.mark.parametrize("column", ["m MAP<, STRING>", "m MAP<STRING>"])
def test_collection_type_without_its_types_is_refused(column):
    with pytest.raises(ValidationError, match="takes"):
        execute(Session(), f"CREATE TABLE t ({column}) {GEN};")
