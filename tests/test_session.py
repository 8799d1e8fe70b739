"""Client statements (SHOW, DESCRIBE, SET, EXPLAIN), datagen, and the late-row metric."""
import io
import json

import pytest

from sqlstream.core.errors import OptionError
from sqlstream.script import ScriptRunner
from sqlstream.session import Session, parse_script
from tests.golden import CONFORMANCE, case_sql

DDL = """CREATE TABLE orders (
  order_id BIGINT,
  user_id STRING,
  amount DOUBLE,
  price DECIMAL(10, 2),
  ts TIMESTAMP(3),
  big AS amount > 100,
  WATERMARK FOR ts AS ts - INTERVAL '5' SECOND,
  PRIMARY KEY (order_id) NOT ENFORCED
) WITH ('connector' = 'filesystem', 'path' = 'sql_examples/data/orders.json', 'format' = 'json');
"""


def run(sql: str, fmt: str = "table") -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    ScriptRunner(out=out, err=err, fmt=fmt).run(sql)
    return out.getvalue(), err.getvalue()


def test_explain_prints_operator_tree_with_changelog_modes():
    out, _ = run(DDL + """EXPLAIN SELECT user_id, COUNT(*) AS n
        FROM TABLE(TUMBLE(TABLE orders, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
        WHERE amount > 100 GROUP BY window_start, window_end, user_id;""")
    assert out.splitlines()[1:] == [
        "== Logical Plan ==",
        "Calc(select=[$0:user_id, $4:COUNT(*) AS n]), changelogMode=[I]",
        "  +- WindowAggregate(groupBy=[$0], window=[TUMBLE(size=60000ms) on $1], select=[COUNT(*)]), "
        "changelogMode=[I]",
        "    +- Calc(where=[>($1:amount, 100.0)], select=[$0:user_id AS $f0, $2:ts AS $f1]), changelogMode=[I]",
        "      +- WatermarkAssigner(rowtime=[ts], watermark=[-($2:ts, 5000)]), changelogMode=[I]",
        "        +- TableSourceScan(table=[orders], connector=[filesystem], fields=[user_id, amount, ts]), "
        "changelogMode=[I]",
        "",
        "== Physical Plan ==",
        "Calc(select=[$0:user_id, $4:COUNT(*) AS n]), changelogMode=[I], parallelism=[1]",
        "  +- WindowAggregate(groupBy=[$0], window=[TUMBLE(size=60000ms) on $1], select=[COUNT(*)]), "
        "changelogMode=[I], parallelism=[1]",
        "    +- Exchange(distribution=[hash[$f0]], changelogMode=[I])",
        "      +- Calc(where=[>($1:amount, 100.0)], select=[$0:user_id AS $f0, $2:ts AS $f1]), changelogMode=[I], "
        "parallelism=[1]",
        "        +- WatermarkAssigner(rowtime=[ts], watermark=[-($2:ts, 5000)]), changelogMode=[I], parallelism=[1]",
        "          +- TableSourceScan(table=[orders], connector=[filesystem], fields=[user_id, amount, ts]), "
        "changelogMode=[I], parallelism=[1]",
    ]


def test_explain_shows_updating_edges():
    out, _ = run(DDL + "EXPLAIN SELECT user_id, SUM(amount) FROM orders GROUP BY user_id;")
    assert "GroupAggregate(groupBy=[$0], select=[SUM($1)]), changelogMode=[I,UB,UA]" in out


def test_show_and_describe():
    out, _ = run(DDL + "CREATE VIEW big_orders AS SELECT order_id, amount FROM orders WHERE big;\n"
                 "SHOW TABLES; SHOW VIEWS; DESCRIBE orders;")
    assert "| orders " in out and "| big_orders " in out
    rows = [r for r in out.splitlines() if r.startswith("| ")]
    describe = {r.split("|")[1].strip(): [c.strip() for c in r.split("|")[2:-1]] for r in rows}
    # Flink 2.3 leaves the cells without a key, extras or watermark empty
    assert describe["ts"] == ["TIMESTAMP(3) *ROWTIME*", "TRUE", "", "", "`ts` - INTERVAL '5' SECOND"]
    assert describe["order_id"] == ["BIGINT", "FALSE", "PRI(order_id)", "", ""]
    assert describe["big"] == ["BOOLEAN", "TRUE", "", "AS `amount` > 100", ""]


def test_completion_offers_only_what_is_implemented():
    from sqlstream.planner.functions import AGGREGATES
    from sqlstream.runtime.expressions import implemented
    names = set(Session().function_names())
    assert {"TUMBLE", "COUNT", "DATE_FORMAT", "REGEXP_EXTRACT", "TO_TIMESTAMP_LTZ"} <= names
    scalars = names - set(AGGREGATES) - {"TUMBLE", "HOP", "CUMULATE", "SESSION", "COUNT", "SUM", "AVG", "MIN",
                                         "MAX", "SUM0", "FIRST_VALUE", "LAST_VALUE", "STDDEV_POP", "STDDEV_SAMP",
                                         "VAR_POP", "VAR_SAMP", "LISTAGG", "BOOL_AND", "BOOL_OR", "IF", "ROW_NUMBER"}
    scalars = {n for n in scalars if not n.endswith(("_START", "_END", "_ROWTIME", "_PROCTIME"))}
    missing = sorted(n for n in scalars if not implemented(n))
    assert not missing, f"offered but not implemented: {missing}"


def test_set_reset_and_listing():
    s = Session()
    for stmt in parse_script("SET 'sqlstream.batch-size' = '128'; SET 'pipeline.name' = 'x';"):
        s.execute(stmt)
    assert s.config.get_int("sqlstream.batch-size", 0) == 128
    res = s.execute(parse_script("SET;")[0])
    assert ["pipeline.name", "x"] in res.rows
    s.execute(parse_script("RESET 'pipeline.name';")[0])
    assert s.config.get("pipeline.name") is None
    s.execute(parse_script("RESET;")[0])
    assert s.config.get_int("sqlstream.batch-size", 0) == 65536


DATAGEN = """CREATE TABLE g (
  id BIGINT, n INT, name STRING, score DOUBLE
) WITH ('connector' = 'datagen', 'number-of-rows' = '1000', 'rows-per-second' = '0', {extra}
  'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '1000',
  'fields.n.min' = '5', 'fields.n.max' = '9', 'fields.name.length' = '4', 'fields.score.min' = '0',
  'fields.score.max' = '1');
SELECT COUNT(*) AS cnt, MIN(id) AS lo, MAX(id) AS hi, MIN(n) AS nmin, MAX(n) AS nmax,
       MIN(CHAR_LENGTH(name)) AS l1, MAX(CHAR_LENGTH(name)) AS l2, SUM(score) AS total FROM g;
"""


def final_row(out: str) -> dict:
    rows = [json.loads(line) for line in out.splitlines()]
    return rows[-1]


def test_datagen_options_and_determinism():
    a = final_row(run(DATAGEN.format(extra=""), "jsonl")[0])
    assert (a["cnt"], a["lo"], a["hi"], a["l1"], a["l2"]) == (1000, 1, 1000, 4, 4)
    assert 5 <= a["nmin"] <= a["nmax"] <= 9
    b = final_row(run(DATAGEN.format(extra=""), "jsonl")[0])
    assert a == b, "the same seed gives the same rows"
    c = final_row(run(DATAGEN.format(extra="'seed' = '7',"), "jsonl")[0])
    assert c["total"] != a["total"]


def test_datagen_unknown_field_option():
    with pytest.raises(OptionError, match="fields.id.kindd"):
        run(DATAGEN.format(extra="'fields.id.kindd' = 'random',"))


def test_late_rows_are_counted_in_the_job_summary():
    case = CONFORMANCE / "core" / "late_tvf_tumble"
    out, err = run(case_sql(case), "jsonl")
    counted = sum(json.loads(line)["cnt"] for line in out.splitlines())
    late = int(err.split("late rows dropped: ")[1].split(",")[0])
    assert late > 0
    assert counted + late == 400


def test_processing_time_window_over_proctime():
    out, _ = run("""CREATE TABLE g (v INT, pt AS PROCTIME()) WITH ('connector' = 'datagen', 'number-of-rows' = '300',
        'rows-per-second' = '200', 'fields.v.min' = '1', 'fields.v.max' = '2');
        SELECT window_start, v, COUNT(*) AS n FROM TABLE(TUMBLE(TABLE g, DESCRIPTOR(pt), INTERVAL '1' SECOND))
        GROUP BY window_start, window_end, v;""", "jsonl")
    rows = [json.loads(line) for line in out.splitlines()]
    assert sum(r["n"] for r in rows) == 300, "every row lands in exactly one processing-time window"
    assert len({r["window_start"] for r in rows}) >= 2, "rows paced over 1.5 s span two 1-second windows or more"
