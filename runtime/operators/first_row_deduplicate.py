"""Keep-first deduplication on a time attribute (ROW_NUMBER() OVER (PARTITION BY k ORDER BY time ASC) = 1 over an
insert-only input), insert-only as Flink's.

On rowtime, a key's row waits until the watermark reaches its time; until then a row with an earlier time takes its
place (of equal times the first to arrive stays). A row behind the watermark is late and dropped, and once a key's
row is emitted every later row of that key is ignored: a row that is not late has a time at or after the
watermark, hence never earlier than an emitted row, so only the pending rows can change. On proctime the first row
of each key is emitted at once and the others are ignored.

Batches are handled column-wise: one lexsort of the batch finds each key's best row, compared with the key's
waiting row through per-key arrays; rows live in an Arrow row store, compacted as replaced rows accumulate.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from sqlstream.core.changelog import INSERT, data_columns, make_batch, row_watermarks
from sqlstream.runtime.keys import KeyIndex
from sqlstream.runtime.operator import Operator, OperatorContext
from sqlstream.runtime.event_time import MIN_WM, event_times
from sqlstream.runtime.state import Counters

NONE = np.iinfo(np.int64).max  # no row waits for this key


class _Pending:
    """Rows waiting for the watermark, with their time and arrival number (key ids are recomputed on restore)."""

    def __init__(self, op: "FirstRowDeduplicateOperator"):
        self.op = op

    def snapshot(self) -> pa.Table:
        op = self.op
        gids = op._pending_ids()
        rows = op.store.take(pa.array(op.pend_ref[gids], pa.int64()))
        return rows.append_column("$ts", pa.array(op.pend_ts[gids])).append_column(
            "$seq", pa.array(op.pend_seq[gids]))

    def restore(self, table: pa.Table) -> None:
        op = self.op
        table = table.replace_schema_metadata(None).combine_chunks()
        op.store = table.select([f"c{i}" for i in range(len(op.types))])
        if table.num_rows:
            gids = op._key_ids([table.column(f"c{i}") for i in op.partition], table.num_rows)
            op.pend_ts[gids] = np.asarray(table.column("$ts"), dtype=np.int64)
            op.pend_seq[gids] = np.asarray(table.column("$seq"), dtype=np.int64)
            op.pend_ref[gids] = np.arange(table.num_rows)

    def size_bytes(self) -> int:
        op = self.op
        return op.store.nbytes + op.pend_ts.nbytes + op.pend_seq.nbytes + op.pend_ref.nbytes


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
    compact_above = 65536  # replaced rows the row store may hold beyond twice the waiting ones

    def __init__(self, partition: list[int], time_index: int, rowtime: bool, names: list[str],
                 types: list[pa.DataType]):
        self.partition, self.time_index, self.rowtime = partition, time_index, rowtime
        self.names, self.types = names, types  # input types; the output adds the row number (always 1)
        self.index = KeyIndex()
        self.emitted = np.zeros(0, bool)  # key id -> its row was emitted
        # key id -> its waiting row: time (NONE: none waits), arrival number, row of `store`
        self.pend_ts = np.zeros(0, np.int64)
        self.pend_seq = np.zeros(0, np.int64)
        self.pend_ref = np.zeros(0, np.int64)
        self.store = pa.table({f"c{i}": pa.array([], t) for i, t in enumerate(types)})
        self.seq = 0
        self.last_wm = MIN_WM
        self.late_dropped = 0

    def open(self, ctx: OperatorContext) -> None:
        ctx.register("emitted_keys", _Emitted(self))
        ctx.register("pending_rows", _Pending(self))
        ctx.register("progress", Counters(self, ("seq", "last_wm", "late_dropped")))

    def _key_ids(self, cols: list[pa.Array], n: int) -> np.ndarray:
        gids, _ = self.index.lookup(cols, n)
        grow = len(self.index) - len(self.emitted)
        if grow > 0:
            self.emitted = np.concatenate([self.emitted, np.zeros(grow, bool)])
            self.pend_ts = np.concatenate([self.pend_ts, np.full(grow, NONE, np.int64)])
            self.pend_seq = np.concatenate([self.pend_seq, np.zeros(grow, np.int64)])
            self.pend_ref = np.concatenate([self.pend_ref, np.full(grow, -1, np.int64)])
        return gids

    def _pending_ids(self) -> np.ndarray:
        return np.flatnonzero(self.pend_ref >= 0)

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
        g, t = gids[idx], ts[idx]
        order = np.lexsort((idx, t, g))
        best = order[np.r_[True, g[order][1:] != g[order][:-1]]]  # per key: earliest time, then first arrival
        # a waiting row arrived earlier, so it stays unless the batch's best is strictly earlier
        best = best[t[best] < self.pend_ts[g[best]]]
        if not len(best):
            return []
        rows = idx[best]
        base = self.store.num_rows
        winners = pa.Table.from_arrays([c.take(pa.array(rows)) for c in cols], names=self.store.column_names)
        self.store = pa.concat_tables([self.store, winners])
        keys = g[best]
        self.pend_ts[keys], self.pend_seq[keys] = t[best], seq0 + rows
        self.pend_ref[keys] = base + np.arange(len(rows))
        if self.store.num_rows > 2 * len(self._pending_ids()) + self.compact_above or \
                self.store.column(0).num_chunks > 64:
            self._compact()
        return []

    def _compact(self) -> None:
        """Drops replaced and emitted rows from the row store."""
        gids = self._pending_ids()
        self.store = self.store.take(pa.array(self.pend_ref[gids])).combine_chunks()
        self.pend_ref[gids] = np.arange(len(gids))

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
        due = np.flatnonzero((self.pend_ts <= wm) & (self.pend_ref >= 0))  # the final watermark is NONE itself
        if not len(due):
            return []
        due = due[np.lexsort((self.pend_seq[due], self.pend_ts[due]))]  # Flink's timer order: by time
        rows = self.store.take(pa.array(self.pend_ref[due]))
        self.emitted[due] = True
        self.pend_ts[due], self.pend_ref[due] = NONE, -1
        n = rows.num_rows
        arrays = [rows.column(i).combine_chunks() for i in range(len(self.types))]
        return [make_batch(INSERT, arrays + [pa.array(np.ones(n, np.int64))], self.names,
                           wm=np.full(n, prev, dtype=np.int64))]

    def metrics(self) -> dict:
        return {"late_records_dropped": self.late_dropped,
                "state_bytes": _Pending(self).size_bytes() + _Emitted(self).size_bytes()}
