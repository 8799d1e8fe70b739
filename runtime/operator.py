"""The operator contract: batches in, batches out; the runtime owns watermarks, timers and state snapshots.

    source split ──poll──> [WatermarkAssigner] ──batch──> [Calc] ──batch──> [WindowAggregate] ──> sink
                                  │ watermark                                   │ on_watermark(wm):
                                  └──────────(min over inputs)────────────────> fire closed windows

`open(ctx)` is called once, before the first batch and before a restore. The context gives the operator its
named state, declared by kind and snapshotted by the runtime (`ctx.keyed_table`: values per key, with TTL and
key groups; `ctx.row_store`: rows in the operator's own layout; `ctx.window_buffer`: rows of unfired windows;
`ctx.counters`: scalar progress fields; `ctx.register` is left for an object with a snapshot
of its own), its timers (`ctx.timers`, or `ctx.keyed_timers` for timers per key: event-time timers fire when
the input watermark passes them,
processing-time timers when the wall clock does, each through `on_timer`), the job's configuration, a metric
group, and `input_watermarks`, each input's watermark as the runtime combines them (it calls `on_watermark`
with their minimum).

Each operator returns its output instead of pushing it, so a unit test is a call and an assertion.
A batch is a pyarrow.RecordBatch whose first column `_op` holds RowKind bytes (sqlstream.core.changelog).
"""
from __future__ import annotations

import time
from typing import Callable

import pyarrow as pa

from sqlstream.runtime.event_time import MIN_WM
from sqlstream.runtime.keyed_timers import EVENT_TIME, PROCESSING_TIME, KeyedTimers
from sqlstream.runtime.state import Counters, KeyedRows, KeyedTable, RowStore, StateBackend
from sqlstream.runtime.windows import WindowBuffer


class TimerService:
    """Timers an operator registered, by time domain; the runtime takes the due ones and fires them in time
    order. Snapshotted with the operator's state, so a restored job fires what the stopped one had pending."""

    def __init__(self) -> None:
        self.pending: dict[str, set[int]] = {EVENT_TIME: set(), PROCESSING_TIME: set()}

    def register_event_time_timer(self, timestamp: int) -> None:
        self.pending[EVENT_TIME].add(int(timestamp))

    def register_processing_time_timer(self, timestamp: int) -> None:
        self.pending[PROCESSING_TIME].add(int(timestamp))

    def delete_event_time_timer(self, timestamp: int) -> None:
        self.pending[EVENT_TIME].discard(int(timestamp))

    def delete_processing_time_timer(self, timestamp: int) -> None:
        self.pending[PROCESSING_TIME].discard(int(timestamp))

    def take_due(self, domain: str, upto: int) -> list[int]:
        """The timers of `domain` at or before `upto`, oldest first; they are removed."""
        timers = self.pending[domain]
        due = sorted(t for t in timers if t <= upto)
        timers.difference_update(due)
        return due

    def snapshot(self) -> pa.Table:
        rows = [(d, t) for d in (EVENT_TIME, PROCESSING_TIME) for t in sorted(self.pending[d])]
        return pa.table({"domain": pa.array([d for d, _ in rows], pa.string()),
                         "timestamp": pa.array([t for _, t in rows], pa.int64())})

    def restore(self, table: pa.Table) -> None:
        self.pending = {EVENT_TIME: set(), PROCESSING_TIME: set()}
        for d, t in zip(table.column("domain").to_pylist(), table.column("timestamp").to_pylist()):
            self.pending[d].add(t)

    def size_bytes(self) -> int:
        return 8 * sum(len(v) for v in self.pending.values())


class MetricGroup:
    """An operator's own metrics by name: counters it increments and gauges read when metrics are reported."""

    def __init__(self) -> None:
        self.counters: dict[str, int] = {}
        self.gauges: dict[str, Callable[[], float]] = {}

    def inc(self, name: str, n: int = 1) -> None:
        self.counters[name] = self.counters.get(name, 0) + n

    def gauge(self, name: str, read: Callable[[], float]) -> None:
        self.gauges[name] = read

    def values(self) -> dict:
        return {**self.counters, **{n: read() for n, read in self.gauges.items()}}


class OperatorContext:
    """What the runtime gives an operator at `open`: state, timers, configuration, metrics, input watermarks."""

    def __init__(self, state: StateBackend | None = None, config: dict | None = None, n_inputs: int = 1,
                 uid: str = "", clock: Callable[[], int] | None = None):
        self.uid = uid or (state.uid if state is not None else "")
        self.state = state if state is not None else StateBackend(self.uid)
        self.config = config or {}
        self.metrics = MetricGroup()
        self.input_watermarks = [MIN_WM] * n_inputs  # updated in place by the runtime
        self.clock = clock or (lambda: int(time.time() * 1000))
        self._timers: TimerService | KeyedTimers | None = None

    @property
    def timers(self) -> TimerService:
        """The operator's timers; declared (and so checkpointed) when an operator first asks for them in open."""
        if self._timers is None:
            self._timers = self.state.register("timers", TimerService())
        return self._timers

    def keyed_timers(self, key_types: list[pa.DataType]) -> KeyedTimers:
        """Timers per key (a keyed process function's), instead of `timers`: the runtime fires each due
        timestamp through `on_timer` and the operator takes the keys it fires for with `fired`. They snapshot
        with each key's key group, so they split when the job is rescaled."""
        if self._timers is not None:
            raise ValueError(f"operator {self.uid} declared its timers twice")
        self._timers = self.state.register("timers", KeyedTimers(key_types, self.state.max_parallelism))
        return self._timers

    @property
    def has_timers(self) -> bool:
        return self._timers is not None

    def register(self, name: str, table):
        """State the operator keeps in an object of its own (snapshot / restore / size_bytes)."""
        return self.state.register(name, table)

    def keyed_table(self, name: str, key_types: list[pa.DataType], value_types: dict[str, pa.DataType],
                    ttl_ms: int = 0) -> KeyedTable:
        """A keyed state table the state backend keeps and snapshots; `ttl_ms` forgets keys not written for that
        long (processing time, as Flink's table.exec.state.ttl)."""
        return self.state.keyed_table(name, key_types, value_types, ttl_ms, self.clock)

    def row_store(self, name: str, schema: pa.Schema, arrays: dict | None = None, live: str | None = None,
                  transient: tuple[str, ...] = ()) -> RowStore:
        """Rows the operator keeps in a layout of its own (one Arrow table of `schema`, per-row numpy `arrays`),
        snapshotted as they are (only the rows whose `live` array is set, without the `transient` arrays)."""
        return self.state.row_store(name, schema, arrays, live, transient)

    def keyed_rows(self, name: str, schema: pa.Schema, keys: list[str], arrays: dict | None = None,
                   live: str | None = None, transient: tuple[str, ...] = ()) -> KeyedRows:
        """Rows the operator keeps in a layout of its own, each belonging to the key in its `keys` columns, so
        that they split by key group when the job is rescaled (`arrays`: per-row numpy columns; only the rows
        whose `live` array is set are snapshotted, without the `transient` arrays)."""
        return self.state.keyed_rows(name, schema, keys, arrays, live, transient)

    def keyed_snapshot(self, name: str, owner, key_columns: list[str]):
        """State the operator writes as rows that each carry their key in `key_columns` (`owner.snapshot_table()`
        / `owner.restore_tables(tables)` / `owner.state_size_bytes()`), split by key group when rescaled."""
        return self.state.keyed_snapshot(name, owner, key_columns)

    def window_buffer(self, name: str, keys: list[str] | None = None, on_restore=None) -> WindowBuffer:
        """Rows of unfired windows, by window end; with `keys` (the columns the input is hashed on) they split
        by key group when the job is rescaled (`on_restore`: called after a restore)."""
        return self.state.window_buffer(name, keys, on_restore)

    def counters(self, name: str, owner, fields: tuple[str, ...], sums: tuple[str, ...] = ()) -> Counters:
        """Scalar progress fields of the operator (attributes of `owner`), snapshotted as one row; when rescaled
        they merge by maximum, and `sums` (counts) by sum."""
        return self.state.counters(name, owner, fields, sums)

    def current_processing_time(self) -> int:
        return self.clock()


def fire_timers(op: "Operator", ctx: OperatorContext, domain: str, upto: int) -> list[pa.RecordBatch]:
    """The runtime fires an operator's due timers of `domain` (up to the watermark or the wall clock `upto`),
    oldest first, through `on_timer`; what they emit."""
    if not ctx.has_timers:
        return []
    return [b for ts in ctx.timers.take_due(domain, upto) for b in op.on_timer(ts, domain)]


class Operator:
    name = "Operator"
    drops_late_rows = False  # an operator that drops late rows hands them to `late_rows` (a LateRowCollector) if set
    late_rows = None
    # whether the `_wm` column of its input (the watermark in force before each row) matters to it or to its output:
    # where not, an exchange into it need not carry that column
    reads_row_watermarks = True

    def open(self, ctx: OperatorContext) -> None:
        """Declare state tables and timers; called once before the first batch (and before restore)."""

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        raise NotImplementedError

    def on_watermark(self, wm: int) -> list[pa.RecordBatch]:
        """The combined input watermark advanced to `wm` (ms); emit what it completes."""
        return []

    def on_timer(self, timestamp: int, domain: str) -> list[pa.RecordBatch]:
        """A timer registered through `ctx.timers` is due (EVENT_TIME: the watermark reached it, before
        `on_watermark`; PROCESSING_TIME: the wall clock did)."""
        return []

    def take_watermark(self) -> int | None:
        """A watermark this operator generated itself (only watermark assigners do)."""
        return None

    def close(self) -> list[pa.RecordBatch]:
        """End of input, after the final watermark."""
        return []

    def metrics(self) -> dict:
        return {}
