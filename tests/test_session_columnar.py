"""SESSION window membership assigned column-wise gives the row-at-a-time reference's results exactly (same rows,
same order), and so does the operator's own row loop: random keys, rows in and out of time order, rows one gap
apart, keys with several open sessions, late rows, random batch sizes, across a checkpoint; with and without
PARTITION BY."""
import random

import numpy as np
import pyarrow as pa
import pytest

from sqlstream.core.changelog import INSERT, make_batch
from sqlstream.core.types import BIGINT, FlinkType
from sqlstream.plan.logical import AggCall, WindowSpec
from sqlstream.runtime.event_time import MAX_WM
from sqlstream.runtime.key_groups import group_range, key_groups, subtask_of_groups
from sqlstream.runtime.operator import OperatorContext
from sqlstream.runtime.operators.session_window_aggregate import SessionWindowAggregateOperator
from sqlstream.runtime.state import StateBackend
from tests.event_batches import cut_with_watermarks
from tests.reference_session import SessionReference

NAMES = ["k", "v", "ts"]
TYPES = [pa.int64(), pa.int64(), pa.timestamp("ms")]
TS = FlinkType("TIMESTAMP", precision=3)


def make(vectorized: bool, partitioned: bool):
    window = WindowSpec("SESSION", 2, gap=1000, partition=(0,) if partitioned else ())
    keys = [0]
    aggs = [AggCall("COUNT", (), BIGINT), AggCall("SUM", (1,), BIGINT), AggCall("MAX", (1,), BIGINT)]
    names = ["k", "window_start", "window_end", "window_time", "c", "s", "m"]
    types = [BIGINT, TS, TS, TS, BIGINT, BIGINT, BIGINT]
    op = SessionWindowAggregateOperator(window, keys, aggs, None, names, types)
    op.vectorized = vectorized
    return op


def stream(seed: int, keys: int = 5):
    rng = random.Random(seed)
    n = rng.randint(10, 500)
    t = 1_700_000_000_000
    ordered = rng.random() < 0.5
    rows = []
    for _ in range(n):
        t += rng.choice([0, 1, 200, 999, 1000, 1001, 2500])
        back = 0 if ordered and rng.random() < 0.97 else rng.choice([0, 0, 300, 1500, 4000])
        rows.append((rng.randint(0, keys), rng.randint(-5, 5), t - back))
    return cut_with_watermarks(rows, [1, 3, 20, 1000], rng, 2000, 2)


def run(make_op, batches, restore_at=None):
    op, backend = make_op(), StateBackend("t")
    op.open(OperatorContext(backend))
    out = []
    for n, (chunk, wms, wm) in enumerate(batches):
        if n == restore_at:
            blobs = backend.snapshot()
            op, backend = make_op(), StateBackend("t")
            op.open(OperatorContext(backend))
            backend.restore(blobs)
        arrays = [pa.array([r[j] for r in chunk], t) for j, t in enumerate(TYPES)]
        op.on_batch(make_batch(INSERT, arrays, NAMES, wm=np.array(wms, np.int64)))
        for b in op.on_watermark(wm):
            out.append(b.to_pylist())
    for b in op.on_watermark(MAX_WM):
        out.append(b.to_pylist())
    return out, op.late_dropped


def data(fired: list[list[dict]]) -> list[list[dict]]:
    """Each firing's rows without the changelog kind and watermark columns."""
    return [[{k: v for k, v in r.items() if k not in ("_op", "_wm")} for r in rows] for rows in fired]


def reference(batches, partitioned: bool):
    ref, out = SessionReference(gap=1000), []
    for chunk, wms, wm in batches:
        for (k, v, t), w in zip(chunk, wms):
            ref.row((k if partitioned else None, k, v, t), w)
        fired = ref.watermark(wm)
        if fired:
            out.append(fired)
    return out + [fired for fired in [ref.watermark(MAX_WM)] if fired], ref.late


@pytest.mark.parametrize("partitioned", [True, False])
@pytest.mark.parametrize("seed", range(30))
def test_same_sessions_as_the_row_at_a_time_reference(seed, partitioned):
    batches = stream(seed, keys=5 if seed % 2 else 40)
    expected, late = reference(batches, partitioned)
    got, got_late = run(lambda: make(True, partitioned), batches)
    assert got_late == late
    assert data(got) == expected
    looped, looped_late = run(lambda: make(False, partitioned), batches)
    assert looped_late == late
    assert looped == got
    restored, _ = run(lambda: make(True, partitioned), batches, restore_at=len(batches) // 2)
    assert restored == got


@pytest.mark.parametrize("seed", range(5))
def test_sessions_split_by_key_group_and_continue_exactly_at_another_parallelism(seed):
    """The sessions' state of 2 subtasks (each the partitions of its key groups) restored at 3: each new
    subtask fires, for the partitions it owns, the sessions the uninterrupted operator fires."""
    batches = stream(seed)
    head, tail = batches[:len(batches) // 2], batches[len(batches) // 2:]

    def owner(rows, p):
        return subtask_of_groups(key_groups([pa.array([r[0] for r in rows], pa.int64())], len(rows)), p)

    def feed(op, part, p=None, s=None):
        out = []
        for chunk, wms, wm in part:
            keep = [i for i, o in enumerate(owner(chunk, p)) if o == s] if p else range(len(chunk))
            if keep:
                arrays = [pa.array([chunk[i][j] for i in keep], t) for j, t in enumerate(TYPES)]
                op.on_batch(make_batch(INSERT, arrays, NAMES, wm=np.array([wms[i] for i in keep], np.int64)))
            out += [r for b in op.on_watermark(wm) for r in b.to_pylist()]
        return out

    whole = make(True, True)
    whole.open(OperatorContext(StateBackend("t")))
    feed(whole, head)
    olds = []
    for s in range(2):
        op, backend = make(True, True), StateBackend("t")
        op.open(OperatorContext(backend))
        feed(op, head, 2, s)
        olds.append(backend.tables["sessions"].snapshot(group_range(s, 2)))
    last_wm = whole.last_wm
    expected = sorted(map(str, feed(whole, tail)))
    got = []
    for s in range(3):
        op, backend = make(True, True), StateBackend("t")
        op.open(OperatorContext(backend))
        backend.tables["sessions"].restore_parts(olds, group_range(s, 3))
        op.last_wm = last_wm
        got += feed(op, tail, 3, s)
    assert sorted(map(str, got)) == expected


def test_a_long_stream_keeps_only_open_sessions_and_matches_the_reference():
    """Thousands of sessions come and go: closed ones are dropped from the session arrays (ids renumbered,
    across checkpoints too) while the results stay the reference's."""
    rng = random.Random(7)
    rows, t = [], 1_700_000_000_000
    for _ in range(12_000):
        t += rng.choice([0, 1, 20, 100])
        rows.append((rng.randint(0, 300), rng.randint(-5, 5), t - (rng.choice([0, 1500]) if rng.random() < 0.02 else 0)))
    batches = cut_with_watermarks(rows, [1, 50, 700, 3000], rng, 2000, 2)
    expected, late = reference(batches, True)
    got, got_late = run(lambda: make(True, True), batches, restore_at=len(batches) // 3)
    assert (data(got), got_late) == (expected, late)
    op = make(True, True)
    op.open(OperatorContext(StateBackend("t")))
    most = 0
    for chunk, wms, wm in batches:
        arrays = [pa.array([r[j] for r in chunk], t) for j, t in enumerate(TYPES)]
        op.on_batch(make_batch(INSERT, arrays, NAMES, wm=np.array(wms, np.int64)))
        op.on_watermark(wm)
        most = max(most, op.state.next_sid)
    assert sum(len(b) for b in expected) > 2 * most
