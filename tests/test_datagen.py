"""datagen: which DDL is valid and what a column holds never depend on the query's projection, the batch size or
a restore; default random ranges are Flink's; each table has its own default seed."""
import json
import re

import pytest

from sqlstream.connectors import datagen
from sqlstream.connectors.base import TableSchema
from sqlstream.core.errors import OptionError
from sqlstream.core.types import FlinkType
from tests.golden import run_sql

TABLE = """CREATE TABLE {name} (id BIGINT, v INT, s STRING, t TINYINT, d DOUBLE) WITH ('connector' = 'datagen',
  'number-of-rows' = '500', 'rows-per-second' = '0', {extra}
  'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '1000',
  'fields.v.min' = '1', 'fields.v.max' = '1000', 'fields.s.length' = '5');
"""


def rows(sql: str, batch_size: int | None = None) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "op"} for r in run_sql(sql, batch_size)]


def test_options_of_unread_columns_are_accepted():
    out = rows(TABLE.format(name="g", extra="") + "SELECT v FROM g;")
    assert len(out) == 500 and all(1 <= r["v"] <= 1000 for r in out)


def test_unread_sequence_column_bounds_the_rows():
    out = rows("""CREATE TABLE g (id BIGINT, v INT) WITH ('connector' = 'datagen', 'rows-per-second' = '0',
        'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '4');
        SELECT v FROM g;""")
    assert len(out) == 4


@pytest.mark.parametrize("options, message", [
    ("'fields.v.kind' = 'sequence'", "Could not find required property 'fields.v.start' for sequence generator"),
    ("'fields.nope.min' = '1'", "fields.nope.min"),
    ("'fields.v.kindd' = 'random'", "fields.v.kindd"),
])
def test_invalid_options_of_unread_columns_are_rejected(options, message):
    with pytest.raises(OptionError, match=message):
        run_sql(f"""CREATE TABLE g (id BIGINT, v INT) WITH ('connector' = 'datagen', 'number-of-rows' = '3',
            {options}); SELECT id FROM g;""")


def test_a_column_does_not_depend_on_projection_or_batch_size():
    ddl = TABLE.format(name="g", extra="")
    full = rows(ddl + "SELECT * FROM g;")
    for batch_size in (1, 7, 10_000):
        assert rows(ddl + "SELECT s, v FROM g;", batch_size) == [{"s": r["s"], "v": r["v"]} for r in full]
        assert rows(ddl + "SELECT d FROM g;", batch_size) == [{"d": r["d"]} for r in full]


def test_a_restored_reader_continues_with_the_same_values():
    schema = TableSchema(["v", "s"], [FlinkType.of("INT"), FlinkType.of("STRING")])
    source = datagen.create_source("g", {"connector": "datagen", "number-of-rows": "9000",
                                                          "rows-per-second": "0"}, schema)
    whole = source.reader("0").poll(9000).to_pylist()
    restored = source.reader("0", 4100)
    assert restored.poll(3000).to_pylist() == whole[4100:7100]


def test_default_ranges_are_flinks():
    out = rows("""CREATE TABLE g (b BIGINT, t TINYINT, s SMALLINT, d DOUBLE, m DECIMAL(6, 2), h STRING)
        WITH ('connector' = 'datagen', 'number-of-rows' = '2000', 'rows-per-second' = '0');
        SELECT * FROM g;""")
    big = [r["b"] for r in out]
    assert max(big) > 2 ** 62 and min(big) < -2 ** 62, "BIGINT spans the whole 64-bit range"
    assert -128 <= min(r["t"] for r in out) < 0 < max(r["t"] for r in out) <= 127
    assert -32768 <= min(r["s"] for r in out) < -20000 and 20000 < max(r["s"] for r in out) <= 32767
    assert all(0 < r["d"] for r in out) and max(r["d"] for r in out) > 1e307, "DOUBLE: (0, Double.MAX_VALUE]"
    assert all(0 <= float(r["m"]) < 10_000 for r in out) and max(float(r["m"]) for r in out) > 9_000
    assert {len(r["h"]) for r in out} == {100} and set("".join(r["h"] for r in out)) <= set("0123456789abcdef")


def test_each_table_has_its_own_default_seed():
    a = rows(TABLE.format(name="a", extra="") + "SELECT v, s FROM a;")
    b = rows(TABLE.format(name="b", extra="") + "SELECT v, s FROM b;")
    assert a != b, "two tables with the same DDL give different random columns"
    assert a == rows(TABLE.format(name="a", extra="") + "SELECT v, s FROM a;"), "runs are reproducible"
    c = rows(TABLE.format(name="a", extra="'seed' = '7',") + "SELECT v, s FROM a;")
    d = rows(TABLE.format(name="b", extra="'seed' = '7',") + "SELECT v, s FROM b;")
    assert c == d and c != a, "an explicit seed gives the same rows whatever the table is called"


@pytest.mark.parametrize("options, message", [
    ("'rows-per-second' = 'abc'", "Could not parse value 'abc' for key 'rows-per-second'."),
    ("'number-of-rows' = 'abc'", "Could not parse value 'abc' for key 'number-of-rows'."),
    ("'fields.v.null-rate' = 'abc'", "Could not parse value 'abc' for key 'fields.v.null-rate'."),
    ("'fields.v.min' = 'abc'", "Could not parse value 'abc' for key 'fields.v.min'."),
    ("'fields.d.max' = 'abc'", "Could not parse value 'abc' for key 'fields.d.max'."),
    ("'fields.v.kind' = 'sequence', 'fields.v.start' = 'abc', 'fields.v.end' = '3'",
     "Could not parse value 'abc' for key 'fields.v.start'."),
    ("'fields.v.min' = '10', 'fields.v.max' = '1'", "lower bound (10) must be strictly less than upper bound (1)"),
    ("'fields.d.min' = '5.5', 'fields.d.max' = '1'", "lower bound (5.5) must be strictly less than upper bound (1)"),
    ("'fields.s.length' = '-3'", "length (-3)"),
])
def test_option_values_that_do_not_fit_are_rejected_before_running(options, message):
    """Flink 2.3's messages (min > max and a negative length fail Flink's job when it runs); before, these were
    internal ValueErrors or silently accepted."""
    with pytest.raises(OptionError, match=re.escape(message)):
        run_sql(f"""CREATE TABLE g (v INT, d DOUBLE, s STRING) WITH ('connector' = 'datagen',
            'number-of-rows' = '3', {options}); SELECT v FROM g;""")


@pytest.mark.parametrize("options, expected", [
    ("'number-of-rows' = '-10'", []),
    ("'number-of-rows' = '2', 'fields.v.null-rate' = '5'", [{"v": None}, {"v": None}])])
def test_option_values_flink_accepts_give_flinks_rows(options, expected):
    """Flink 2.3 runs these: a negative row count gives no row, a null rate above 1 gives only NULLs."""
    assert rows(f"CREATE TABLE g (v INT) WITH ('connector' = 'datagen', {options}); SELECT v FROM g;") == expected


def test_collections_and_rows():
    """ARRAY and MAP have 3 entries unless 'length' says otherwise; nested fields take their own options
    (fields.a.element.*, fields.m.key.*, fields.r.<field>.*), as Flink 2.3's datagen gives them."""
    import io
    from sqlstream.script import ScriptRunner
    out = io.StringIO()
    ScriptRunner(out=out, err=io.StringIO(), fmt="jsonl", summary=False).run(
        "CREATE TABLE g (a ARRAY<INT>, m MAP<STRING, INT>, r ROW<x INT, y STRING>, b ARRAY<STRING>) WITH ("
        "'connector' = 'datagen', 'number-of-rows' = '50', 'fields.b.length' = '2', 'fields.r.x.min' = '1', "
        "'fields.r.x.max' = '5', 'fields.a.element.min' = '0', 'fields.a.element.max' = '9', "
        "'fields.m.key.length' = '4');\n"
        "SELECT CARDINALITY(a) AS na, CARDINALITY(m) AS nm, r.x AS x, CHAR_LENGTH(r.y) AS ny, CARDINALITY(b) AS nb, "
        "CHAR_LENGTH(b[1]) AS lb, a FROM g;")
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(rows) == 50
    assert {(r["na"], r["nb"], r["ny"], r["lb"]) for r in rows} == {(3, 2, 100, 100)}
    assert all(1 <= r["nm"] <= 3 and 1 <= r["x"] <= 5 and all(0 <= v <= 9 for v in r["a"]) for r in rows)
    assert len({r["x"] for r in rows}) > 1
