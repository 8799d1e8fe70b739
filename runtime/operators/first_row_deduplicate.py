"""Keep-first deduplication on a time attribute (ROW_NUMBER() OVER (PARTITION BY k ORDER BY time ASC) = 1 over an
insert-only input), insert-only as Flink's.

On rowtime, a key's row waits until the watermark reaches its time; until then a row with an earlier time takes its
place (of equal times the first to arrive stays). A row behind the watermark is late and dropped, and once a key's
row is emitted every later row of that key is ignored: a row that is not late has a time at or after the
watermark, hence never earlier than an emitted row, so only the pending rows can change. On proctime the first row
of each key is emitted at once and the others are ignored.

Batches are handled column-wise: one lexsort of the batch finds each key's best row, compared with the key's
waiting row through per-key arrays; rows live in keyed rows (state `pending_rows`: the rows, their time and
arrival number, whether they still wait), compacted as replaced rows accumulate, and the emitted keys in
another (`emitted_keys`). The per-key arrays index both by a key id of this process: they are rebuilt from the
stores after a restore.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from sqlstream.core.changelog import INSERT, data_columns, make_batch, row_watermarks
from sqlstream.runtime.keys import KeyIndex
from sqlstream.runtime.operator import Operator, OperatorContext
from sqlstream.runtime.event_time import MIN_WM, event_times

NONE = np.iinfo(np.int64).max  # no row waits for this key


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
        self.store = self.emitted_keys = None  # declared in open
        self.seq = 0
        self.last_wm = MIN_WM
        self.late_dropped = 0

    def open(self, ctx: OperatorContext) -> None:
        rows = pa.schema([(f"c{i}", t) for i, t in enumerate(self.types)])
        self.store = ctx.keyed_rows("pending_rows", rows, [f"c{i}" for i in self.partition],
                                    {"ts": np.int64, "seq": np.int64, "waiting": bool}, live="waiting")
        # the key columns (and a column of ones, so that a table without keys has rows)
        keys = pa.schema([(f"k{j}", self.types[i]) for j, i in enumerate(self.partition)] + [("$n", pa.int8())])
        self.emitted_keys = ctx.keyed_rows("emitted_keys", keys, [f"k{j}" for j in range(len(self.partition))])
        ctx.counters("progress", self, ("seq", "last_wm", "late_dropped"), sums=("late_dropped",))

    def _index_restored(self) -> None:
        """Key ids and the per-key arrays for the rows a restore brought (the stores hold no key ids)."""
        if self.emitted_keys.take_restored():
            keys = self.emitted_keys.rows()
            if keys.num_rows:
                cols = [keys.column(f"k{j}").combine_chunks() for j in range(len(self.partition))]
                gids = self._key_ids(cols, keys.num_rows)
                self.emitted[gids] = True
        if self.store.take_restored():
            table = self.store.rows()
            waiting = np.flatnonzero(self.store.array("waiting"))
            if not len(waiting):
                return
            gids = self._key_ids([table.column(i).combine_chunks().take(pa.array(waiting)) for i in self.partition],
                                 len(waiting))
            self.pend_ts[gids] = self.store.array("ts")[waiting]
            self.pend_seq[gids] = self.store.array("seq")[waiting]
            self.pend_ref[gids] = waiting

    def _emit_keys(self, gids: np.ndarray) -> None:
        """Mark keys emitted, in the per-key array and the state's key rows."""
        self.emitted[gids] = True
        keys = [self.index.keys[g] for g in gids.tolist()]
        cols = {f"k{j}": pa.array([k[j] for k in keys], self.types[i]) for j, i in enumerate(self.partition)}
        cols["$n"] = pa.array(np.ones(len(keys), np.int8))
        self.emitted_keys.append(pa.table(cols, schema=self.emitted_keys.schema))
        if self.emitted_keys.fragments() > 64:
            self.emitted_keys.keep(np.arange(len(self.emitted_keys)))

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
        self._index_restored()
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
        keys = g[best]
        replaced = self.pend_ref[keys]
        self.store.set("waiting", replaced[replaced >= 0], False)
        winners = pa.Table.from_arrays([c.take(pa.array(rows)) for c in cols], schema=self.store.schema)
        base = self.store.append(winners, ts=t[best], seq=seq0 + rows, waiting=np.ones(len(rows), bool))
        self.pend_ts[keys], self.pend_seq[keys] = t[best], seq0 + rows
        self.pend_ref[keys] = base + np.arange(len(rows))
        if len(self.store) > 2 * len(self._pending_ids()) + self.compact_above or \
                self.store.fragments() > 64:
            self._compact()
        return []

    def _compact(self) -> None:
        """Drops replaced and emitted rows from the row store."""
        gids = self._pending_ids()
        self.store.keep(self.pend_ref[gids])
        self.pend_ref[gids] = np.arange(len(gids))

    def _first_arrivals(self, batch: pa.RecordBatch, cols: list[pa.Array], gids: np.ndarray) -> list[pa.RecordBatch]:
        idx = np.flatnonzero(~self.emitted[gids])
        _, first = np.unique(gids[idx], return_index=True)
        rows = np.sort(idx[first])
        self.seq += batch.num_rows
        if not len(rows):
            return []
        self._emit_keys(gids[rows])
        wm = row_watermarks(batch)
        take = pa.array(rows)
        return [make_batch(INSERT, [c.take(take) for c in cols] + [pa.array(np.ones(len(rows), np.int64))],
                           self.names, wm=wm[rows] if wm is not None else None)]

    def on_watermark(self, wm: int) -> list[pa.RecordBatch]:
        self._index_restored()
        prev, self.last_wm = self.last_wm, max(self.last_wm, wm)
        due = np.flatnonzero((self.pend_ts <= wm) & (self.pend_ref >= 0))  # the final watermark is NONE itself
        if not len(due):
            return []
        due = due[np.lexsort((self.pend_seq[due], self.pend_ts[due]))]  # Flink's timer order: by time
        rows = self.store.rows(self.pend_ref[due])
        self.store.set("waiting", self.pend_ref[due], False)
        self._emit_keys(due)
        self.pend_ts[due], self.pend_ref[due] = NONE, -1
        n = rows.num_rows
        arrays = [rows.column(i).combine_chunks() for i in range(len(self.types))]
        return [make_batch(INSERT, arrays + [pa.array(np.ones(n, np.int64))], self.names,
                           wm=np.full(n, prev, dtype=np.int64))]

    def metrics(self) -> dict:
        return {"late_records_dropped": self.late_dropped,
                "state_bytes": self.store.size_bytes() + self.emitted_keys.size_bytes() + self.emitted.nbytes
                + self.pend_ts.nbytes + self.pend_seq.nbytes + self.pend_ref.nbytes}
