"""Window aggregation (TUMBLE, HOP, CUMULATE): rows are buffered per window end and aggregated when it fires."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.plan.logical import AggCall, WindowSpec
from sqlstream.runtime import windows
from sqlstream.runtime.aggregates import (aggregate_rows, aggregation_specs, expand_grouping_sets, finalize,
                                          merge_partials, needed_columns, partials_merge, prepare_inputs)
from sqlstream.core.changelog import INSERT, WM, data_columns, make_batch
from sqlstream.runtime.operator import Operator, OperatorContext
from sqlstream.runtime.event_time import MAX_WM, MIN_WM, event_times
from sqlstream.plan.physical import common_keys
from sqlstream.core.types import FlinkType


def splits_in_two(window: WindowSpec, keys: list[int], aggs: list[AggCall], sets: list[list[int]] | None,
                  keyed: bool = True) -> bool:
    """Whether a window aggregation may run as a local phase before its exchange and a global one after it: a
    keyed TUMBLE (`keyed` False: or one without keys, whose global phase runs in the job's process), or HOP
    whose size is whole slides, over event time without grouping sets whose partial states
    merge to exactly what one aggregation gives in any grouping (counts, extremes, sums and averages of integers
    and decimals)."""
    def exact(a: AggCall) -> bool:
        return not a.distinct and (a.fn in ("COUNT", "MIN", "MAX") or a.fn in ("SUM", "SUM0", "AVG") and (
            a.type.name in ("TINYINT", "SMALLINT", "INT", "INTEGER", "BIGINT", "DECIMAL")))
    whole = window.kind == "TUMBLE" or window.kind == "HOP" and window.slide > 0 and window.size % window.slide == 0
    return (whole and not window.proctime and sets is None and (bool(keys) or not keyed)
            and partials_merge(aggs) and all(exact(a) for a in aggs))


SCALAR_AGGREGATES = {"count", "sum", "min", "max"}  # the same results ungrouped as per group


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
        self.global_phase = False  # its input is the local phase's partial aggregates (`local_partials`)
        self.merged_slices: set[int] = set()  # the slices whose one table is merged, one group per key and window

    def open(self, ctx: OperatorContext) -> None:
        # the counters first: a restore takes them before the rows, whose parts it reconciles with their mode
        ctx.counters("progress", self, ("seq", "last_wm", "late_dropped", "partial_mode"), sums=("late_dropped",))
        keys = [f"c{i}" for i in common_keys(self.keys, self.sets)]
        self.buffer = ctx.window_buffer("window_rows", keys, on_restore=self._restored)
        # a HOP's global phase keeps its groups once per slice (`$we`: the slice's end), each with the end of the
        # first window it counts in (`$first`), and gives them to the slice's windows when those fire
        self.slices = ctx.window_buffer("slice_rows", keys, on_restore=self.merged_slices.clear)
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

    def splits_in_two(self, keyed: bool = True) -> bool:
        """Whether the aggregation may run in two phases, as Flink's LocalWindowAggregate before the exchange and
        GlobalWindowAggregate after it (`splits_in_two`; not with a late-rows output, which takes the rows)."""
        return self.late_rows is None and splits_in_two(self.window, self.keys, self.aggs, self.sets, keyed)

    def become_global(self) -> None:
        """Take the local phase's partial aggregates as input from now on (kept as partials, whatever a
        restored checkpoint's mode)."""
        self.global_phase = True
        self.partial = True

    def local_partials(self, batches: list[pa.RecordBatch]) -> pa.RecordBatch | None:
        """The local phase over one piece of a divided source (one of parallelism 1's batches): per key, window
        and lateness, the partial aggregates of its rows, so only those cross the exchange. Each row carries in
        `_wm` its watermark candidate within the piece, non-decreasing; the watermark in force before it is the
        larger of that and what the pieces before gave (known only after the exchange). A row whose candidate
        already closes its window is late whatever came before; the others of a (key, window) are late together,
        exactly when the watermark before the piece closes it. So each group carries the candidate of its first
        row as `_wm`, and the global phase decides the group as parallelism 1 decides each of its rows. Columns:
        `_op`, the keys, `$ws`, `$we`, `$rn` (the group's first row within the piece), the partial states, `$n`
        (the rows) and `_wm`.

        Of a HOP, the groups are per slide (`$ws`, `$we`: the slice a row's windows share, as Flink's sliced
        windows) and per how many of the row's windows its candidate already closes (the oldest first), so the
        global phase gives each group to the windows of its slice and decides each window as for a TUMBLE's."""
        if not batches:
            return None
        batch = batches[0] if len(batches) == 1 else pa.concat_batches(batches)
        cols = data_columns(batch)
        n = batch.num_rows
        ts, wm = event_times(batch, self.window.time_index)
        w = self.window
        step = w.slide if w.kind == "HOP" else w.size
        end = ts - np.mod(ts - w.align, step) + step
        needed = self._needed()
        names = {f"c{i}": cols[i] for i in needed}
        inputs = prepare_inputs(names, self.aggs, [f"c{i}" for i in range(max(needed, default=-1) + 1)], n)
        keys = [f"c{i}" for i in self.keys]
        late = end - 1 <= wm
        if w.kind == "HOP" and late.any():  # how many of the row's windows (ends end, end + slide, ..) are closed
            closed = np.zeros(n, dtype=np.int64)
            closed[late] = np.minimum((wm[late] - end[late] + 1) // w.slide + 1, w.size // w.slide)
            late = closed
        groups = keys + ["$we"] + (["$late"] if late.any() else [])  # the window's end gives its start
        work = pa.table({**{k: names[k] for k in keys}, "$we": end, "$late": late,
                         "$rn": np.arange(n, dtype=np.int64), **inputs})
        specs = aggregation_specs(self.aggs) + [("$rn", "min"), ("$rn", "count")]
        if n and groups == ["$we"] and end[0] == end[-1] and (end == end[0]).all() \
                and all(spec[1] in SCALAR_AGGREGATES for spec in specs):
            # one group (a window without keys, its rows in one window, none late): a scalar aggregation, about
            # 6x cheaper than hashing every row to the one group (nexmark q7's window maximum at parallelism 2)
            partial = work.group_by([], use_threads=False).aggregate(specs).append_column("$we", pa.array(end[:1]))
        else:
            partial = work.group_by(groups, use_threads=False).aggregate(specs)
        states = [c for c in partial.column_names if c.startswith("$a")]
        first = partial.column("$rn_min").combine_chunks()
        we = partial.column("$we").combine_chunks()
        columns = [partial.column(c).combine_chunks() for c in keys]
        columns += [pc.subtract(we, step), we, first]
        columns += [partial.column(c).combine_chunks() for c in states]
        columns.append(pc.cast(partial.column("$rn_count").combine_chunks(), pa.int64()))
        return make_batch(INSERT, columns, keys + ["$ws", "$we", "$rn"] + states + ["$n"],
                          wm=wm[first.to_numpy()])

    def _global_batch(self, batch: pa.RecordBatch) -> list[pa.RecordBatch]:
        """The global phase: the local phase's groups, each with the watermark in force before its first row
        (`_wm`), late or kept as parallelism 1 decides their rows; kept groups are buffered as the partials of a
        batch are."""
        names = batch.schema.names
        we = batch.column(names.index("$we")).to_numpy()
        rn = batch.column(names.index("$rn")).to_numpy()
        wm = batch.column(batch.num_columns - 1).to_numpy()
        seq, self.seq = self.seq, self.seq + int(rn.max()) + 1
        if self.window.kind == "HOP":
            return self._global_slices(batch, we, wm, seq)
        keep = we - 1 > wm
        if not keep.all():
            self.late_dropped += int(batch.column(names.index("$n")).to_numpy()[~keep].sum())
            if not keep.any():
                return []
            batch = batch.filter(pa.array(keep))
        return self._buffer_groups(pa.Table.from_batches([batch]), seq)

    def _global_slices(self, batch: pa.RecordBatch, ends: np.ndarray, wm: np.ndarray, seq: int) -> list:
        """A HOP's global phase: each slice's group goes to each window holding the slice (ends `$we`,
        `$we` + slide, ..) that its watermark has not closed; a group no window keeps is late rows."""
        w = self.window
        k = w.size // w.slide
        group = np.repeat(np.arange(batch.num_rows), k)
        we = ends[group] + np.tile(np.arange(k, dtype=np.int64) * w.slide, batch.num_rows)
        keep = we - 1 > wm[group]
        dropped = ~keep.reshape(-1, k).any(axis=1)
        if dropped.any():
            self.late_dropped += int(batch.column(batch.schema.get_field_index("$n")).to_numpy()[dropped].sum())
        if not keep.any():
            return []
        closed = k - keep.reshape(-1, k).sum(axis=1)  # the group's windows its watermark closed, oldest first
        table = pa.Table.from_batches([batch])
        if dropped.any():
            table = table.filter(pa.array(~dropped))
        first = (ends + closed * w.slide)[~dropped]
        table = table.drop_columns(["$ws"]).append_column("$first", pa.array(first))
        return self._buffer_groups(table, seq, self.slices, ["$we", "$first"])

    def _buffer_groups(self, table: pa.Table, seq: int, buffer=None, window: list[str] | None = None) -> list:
        """Keep the global phase's groups (their `$rn` after the rows of the pieces before) until their window
        fires (of a HOP, in `slices`, per slice)."""
        table = table.drop_columns(["_op", "$n", WM])
        table = table.set_column(table.schema.get_field_index("$rn"), "$rn", pc.add(table.column("$rn"), seq))
        order = [c for c in table.column_names if c.startswith("$a")] + ["$rn"] + self._group_cols(window)
        (buffer or self.buffer).add(table.select(order), table.column("$we").to_numpy())
        return []

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        if self.global_phase:
            return self._global_batch(batch)
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
        slice_end = ts - np.mod(ts - w.align, w.slide) + w.slide  # also the end of the row's first window
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
        self.partial = True if self.global_phase else {-1: None, 0: False, 1: True}[int(v)]

    def _group_cols(self, window: list[str] | None = None) -> list[str]:
        return (window or ["$we", "$ws"]) + [f"c{i}" for i in self.keys] + (["$gs"] if self.sets is not None else [])

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
        merged: list[pa.Table] = []
        if self.slices.by_end:
            sliced, merged = self._sliced_windows(prev, wm, set(ends))
            tables += [t.select(tables[0].column_names) for t in sliced] if tables else sliced
        if not tables and not merged:
            return []
        one_window = len(ends) == 1 and bool(self.keys)
        return [self._aggregate(pa.concat_tables(tables) if tables else None, prev, merged, one_window)]

    def _sliced_windows(self, prev: int, wm: int, buffered: set[int]) -> tuple[list[pa.Table], list[pa.Table]]:
        """The partials of the HOP windows that watermark `wm` closes (and `prev` had not) from the slices they
        hold, laid out as the windows' own partials: those of windows `buffered` also holds partials of, to be
        merged with those, and the others' merged (one per key, `$rn` named `$rn_min` as merged). Each slice's
        groups are merged once, the first time one of its windows fires, and a slice is dropped with its last
        window. A window's and a slice's groups are merged on the keys alone: their bounds are the same for all."""
        w = self.window
        k = w.size // w.slide
        held = sorted(self.slices.by_end)
        fired = sorted({e + j * w.slide for e in held for j in range(k) if prev < e + j * w.slide - 1 <= wm})
        to_merge, merged = [], []
        for end in fired:
            parts = [p for p in (self._slice_in_window(e, end) for e in held if end - w.size < e <= end)
                     if p[0].num_rows]
            if end in buffered:
                to_merge += [p[0] for p in parts]
            elif len(parts) == 1 and parts[0][1]:
                table = parts[0][0]
                merged.append(table.rename_columns([c if c != "$rn" else "$rn_min" for c in table.column_names]))
            elif parts:
                table = self._merged_on_keys(pa.concat_tables([p[0] for p in parts]), {"$we": end, "$ws": end - w.size})
                merged.append(table.rename_columns([c if c != "$rn" else "$rn_min" for c in table.column_names]))
        for e in held:
            if e + (k - 1) * w.slide - 1 <= wm:
                self.slices.discard(e)
                self.merged_slices.discard(e)
        return to_merge, merged

    def _merged_on_keys(self, table: pa.Table, same: dict[str, int], by: tuple[str, ...] = ()) -> pa.Table:
        """Partials merged per key (and the columns `by`), the columns `same` (equal in every row) set again,
        in the table's layout."""
        merged = merged_with_constants(table, same, list(by) + [f"c{i}" for i in self.keys])
        merged = merged.rename_columns([c if c != "$rn_min" else "$rn" for c in merged.column_names])
        return merged.select(table.column_names)

    def _slice_in_window(self, end: int, window_end: int) -> tuple[pa.Table, bool]:
        """Slice `end`'s groups that count in the window ending `window_end`, as that window's partials, and
        whether they are one per key (all counting from the same window on)."""
        tables = self.slices.by_end[end]
        if len(tables) > 1 or end not in self.merged_slices:
            table = pa.concat_tables(tables)
            first = table.column("$first").to_numpy()
            if first.min() == first.max():
                table = self._merged_on_keys(table, {"$we": end, "$first": int(first[0])})
            else:
                table = self._merged_on_keys(table, {"$we": end}, ("$first",))
            self.slices.by_end[end] = [table]
            self.merged_slices.add(end)
        table = self.slices.by_end[end][0]
        first = table.column("$first").to_numpy()
        counts = first <= window_end
        if not counts.all():
            table, first = table.filter(pa.array(counts)), first[counts]
        n = table.num_rows
        table = table.set_column(table.schema.get_field_index("$we"), "$we", pa.array(np.full(n, window_end)))
        table = table.set_column(table.schema.get_field_index("$first"), "$ws",
                                 pa.array(np.full(n, window_end - self.window.size)))
        return table, n == 0 or first.min() == first.max()

    def _aggregate(self, table: pa.Table | None, prev_wm: int, merged: list[pa.Table] = (),
                   one_window: bool = False) -> pa.RecordBatch:
        """The fired windows' results from their rows or partials (`table`, of one window: `one_window`) and from
        windows' partials that are one per key already (`merged`)."""
        key_names = [f"c{i}" for i in self.keys]
        group_cols = self._group_cols()
        if table is None:
            result = None
        elif self.partial and one_window:
            result = self._merge_window(table, group_cols)
        elif self.partial:
            result = merge_partials(table, group_cols)
        else:
            if self.sets is not None:
                table = expand_grouping_sets(table, key_names, self.sets)
            result = aggregate_rows(table, group_cols, self._needed(), self.aggs)
        if merged and result is None:
            # one window per table, oldest first: each ordered on its own (a sort on one key; on two, over all
            # the windows a HOP fires at once, it took ~1.6x the CPU)
            names = merged[0].column_names
            result = pa.concat_tables([t.select(names).sort_by([("$rn_min", "ascending")]) for t in merged])
        elif merged:
            result = pa.concat_tables([result] + [t.select(result.column_names) for t in merged])
            result = result.sort_by([("$we", "ascending"), ("$rn_min", "ascending")])
        elif not (self.partial and one_window):  # (_merge_window orders its window's groups itself)
            result = result.sort_by([("$we", "ascending"), ("$rn_min", "ascending")])
        we = result.column("$we").combine_chunks()
        ws = result.column("$ws").combine_chunks()
        arrays = [result.column(k).combine_chunks() for k in key_names]
        arrays += windows.window_properties(self.window, ws.to_numpy(), we.to_numpy())
        if self.sets is not None:
            arrays.append(result.column("$gs").combine_chunks())
        arrays += finalize(result, self.aggs)
        arrays = [a.cast(t.to_arrow()) if a.type != t.to_arrow() else a for a, t in zip(arrays, self.out_types)]
        n = result.num_rows
        return make_batch(INSERT, arrays, self.out_names, wm=np.full(n, prev_wm, dtype=np.int64))

    @staticmethod
    def _merge_window(table: pa.Table, group_cols: list[str]) -> pa.Table:
        """One window's partials merged per key, ordered by first arrival: its end and start are the same on
        every row, so they are left out of the hash grouping (a window holding a whole run's keys, as a 10-second
        TUMBLE over nexmark's generator, merges 1.2M partial rows per subtask, ~40% less CPU than grouping on
        the three columns) and put back as constants."""
        bounds = {c: table.column(c)[0].as_py() for c in ("$we", "$ws")}
        keys = [c for c in group_cols if c not in bounds]
        return merged_with_constants(table, bounds, keys).sort_by([("$rn_min", "ascending")])

    def metrics(self) -> dict:
        return {"late_records_dropped": self.late_dropped,
                "state_bytes": self.buffer.size_bytes() + self.slices.size_bytes()}


def merged_with_constants(table: pa.Table, same: dict[str, int], keys: list[str]) -> pa.Table:
    """Partials merged per `keys`, the columns `same` (one value on every row: a window's or a slice's bounds)
    left out of the hash grouping and appended again with that value."""
    merged = merge_partials(table.drop_columns(list(same)), keys)
    for name, value in same.items():
        merged = merged.append_column(name, pa.array(np.full(merged.num_rows, value, dtype=np.int64),
                                                     table.schema.field(name).type))
    return merged
