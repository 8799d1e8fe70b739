"""Window aggregation's state splits by key group: subtasks' buffered rows restore into other subtasks, and a
subtask that kept per-batch partial aggregates and one that kept rows restore into one operator with the
results of an uninterrupted run."""
import numpy as np
import pyarrow as pa

from sqlstream.core.changelog import INSERT, make_batch
from sqlstream.core.types import BIGINT, FlinkType
from sqlstream.plan.logical import AggCall, WindowSpec
from sqlstream.runtime.key_groups import group_range, key_groups, subtask_of_groups
from sqlstream.runtime.operator import OperatorContext
from sqlstream.runtime.operators.window_aggregate import WindowAggregateOperator
from sqlstream.runtime.state import StateBackend

NAMES = ["k", "v", "ts"]
TYPES = [pa.int64(), pa.int64(), pa.timestamp("ms")]
TS = FlinkType("TIMESTAMP", precision=3)


def make() -> tuple[WindowAggregateOperator, StateBackend]:
    aggs = [AggCall("COUNT", (), BIGINT), AggCall("SUM", (1,), BIGINT), AggCall("MAX", (1,), BIGINT)]
    op = WindowAggregateOperator(WindowSpec("HOP", 2, size=3000, slide=1000), [0], aggs, None,
                                 ["k", "window_start", "window_end", "window_time", "c", "s", "m"],
                                 [BIGINT, TS, TS, TS, BIGINT, BIGINT, BIGINT])
    backend = StateBackend("w")
    op.open(OperatorContext(backend))
    return op, backend


def batch(keys: list[int], start: int) -> pa.RecordBatch:
    n = len(keys)
    ts = np.arange(start, start + n, dtype=np.int64)
    return make_batch(INSERT, [pa.array(keys, pa.int64()), pa.array(np.arange(n) % 13, pa.int64()),
                               pa.array(ts).cast(pa.timestamp("ms"))], NAMES, wm=np.full(n, -1, np.int64))


def rows(batches: list[pa.RecordBatch]) -> list[str]:
    return sorted(str(r) for b in batches for r in b.to_pylist())


def test_rows_and_partial_aggregates_of_two_subtasks_restore_into_one_and_into_three():
    few = [k for k in range(400) if subtask_of_groups(key_groups([pa.array([k])], 1), 2)[0] == 0][:5]
    many = [k for k in range(400) if subtask_of_groups(key_groups([pa.array([k])], 1), 2)[0] == 1]
    first = batch(few * 200, 0)  # five keys: partial aggregates pay off
    second = batch(many, 1000)  # every key once: rows are kept
    whole, _ = make()
    whole.on_batch(first)
    whole.on_batch(second)
    expected = rows(whole.on_watermark(10_000))
    parts = []
    for b in (first, second):
        op, backend = make()
        op.on_batch(b)
        parts.append(backend.snapshot())
    modes = []
    for p in (1, 3):
        got = []
        for s in range(p):
            op, backend = make()
            new = group_range(s, p)  # the old subtasks whose key groups overlap, as a restore gives them
            overlapping = [part for i, part in enumerate(parts)
                           if group_range(i, 2).start < new.stop and new.start < group_range(i, 2).stop]
            backend.restore(overlapping, new if p > 1 else None)
            modes.append(op.partial)
            got += op.on_watermark(10_000)
        assert rows(got) == expected
    assert modes == [True, True, True, False]


def test_window_rows_without_keys_are_refused_at_another_parallelism_naming_the_operator():
    """A window buffer declared without keys: a restore at another parallelism is refused naming the operator,
    never restored wrong."""
    import pytest

    from sqlstream.core.errors import ValidationError
    from sqlstream.runtime.subtask_state import restore_operator

    old = StateBackend("004-WindowRank")
    OperatorContext(old).window_buffer("window_rows").add(pa.table({"c0": [1], "$we": [1000]}), np.array([1000]))
    new = StateBackend("004-WindowRank")
    OperatorContext(new).window_buffer("window_rows")
    with pytest.raises(ValidationError, match=r"Cannot restore operator 004-WindowRank at parallelism 3 from a "
                                              r"checkpoint taken at parallelism 2: .*not keyed"):
        restore_operator(new, [old.snapshot()], group_range(1, 3), 2, 3)
