"""Window aggregation (TUMBLE, HOP, CUMULATE): rows are buffered per window end and aggregated when it fires."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.plan.logical import AggCall, WindowSpec
from sqlstream.runtime import windows
from sqlstream.runtime.aggregates import MERGEABLE, aggregate_rows, finalize, merge_partials
from sqlstream.core.changelog import INSERT, data_columns, make_batch, row_watermarks
from sqlstream.runtime.operator import Operator
from sqlstream.runtime.state import StateBackend
from sqlstream.core.errors import ExecutionError
from sqlstream.core.types import FlinkType

MIN_WM = -(2 ** 63)
MAX_WM = 2 ** 63 - 1


def rowtime_ms(col: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(epoch milliseconds, valid mask) of a TIMESTAMP column."""
    if pa.types.is_timestamp(col.type):
        col = pc.cast(col, pa.timestamp("ms", tz=col.type.tz), safe=False)
    ints = pc.cast(col, pa.int64())
    valid = np.asarray(pc.is_valid(ints).to_numpy(zero_copy_only=False))
    return np.asarray(pc.fill_null(ints, 0).to_numpy(zero_copy_only=False)), valid


def needed_columns(keys: list[int], aggs: list[AggCall]) -> list[int]:
    """Input columns a window aggregation keeps: the keys and every aggregate's argument and filter."""
    cols = list(keys)
    for a in aggs:
        cols += list(a.args) + ([a.filter] if a.filter is not None else [])
    return sorted(set(cols))


def event_times(batch: pa.RecordBatch, time_index: int, proctime: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(rowtime ms, watermark before each row) of a batch; a NULL rowtime is an error, as in Flink."""
    ts, valid = rowtime_ms(data_columns(batch)[time_index])
    if not valid.all():
        raise ExecutionError("RowTime field should not be null, please convert it to a non-null long value.")
    wm = row_watermarks(batch)
    if wm is None or proctime:  # processing time: no row is late
        wm = np.full(batch.num_rows, MIN_WM, dtype=np.int64)
    return ts, wm


def expand_grouping_sets(table: pa.Table, key_names: list[str], sets: list[list[int]]) -> pa.Table:
    """Flink's Expand: one copy of the rows per grouping set, absent keys NULL, plus `$gs` = set index."""
    parts = []
    for j, members in enumerate(sets):
        t = table
        for i, k in enumerate(key_names):
            if i not in members:
                t = t.set_column(t.schema.get_field_index(k), k, pa.nulls(t.num_rows, t.schema.field(k).type))
        parts.append(t.append_column("$gs", pa.array(np.full(t.num_rows, j, dtype=np.int32))))
    return pa.concat_tables(parts)


class Counters:
    """A few integer fields of an operator, snapshotted as a one-row table."""

    def __init__(self, owner, names: tuple[str, ...]):
        self.owner, self.names = owner, names

    def snapshot(self) -> pa.Table:
        return pa.table({n: pa.array([int(getattr(self.owner, n))], pa.int64()) for n in self.names})

    def restore(self, table: pa.Table) -> None:
        for n in self.names:
            setattr(self.owner, n, int(table.column(n)[0].as_py()))

    def size_bytes(self) -> int:
        return 8 * len(self.names)


class WindowBuffer:
    """Rows of unfired windows, kept per window end (ms) as Arrow tables."""

    def __init__(self) -> None:
        self.by_end: dict[int, list[pa.Table]] = {}

    def add(self, table: pa.Table, ends: np.ndarray) -> None:
        if table.num_rows == 0:
            return
        order = np.argsort(ends, kind="stable")
        sorted_ends = ends[order]
        table = table.take(pa.array(order))
        bounds = np.flatnonzero(np.r_[True, sorted_ends[1:] != sorted_ends[:-1], True])
        for a, b in zip(bounds[:-1], bounds[1:]):
            self.by_end.setdefault(int(sorted_ends[a]), []).append(table.slice(a, b - a))

    def add_open(self, table: pa.Table, ends: np.ndarray, wm: int) -> int:
        """Keeps the rows whose window is still open at watermark wm, their window end in `$we`; returns how
        many rows were late (their window had closed)."""
        open_ = ends - 1 > wm
        late = len(ends) - int(open_.sum())
        if late:
            table, ends = table.filter(pa.array(open_)), ends[open_]
        self.add(table.append_column("$we", pa.array(ends)), ends)
        return late

    def closed(self, wm: int) -> list[int]:
        """Ends of the held windows that watermark wm closes (end - 1 <= wm), oldest first."""
        return sorted(e for e in self.by_end if e - 1 <= wm)

    def pop_window(self, end: int) -> pa.Table | None:
        tables = self.by_end.pop(end, None)
        return pa.concat_tables(tables).combine_chunks() if tables else None

    def pop_until(self, wm: int) -> tuple[list[int], list[pa.Table]]:
        ends = self.closed(wm)
        return ends, [t for e in ends for t in self.by_end.pop(e)]

    def snapshot(self) -> pa.Table:
        tables = [t for ts in self.by_end.values() for t in ts]
        return pa.concat_tables(tables) if tables else pa.table({"$we": pa.array([], pa.int64())})

    def restore(self, table: pa.Table) -> None:
        self.by_end.clear()
        if table.num_rows:
            self.add(table.replace_schema_metadata(None), table.column("$we").to_numpy())

    def size_bytes(self) -> int:
        return sum(t.nbytes for ts in self.by_end.values() for t in ts)


class WindowAggregateOperator(Operator):
    name = "WindowAggregate"
    drops_late_rows = True

    def __init__(self, window: WindowSpec, keys: list[int], aggs: list[AggCall],
                 grouping_sets: list[list[int]] | None, out_names: list[str], out_types: list[FlinkType]):
        self.window, self.keys, self.aggs, self.sets = window, keys, aggs, grouping_sets
        self.out_names, self.out_types = out_names, out_types
        self.buffer = WindowBuffer()
        self.late_dropped = 0
        self.last_wm = MIN_WM
        self.seq = 0  # arrival number of the next row: fired groups are emitted in first-arrival order
        # COUNT/SUM/AVG/MIN/MAX may keep per-batch partial aggregates instead of rows (merged when a window
        # fires); the first batch decides whether that pays off (None: not decided yet)
        self.partial = None if all(a.fn in MERGEABLE and not a.distinct for a in aggs) else False

    def open(self, state: StateBackend) -> None:
        state.register("window_rows", self.buffer)
        state.register("progress", Counters(self, ("seq", "last_wm", "late_dropped", "partial_mode")))

    def _needed(self) -> list[int]:
        return needed_columns(self.keys, self.aggs)

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        cols = data_columns(batch)
        n = batch.num_rows
        ts, wm = event_times(batch, self.window.time_index, self.window.proctime)
        rows, start, end = windows.assign(self.window, ts)
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
        take = pa.array(kept_rows)
        data = {f"c{i}": cols[i].take(take) for i in self._needed()}
        data["$ws"] = pa.array(start[keep])
        data["$we"] = pa.array(end[keep])
        data["$rn"] = pa.array(self.seq + kept_rows)
        self.seq += n
        table = pa.table(data)
        if self.partial is not False:
            key_names = [f"c{i}" for i in self.keys]
            expanded = expand_grouping_sets(table, key_names, self.sets) if self.sets is not None else table
            partial = aggregate_rows(expanded, self._group_cols(), self._needed(), self.aggs)
            if self.partial is None:
                self.partial = partial.num_rows <= expanded.num_rows // 2
            if self.partial:
                partial = partial.rename_columns([c if c != "$rn_min" else "$rn" for c in partial.column_names])
                self.buffer.add(partial, partial.column("$we").to_numpy())
                return []
        self.buffer.add(table, end[keep])
        return []

    @property
    def partial_mode(self) -> int:
        return {None: -1, False: 0, True: 1}[self.partial]

    @partial_mode.setter
    def partial_mode(self, v: int) -> None:
        self.partial = {-1: None, 0: False, 1: True}[int(v)]

    def _group_cols(self) -> list[str]:
        return ["$we", "$ws"] + [f"c{i}" for i in self.keys] + (["$gs"] if self.sets is not None else [])

    def on_processing_time(self, now_ms: int) -> list[pa.RecordBatch]:
        """Processing-time windows close when the wall clock passes their end."""
        return self._fire(now_ms) if self.window.proctime else []

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
