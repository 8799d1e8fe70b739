"""The operator contract: a context with keyed state tables (with TTL, snapshotting themselves), timers the
runtime fires, and input watermarks the runtime combines."""
import numpy as np
import pyarrow as pa

from sqlstream.core.changelog import DELETE, INSERT, UPDATE_AFTER, UPDATE_BEFORE, make_batch
from sqlstream.runtime.operator import EVENT_TIME, PROCESSING_TIME, OperatorContext, TimerService
from sqlstream.runtime.operators.changelog_normalize import ChangelogNormalizeOperator
from sqlstream.runtime.state import KeyedTable, StateBackend


class Clock:
    def __init__(self):
        self.now = 0

    def __call__(self):
        return self.now


def test_keyed_table_reads_and_writes_batches_and_snapshots_itself():
    table = KeyedTable([pa.string()], {"n": pa.int64(), "s": pa.string()})
    table.put([pa.array(["a", "b", "a"])], {"n": pa.array([1, 2, 3]), "s": pa.array(["x", None, "z"])})
    values, found = table.get([pa.array(["a", "c", "b"])], 3)
    assert found.tolist() == [True, False, True]
    assert values["n"].to_pylist() == [3, None, 2] and values["s"].to_pylist() == ["z", None, None]
    table.delete([pa.array(["b"])], 1)
    assert table.scan().to_pydict() == {"k0": ["a"], "n": [3], "s": ["z"]}
    again = KeyedTable([pa.string()], {"n": pa.int64(), "s": pa.string()})
    again.restore(table.snapshot())
    assert again.scan().to_pydict() == table.scan().to_pydict()
    assert again.get([pa.array([None], pa.string())], 1)[1].tolist() == [False]


def test_keyed_table_ttl_forgets_keys_not_written_for_that_long():
    clock = Clock()
    table = KeyedTable([pa.int64()], {"v": pa.int64()}, ttl_ms=100, clock=clock)
    table.expire()
    table.put([pa.array([1, 2])], {"v": pa.array([10, 20])})
    clock.now = 60
    table.expire()
    table.put([pa.array([2])], {"v": pa.array([21])})
    clock.now = 150
    assert table.expire() == 1
    assert table.scan().to_pydict() == {"k0": [2], "v": [21]}
    restored = KeyedTable([pa.int64()], {"v": pa.int64()}, ttl_ms=100, clock=clock)
    restored.restore(table.snapshot())
    clock.now = 161
    assert restored.expire() == 1 and len(restored) == 0, "the write time survives a snapshot"


def test_timers_fire_in_time_order_once_and_survive_a_snapshot():
    timers = TimerService()
    for t in (30, 10, 20, 10):
        timers.register_event_time_timer(t)
    timers.register_processing_time_timer(5)
    restored = TimerService()
    restored.restore(timers.snapshot())
    assert restored.take_due(EVENT_TIME, 20) == [10, 20]
    assert restored.take_due(EVENT_TIME, 25) == []
    assert restored.take_due(PROCESSING_TIME, 100) == [5]
    ctx = OperatorContext(StateBackend("op"))
    assert not ctx.has_timers
    ctx.timers.register_event_time_timer(1)
    assert "timers" in ctx.state.tables, "timers an operator declares are checkpointed with its state"


ROWS = [(INSERT, "a", 1), (UPDATE_AFTER, "a", 2), (INSERT, "b", 1), (UPDATE_AFTER, "a", 2), (DELETE, "b", 1),
        (UPDATE_BEFORE, "a", 2), (INSERT, "a", 3), (INSERT, "b", 4), (DELETE, "c", 9), (UPDATE_AFTER, "b", 5)]
TYPES = [pa.string(), pa.int64()]
KIND = {INSERT: "+I", UPDATE_BEFORE: "-U", UPDATE_AFTER: "+U", DELETE: "-D"}


def normalize(rows, size, restore_at=None):
    def make():
        op, backend = ChangelogNormalizeOperator([0], ["k", "v"], TYPES), StateBackend("normalize")
        op.open(OperatorContext(backend))
        return op, backend
    op, backend = make()
    out = []
    for at in range(0, len(rows), size):
        if restore_at is not None and at == restore_at:
            blobs = backend.snapshot()
            op, backend = make()
            backend.restore(blobs)
        chunk = rows[at:at + size]
        batch = make_batch(np.array([r[0] for r in chunk], np.int8),
                           [pa.array([r[1] for r in chunk]), pa.array([r[2] for r in chunk])], ["k", "v"])
        for b in op.on_batch(batch):
            out += [f"{KIND[o]}[{k}, {v}]" for o, k, v in zip(*[c.to_pylist() for c in b.columns[:3]])]
    return out


def test_changelog_normalize_on_a_keyed_table_is_batch_size_independent_and_restores():
    expected = ["+I[a, 1]", "-U[a, 1]", "+U[a, 2]", "+I[b, 1]", "-D[b, 1]", "-D[a, 2]", "+I[a, 3]", "+I[b, 4]",
                "-U[b, 4]", "+U[b, 5]"]
    for size in (1, 3, len(ROWS)):
        assert normalize(ROWS, size) == expected
    assert normalize(ROWS, 2, restore_at=6) == expected


def test_the_runtime_fires_event_time_timers_when_the_watermark_reaches_them_and_only_once():
    from tests.test_state import build_job
    sql = ("CREATE TABLE t (k INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts) WITH ('connector' = 'datagen', "
           "'number-of-rows' = '50', 'fields.k.kind' = 'sequence', 'fields.k.start' = '1', 'fields.k.end' = '50');"
           "SELECT k, COUNT(*) FROM t GROUP BY k;")
    job, _ = build_job(sql, 7)
    nid, op = next((n, o) for n, o in job.ops.items() if type(o).__name__ == "GroupAggregateOperator")
    fired = []
    op.on_timer = lambda ts, domain: fired.append((ts, domain)) or []
    job.contexts[nid].timers.register_event_time_timer(-(2 ** 62))
    job.contexts[nid].timers.register_event_time_timer(2 ** 62)
    job.run()
    assert fired == [(-(2 ** 62), EVENT_TIME), (2 ** 62, EVENT_TIME)], "in time order, each once, the last at the end"
