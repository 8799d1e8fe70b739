"""Window aggregation (TUMBLE, HOP, CUMULATE): rows are buffered per window end and aggregated when it fires."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.plan.logical import AggCall, WindowSpec
from sqlstream.runtime import windows
from sqlstream.runtime.aggregates import (aggregate_rows, expand_grouping_sets, finalize, merge_partials,
                                          needed_columns, partials_merge)
from sqlstream.core.changelog import INSERT, data_columns, make_batch
from sqlstream.runtime.operator import Operator, OperatorContext
from sqlstream.runtime.event_time import MAX_WM, MIN_WM, event_times
from sqlstream.plan.physical import common_keys
from sqlstream.core.types import FlinkType


class WindowAggregateOperator(Operator):
    name = "WindowAggregate"
    drops_late_rows = True

    def __init__(self, window: WindowSpec, keys: list[int], aggs: list[AggCall],
                 grouping_sets: list[list[int]] | None, out_names: list[str], out_types: list[FlinkType]):
        self.window, self.keys, self.aggs, self.sets = window, keys, aggs, grouping_sets
        self.out_names, self.out_types = out_names, out_types
        self.buffer = None  # rows (or partial aggregates) of unfired windows, declared in open
        self.timers = None  # processing-time windows fire by timers
        self.late_dropped = 0
        self.last_wm = MIN_WM
        self.seq = 0  # arrival number of the next row: fired groups are emitted in first-arrival order
        # aggregates whose partial states merge (their accumulators say so) may keep per-batch partial
        # aggregates instead of rows (merged when a window fires); the first batch decides whether that pays
        # off (None: not decided yet)
        self.partial = None if partials_merge(aggs) else False
        self._exact_merge: bool | None = None

    def open(self, ctx: OperatorContext) -> None:
        # the counters first: a restore takes them before the rows, whose parts it reconciles with their mode
        ctx.counters("progress", self, ("seq", "last_wm", "late_dropped", "partial_mode"), sums=("late_dropped",))
        self.buffer = ctx.window_buffer("window_rows", [f"c{i}" for i in common_keys(self.keys, self.sets)],
                                        on_restore=self._restored)
        self.timers = ctx.timers if self.window.proctime else None

    def _restored(self) -> None:
        """Subtasks that kept rows and subtasks that kept partial aggregates may be restored into one: in the
        partial mode the restored rows are aggregated into partials, as a batch's rows are."""
        if not self.partial:
            return
        for end, tables in self.buffer.by_end.items():
            self.buffer.by_end[end] = [t if self._is_partial(t) else self._partials(t) for t in tables]

    @staticmethod
    def _is_partial(table: pa.Table) -> bool:
        """Whether buffered rows are partial aggregates (without aggregates or grouping sets the two look alike,
        and aggregating partials again changes nothing)."""
        return "$gs" in table.column_names or any(c.startswith("$a") for c in table.column_names)

    def _partials(self, table: pa.Table) -> pa.Table:
        """A table of rows as per-group partial aggregates (`$rn`: the group's first arrival)."""
        key_names = [f"c{i}" for i in self.keys]
        expanded = expand_grouping_sets(table, key_names, self.sets) if self.sets is not None else table
        partial = aggregate_rows(expanded, self._group_cols(), self._needed(), self.aggs)
        return partial.rename_columns([c if c != "$rn_min" else "$rn" for c in partial.column_names])

    def _needed(self) -> list[int]:
        return needed_columns(self.keys, self.aggs)

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        cols = data_columns(batch)
        n = batch.num_rows
        ts, wm = event_times(batch, self.window.time_index, self.window.proctime)
        if self.partial and self._by_slice(cols, ts, wm):
            return []
        rows, start, end = windows.assign(self.window, ts)
        if self.timers is not None:
            for e in np.unique(end).tolist():
                self.timers.register_processing_time_timer(e - 1)
        keep = end - 1 > wm[rows]
        kept_rows = rows[keep]
        if len(kept_rows) < len(rows):
            self.late_dropped += n - len(np.unique(kept_rows))
            if self.late_rows is not None:
                late = np.ones(n, dtype=bool)
                late[kept_rows] = False
                self.late_rows.add(cols, late, ts, wm)
        if len(kept_rows) == 0:
            return []
        if len(kept_rows) == n and self.window.kind == "TUMBLE":
            data = {f"c{i}": cols[i] for i in self._needed()}
        else:
            take = pa.array(kept_rows)
            data = {f"c{i}": cols[i].take(take) for i in self._needed()}
        data["$ws"] = pa.array(start[keep])
        data["$we"] = pa.array(end[keep])
        data["$rn"] = pa.array(self.seq + kept_rows)
        self.seq += n
        table = pa.table(data)
        if self.partial is not False:
            partial = self._partials(table)
            if self.partial is None:
                self.partial = partial.num_rows <= table.num_rows * (len(self.sets) if self.sets else 1) // 2
            if self.partial:
                self.buffer.add(partial, partial.column("$we").to_numpy())
                return []
        self.buffer.add(table, end[keep])
        return []

    def _by_slice(self, cols: list[pa.Array], ts: np.ndarray, wm: np.ndarray) -> bool:
        """HOP partials of a batch none of whose rows is late, aggregated once per slide (the slice a row's
        windows share) rather than once per window, then given to each window the slice belongs to, as Flink's
        sliced hopping windows do: a row is in size / slide windows, aggregated once. Only where merging slices
        is exact (no floating sums) and the windows are whole slices; False when the batch takes the general
        path."""
        w = self.window
        if w.kind != "HOP" or w.proctime or w.size % w.slide or self.sets is not None \
                or not self._exact(cols):
            return False
        slice_end = ts - np.mod(ts - w.offset, w.slide) + w.slide  # also the end of the row's first window
        if not (slice_end - 1 > wm).all():
            return False
        n = len(ts)
        data = {f"c{i}": cols[i] for i in self._needed()}
        data["$we"] = pa.array(slice_end)
        data["$ws"] = pa.array(slice_end - w.slide)
        data["$rn"] = pa.array(self.seq + np.arange(n))
        self.seq += n
        slices = self._partials(pa.table(data))
        k = w.size // w.slide
        ends = slices.column("$we").to_numpy()
        we = (ends[:, None] + w.slide * np.arange(k)[None, :]).ravel()
        parts = slices.take(pa.array(np.repeat(np.arange(slices.num_rows), k)))
        parts = parts.set_column(parts.schema.get_field_index("$we"), "$we", pa.array(we))
        parts = parts.set_column(parts.schema.get_field_index("$ws"), "$ws", pa.array(we - w.size))
        if len(np.unique(ends)) > 1:  # a window's slices of this batch merged: one partial per window and key
            parts = merge_partials(parts, self._group_cols())
            parts = parts.rename_columns([c if c != "$rn_min" else "$rn" for c in parts.column_names])
            parts = parts.select(slices.column_names)
            we = parts.column("$we").to_numpy()
        self.buffer.add(parts, we)
        return True

    def _exact(self, cols: list[pa.Array]) -> bool:
        """Whether partial states merge to exactly what one aggregation of the rows gives, in any grouping:
        counts, extremes, and sums of integers and decimals."""
        if self._exact_merge is None:
            def exact(a: AggCall) -> bool:
                if a.fn in ("COUNT", "MIN", "MAX"):
                    return True
                t = cols[a.args[0]].type if a.args else None
                return a.fn in ("SUM", "SUM0", "AVG") and t is not None and (
                    pa.types.is_integer(t) or pa.types.is_decimal(t))
            self._exact_merge = all(exact(a) for a in self.aggs)
        return self._exact_merge

    @property
    def partial_mode(self) -> int:
        return {None: -1, False: 0, True: 1}[self.partial]

    @partial_mode.setter
    def partial_mode(self, v: int) -> None:
        self.partial = {-1: None, 0: False, 1: True}[int(v)]

    def _group_cols(self) -> list[str]:
        return ["$we", "$ws"] + [f"c{i}" for i in self.keys] + (["$gs"] if self.sets is not None else [])

    def on_timer(self, timestamp: int, domain: str) -> list[pa.RecordBatch]:
        """Processing-time windows close when the wall clock passes their end (a timer per window end)."""
        return self._fire(timestamp)

    def close(self) -> list[pa.RecordBatch]:
        return self._fire(MAX_WM) if self.window.proctime else []

    def on_watermark(self, wm: int) -> list[pa.RecordBatch]:
        if self.window.proctime:
            return []
        return self._fire(wm)

    def _fire(self, wm: int) -> list[pa.RecordBatch]:
        prev, self.last_wm = self.last_wm, wm
        ends, tables = self.buffer.pop_until(wm)
        if not tables:
            return []
        table = pa.concat_tables(tables)
        return [self._aggregate(table, prev)]

    def _aggregate(self, table: pa.Table, prev_wm: int) -> pa.RecordBatch:
        key_names = [f"c{i}" for i in self.keys]
        group_cols = self._group_cols()
        if self.partial:
            result = merge_partials(table, group_cols)
        else:
            if self.sets is not None:
                table = expand_grouping_sets(table, key_names, self.sets)
            result = aggregate_rows(table, group_cols, self._needed(), self.aggs)
        result = result.sort_by([("$we", "ascending"), ("$rn_min", "ascending")])
        we = result.column("$we").combine_chunks()
        ws = result.column("$ws").combine_chunks()
        arrays = [result.column(k).combine_chunks() for k in key_names]
        arrays += [pc.cast(ws, pa.timestamp("ms")), pc.cast(we, pa.timestamp("ms")),
                   pc.cast(pc.subtract(we, 1), pa.timestamp("ms"))]
        if self.sets is not None:
            arrays.append(result.column("$gs").combine_chunks())
        arrays += finalize(result, self.aggs)
        arrays = [a.cast(t.to_arrow()) if a.type != t.to_arrow() else a for a, t in zip(arrays, self.out_types)]
        n = result.num_rows
        return make_batch(INSERT, arrays, self.out_names, wm=np.full(n, prev_wm, dtype=np.int64))

    def metrics(self) -> dict:
        return {"late_records_dropped": self.late_dropped, "state_bytes": self.buffer.size_bytes()}
