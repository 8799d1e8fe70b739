"""A GROUP BY over a windowed insert-only input that groups by its window_start and window_end (a window
aggregation cascaded on another, as Flink plans it). Rows wait per window end; when the watermark closes a
window, its rows are aggregated once (as a window aggregation aggregates a window's rows, grouped by the keys) and
the groups are emitted as inserts in the order they first appear; the window's rows are then dropped, and a row
whose window has closed is late and dropped.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from sqlstream.core.changelog import INSERT, data_columns, make_batch
from sqlstream.plan.physical import common_keys
from sqlstream.runtime.aggregates import aggregate_rows, finalize, needed_columns
from sqlstream.runtime.keys import one_key
from sqlstream.runtime.operator import Operator, OperatorContext
from sqlstream.runtime.event_time import MIN_WM
from sqlstream.runtime.event_time import rowtime_ms


class WindowGroupAggregateOperator(Operator):
    drops_late_rows = True
    name = "WindowGroupAggregate"

    def __init__(self, window_end: int, aggregate: dict, input_names: list[str], n_keys: int, zone_offset: int = 0):
        self.zone_offset = zone_offset  # window_end holds the session zone's wall clock, this far ahead of UTC (TIMESTAMP_LTZ windows)
        self.window_end, self.n_keys = window_end, n_keys
        self.aggregate = aggregate  # GroupAggregate's arguments: keys, aggs, out_names, out_types, ..
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
        ends = ends - self.zone_offset
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
            out.append(self._aggregate(self.buffer.pop_window(end)))
        return out

    def _aggregate(self, table: pa.Table) -> pa.RecordBatch:
        """One window's groups (the keys hold its start and end) with their final aggregates, in the order the
        groups first appear, as the window aggregation computes a window's (`aggregate_rows`)."""
        keys, aggs = self.aggregate["keys"], self.aggregate["aggs"]
        table = table.append_column("$rn", pa.array(np.arange(table.num_rows, dtype=np.int64)))
        group_cols = [f"c{i}" for i in keys]
        if group_cols and one_key([table.column(c).combine_chunks() for c in group_cols], table.num_rows):
            # one group (the window's bounds are its keys): aggregated without hashing them
            result = aggregate_rows(table, [], needed_columns(keys, aggs), aggs)
            for c in group_cols:
                result = result.append_column(c, table.column(c).slice(0, 1))
        else:
            result = aggregate_rows(table, group_cols, needed_columns(keys, aggs), aggs)
            result = result.sort_by([("$rn_min", "ascending")])
        arrays = [result.column(c).combine_chunks() for c in group_cols] + finalize(result, aggs)
        types = [t.to_arrow() for t in self.aggregate["out_types"]]
        arrays = [a.cast(t) if a.type != t else a for a, t in zip(arrays, types)]
        return make_batch(INSERT, arrays, self.aggregate["out_names"])

    def metrics(self) -> dict:
        return {"late_records_dropped": self.late_dropped, "state_bytes": self.buffer.size_bytes()}
