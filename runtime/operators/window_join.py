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

from planner.expr import Expr
from runtime.changelog import INSERT, data_columns, make_batch
from runtime.expressions import evaluate
from runtime.keys import KeyIndex
from runtime.operator import Operator
from runtime.operators.watermark_assigner import MIN_WM
from runtime.operators.window_aggregate import Counters, WindowBuffer, rowtime_ms
from runtime.state import StateBackend


class WindowJoinOperator(Operator):
    name = "WindowJoin"

    def __init__(self, kind: str, left_keys: list[int], right_keys: list[int], condition: Expr | None,
                 left_end: int, right_end: int, left_types: list[pa.DataType], right_types: list[pa.DataType],
                 names: list[str]):
        self.kind = kind
        self.keys = (left_keys, right_keys)
        self.ends = (left_end, right_end)
        self.condition = condition
        self.types = (left_types, right_types)
        self.names = names
        self.buffers = (WindowBuffer(), WindowBuffer())
        self.last_wm = MIN_WM
        self.late_dropped = 0

    def open(self, state: StateBackend) -> None:
        state.register("left_rows", self.buffers[0])
        state.register("right_rows", self.buffers[1])
        state.register("progress", Counters(self, ("last_wm", "late_dropped")))

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        cols = data_columns(batch)
        ends, _ = rowtime_ms(cols[self.ends[input]])
        open_ = ends - 1 > self.last_wm
        if not open_.all():
            self.late_dropped += int((~open_).sum())
        table = pa.table({f"c{i}": c for i, c in enumerate(cols)})
        if not open_.all():
            table, ends = table.filter(pa.array(open_)), ends[open_]
        self.buffers[input].add(table.append_column("$we", pa.array(ends)), ends)
        return []

    def on_watermark(self, wm: int) -> list[pa.RecordBatch]:
        """Joins each closed window on its own, oldest first (so output order never depends on how many
        windows one watermark closes)."""
        self.last_wm = max(self.last_wm, wm)
        left, right = self.buffers[0].by_end, self.buffers[1].by_end
        out = []
        for end in sorted(e for e in set(left) | set(right) if e - 1 <= wm):
            out += self._join(self._side(left.pop(end, []), 0), self._side(right.pop(end, []), 1))
        return out

    def _side(self, tables: list[pa.Table], side: int) -> pa.Table:
        n = len(self.types[side])
        if not tables:
            return pa.table({f"c{i}": pa.array([], t) for i, t in enumerate(self.types[side])})
        return pa.concat_tables(tables).select([f"c{i}" for i in range(n)]).combine_chunks()

    def _join(self, left: pa.Table, right: pa.Table) -> list[pa.RecordBatch]:
        """Pairs with equal keys (NULL keys match nothing), then the condition, then the outer padding; pairs in
        left-row order, then the right rows in arrival order."""
        index = KeyIndex()
        lk = [left.column(i).combine_chunks() for i in self.keys[0]]
        rk = [right.column(i).combine_chunks() for i in self.keys[1]]
        lg = index.lookup(lk, left.num_rows)[0] if left.num_rows else np.zeros(0, np.int64)
        rg = index.lookup(rk, right.num_rows)[0] if right.num_rows else np.zeros(0, np.int64)
        lvalid, rvalid = _no_nulls(lk, left.num_rows), _no_nulls(rk, right.num_rows)
        order = np.argsort(rg, kind="stable")
        order = order[rvalid[order]]
        sorted_g = rg[order]
        lo = np.searchsorted(sorted_g, lg, "left")
        counts = np.where(lvalid, np.searchsorted(sorted_g, lg, "right") - lo, 0)
        li = np.repeat(np.arange(left.num_rows), counts)
        within = np.arange(len(li)) - np.repeat(np.cumsum(counts) - counts, counts)
        ri = order[np.repeat(lo, counts) + within]
        cols = [c.combine_chunks() for c in left.take(pa.array(li)).columns + right.take(pa.array(ri)).columns]
        if self.condition is not None and len(li):
            keep = np.asarray(pc.fill_null(evaluate(self.condition, cols, len(li)), False))
            li, ri = li[keep], ri[keep]
            cols = [pc.filter(c, pa.array(keep)) for c in cols]
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


def _no_nulls(keys: list[pa.Array], n: int) -> np.ndarray:
    valid = np.ones(n, dtype=bool)
    for k in keys:
        if k.null_count:
            valid &= np.asarray(pc.is_valid(k))
    return valid
