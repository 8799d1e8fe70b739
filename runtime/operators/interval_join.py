"""Interval join, as Flink's RowTimeIntervalJoin: rows match when their keys are equal and
right.rowtime - left.rowtime lies in [lower, upper] (plus any other condition).

A row joins the other side's kept rows on arrival (+I for each match). It is kept while the other side can
still bring a match: a left row at t until the watermark passes t + upper, a right row at t until it passes
t - lower. When a row of an outer side leaves unmatched, it is emitted NULL-padded, so the result is
append-only (no retractions, unlike a regular outer join). A row whose interval the watermark has already
passed when it arrives is joined with what is kept and, if outer and unmatched, padded at once.

Computed column-wise, in the order a row-at-a-time join gives (tests/reference_interval_join.py).
Each side keeps its rows in a row store: one Arrow table with parallel arrays (time, arrival number, matched,
key id, alive). For a batch, the watermark in force at each row is a running maximum; candidate pairs come from a
key-sorted view of the other side's live rows, filtered by the time interval and by whether the other row is
still kept when the row arrives, then by the extra condition. Rows that leave during the batch are found by a
binary search of their close time in the running watermark, and every output row gets a sort key (the row
before which it appears, its phase, its order within the phase), so one lexsort yields the per-row order.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.plan.expr import Expr
from sqlstream.core.changelog import INSERT, data_columns, make_batch, row_watermarks
from sqlstream.runtime.expressions import evaluate
from sqlstream.runtime.keys import KeyIndex, equal_pairs, non_null_keys
from sqlstream.runtime.operator import Operator, OperatorContext
from sqlstream.runtime.event_time import MIN_WM, rowtime_ms
from sqlstream.runtime.state import RowStore

SIDE_ARRAYS = {"time": np.int64, "seq": np.int64, "matched": bool, "gid": np.int64, "alive": bool}


class _Side:
    """One side's rows, in a row store: kept ones (alive) and, until compaction, rows that left or were never
    kept. Key ids are per process (not snapshotted): restored rows get theirs on the next batch."""

    def __init__(self, store: RowStore):
        self.store = store

    def __getattr__(self, name: str) -> np.ndarray:  # time, seq, matched, gid, alive (read-only)
        return self.__dict__["store"].array(name)

    def compact(self) -> None:
        self.store.keep(np.flatnonzero(self.alive))


class IntervalJoinOperator(Operator):
    name = "IntervalJoin"
    drops_late_rows = True

    def __init__(self, kind: str, left_keys: list[int], right_keys: list[int], left_time: int, right_time: int,
                 lower: int, upper: int, condition: Expr | None, left_types: list[pa.DataType],
                 right_types: list[pa.DataType], names: list[str]):
        self.kind, self.condition, self.names = kind, condition, names
        self.keys = (left_keys, right_keys)
        self.times = (left_time, right_time)
        self.lower, self.upper = lower, upper
        self.types = (left_types, right_types)
        self.sides = []  # declared in open
        self.outer = (kind in ("LEFT", "FULL"), kind in ("RIGHT", "FULL"))
        self.index = KeyIndex()
        self.wm = MIN_WM
        self.seq = 0
        self.input_watermarks = [MIN_WM, MIN_WM]

    def open(self, ctx: OperatorContext) -> None:
        rows = [pa.schema([(f"c{i}", t) for i, t in enumerate(types)]) for types in self.types]
        self.sides = [_Side(ctx.keyed_rows(name, schema, [f"c{k}" for k in keys], SIDE_ARRAYS, live="alive",
                                           transient=("gid",)))
                      for name, schema, keys in zip(("left_rows", "right_rows"), rows, self.keys)]
        ctx.counters("progress", self, ("wm", "seq"))
        self.input_watermarks = ctx.input_watermarks  # each input's watermark, kept by the runtime

    def _closes_at(self, side: int, t: np.ndarray) -> np.ndarray:
        """The watermark after which no row of the other side can match rows of `side` at times t."""
        return t + self.upper if side == 0 else t - self.lower

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        s, o = input, 1 - input
        n = batch.num_rows
        cols = data_columns(batch)
        times, valid = rowtime_ms(cols[self.times[s]])
        row_wm = row_watermarks(batch)
        before = np.minimum(row_wm, self.input_watermarks[o]) if row_wm is not None else np.full(n, self.wm)
        now = np.maximum(self.wm, np.maximum.accumulate(before))  # the watermark in force at each row
        keys = [cols[k] for k in self.keys[s]]
        gid = self.index.lookup(keys, n)[0]
        for side, sd in enumerate(self.sides):
            restored = np.flatnonzero(sd.gid < 0)
            if len(restored):
                kept = sd.store.rows(restored)
                side_keys = [kept.column(k).combine_chunks() for k in self.keys[side]]
                sd.store.set("gid", restored, self.index.lookup(side_keys, len(restored))[0])
        ok = valid & non_null_keys(keys, n)
        mine, other = self.sides[s], self.sides[o]
        # candidate pairs: the other side's live rows with the same key, in the interval, still kept
        live = np.flatnonzero(other.alive)
        by_key = live[np.argsort(other.gid[live], kind="stable")]
        sorted_gid = other.gid[by_key]
        rows = np.flatnonzero(ok)
        pi, at = equal_pairs(sorted_gid, gid[rows])
        pi, pj = rows[pi], by_key[at]
        t_i, t_j = times[pi], other.time[pj]
        low, high = (t_i + self.lower, t_i + self.upper) if s == 0 else (t_i - self.upper, t_i - self.lower)
        inside = (low <= t_j) & (t_j <= high) & (now[pi] <= self._closes_at(o, t_j))
        pi, pj = pi[inside], pj[inside]
        if self.condition is not None and len(pi):
            mine_rows = [c.take(pa.array(pi)) for c in cols]
            other_rows = [c.combine_chunks() for c in other.store.rows(pj).columns]
            joined = mine_rows + other_rows if s == 0 else other_rows + mine_rows
            good = np.asarray(pc.fill_null(evaluate(self.condition, joined, len(pi)), False))
            pi, pj = pi[good], pj[good]
        other.store.set("matched", pj, True)
        hits = np.bincount(pi, minlength=n) > 0
        # this batch's rows join their side; rows still open are kept
        kept = ok & (now < self._closes_at(s, times))
        if self.late_rows is not None and not self.outer[s]:
            # arrived after its join interval had closed and matched nothing still kept: lost to lateness (Flink
            # counts no late rows here; an outer side emits such a row padded instead)
            self.late_rows.add(cols, ok & ~kept & ~hits, times, now, s)
        seq = self.seq + np.cumsum(kept)
        self.seq += int(kept.sum())
        base = mine.store.append(pa.table({f"c{i}": c for i, c in enumerate(cols)}), time=times, seq=seq,
                                 matched=hits.copy(), gid=gid, alive=kept)
        # rows that leave during the batch: before the first row whose watermark passes their close time
        events = []  # (slot, phase, order1, order2, order3, left store row, right store row)
        for side in (0, 1):
            sd = self.sides[side]
            cand = np.flatnonzero(sd.alive)
            close = self._closes_at(side, sd.time[cand])
            slot = np.searchsorted(now, close, "right")
            if side == s:  # a row kept by this batch can only leave after it arrived
                new = cand >= base
                slot[new] = np.maximum(slot[new], cand[new] - base + 1)
            leaves = slot < n
            sd.store.set("alive", cand[leaves], False)
            pad = leaves & self.outer[side] & ~sd.matched[cand]
            idx = cand[pad]
            if len(idx):
                events.append((slot[pad], np.zeros(len(idx)), close[pad], np.full(len(idx), side),
                               sd.seq[idx], idx if side == 0 else -1, idx if side == 1 else -1))
        mine_at = base + pi
        events.append((pi, np.ones(len(pi)), other.seq[pj], np.zeros(len(pi)), np.zeros(len(pi)),
                       mine_at if s == 0 else pj, pj if s == 0 else mine_at))
        if self.outer[s]:  # rows padded on arrival: NULL key, or already closed and unmatched
            now_pad = np.flatnonzero(~ok | (~kept & ~hits))
            events.append((now_pad, np.full(len(now_pad), 2), np.zeros(len(now_pad)), np.zeros(len(now_pad)),
                           np.zeros(len(now_pad)), base + now_pad if s == 0 else -1, base + now_pad if s == 1 else -1))
        self.wm = max(self.wm, int(now[-1])) if n else self.wm
        out = self._assemble(events)
        for sd in self.sides:
            if len(sd.alive) > 2 * max(int(sd.alive.sum()), 1024):
                sd.compact()
        return out

    def on_watermark(self, wm: int) -> list[pa.RecordBatch]:
        if wm <= self.wm:
            return []
        self.wm = wm
        events = []
        for side in (0, 1):
            sd = self.sides[side]
            cand = np.flatnonzero(sd.alive)
            close = self._closes_at(side, sd.time[cand])
            leaves = close < wm
            sd.store.set("alive", cand[leaves], False)
            pad = leaves & self.outer[side] & ~sd.matched[cand]
            idx = cand[pad]
            if len(idx):
                events.append((np.zeros(len(idx)), np.zeros(len(idx)), close[pad], np.full(len(idx), side),
                               sd.seq[idx], idx if side == 0 else -1, idx if side == 1 else -1))
        return self._assemble(events)

    def _assemble(self, events: list[tuple]) -> list[pa.RecordBatch]:
        """Output rows from (left row, right row) store positions (-1: NULLs), in the order of their keys."""
        parts = [[np.broadcast_to(np.asarray(x), (len(e[0]),)) for x in e] for e in events if len(e[0])]
        if not parts:
            return []
        slot, phase, a, b, c, left, right = (np.concatenate([p[k] for p in parts]) for k in range(7))
        order = np.lexsort((c, b, a, phase, slot))
        left, right = left[order].astype(np.int64), right[order].astype(np.int64)
        cols = []
        for side, at in ((0, left), (1, right)):
            take = pa.array(at, mask=at < 0)
            cols += [c.combine_chunks().take(take) for c in self.sides[side].store.rows().columns]
        return [make_batch(INSERT, cols, self.names)]

    def metrics(self) -> dict:
        return {"state_bytes": sum(sd.store.size_bytes() for sd in self.sides)}
