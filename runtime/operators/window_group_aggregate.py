"""A GROUP BY over a windowed insert-only input that groups by its window_start and window_end (a window
aggregation cascaded on another, as Flink plans it). Rows wait per window end; when the watermark closes a
window, its rows are aggregated once (by the regular group aggregation, over that window's rows alone) and
the groups are emitted as inserts; the window's rows are then dropped, and a row whose window has closed is
late and dropped.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from sqlstream.core.changelog import INSERT, UPDATE_AFTER, data_columns, make_batch
from sqlstream.plan.physical import common_keys
from sqlstream.runtime.keys import KeyIndex
from sqlstream.runtime.operator import Operator, OperatorContext
from sqlstream.runtime.operators.group_aggregate import GroupAggregateOperator
from sqlstream.runtime.event_time import MIN_WM
from sqlstream.runtime.event_time import rowtime_ms


class WindowGroupAggregateOperator(Operator):
    drops_late_rows = True
    name = "WindowGroupAggregate"

    def __init__(self, window_end: int, aggregate: dict, input_names: list[str], n_keys: int):
        self.window_end, self.n_keys = window_end, n_keys
        self.aggregate = aggregate  # a fresh GroupAggregateOperator(**aggregate) aggregates each window
        self.input_names = input_names
        self.buffer = None  # rows of unfired windows, declared in open
        self.last_wm = MIN_WM
        self.late_dropped = 0

    def open(self, ctx: OperatorContext) -> None:
        keys = common_keys(self.aggregate["keys"], self.aggregate.get("grouping_sets"))
        self.buffer = ctx.window_buffer("window_rows", [f"c{i}" for i in keys])
        ctx.counters("progress", self, ("last_wm", "late_dropped"), sums=("late_dropped",))

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        cols = data_columns(batch)
        ends, _ = rowtime_ms(cols[self.window_end])
        table = pa.table({f"c{i}": c for i, c in enumerate(cols)})
        late = self.buffer.add_open(table, ends, self.last_wm)
        if late:
            self.late_dropped += late
            if self.late_rows is not None:  # the row's time is its window's time: the operator sees no other
                self.late_rows.add(cols, ends - 1 <= self.last_wm, ends - 1, np.full(len(ends), self.last_wm))
        return []

    def on_watermark(self, wm: int) -> list[pa.RecordBatch]:
        self.last_wm = max(self.last_wm, wm)
        out = []
        for end in self.buffer.closed(wm):  # oldest window first
            table = self.buffer.pop_window(end)
            cols = [table.column(f"c{i}").combine_chunks() for i in range(len(self.input_names))]
            rows = make_batch(INSERT, cols, self.input_names)
            agg = GroupAggregateOperator(**self.aggregate)
            agg.open(OperatorContext(uid="window"))
            out += self._final(agg.on_batch(rows))
        return out

    def _final(self, batches: list[pa.RecordBatch]) -> list[pa.RecordBatch]:
        """The aggregation's last row per group (its changelog over one window's rows), as inserts, in the
        order the groups first appear."""
        if not batches:
            return []
        changes = pa.Table.from_batches(batches).combine_chunks()
        ops = np.asarray(changes.column(0), dtype=np.int8)
        adds = np.flatnonzero((ops == INSERT) | (ops == UPDATE_AFTER))
        keys = [changes.column(1 + i).combine_chunks().take(pa.array(adds)) for i in range(self.n_keys)]
        groups = KeyIndex().lookup(keys, len(adds))[0]
        _, first = np.unique(groups, return_index=True)
        _, last_rev = np.unique(groups[::-1], return_index=True)
        last = len(adds) - 1 - last_rev  # per group (same order as `first`): its last row
        rows = pa.array(adds[last[np.argsort(first)]])
        data = [changes.column(i).combine_chunks().take(rows) for i in range(1, changes.num_columns)]
        return [make_batch(INSERT, data, changes.schema.names[1:])]

    def metrics(self) -> dict:
        return {"late_records_dropped": self.late_dropped, "state_bytes": self.buffer.size_bytes()}
