"""Window Top-N: ROW_NUMBER() per window (PARTITION BY includes window_start and window_end) over a windowed
insert-only input, as Flink's window rank. Rows wait per window end; when the watermark closes a window its
rows are ranked column-wise (one sort by partition, ORDER BY keys and arrival) and the top N of each partition
are emitted as inserts with their row number; the window's rows are then dropped, and a row whose window has
closed is late and dropped. Ties keep arrival order, except in keep-last window deduplication (ORDER BY the
window's rowtime DESC, rn = 1), where the newer row wins as in Flink.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from sqlstream.core.changelog import INSERT, data_columns, make_batch, row_watermarks
from sqlstream.runtime.keys import KeyIndex
from sqlstream.runtime.operator import Operator, OperatorContext
from sqlstream.runtime.operators.top1 import sort_positions
from sqlstream.runtime.event_time import MIN_WM
from sqlstream.runtime.event_time import rowtime_ms


class WindowRankOperator(Operator):
    drops_late_rows = True
    name = "WindowRank"

    def __init__(self, partition: list[int], order: list[tuple[int, bool]], limit: int, window_end: int,
                 names: list[str], types: list[pa.DataType], newest_wins_ties: bool = False, zone_offset: int = 0):
        self.zone_offset = zone_offset  # window_end holds the session zone's wall clock, this far ahead of UTC (TIMESTAMP_LTZ windows)
        self.partition, self.order, self.limit, self.window_end = partition, order, limit, window_end
        self.tie_sign = -1 if newest_wins_ties else 1  # keep-last window deduplication: a tie goes to the newer row
        self.names, self.types = names, types  # input types; the output adds the row number
        self.last_wm = MIN_WM
        self.seq = 0
        self.late_dropped = 0

    def open(self, ctx: OperatorContext) -> None:
        # keyed by the PARTITION BY columns the input is hashed on, so a window's rows split by key group
        self.buffer = ctx.window_buffer("window_rows", [f"c{i}" for i in self.partition])
        ctx.counters("progress", self, ("last_wm", "seq", "late_dropped"), sums=("late_dropped",))

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        cols = data_columns(batch)
        n = batch.num_rows
        ends, _ = rowtime_ms(cols[self.window_end])
        ends = ends - self.zone_offset
        table = pa.table({f"c{i}": c for i, c in enumerate(cols)})
        table = table.append_column("$seq", pa.array(self.seq + np.arange(n)))
        self.seq += n
        # the watermark in force at each row: a batch's rows carry the watermark before them (a window closed by
        # an earlier row of the same batch makes a later row of it late, as row by row)
        row_wm = row_watermarks(batch)
        now = np.full(n, self.last_wm, np.int64) if row_wm is None else np.maximum(self.last_wm, row_wm)
        late = self.buffer.add_open(table, ends, now)
        if late:
            self.late_dropped += late
            if self.late_rows is not None:  # the row's time is its window's time: the operator sees no other
                self.late_rows.add(cols, ends - 1 <= now, ends - 1, now)
        return []

    def on_watermark(self, wm: int) -> list[pa.RecordBatch]:
        self.last_wm = max(self.last_wm, wm)
        out = []
        for end in self.buffer.closed(wm):  # oldest window first
            out += self._rank(self.buffer.pop_window(end))
        return out

    def _rank(self, table: pa.Table) -> list[pa.RecordBatch]:
        n = table.num_rows
        cols = [table.column(f"c{i}").combine_chunks() for i in range(len(self.types))]
        part = KeyIndex().lookup([cols[i] for i in self.partition], n)[0]
        pos = sort_positions([cols[i] for i, _ in self.order], [d for _, d in self.order]) if self.order \
            else np.zeros(n, np.int64)
        seq = np.asarray(table.column("$seq"), dtype=np.int64)
        order = np.lexsort((self.tie_sign * seq, pos, part))  # per partition: ORDER BY, then arrival order
        g = part[order]
        first = np.r_[True, g[1:] != g[:-1]]
        starts = np.maximum.accumulate(np.where(first, np.arange(n), 0))
        number = np.arange(n) - starts + 1
        keep = number <= self.limit
        rows = pa.array(order[keep])
        out = [c.take(rows) for c in cols] + [pa.array(number[keep], pa.int64())]
        return [make_batch(INSERT, out, self.names)] if len(rows) else []

    def metrics(self) -> dict:
        return {"late_records_dropped": self.late_dropped, "state_bytes": self.buffer.size_bytes()}
