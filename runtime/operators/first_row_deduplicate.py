"""Keep-first deduplication on a time attribute (ROW_NUMBER() OVER (PARTITION BY k ORDER BY time ASC) = 1 over an
insert-only input), insert-only as Flink's.

On rowtime, a key's row waits until the watermark reaches its time; until then a row with an earlier time takes its
place (of equal times the first to arrive stays). A row behind the watermark is late and dropped, and once a key's
row is emitted every later row of that key is ignored: a row that is not late has a time at or after the
watermark, hence never earlier than an emitted row, so only the pending rows can change. On proctime the first row
of each key is emitted at once and the others are ignored.

Batches are handled column-wise: the best candidate per key is one lexsort over the pending rows and the batch.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from runtime.changelog import INSERT, data_columns, make_batch, row_watermarks
from runtime.keys import KeyIndex
from runtime.operator import Operator
from runtime.operators.window_aggregate import MIN_WM, Counters, event_times
from runtime.state import StateBackend


class _Pending:
    """Rows waiting for the watermark, with their arrival number (key ids are recomputed on restore)."""

    def __init__(self, op: "FirstRowDeduplicateOperator"):
        self.op = op

    def snapshot(self) -> pa.Table:
        op = self.op
        if op.pending is not None:
            return op.pending.drop_columns(["$gid"])
        cols = {f"c{i}": pa.array([], t) for i, t in enumerate(op.types)}
        return pa.table({**cols, "$ts": pa.array([], pa.int64()), "$seq": pa.array([], pa.int64())})

    def restore(self, table: pa.Table) -> None:
        op = self.op
        table = table.replace_schema_metadata(None).combine_chunks()
        if not table.num_rows:
            op.pending = None
            return
        gids = op._key_ids([table.column(f"c{i}") for i in op.partition], table.num_rows)
        op.pending = table.append_column("$gid", pa.array(gids))

    def size_bytes(self) -> int:
        return self.op.pending.nbytes if self.op.pending is not None else 0


class _Emitted:
    """The keys whose row is final, as key columns (plus a count column, so a table without keys has rows)."""

    def __init__(self, op: "FirstRowDeduplicateOperator"):
        self.op = op

    def snapshot(self) -> pa.Table:
        op = self.op
        keys = [op.index.keys[g] for g in np.flatnonzero(op.emitted).tolist()]
        cols = {f"k{j}": pa.array([k[j] for k in keys], op.types[i]) for j, i in enumerate(op.partition)}
        return pa.table({**cols, "$n": pa.array(np.ones(len(keys), np.int8))})

    def restore(self, table: pa.Table) -> None:
        op = self.op  # a fresh operator: key ids are shared with the pending rows, whichever is restored first
        if table.num_rows:
            gids = op._key_ids([table.column(f"k{j}").combine_chunks() for j in range(len(op.partition))],
                               table.num_rows)
            op.emitted[gids] = True

    def size_bytes(self) -> int:
        return self.op.emitted.nbytes + 16 * len(self.op.index)


class FirstRowDeduplicateOperator(Operator):
    name = "Deduplicate"

    def __init__(self, partition: list[int], time_index: int, rowtime: bool, names: list[str],
                 types: list[pa.DataType]):
        self.partition, self.time_index, self.rowtime = partition, time_index, rowtime
        self.names, self.types = names, types  # input types; the output adds the row number (always 1)
        self.index = KeyIndex()
        self.emitted = np.zeros(0, bool)  # key id -> its row was emitted
        self.pending: pa.Table | None = None  # c0.., $ts, $seq, $gid: one waiting row per key
        self.seq = 0
        self.last_wm = MIN_WM
        self.late_dropped = 0

    def open(self, state: StateBackend) -> None:
        state.register("emitted_keys", _Emitted(self))
        state.register("pending_rows", _Pending(self))
        state.register("progress", Counters(self, ("seq", "last_wm", "late_dropped")))

    def _key_ids(self, cols: list[pa.Array], n: int) -> np.ndarray:
        gids, _ = self.index.lookup(cols, n)
        if len(self.emitted) < len(self.index):
            self.emitted = np.concatenate([self.emitted, np.zeros(len(self.index) - len(self.emitted), bool)])
        return gids

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        n = batch.num_rows
        if n == 0:
            return []
        cols = data_columns(batch)
        gids = self._key_ids([cols[i] for i in self.partition], n)
        if not self.rowtime:
            return self._first_arrivals(batch, cols, gids)
        ts, wm = event_times(batch, self.time_index)
        late = ts < wm
        self.late_dropped += int(late.sum())
        idx = np.flatnonzero(~late & ~self.emitted[gids])
        seq0, self.seq = self.seq, self.seq + n
        if not len(idx):
            return []
        take = pa.array(idx)
        new = pa.table({**{f"c{i}": c.take(take) for i, c in enumerate(cols)}, "$ts": pa.array(ts[idx]),
                        "$seq": pa.array(seq0 + idx), "$gid": pa.array(gids[idx])})
        cand = new if self.pending is None else pa.concat_tables([self.pending, new]).combine_chunks()
        g = np.asarray(cand.column("$gid"), dtype=np.int64)
        order = np.lexsort((np.asarray(cand.column("$seq")), np.asarray(cand.column("$ts")), g))
        best = order[np.r_[True, g[order][1:] != g[order][:-1]]]  # per key: earliest time, then first arrival
        self.pending = cand.take(pa.array(best))
        return []

    def _first_arrivals(self, batch: pa.RecordBatch, cols: list[pa.Array], gids: np.ndarray) -> list[pa.RecordBatch]:
        idx = np.flatnonzero(~self.emitted[gids])
        _, first = np.unique(gids[idx], return_index=True)
        rows = np.sort(idx[first])
        self.seq += batch.num_rows
        if not len(rows):
            return []
        self.emitted[gids[rows]] = True
        wm = row_watermarks(batch)
        take = pa.array(rows)
        return [make_batch(INSERT, [c.take(take) for c in cols] + [pa.array(np.ones(len(rows), np.int64))],
                           self.names, wm=wm[rows] if wm is not None else None)]

    def on_watermark(self, wm: int) -> list[pa.RecordBatch]:
        prev, self.last_wm = self.last_wm, max(self.last_wm, wm)
        if self.pending is None:
            return []
        ts = np.asarray(self.pending.column("$ts"), dtype=np.int64)
        due = ts <= wm
        if not due.any():
            return []
        fired = self.pending.filter(pa.array(due))
        self.pending = self.pending.filter(pa.array(~due)) if not due.all() else None
        fired = fired.take(pa.array(np.lexsort((np.asarray(fired.column("$seq")), ts[due]))))
        self.emitted[np.asarray(fired.column("$gid"), dtype=np.int64)] = True
        n = fired.num_rows
        arrays = [fired.column(f"c{i}").combine_chunks() for i in range(len(self.types))]
        return [make_batch(INSERT, arrays + [pa.array(np.ones(n, np.int64))], self.names,
                           wm=np.full(n, prev, dtype=np.int64))]

    def metrics(self) -> dict:
        return {"late_records_dropped": self.late_dropped,
                "state_bytes": _Pending(self).size_bytes() + _Emitted(self).size_bytes()}
