"""Aggregate and OVER functions beyond the golden cases: the accumulator interface (runtime/accumulators.py),
GROUP BY state that a checkpoint restores, and Flink 2.3's errors for what its streaming mode rejects
(messages as Flink 2.3 gave them for the same statements)."""
import io

import numpy as np
import pyarrow as pa
import pytest

from sqlstream.core.errors import ExecutionError, ValidationError
from sqlstream.plan.logical import AggCall
from sqlstream.runtime.accumulators import evaluate_groups, make_accumulator
from sqlstream.core.changelog import INSERT, UPDATE_BEFORE, make_batch
from sqlstream.runtime.operator import OperatorContext
from sqlstream.runtime.operators.group_aggregate import GroupAggregateOperator
from sqlstream.script import ScriptRunner
from sqlstream.core.types import BIGINT, DOUBLE, INT, STRING, FlinkType

DDL = """CREATE TABLE events (k STRING, v INT, s STRING, ts TIMESTAMP(3), WATERMARK FOR ts AS ts)
WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = 'json');
"""
ROWS = ['{"k": "a", "v": 1, "s": "x", "ts": "2024-01-01 00:00:01"}',
        '{"k": "a", "v": 2, "s": "x", "ts": "2024-01-01 00:00:02"}']


def run(sql: str, tmp_path) -> str:
    p = tmp_path / "events.json"
    p.write_text("\n".join(ROWS) + "\n")
    out, err = io.StringIO(), io.StringIO()
    ScriptRunner(out=out, err=err, fmt="jsonl").run(DDL.format(path=p) + sql)
    return out.getvalue()


@pytest.mark.parametrize("fn", ["LEAD(v)", "PERCENT_RANK()", "CUME_DIST()", "NTILE(2)"])
def test_over_functions_flink_rejects_in_streaming_mode(fn, tmp_path):
    name = fn[:fn.index("(")]
    with pytest.raises(ValidationError, match=f"{name} Function is not supported in stream mode"):
        run(f"SELECT k, {fn} OVER (PARTITION BY k ORDER BY ts) FROM events;", tmp_path)


def test_ranking_functions_take_no_frame(tmp_path):
    with pytest.raises(ValidationError, match="ROW/RANGE not allowed with RANK, DENSE_RANK or ROW_NUMBER"):
        run("SELECT RANK() OVER (PARTITION BY k ORDER BY ts ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) FROM events;",
            tmp_path)


def test_row_number_and_a_range_frame_are_different_windows(tmp_path):
    with pytest.raises(ValidationError, match="All aggregates must be computed on the same window"):
        run("SELECT ROW_NUMBER() OVER w, SUM(v) OVER w FROM events WINDOW w AS (PARTITION BY k ORDER BY ts);",
            tmp_path)


def test_json_aggregates_are_not_over_functions(tmp_path):
    """Flink's parser rejects JSON_ARRAYAGG(v) OVER (..) ("Incorrect syntax near the keyword 'OVER'")."""
    with pytest.raises(ValidationError, match="Incorrect syntax near the keyword 'OVER'"):
        run("SELECT JSON_ARRAYAGG(v) OVER (PARTITION BY k ORDER BY ts) FROM events;", tmp_path)


def test_ordered_distinct_over_a_bounded_frame_is_not_supported_yet(tmp_path):
    with pytest.raises(ValidationError, match=r"ARRAY_AGG\(DISTINCT ..\) over a bounded OVER frame is not supported"):
        run("SELECT ARRAY_AGG(DISTINCT v) OVER (PARTITION BY k ORDER BY ts ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) "
            "FROM events;", tmp_path)


@pytest.mark.parametrize("fn", ["SINGLE_VALUE(v)", "BITMAP_BUILD_AGG(v)"])
def test_a_flink_aggregate_we_lack_is_named_not_ungrouped(fn, tmp_path):
    name = fn[:fn.index("(")]
    with pytest.raises(ValidationError, match=f"Built-in function {name} is not supported yet"):
        run(f"SELECT k, {fn} FROM events GROUP BY k;", tmp_path)


def test_json_objectagg_rejects_a_repeated_key_as_flink(tmp_path):
    with pytest.raises(ExecutionError, match="Key 'x' is already present. Duplicate keys are not allowed in "
                                             "JSON_OBJECTAGG"):
        run("SELECT k, JSON_OBJECTAGG(KEY s VALUE v) FROM events GROUP BY k;", tmp_path)


def test_json_objectagg_absent_on_null(tmp_path):
    out = run("SELECT JSON_OBJECTAGG(KEY k VALUE CAST(NULL AS INT) ABSENT ON NULL) AS j, "
              "JSON_OBJECTAGG(KEY s VALUE v) AS n FROM events WHERE v = 1;", tmp_path)
    assert '"j": "{}"' in out and '"n": "{\\"x\\":1}"' in out


# ---- the accumulator interface ----------------------------------------------------------------------------
def call(fn, *arg_types, distinct=False, result=None):
    return AggCall(fn, tuple(range(len(arg_types))), result or arg_types[0], distinct, None)


def test_update_retract_merge_state_evaluate():
    c = call("ARRAY_AGG", FlinkType("ARRAY", children=(INT,)))
    acc = make_accumulator(c, [pa.int32()])
    acc.update([pa.array([1, 2, 1, None], pa.int32())], np.array([0, 1, 0, 1]))
    acc.retract([pa.array([1], pa.int32())], np.array([0]))
    assert acc.evaluate(np.array([0, 1, 2])).to_pylist() == [[1], [2, None], None]
    other = make_accumulator(c, [pa.int32()])
    other.merge(acc.state(np.array([0, 1])), np.array([1, 0]))  # group 0's state becomes group 1's
    other.update([pa.array([7], pa.int32())], np.array([1]))
    assert other.evaluate(np.array([0, 1])).to_pylist() == [[2, None], [1, 7]]


def test_running_gives_each_rows_result_before_and_after():
    c = call("PERCENTILE", INT, DOUBLE, result=DOUBLE)
    acc = make_accumulator(c, [pa.int32(), pa.float64()])
    args = [pa.array([1, 3, 5, 3], pa.int32()), pa.array([0.5] * 4)]
    after, before = acc.running(args, np.zeros(4, np.int64), np.array([1, 1, 1, -1]), np.zeros(4, bool))
    assert after.to_pylist() == [1.0, 2.0, 3.0, 3.0]
    assert before.to_pylist() == [None, 1.0, 2.0, 3.0]


def test_distinct_passes_only_a_values_first_and_last_occurrence():
    c = call("LISTAGG", STRING, distinct=True)
    acc = make_accumulator(c, [pa.string()])
    after, _ = acc.running([pa.array(["a", "b", "a", "a", "a", "b"])], np.zeros(6, np.int64),
                           np.array([1, 1, 1, -1, -1, 1]), np.zeros(6, bool))
    assert after.to_pylist() == ["a", "a,b", "a,b", "a,b", "b", "b"]


def test_evaluate_groups_of_a_window():
    c = call("JSON_ARRAYAGG", INT, result=STRING)
    out = evaluate_groups(c, [pa.array([1, None, 2], pa.int32())], np.array([0, 0, 2]), 3)
    assert out.to_pylist() == ["[1]", "[]", "[2]"]


# ---- GROUP BY state through a checkpoint -------------------------------------------------------------------
def group_operator(aggs):
    types = [STRING, INT, DOUBLE]
    op = GroupAggregateOperator([0], aggs, None, ["k"] + [f"a{i}" for i in range(len(aggs))],
                                [STRING] + [a.type for a in aggs], types, input_updating=True)
    op.open(OperatorContext(uid="group"))
    return op


def batch(rows, kinds):
    cols = [pa.array([r[i] for r in rows], t) for i, t in enumerate([pa.string(), pa.int32(), pa.float64()])]
    return make_batch(pa.array(kinds, pa.int8()), cols, ["k", "v", "d"])


def lines(batches):
    kinds = {0: "+I", 1: "-U", 2: "+U", 3: "-D"}
    return [f"{kinds[r['_op']]}{[v for c, v in r.items() if c not in ('_op', '$wm')]}"
            for b in batches for r in b.to_pylist()]


def test_group_by_state_survives_a_checkpoint():
    aggs = [AggCall("STDDEV_POP", (2,), DOUBLE, False, None), AggCall("SUM", (1,), INT, True, None),
            AggCall("AVG", (1,), INT, True, None), AggCall("ARRAY_AGG", (1,), FlinkType("ARRAY", children=(INT,)),
                                                           False, None),
            AggCall("COUNT", (1,), BIGINT.with_nullable(False), True, None),
            AggCall("PERCENTILE", (1, 2), DOUBLE, False, None)]
    first = batch([("a", 1, 0.5), ("a", 2, 0.25), ("b", 4, 0.75), ("a", 2, 0.5)], [INSERT] * 4)
    second = batch([("a", 2, 0.25), ("a", 9, 0.5), ("b", 4, 0.75)], [UPDATE_BEFORE, INSERT, UPDATE_BEFORE])
    whole = group_operator(aggs)
    expected = lines(whole.on_batch(first) + whole.on_batch(second))
    before = group_operator(aggs)
    got = lines(before.on_batch(first))
    state = before.groups.snapshot()
    after = group_operator(aggs)
    after.groups.restore(state)
    got += lines(after.on_batch(second))
    assert got == expected
    assert expected[-1].startswith("-D['b'")
