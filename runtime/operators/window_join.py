"""Window join: two windowed inputs joined on equal window_start and window_end (plus keys), as Flink's window
join (INNER, LEFT, RIGHT, FULL; SEMI and ANTI from [NOT] EXISTS). Rows wait in state per window end; when the watermark closes a window (window_end - 1 <= watermark) its
rows of both sides are joined column-wise, outer joins pad the rows that found no match, the result is
emitted as inserts and the window's rows are dropped. A row whose window has already closed is late and
dropped. The state therefore holds only open windows.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.plan.expr import Expr, refs
from sqlstream.core.changelog import INSERT, data_columns, make_batch, row_watermarks
from sqlstream.runtime.expressions import evaluate
from sqlstream.runtime.keys import KeyIndex, equal_pairs, non_null_keys, one_key
from sqlstream.runtime.operator import Operator, OperatorContext
from sqlstream.runtime.event_time import MIN_WM
from sqlstream.runtime.event_time import rowtime_ms


class WindowJoinOperator(Operator):
    name = "WindowJoin"
    drops_late_rows = True

    def __init__(self, kind: str, left_keys: list[int], right_keys: list[int], condition: Expr | None,
                 left_end: int, right_end: int, left_types: list[pa.DataType], right_types: list[pa.DataType],
                 names: list[str], zone_offset: int = 0):
        self.kind = kind
        self.zone_offset = zone_offset  # window_end holds the session zone's wall clock, this far ahead of UTC (TIMESTAMP_LTZ windows)
        self.keys = (left_keys, right_keys)
        self.ends = (left_end, right_end)
        self.condition = condition
        self.types = (left_types, right_types)
        self.names = names
        self.last_wm = MIN_WM
        self.late_dropped = 0
        self.input_watermarks = [MIN_WM, MIN_WM]

    def open(self, ctx: OperatorContext) -> None:
        # each side's rows keyed by its join keys (those its input is hashed on), so they split by key group
        self.buffers = tuple(ctx.window_buffer(name, [f"c{i}" for i in keys])
                             for name, keys in zip(("left_rows", "right_rows"), self.keys))
        ctx.counters("progress", self, ("last_wm", "late_dropped"), sums=("late_dropped",))
        self.input_watermarks = ctx.input_watermarks  # each input's watermark, kept by the runtime

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        cols = data_columns(batch)
        ends, _ = rowtime_ms(cols[self.ends[input]])
        ends = ends - self.zone_offset
        table = pa.table({f"c{i}": c for i, c in enumerate(cols)})
        # the watermark in force at each row: the smaller of its input's watermark before it (a batch's rows
        # carry it) and the other input's, as row by row
        row_wm = row_watermarks(batch)
        now = np.full(len(ends), self.last_wm, np.int64) if row_wm is None else \
            np.maximum(self.last_wm, np.minimum(row_wm, self.input_watermarks[1 - input]))
        late = self.buffers[input].add_open(table, ends, now)
        if late:
            self.late_dropped += late
            if self.late_rows is not None:  # the row's time is its window's time: the operator sees no other
                self.late_rows.add(cols, ends - 1 <= now, ends - 1, now, input)
        return []

    def on_watermark(self, wm: int) -> list[pa.RecordBatch]:
        """Joins each closed window on its own, oldest first (so output order never depends on how many
        windows one watermark closes)."""
        self.last_wm = max(self.last_wm, wm)
        out = []
        for end in sorted(set(self.buffers[0].closed(wm)) | set(self.buffers[1].closed(wm))):
            out += self._join(self._side(self.buffers[0].pop_window(end), 0),
                              self._side(self.buffers[1].pop_window(end), 1))
        return out

    def _side(self, table: pa.Table | None, side: int) -> pa.Table:
        """A window's rows of one side (its data columns), empty when the side had none."""
        if table is None:
            return pa.table({f"c{i}": pa.array([], t) for i, t in enumerate(self.types[side])})
        return table.select([f"c{i}" for i in range(len(self.types[side]))])

    def _join(self, left: pa.Table, right: pa.Table) -> list[pa.RecordBatch]:
        """Pairs with equal keys (NULL keys match nothing), then the condition, then the outer padding; pairs in
        left-row order, then the right rows in arrival order."""
        lk = [left.column(i).combine_chunks() for i in self.keys[0]]
        rk = [right.column(i).combine_chunks() for i in self.keys[1]]
        same = one_key(lk, left.num_rows), one_key(rk, right.num_rows)
        if same[0] is not None and same[0] == same[1]:  # one key on both sides (a window's bounds): every pair
            li, ri = _all_pairs(left.num_rows, right.num_rows)
        else:
            index = KeyIndex()
            lg = index.lookup(lk, left.num_rows)[0] if left.num_rows else np.zeros(0, np.int64)
            rg = index.lookup(rk, right.num_rows)[0] if right.num_rows else np.zeros(0, np.int64)
            order = np.argsort(rg, kind="stable")
            order = order[non_null_keys(rk, right.num_rows)[order]]
            probing = np.flatnonzero(non_null_keys(lk, left.num_rows))
            li, at = equal_pairs(rg[order], lg[probing])
            li, ri = probing[li], order[at]
        if self.condition is not None and len(li):  # on the columns it reads, before the pairs are made
            read = refs(self.condition)
            cols = _paired(left, right, li, ri, read)
            keep = np.asarray(pc.fill_null(evaluate(self.condition, cols, len(li)), False))
            li, ri = li[keep], ri[keep]
        cols = _paired(left, right, li, ri)
        if self.kind in ("SEMI", "ANTI"):  # left rows with (without) a match, in arrival order
            matched = np.unique(li)
            rows = matched if self.kind == "SEMI" else np.setdiff1d(np.arange(left.num_rows), matched)
            out = [c.combine_chunks() for c in left.take(pa.array(rows)).columns]
            return [make_batch(INSERT, out, self.names)] if len(rows) else []
        parts = [cols]
        if self.kind in ("LEFT", "FULL"):
            alone = np.setdiff1d(np.arange(left.num_rows), li)
            if len(alone):
                parts.append([c.combine_chunks() for c in left.take(pa.array(alone)).columns] +
                             [pa.nulls(len(alone), t) for t in self.types[1]])
        if self.kind in ("RIGHT", "FULL"):
            alone = np.setdiff1d(np.arange(right.num_rows), ri)
            if len(alone):
                parts.append([pa.nulls(len(alone), t) for t in self.types[0]] +
                             [c.combine_chunks() for c in right.take(pa.array(alone)).columns])
        out = [pa.concat_arrays([p[j] for p in parts]) for j in range(len(cols))]
        if not len(out[0]):
            return []
        return [make_batch(INSERT, out, self.names)]

    def metrics(self) -> dict:
        return {"late_records_dropped": self.late_dropped,
                "state_bytes": self.buffers[0].size_bytes() + self.buffers[1].size_bytes()}


def _paired(left: pa.Table, right: pa.Table, li: np.ndarray, ri: np.ndarray,
            only: set[int] | None = None) -> list[pa.Array | None]:
    """The columns of the pairs (left row li[j], right row ri[j]); with `only`, just those positions (None
    elsewhere). Left rows taken once each, in order, are the left columns as they are."""
    whole = len(li) == left.num_rows and bool((li == np.arange(len(li))).all())
    out: list[pa.Array | None] = []
    for side, table, rows in ((0, left, li), (1, right, ri)):
        at = 0 if side == 0 else left.num_columns
        take = None
        for j in range(table.num_columns):
            if only is not None and at + j not in only:
                out.append(None)
                continue
            col = table.column(j)
            if side == 1 or not whole:
                take = pa.array(rows) if take is None else take
                col = col.take(take)
            out.append(col.combine_chunks())
    return out


def _all_pairs(left: int, right: int) -> tuple[np.ndarray, np.ndarray]:
    """Every (left row, right row) pair, in left-row order, then right rows in arrival order."""
    return np.repeat(np.arange(left, dtype=np.int64), right), np.tile(np.arange(right, dtype=np.int64), left)
