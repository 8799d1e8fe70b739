"""The Flink dialect round-trips Flink SQL and never turns Flink syntax into an unparsed node."""
import pytest
import sqlglot
from sqlglot import exp

from sqlstream.dialect import Flink
from sqlstream.dialect import expressions as fx
from sqlstream.core.errors import SqlError
from sqlstream.session import parse_script

IDENTITY = [
    "CREATE TABLE orders (order_id BIGINT, price DECIMAL(10, 2), ts TIMESTAMP(3), t2 TIMESTAMP_LTZ(3), "
    "a ARRAY<INT>, m MAP<STRING, INT>, r ROW<x INT, y STRING>, s STRING, c AS order_id + 1, "
    "k TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL, WATERMARK FOR ts AS ts - INTERVAL '5' SECOND, "
    "PRIMARY KEY (order_id) NOT ENFORCED) WITH ('connector' = 'filesystem', 'path' = '/x.json', 'format' = 'json')",
    "CREATE TEMPORARY TABLE IF NOT EXISTS t (a INT) WITH ('connector' = 'datagen')",
    "CREATE TEMPORARY VIEW v AS SELECT a FROM t",
    "CREATE VIEW v AS SELECT a FROM t",
    "DROP TABLE IF EXISTS t",
    "DROP VIEW v",
    "SELECT a FROM TABLE(TUMBLE(TABLE orders, DESCRIPTOR(ts), INTERVAL '10' MINUTE))",
    "SELECT a FROM TABLE(HOP(TABLE orders, DESCRIPTOR(ts), INTERVAL '1' MINUTE, INTERVAL '5' MINUTE))",
    "SELECT a FROM TABLE(CUMULATE(TABLE orders, DESCRIPTOR(ts), INTERVAL '1' MINUTE, INTERVAL '1' HOUR))",
    "SELECT a FROM TABLE(SESSION(TABLE bid PARTITION BY bidder, DESCRIPTOR(`dateTime`), INTERVAL '10' SECOND))",
    "SELECT a FROM TABLE(SESSION(TABLE bid PARTITION BY (bidder, auction), DESCRIPTOR(ts), INTERVAL '10' SECOND))",
    "SELECT a FROM TABLE(HOP(DATA => TABLE bid, TIMECOL => DESCRIPTOR(ts), SLIDE => INTERVAL '1' MINUTE, "
    "SIZE => INTERVAL '5' MINUTE))",
    "SELECT user_id, TUMBLE_START(ts, INTERVAL '1' MINUTE) FROM t GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE), user_id",
    "SET 'table.exec.state.ttl' = '1 h'",
    "SET",
    "RESET 'table.exec.state.ttl'",
    "RESET",
    "SHOW TABLES",
    "SHOW VIEWS",
    "SHOW FUNCTIONS",
    "SHOW JOBS",
    "DESCRIBE orders",
    "EXPLAIN SELECT a FROM t",
    "INSERT INTO s SELECT * FROM t",
    "STOP JOB 'abc' WITH SAVEPOINT",
    "SELECT POSITION(' ' IN x) FROM t",
    "SELECT CAST(a AS STRING), CAST(b AS DECIMAL(10, 2)), CAST(c AS TIMESTAMP(3)) FROM t",
    "SELECT COUNT(*) FILTER(WHERE a > 1) FROM t GROUP BY ROLLUP (a, b)",
    "SELECT a FROM t GROUP BY GROUPING SETS ((a), (b), ())",
    "SELECT `dateTime`, x || 'a', a IS NOT DISTINCT FROM b FROM t",
    "SELECT INTERVAL '1 10' DAY TO HOUR FROM t",
    "EXECUTE STATEMENT SET BEGIN INSERT INTO a SELECT * FROM b",
    "BEGIN STATEMENT SET",
    "END",
]


@pytest.mark.parametrize("sql", IDENTITY)
def test_round_trip(sql):
    tree = sqlglot.parse_one(sql, read=Flink)
    assert tree.sql(dialect=Flink) == sql
    assert not list(tree.find_all(exp.Command))


def test_registered_as_sqlglot_dialect():
    from sqlglot.dialects.dialect import Dialect
    assert Dialect.get_or_raise("flink").__class__.__name__ == "Flink"


def test_window_tvf_is_a_typed_node():
    tree = sqlglot.parse_one("SELECT * FROM TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '1' MINUTE))", read=Flink)
    tvf = tree.find(fx.WindowTVF)
    assert tvf.this.name == "TUMBLE"
    assert isinstance(tvf.expressions[0], fx.TableArgument)
    assert isinstance(tvf.expressions[1], fx.Descriptor)


def test_watermark_and_keys_are_structured():
    tree = sqlglot.parse_one("CREATE TABLE t (ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) "
                             "WITH ('connector' = 'datagen')", read=Flink)
    wm = tree.find(exp.WatermarkColumnConstraint)
    assert wm.this.name == "ts"
    props = {p.this.name: p.args["value"].name for p in tree.find(exp.Properties).expressions}
    assert props == {"connector": "datagen"}


def test_multi_statement_file_with_comments():
    sql = """-- leading comment
    CREATE TABLE t (a INT) WITH ('connector' = 'datagen');  /* block
    comment */ SET 'a' = 'b';
    SELECT a FROM t; -- trailing"""
    stmts = parse_script(sql)
    assert [type(s).__name__ for s in stmts] == ["Create", "SetStatement", "Select"]


@pytest.mark.parametrize("sql, line, col", [
    ("SELEC 1", 1, 1),
    ("CREATE TABLE t (a INT) WITH ('connector' = 'datagen');\nSELECT a FROM t\nWHERE", 3, 1),
    ("SELECT a FROM t;\nSELECT a FROM t WHERE a = = 1;", 2, 27),
    ("SHOW SOMETHING", 1, 6),
])
def test_syntax_errors_name_line_and_column(sql, line, col):
    with pytest.raises(SqlError) as e:
        parse_script(sql)
    assert (e.value.line, e.value.col) == (line, col)
    assert f"line {line}, column {col}" in str(e.value)


def test_statements_flink_does_not_have_are_rejected():
    with pytest.raises(SqlError) as e:
        parse_script("GRANT SELECT ON t TO bob")
    assert "Unsupported statement 'GRANT'" in str(e.value)
    assert e.value.col == 1
    assert e.value.line == 1
