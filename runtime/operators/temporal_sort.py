"""ORDER BY a time attribute on a stream, as Flink's temporal sort: on rowtime a row waits until the watermark
reaches its time, then rows come out in (time, other keys, arrival) order; a row at or behind the watermark is
late and dropped when its time is not after the newest time already emitted (Flink's last triggering
timestamp: rows fire when the watermark advances past them). On proctime the rows of each arrival are sorted by the other keys."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.core.changelog import INSERT, data_columns, make_batch, row_watermarks
from sqlstream.runtime.operator import Operator, OperatorContext
from sqlstream.runtime.operators.top1 import PER_KEY_NULLS
from sqlstream.runtime.event_time import MIN_WM, event_times

TS, SEQ = "$ts", "$seq"


class TemporalSortOperator(Operator):
    name = "TemporalSort"

    def __init__(self, time_index: int, rowtime: bool, keys: list[tuple[int, bool]], names: list[str],
                 types: list[pa.DataType]):
        self.time_index, self.rowtime, self.keys, self.names = time_index, rowtime, keys, names
        self.cols = [f"c{i}" for i in range(len(types))]
        self.schema = pa.schema([*zip(self.cols, types), (TS, pa.int64()), (SEQ, pa.int64())])
        self.waiting = None  # rows waiting for the watermark, declared in open
        self.seq = 0
        self.late_dropped = 0
        self.last_fired = MIN_WM  # newest time fired by a watermark advance
        self.last_wm = MIN_WM

    def open(self, ctx: OperatorContext) -> None:
        self.waiting = ctx.row_store("waiting_rows", self.schema)
        ctx.counters("progress", self, ("seq", "late_dropped", "last_fired", "last_wm"))

    def _order(self, table, first: list[tuple[str, str]]) -> pa.Array:
        keys = first + [(f"c{i}", "descending" if d else "ascending") for i, d in self.keys] + [(SEQ, "ascending")]
        if PER_KEY_NULLS:
            return pc.sort_indices(table, sort_keys=[(name, order, "at_start") for name, order in keys])
        return pc.sort_indices(table, sort_keys=keys, null_placement="at_start")

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        n = batch.num_rows
        if n == 0:
            return []
        cols = data_columns(batch)
        seq = np.arange(self.seq, self.seq + n, dtype=np.int64)
        self.seq += n
        if not self.rowtime:
            table = pa.table(dict(zip(self.cols, cols)) | {SEQ: pa.array(seq)})
            order = self._order(table, [])
            wm = row_watermarks(batch)
            return [make_batch(INSERT, [c.take(order) for c in cols], self.names,
                               wm=None if wm is None else wm[np.asarray(order)])]
        ts, wm = event_times(batch, self.time_index)
        keep = self._not_late(ts, wm)
        self.late_dropped += int(n - keep.sum())
        if not keep.any():
            return []
        idx = pa.array(np.flatnonzero(keep))
        rows = pa.table({**{c: a.take(idx) for c, a in zip(self.cols, cols)},
                         TS: pa.array(ts[keep]), SEQ: pa.array(seq[keep])})
        self.waiting.append(rows)
        return []

    def _not_late(self, ts: np.ndarray, wm: np.ndarray) -> np.ndarray:
        """Row by row as Flink sees them: each advance of the watermark before a row fires the waiting times it
        passes, and a row is kept only if its time is after the newest fired one."""
        import bisect
        waiting = sorted(self.waiting.column(TS).to_pylist())
        keep = np.zeros(len(ts), bool)
        last_fired, last_wm = self.last_fired, self.last_wm
        for i, (t, w) in enumerate(zip(ts.tolist(), wm.tolist())):
            if w > last_wm:
                last_wm = w
                cut = bisect.bisect_right(waiting, w)
                if cut:
                    last_fired = max(last_fired, waiting[cut - 1])
                    del waiting[:cut]
            if t > last_fired:
                keep[i] = True
                bisect.insort(waiting, t)
        return keep

    def on_watermark(self, wm: int) -> list[pa.RecordBatch]:
        self.last_wm = max(self.last_wm, wm)
        if not self.rowtime or len(self.waiting) == 0:
            return []
        due = np.asarray(self.waiting.column(TS)) <= wm
        if not due.any():
            return []
        ready = self.waiting.rows(np.flatnonzero(due))
        self.waiting.keep(np.flatnonzero(~due))
        self.last_fired = max(self.last_fired, pc.max(ready.column(TS)).as_py())
        ready = ready.take(self._order(ready, [(TS, "ascending")]))
        arrays = [ready.column(c).combine_chunks() for c in self.cols]
        return [make_batch(INSERT, arrays, self.names, wm=np.full(ready.num_rows, MIN_WM, dtype=np.int64))]

    def metrics(self) -> dict:
        return {"late_records_dropped": self.late_dropped, "state_bytes": self.waiting.size_bytes()}
