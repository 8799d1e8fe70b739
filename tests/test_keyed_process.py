"""The operator contract carries a keyed process function (Flink's KeyedProcessFunction): value state per key
(`ctx.keyed_table`) and a timer per key (`ctx.keyed_timers`) that the runtime fires, snapshots and, at another
parallelism, splits by key group. The operator is Flink's CountWithTimeout example: count a key's rows and emit
the count once the key has had no row for 10 ms of event time."""
import numpy as np
import pyarrow as pa

from sqlstream.core.changelog import INSERT, make_batch
from sqlstream.runtime.key_groups import DEFAULT_MAX_PARALLELISM, group_range, key_groups
from sqlstream.runtime.operator import EVENT_TIME, Operator, OperatorContext, fire_timers
from sqlstream.runtime.state import StateBackend

TIMEOUT = 10


class CountWithTimeoutOperator(Operator):
    name = "CountWithTimeout"

    def open(self, ctx: OperatorContext) -> None:
        self.counts = ctx.keyed_table("count", [pa.string()], {"count": pa.int64(), "last": pa.int64()})
        self.timers = ctx.keyed_timers([pa.string()])

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        keys, times = batch.column(1), np.asarray(batch.column(2))
        seen: dict[str, tuple[int, int]] = {}
        for k, t in zip(keys.to_pylist(), times.tolist()):
            seen[k] = (seen.get(k, (0, 0))[0] + 1, t)
        distinct = pa.array(list(seen), pa.string())
        old, found = self.counts.get([distinct], len(distinct))
        before = np.where(found, np.asarray(old["count"].fill_null(0)), 0)
        self.counts.put([distinct], {"count": pa.array(before + [n for n, _ in seen.values()], pa.int64()),
                                     "last": pa.array([t for _, t in seen.values()], pa.int64())})
        self.timers.register(EVENT_TIME, [keys], times + TIMEOUT)
        return []

    def on_timer(self, timestamp: int, domain: str) -> list[pa.RecordBatch]:
        (keys,) = self.timers.fired(timestamp, domain)
        values, found = self.counts.get([keys], len(keys))
        due = found & (np.asarray(values["last"].fill_null(0)) + TIMEOUT == timestamp)
        if not due.any():
            return []
        mask = pa.array(due)
        return [make_batch(INSERT, [keys.filter(mask), values["count"].filter(mask)], ["k", "n"])]


STEPS = [("rows", [("a", 1), ("b", 2), ("a", 4)]), ("wm", 5), ("rows", [("c", 6), ("b", 9)]), ("wm", 14),
         ("rows", [("a", 15), ("d", 15), ("c", 20)]), ("wm", 19), ("rows", [("e", 21), ("a", 22)]), ("wm", 30),
         ("rows", [("d", 31), ("b", 33)]), ("wm", 2 ** 62)]


def _open() -> tuple[CountWithTimeoutOperator, OperatorContext]:
    op, ctx = CountWithTimeoutOperator(), OperatorContext(StateBackend("process"))
    op.open(ctx)
    return op, ctx


def _step(op, ctx, step, groups: range | None = None) -> list[tuple]:
    if step[0] == "wm":
        out = fire_timers(op, ctx, EVENT_TIME, step[1]) + op.on_watermark(step[1])
    else:
        rows = step[1]
        if groups is not None:
            keys = pa.array([k for k, _ in rows])
            g = key_groups([keys], len(rows), DEFAULT_MAX_PARALLELISM)
            rows = [r for r, x in zip(rows, g.tolist()) if x in groups]
        if not rows:
            return []
        out = op.on_batch(make_batch(INSERT, [pa.array([k for k, _ in rows]),
                                              pa.array([t for _, t in rows], pa.int64())], ["k", "t"]))
    return [(r["k"], r["n"]) for b in out for r in b.to_pylist()]


def test_timers_per_key_fire_and_restore():
    op, ctx = _open()
    expected = [r for s in STEPS for r in _step(op, ctx, s)]
    assert expected == [("a", 2), ("b", 2), ("d", 1), ("c", 2), ("e", 1), ("a", 4), ("d", 2), ("b", 3)]
    for cut in range(1, len(STEPS)):
        op, ctx = _open()
        out = [r for s in STEPS[:cut] for r in _step(op, ctx, s)]
        blobs = ctx.state.snapshot()
        op, ctx = _open()
        ctx.state.restore(blobs)
        assert out + [r for s in STEPS[cut:] for r in _step(op, ctx, s)] == expected, cut


def test_rescale_from_two_subtasks_to_one():
    op, ctx = _open()
    expected = sorted(r for s in STEPS for r in _step(op, ctx, s))
    ranges = [group_range(i, 2, DEFAULT_MAX_PARALLELISM) for i in range(2)]
    subtasks = [_open() for _ in ranges]
    cut = 5
    out = [r for s in STEPS[:cut] for (o, c), g in zip(subtasks, ranges) for r in _step(o, c, s, g)]
    parts = [c.state.snapshot(g) for (_, c), g in zip(subtasks, ranges)]
    assert all(p["timers"] for p in parts)
    op, ctx = _open()
    ctx.state.restore(parts)
    out += [r for s in STEPS[cut:] for r in _step(op, ctx, s)]
    assert sorted(out) == expected
