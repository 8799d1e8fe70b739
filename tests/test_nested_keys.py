"""ARRAY, MAP and ROW values as keys: GROUP BY, DISTINCT, UNION, PARTITION BY, JOIN .. ON and COUNT(DISTINCT)
take them as Flink does (Arrow's hash kernels do not, and Python lists are no dictionary keys: each ended in an
internal error). Flink 2.3's results are in the comments."""
import io

import pyarrow as pa
import pytest

from sqlstream.core.changelog import INSERT, UPDATE_BEFORE, make_batch
from sqlstream.core.types import BIGINT, INT, STRING, FlinkType
from sqlstream.plan.logical import AggCall
from sqlstream.runtime.keys import KeyIndex
from sqlstream.runtime.operator import OperatorContext
from sqlstream.runtime.operators.group_aggregate import GroupAggregateOperator
from sqlstream.script import ScriptRunner
from tests.test_errors_typing import DDL, ROWS


@pytest.fixture
def orders(tmp_path):
    p = tmp_path / "orders.json"
    p.write_text("\n".join(ROWS) + "\n")
    return DDL.format(path=p)


def run(sql: str, batch_size: int | None = None) -> list[str]:
    out = io.StringIO()
    ScriptRunner(out=out, err=io.StringIO(), fmt="jsonl", batch_size=batch_size).run(sql)
    return sorted(out.getvalue().splitlines())


@pytest.mark.parametrize("query,expected", [
    # Flink: ({'k': 1}, 1), ({}, 1), (None, 1)
    ("SELECT attrs, COUNT(*) AS c FROM orders GROUP BY attrs",
     ['{"attrs": null, "c": 1, "op": "+I"}', '{"attrs": {"k": 1}, "c": 1, "op": "+I"}',
      '{"attrs": {}, "c": 1, "op": "+I"}']),
    # Flink: (Row(1, 'x'), 1), (Row(2, 'y'), 1), (None, 1)
    ("SELECT r, COUNT(*) AS c FROM orders GROUP BY r",
     ['{"r": [1, "x"], "c": 1, "op": "+I"}', '{"r": [2, "y"], "c": 1, "op": "+I"}',
      '{"r": null, "c": 1, "op": "+I"}']),
    # Flink: ('u1', ['a', 'b'], 1), ('u2', [], 1), ('u1', None, 1)
    ("SELECT user_id, tags, COUNT(*) AS c FROM orders GROUP BY user_id, tags",
     ['{"user_id": "u1", "tags": ["a", "b"], "c": 1, "op": "+I"}', '{"user_id": "u1", "tags": null, "c": 1, '
      '"op": "+I"}', '{"user_id": "u2", "tags": [], "c": 1, "op": "+I"}']),
    # Flink: {'k': 1}, {}, None
    ("SELECT DISTINCT attrs FROM orders",
     ['{"attrs": null, "op": "+I"}', '{"attrs": {"k": 1}, "op": "+I"}', '{"attrs": {}, "op": "+I"}']),
    ("SELECT tags FROM orders UNION SELECT tags FROM orders",
     ['{"tags": ["a", "b"], "op": "+I"}', '{"tags": [], "op": "+I"}', '{"tags": null, "op": "+I"}']),
    # Flink: rows 1 and 2 each with itself (a NULL key joins nothing)
    ("SELECT o.order_id, p.order_id AS p FROM orders o JOIN orders p ON o.tags = p.tags",
     ['{"order_id": 1, "p": 1, "op": "+I"}', '{"order_id": 2, "p": 2, "op": "+I"}']),
    ("SELECT o.order_id, p.order_id AS p FROM orders o JOIN orders p ON o.r = p.r",
     ['{"order_id": 1, "p": 1, "op": "+I"}', '{"order_id": 2, "p": 2, "op": "+I"}']),
    # Flink: +I 1, -U 1, +U 2
    ("SELECT COUNT(DISTINCT tags) AS c FROM orders",
     ['{"c": 1, "op": "+I"}', '{"c": 1, "op": "-U"}', '{"c": 2, "op": "+U"}']),
    ("SELECT order_id, ROW_NUMBER() OVER (PARTITION BY tags ORDER BY ts) AS n FROM orders",
     ['{"order_id": 1, "n": 1, "op": "+I"}', '{"order_id": 2, "n": 1, "op": "+I"}',
      '{"order_id": 3, "n": 1, "op": "+I"}']),
])
@pytest.mark.parametrize("setting", ["", "SET 'parallelism.default' = '2';\n"])
def test_nested_values_as_keys(orders, query, expected, setting):
    for size in (None, 1):
        assert run(setting + orders + query + ";", size) == expected


def test_collect_and_count_distinct_of_nested_values_over_an_updating_input(orders):
    """Flink (tests/golden_static/group_collect_nested_updating has more): u1's tags go from [a, b] to NULL
    (LAST_VALUE keeps [a, b]), u2's are []."""
    for size in (None, 1):
        got = run(orders + "SELECT user_id, CAST(COLLECT(tags) AS STRING) AS c, COUNT(DISTINCT tags) AS d FROM "
                           "(SELECT user_id, LAST_VALUE(tags) AS tags FROM orders GROUP BY user_id) GROUP BY user_id;",
                  size)
        assert '{"user_id": "u1", "c": "{[a, b]=1}", "d": 1, "op": "+I"}' in got
        assert '{"user_id": "u2", "c": "{[]=1}", "d": 1, "op": "+I"}' in got


@pytest.mark.parametrize("fn", ["COUNT", "COLLECT"])
def test_nested_values_kept_by_an_updating_group_survive_a_checkpoint(fn):
    tags = FlinkType("ARRAY", children=(STRING,))
    out = BIGINT.with_nullable(False) if fn == "COUNT" else FlinkType("MULTISET", children=(tags,), nullable=False)
    aggs = [AggCall(fn, (1,), out, fn == "COUNT", None)]

    def operator():
        op = GroupAggregateOperator([0], aggs, None, ["k", "c"], [INT, out], [INT, tags], input_updating=True)
        op.open(OperatorContext(uid="group"))
        return op

    def batch(rows, kinds):
        cols = [pa.array([r[0] for r in rows], pa.int32()), pa.array([r[1] for r in rows], pa.list_(pa.string()))]
        return make_batch(pa.array(kinds, pa.int8()), cols, ["k", "v"])

    first = batch([(1, ["a", None]), (1, []), (2, ["a", None]), (1, ["a", None]), (1, None)], [INSERT] * 5)
    second = batch([(1, ["a", None]), (1, ["b"]), (1, []), (2, ["a", None])],
                   [UPDATE_BEFORE, INSERT, UPDATE_BEFORE, UPDATE_BEFORE])
    got, expected = outputs_across_a_restore(operator, first, second)
    assert got == expected and len(expected) >= 6


def test_key_index_gives_nested_keys_back():
    t = pa.list_(pa.string())
    index = KeyIndex()
    ids, new = index.lookup([pa.array([["a"], None, [], ["a"]], t)], 4)
    assert ids.tolist()[0] == ids.tolist()[3] and len(set(ids.tolist())) == 3 and new.tolist() == [True] * 4
    ids2, new2 = index.lookup([pa.array([[], ["a", None]], t)], 2)
    assert ids2[0] == ids[2] and new2.tolist() == [False, True]
    assert index.key_columns(ids2, [t])[0].to_pylist() == [[], ["a", None]]


def test_group_state_of_array_keys_survives_a_checkpoint():
    tags = FlinkType("ARRAY", children=(STRING,))
    aggs = [AggCall("SUM", (1,), INT, False, None), AggCall("COUNT", (1,), BIGINT.with_nullable(False), True, None)]

    def operator():
        op = GroupAggregateOperator([0], aggs, None, ["k", "s", "c"], [tags, INT, aggs[1].type], [tags, INT],
                                    input_updating=True)
        op.open(OperatorContext(uid="group"))
        return op

    def batch(rows, kinds):
        cols = [pa.array([r[0] for r in rows], pa.list_(pa.string())), pa.array([r[1] for r in rows], pa.int32())]
        return make_batch(pa.array(kinds, pa.int8()), cols, ["k", "v"])

    first = batch([(["a"], 1), ([], 2), (["a"], 3), (None, 4)], [INSERT] * 4)
    second = batch([(["a"], 1), ([], 5), (None, 4)], [UPDATE_BEFORE, INSERT, UPDATE_BEFORE])
    got, expected = outputs_across_a_restore(operator, first, second)
    assert got == expected and len(expected) >= 8


def outputs_across_a_restore(operator, first, second) -> tuple[list[str], list[str]]:
    """The rows of `first` then `second` through a group operator restored from its state between them, and
    through one uninterrupted operator."""
    def lines(batches):
        return [str(r) for b in batches for r in b.to_pylist()]
    whole = operator()
    expected = lines(whole.on_batch(first) + whole.on_batch(second))
    before = operator()
    got = lines(before.on_batch(first))
    state = before.groups.snapshot()
    after = operator()
    after.groups.restore(state)
    return got + lines(after.on_batch(second)), expected
