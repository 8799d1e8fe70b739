"""Aggregates that keep their values (runtime/value_aggregates.py) follow Flink's retracting functions:
per-value counts for MIN/MAX/COUNT(DISTINCT), the oldest equal occurrence retracted for FIRST_VALUE,
LAST_VALUE and LISTAGG; a checkpoint restores them exactly."""
import numpy as np
import pyarrow as pa

from sqlstream.runtime.value_aggregates import ValueAggregate


def run(fn, changes, seps=None, agg=None):
    """Results (after each change) of one group fed ('+' or '-', value) changes."""
    agg = agg or ValueAggregate(fn)
    signs = np.array([1 if op == "+" else -1 for op, _ in changes])
    fresh = np.zeros(len(changes), bool)
    after, before = agg.run(np.zeros(len(changes), np.int64), signs, [v for _, v in changes], seps, fresh)
    assert before[1:] == after[:-1]  # a row's before is exactly the previous row's after
    return after


def test_min_max_keep_a_count_per_value():
    changes = [("+", 5), ("+", 9), ("+", 9), ("-", 9), ("-", 9), ("+", 1), ("-", 1), ("-", 5)]
    assert run("MAX", changes) == [5, 9, 9, 9, 5, 5, 5, None]
    assert run("MIN", changes) == [5, 5, 5, 5, 5, 1, 5, None]
    assert run("COUNT", changes) == [1, 2, 2, 2, 1, 2, 1, 0]


def test_a_retraction_before_its_row_waits_for_it():
    assert run("MAX", [("-", 7), ("+", 3), ("+", 7), ("+", 7)]) == [None, 3, 3, 7]


def test_first_last_retract_the_oldest_equal_occurrence():
    changes = [("+", "a"), ("+", "b"), ("+", "a"), ("-", "a"), ("+", "c"), ("-", "c"), ("-", "b")]
    assert run("FIRST_VALUE", changes) == ["a", "a", "a", "b", "b", "b", "a"]
    assert run("LAST_VALUE", changes) == ["a", "b", "a", "a", "c", "a", "a"]
    assert run("LISTAGG", changes, seps=["|"] * len(changes)) == ["a", "a|b", "a|b|a", "b|a", "b|a|c", "b|a", "a"]


def test_nulls_and_absent_values_change_nothing():
    assert run("LISTAGG", [("+", None), ("+", "x"), ("-", "y"), ("-", None)]) == [None, "x", "x", "x"]
    assert run("FIRST_VALUE", [("+", None), ("-", "x"), ("+", "y")]) == [None, None, "y"]


def test_snapshot_restores_every_group():
    for fn, changes in [("MAX", [("+", 4), ("+", 4), ("+", 8), ("-", 8)]),
                        ("LISTAGG", [("+", "p"), ("+", "q"), ("+", "p"), ("-", "p")])]:
        agg = ValueAggregate(fn)
        run(fn, changes, agg=agg)
        value_type = pa.int64() if fn == "MAX" else pa.string()
        table = pa.table(agg.snapshot_columns(np.array([0]), value_type, "a0"))
        restored = ValueAggregate(fn)
        restored.restore_columns(table, "a0")
        more = [("-", 4), ("+", 2)] if fn == "MAX" else [("+", "r"), ("-", "q")]
        assert run(fn, more, agg=restored) == run(fn, more, agg=agg)
