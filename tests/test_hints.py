"""Hints as Flink reads them (probed on Flink 2.3): an OPTIONS table hint merges dynamic options over the table's
WITH options, validated like them; a view takes none; STATE_TTL and the join strategy hints name a join's inputs
(tests/test_state_ttl.py checks the time-to-live they give); a hint sqlstream does not implement is an error,
never dropped in silence. Flink's golden cases hint_options and hint_join_strategies_state_ttl check the rows."""
import collections

import pytest
import sqlglot

from sqlstream.dialect import Flink
from sqlstream.core.errors import OptionError, SqlError, ValidationError
from tests.golden import run_sql

GEN = """CREATE TABLE g (id BIGINT, v INT) WITH ('connector' = 'datagen', 'number-of-rows' = '5',
  'rows-per-second' = '0', 'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '100');
"""


def ids(sql: str) -> list[int]:
    return [r["id"] for r in run_sql(GEN + sql)]


def test_hint_round_trips_before_the_alias():
    sql = "SELECT x.id FROM g /*+ OPTIONS('number-of-rows' = '2') */ AS x JOIN h /*+ OPTIONS('a' = 'b') */ ON TRUE"
    assert sqlglot.parse_one(sql, read=Flink).sql(dialect=Flink) == sql
    sql = "INSERT INTO s /*+ OPTIONS('path' = '/x') */ SELECT * FROM t"
    assert sqlglot.parse_one(sql, read=Flink).sql(dialect=Flink) == sql


def test_options_hint_overrides_the_table_options_for_one_reference():
    assert ids("SELECT x.id FROM g /*+ OPTIONS('number-of-rows' = '3') */ AS x;") == [1, 2, 3]
    assert ids("SELECT id FROM g /*+ options('number-of-rows' = '2') */ g2;") == [1, 2]
    assert ids("SELECT id FROM g;") == [1, 2, 3, 4, 5], "the table's own options are unchanged"
    rows = run_sql(GEN + """SELECT a.id AS a, b.id AS b FROM g /*+ OPTIONS('number-of-rows' = '2') */ AS a
        FULL JOIN g /*+ OPTIONS('number-of-rows' = '3') */ AS b ON a.id = b.id;""")
    final = collections.Counter()
    for r in rows:
        final[(r["a"], r["b"])] += 1 if r["op"] in ("+I", "+U") else -1
    assert +final == {(1, 1): 1, (2, 2): 1, (None, 3): 1}, "each reference reads with its own options"


def test_hint_spanning_lines_and_first_options_hint_wins():
    assert ids("SELECT id FROM g /*+ OPTIONS(\n 'number-of-rows' = '2') */;") == [1, 2]
    assert ids("SELECT id FROM g /*+ OPTIONS('number-of-rows' = '2'), OPTIONS('number-of-rows' = '3') */;") == [1, 2]
    assert ids("SELECT id FROM g /*+ OPTIONS('number-of-rows' = '2', 'number-of-rows' = '3') */;") == [1, 2, 3]


def test_hinted_options_are_validated_like_with_options():
    with pytest.raises(OptionError, match="Unsupported options found for connector 'datagen' of table 'g': nope"):
        run_sql(GEN + "SELECT id FROM g /*+ OPTIONS('nope' = '1') */;")
    with pytest.raises(OptionError, match="Could not parse value 'x' for key 'number-of-rows'"):
        run_sql(GEN + "SELECT id FROM g /*+ OPTIONS('number-of-rows' = 'x') */;")


def test_views_take_no_options_but_may_hold_hinted_tables():
    assert ids("CREATE VIEW v AS SELECT id FROM g /*+ OPTIONS('number-of-rows' = '2') */; SELECT id FROM v;") == [1, 2]
    with pytest.raises(ValidationError, match=r"View '`default_catalog`.`default_database`.`v`' cannot be enriched "
                                              r"with new options. Hints can only be applied to tables."):
        run_sql(GEN + "CREATE VIEW v AS SELECT id FROM g; SELECT id FROM v /*+ OPTIONS('a' = 'b') */;")


@pytest.mark.parametrize("hint, message", [
    ("FOO(x)", r"At line 3, column 18: Hint: FOO should be registered in the HintStrategyTable"),
    ("OPTIONS()", r"Hint \[OPTIONS\] only support non empty key value options"),
    ("OPTIONS('a')", r"Hint \[OPTIONS\] only support non empty key value options"),
    ("OPTIONS('a' = 1)", r"Hint \[OPTIONS\] only support non empty key value options"),
    ("LOOKUP('table' = 'g')", "The LOOKUP hint is not supported"),
])
def test_table_hints_that_are_not_options_are_rejected(hint, message):
    with pytest.raises(ValidationError, match=message):
        run_sql(GEN + f"SELECT id FROM g /*+ {hint} */;")


@pytest.mark.parametrize("hint, message", [
    ("FOO(g)", "Hint: FOO should be registered in the HintStrategyTable"),
    ("STATE_TTL('x' = '1d')", "The options of following hints cannot match the name of input tables or views: "
                              "\n`x` in `STATE_TTL`"),
    ("STATE_TTL('G' = '1d')", "`G` in `STATE_TTL`"),
    ("STATE_TTL('g' = 'abc')", "Invalid STATE_TTL hint value: text does not start with a number, and is not a "
                               "valid ISO-8601 duration format: abc"),
    ("STATE_TTL()", "Invalid STATE_TTL hint, expecting at least one key-value options specified."),
    ("LOOKUP('table' = 'g', 'retry-predicate' = 'lookup_miss')", "The LOOKUP hint's retry options are not "
                                                                 "supported"),
])
def test_query_hints_are_checked_not_ignored(hint, message):
    with pytest.raises(ValidationError, match=message):
        run_sql(GEN + f"SELECT /*+ {hint} */ id, COUNT(*) AS c FROM g GROUP BY id;")


@pytest.mark.parametrize("hint", ["BROADCAST(b)", "SHUFFLE_HASH(a, b)", "SHUFFLE_MERGE(a)", "NEST_LOOP(b)",
                                  "LOOKUP('table' = 'b')", "STATE_TTL('a' = '1d', 'b' = '12h')"])
def test_join_hints_change_nothing_in_a_streaming_job(hint):
    """A streaming join runs one way: Flink takes the join strategy hints and gives the same rows."""
    sql = "SELECT {} a.id FROM g a JOIN g b ON a.id = b.id;"
    assert sorted(ids(sql.format(f"/*+ {hint} */"))) == sorted(ids(sql.format(""))) == [1, 2, 3, 4, 5]


def test_join_hint_names_are_the_inputs_aliases():
    """A hint names a join's inputs as the query does (the alias hides the table's name), and a block with no
    join or aggregation takes any name, as in Flink."""
    with pytest.raises(ValidationError, match="`g` in `BROADCAST`"):
        run_sql(GEN + "SELECT /*+ BROADCAST(g) */ a.id FROM g a JOIN g b ON a.id = b.id;")
    assert ids("SELECT /*+ BROADCAST(x), STATE_TTL('y' = '1d') */ id FROM g;") == [1, 2, 3, 4, 5]


def test_hints_where_flink_does_not_read_them_are_parse_errors():
    with pytest.raises(SqlError, match="Unexpected token"):
        run_sql(GEN + "SELECT id FROM g AS x /*+ OPTIONS('a' = 'b') */;")
    with pytest.raises(SqlError, match="Unexpected token"):
        run_sql(GEN + "SELECT id /*+ OPTIONS('a' = 'b') */ FROM g;")
    with pytest.raises(SqlError, match="A hint cannot follow TABLE <name> in a window function"):
        run_sql(GEN + "SELECT window_start FROM TABLE(TUMBLE(TABLE g /*+ OPTIONS('a' = 'b') */, DESCRIPTOR(ts), "
                      "INTERVAL '1' SECOND));")


def test_options_hint_on_an_insert_target(tmp_path):
    out = tmp_path / "out"
    run_sql(GEN + f"""CREATE TABLE s (id BIGINT) WITH ('connector' = 'filesystem', 'path' = '{tmp_path / "nowhere"}',
        'format' = 'json');
        INSERT INTO s /*+ OPTIONS('path' = '{out}', 'format' = 'csv') */ SELECT id FROM g;""")
    lines = sorted(line for f in out.iterdir() for line in f.read_text().splitlines())
    assert lines == ["1", "2", "3", "4", "5"]
    assert not (tmp_path / "nowhere").exists()
