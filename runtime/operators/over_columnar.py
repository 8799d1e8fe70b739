"""OVER aggregation on rowtime with COUNT/SUM/AVG/MIN/MAX/STDDEV/VAR over numbers, column-wise.

The same results and changelog as the row-at-a-time operator (`OverAggregateOperator`, its reference), with no
Python work per row on the usual path: rows wait in an Arrow buffer with their partition id, timestamp and arrival
number; a watermark releases the rows it has passed, sorts them by (partition, timestamp, arrival) behind the
rows each partition keeps for its frames, and computes every frame of every partition at once (reduceat over
[lo, hi] ranges for bounded frames, segmented running accumulations seeded with each partition's accumulators
for unbounded ones).

Lateness: an unbounded frame drops a row at or behind the watermark before it, one comparison per row. A bounded
frame drops a row not after the last timestamp its partition has processed, which depends on what the watermark
before each earlier row released (and, for RANGE, on the cleanup timer that forgets an idle partition): that
bookkeeping runs over plain integers in arrival order, and only for the partitions with a row at or behind its
watermark in the batch or whose cleanup timer fires within it (any other row is after everything its partition
processed). A cleanup starts a new epoch of the
partition: rows accepted after it do not see the rows kept before it.
"""
from __future__ import annotations

import heapq
import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.core.changelog import INSERT, data_columns, make_batch, row_watermarks
from sqlstream.core.errors import ExecutionError
from sqlstream.runtime.aggregates import VARIANCES, variance
from sqlstream.runtime.event_time import MIN_WM, rowtime_ms
from sqlstream.runtime.keys import KeyIndex
from sqlstream.runtime.operator import OperatorContext
from sqlstream.runtime.operators.over_aggregate import OverAggregateOperator
from sqlstream.runtime.operators.group_aggregate import seg_accumulate

NO_DUE = np.iinfo(np.int64).max
_I64 = np.iinfo(np.int64)
LAYOUT = "columnar-1"
PENDING, KEPT, PARTITION = 0, 1, 2  # kinds of state rows
# the frame statistics each aggregate reads (variances: count, sum and sum of squares)
_SLOTS = ("rows", "nn", "total", "mn", "mx", "sq")
_NEEDS = {"COUNT": ("nn",), "SUM": ("nn", "total"), "SUM0": ("nn", "total"), "AVG": ("nn", "total"),
          "MIN": ("nn", "mn"), "MAX": ("nn", "mx")}


def columnar_eligible(aggs, types, rowtime: bool) -> bool:
    return rowtime and all(a.fn in ("COUNT", "SUM", "SUM0", "AVG", "MIN", "MAX") + VARIANCES and not a.distinct
                           and all(pa.types.is_integer(types[i]) or pa.types.is_floating(types[i]) for i in a.args)
                           for a in aggs)


def _numbers(col: pa.Array, floating: bool) -> tuple[np.ndarray, np.ndarray]:
    """(values with NULL as 0, valid mask) of a numeric column."""
    valid = np.asarray(pc.is_valid(col).to_numpy(zero_copy_only=False)) if col.null_count else \
        np.ones(len(col), bool)
    vals = np.asarray(pc.fill_null(col, 0).to_numpy(zero_copy_only=False))
    return vals.astype(np.float64 if floating else np.int64, copy=False), valid


class _OverTables:
    """Pending rows, kept frame rows and per-partition progress as one Arrow table (`$kind` tells them apart);
    restores the row-at-a-time operator's layout too."""

    def __init__(self, op: "ColumnarOverOperator"):
        self.op = op

    def snapshot(self) -> pa.Table:
        return self.op.snapshot_table()

    def restore(self, table: pa.Table) -> None:
        self.op.restore_table(table)

    def size_bytes(self) -> int:
        op = self.op
        return sum(t.nbytes for t in op.pending) + sum(a.nbytes for a in op.kept.values()) + \
            op.last_ts.nbytes * 3


class ColumnarOverOperator(OverAggregateOperator):
    """OverAggregateOperator for numeric aggregates over rowtime, computing whole watermarks' releases at once."""

    def __init__(self, partition, time_index, frame, preceding, aggs, names, types, rowtime=True):
        super().__init__(partition, time_index, frame, preceding, aggs, names, types, rowtime)
        self.n_in = len(types) - len(aggs)
        self.arg_cols = sorted({a.args[0] for a in aggs if a.args})
        self.floating = {c: pa.types.is_floating(types[c]) for c in self.arg_cols}
        self.bounded = preceding is not None
        self.cleans = frame == "RANGE" and self.bounded  # Flink's cleanup timer drops idle RANGE partitions
        self.index = KeyIndex()
        self.last_ts = np.zeros(0, np.int64)   # partition -> last processed timestamp (MIN_WM: none)
        self.due = np.zeros(0, np.int64)       # partition -> cleanup watermark (NO_DUE: none)
        self.epoch = np.zeros(0, np.int64)     # partition -> cleanups so far
        self.pending: list[pa.Table] = []      # input columns, then $g, $t, $seq, $ep
        self.kept = self._empty_kept()         # frame rows kept per partition (bounded frames)
        self.acc = np.zeros((0, len(aggs), 6), np.float64)  # unbounded: rows, non-null, sum, min, max, squares
        self.acc_int = np.zeros((0, len(aggs), 6), np.int64)
        self.wm_applied = MIN_WM

    def _empty_kept(self) -> dict[str, np.ndarray]:
        kept = {"g": np.zeros(0, np.int64), "ep": np.zeros(0, np.int64), "t": np.zeros(0, np.int64)}
        for c in self.arg_cols:
            kept[f"v{c}"] = np.zeros(0, np.float64 if self.floating[c] else np.int64)
            kept[f"ok{c}"] = np.zeros(0, bool)
        return kept

    def open(self, ctx: OperatorContext) -> None:
        ctx.register("over", _OverTables(self))

    # ---- arrival --------------------------------------------------------------------------
    def _grow(self) -> None:
        n = len(self.index)
        have = len(self.last_ts)
        if n > have:
            more = max(n - have, have)
            self.last_ts = np.concatenate([self.last_ts, np.full(more, MIN_WM, np.int64)])
            self.due = np.concatenate([self.due, np.full(more, NO_DUE, np.int64)])
            self.epoch = np.concatenate([self.epoch, np.zeros(more, np.int64)])
            self.acc = np.concatenate([self.acc, self._fresh_acc(more, np.float64)])
            self.acc_int = np.concatenate([self.acc_int, self._fresh_acc(more, np.int64)])

    def _fresh_acc(self, n: int, dtype) -> np.ndarray:
        a = np.zeros((n, len(self.aggs), 6), dtype)
        a[:, :, 3] = np.inf if dtype == np.float64 else _I64.max
        a[:, :, 4] = -np.inf if dtype == np.float64 else _I64.min
        return a

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        n = batch.num_rows
        if n == 0:
            return []
        cols = data_columns(batch)
        ts, valid = rowtime_ms(cols[self.time_index])
        wm = row_watermarks(batch)
        if wm is None:
            wm = np.full(n, MIN_WM, dtype=np.int64)
        gids, _ = self.index.lookup([cols[p] for p in self.partition], n)
        self._grow()
        if not self.bounded:
            late = ~valid | (ts <= wm)
            ep = np.zeros(n, np.int64)
        else:
            # a row after the watermark is after anything its partition processed; partitions with a row
            # behind it, or whose cleanup timer fires within the batch, go through the row loop
            behind = ~(valid & (ts > np.maximum(wm, self.wm_applied)))
            loop = np.isin(gids, np.unique(gids[behind])) if behind.any() else behind
            if self.cleans:
                loop |= self._push_cleanup(gids, ts, wm, ~loop)
            late = np.zeros(n, bool)
            ep = self.epoch[gids]
            if loop.any():
                rows = np.flatnonzero(loop)
                late[rows], ep[rows] = self._bookkeep(gids[rows], ts[rows], valid[rows], wm[rows])
        if self.late_rows is not None:
            self.late_rows.add(cols, late, ts, wm)
        n_late = int(late.sum())
        self.late_dropped += n_late
        keep = None if n_late == 0 else pa.array(np.flatnonzero(~late))
        m = n - n_late
        if m:
            data = cols[:self.n_in] if keep is None else [c.take(keep) for c in cols[:self.n_in]]
            sel = slice(None) if keep is None else ~late
            extra = [pa.array(gids[sel]), pa.array(ts[sel]), pa.array(self.seq + np.arange(m, dtype=np.int64)),
                     pa.array(ep[sel])]
            self.pending.append(pa.Table.from_arrays(
                list(data) + extra, names=[f"c{i}" for i in range(self.n_in)] + ["$g", "$t", "$seq", "$ep"]))
            self.seq += m
        return []

    def _push_cleanup(self, gids: np.ndarray, ts: np.ndarray, wm: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """RANGE frames, a batch of rows all after their watermark: each accepted row moves its partition's
        cleanup time to t + 1.5 * preceding + 1 when the current one is less than t + preceding + 1. Computed
        per partition as a chain of such moves, all partitions at once, for the `rows` marked; returns the
        rows of the partitions whose cleanup would fire within the batch (unchanged: the row loop takes them)."""
        p, step = self.preceding, int(self.preceding * 1.5) + 1
        loop = np.zeros(len(gids), bool)
        picked = np.flatnonzero(rows)
        if not len(picked):
            return loop
        gids, ts, wm = gids[picked], ts[picked], wm[picked]
        n = len(gids)
        order = np.argsort(gids, kind="stable")
        g, t, w = gids[order], ts[order], wm[order]
        start = np.r_[True, g[1:] != g[:-1]]
        first = np.flatnonzero(start)
        seg = np.cumsum(start) - 1
        seg_end = np.append(first[1:], n)
        d = self.due[g[first]].copy()
        lo = int(t.min())
        span = int(t.max()) - lo + 2
        if span * len(first) >= 2 ** 62:
            loop[picked] = True
            return loop
        # the first row from which a move happens: its timestamp reaches due - preceding; every earlier row of
        # the partition stays below that, so a running maximum from the partition's start finds it
        runmax = seg_accumulate(np.maximum, t, start, np.full(n, lo, np.int64), lo)
        combined = seg * span + (runmax - lo)
        moved = np.full(n, -1, np.int64)
        active = np.arange(len(first))
        while len(active):
            thr = np.where(d[active] == NO_DUE, lo, d[active] - p)
            at = np.searchsorted(combined, active * span + np.clip(thr - lo, 0, span - 1), side="left")
            found = at < seg_end[active]
            active, at = active[found], at[found]
            d[active] = t[at] + step
            moved[at] = at
        last_move = seg_accumulate(np.maximum, moved, start, np.full(n, -1, np.int64), -1)
        before = np.r_[-1, last_move[:-1]]
        before[start] = -1
        due_before = np.where(before >= 0, t[np.maximum(before, 0)] + step, self.due[g])
        maybe = np.flatnonzero(due_before <= w)
        if len(maybe):  # a cleanup fires if nothing of the partition waits at that row
            waiting = np.full(len(self.last_ts), MIN_WM, np.int64)
            for chunk in self.pending:
                pg, pt, pe = (chunk.column(x).to_numpy() for x in ("$g", "$t", "$ep"))
                cur = pe == self.epoch[pg]
                np.maximum.at(waiting, pg[cur], pt[cur])
            prior = seg_accumulate(np.maximum, t, start, waiting[g], MIN_WM)
            prior_excl = np.r_[MIN_WM, prior[:-1]]
            prior_excl[start] = waiting[g[start]]
            fires = maybe[prior_excl[maybe] <= np.maximum(w[maybe], self.wm_applied)]
            if len(fires):
                hit = np.zeros(len(first), bool)
                hit[seg[fires]] = True
                loop[picked[order[hit[seg]]]] = True
                d = np.where(hit, self.due[g[first]], d)
        self.due[g[first]] = d
        return loop

    def _bookkeep(self, gids: np.ndarray, ts: np.ndarray, valid: np.ndarray,
                  wm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Bounded frames, row by row over integers: release what the watermark before each row passed, run
        a due cleanup, and judge the row against its partition's last processed timestamp."""
        uniq, local = np.unique(gids, return_inverse=True)
        last, due, epoch = self.last_ts[uniq].tolist(), self.due[uniq].tolist(), self.epoch[uniq].tolist()
        cleans, p, step = self.cleans, self.preceding, int(self.preceding * 1.5) + 1
        applied = self.wm_applied
        heaps: dict[int, list[int]] = {}
        for chunk in self.pending:  # what each partition has waiting (released rows of older epochs are not)
            pg, pt, pe = (chunk.column(x).to_numpy() for x in ("$g", "$t", "$ep"))
            mine = np.isin(pg, uniq) & (pe == self.epoch[pg]) & (pt > applied)
            for gg, tt in zip(pg[mine].tolist(), pt[mine].tolist()):
                heaps.setdefault(gg, []).append(tt)
        for h in heaps.values():
            heapq.heapify(h)
        n = len(gids)
        late = np.zeros(n, bool)
        ep = np.zeros(n, np.int64)
        for i, (k, g, t, ok, w) in enumerate(zip(local.tolist(), gids.tolist(), ts.tolist(), valid.tolist(),
                                                 wm.tolist())):
            h = heaps.get(g)
            if h and h[0] <= max(w, applied):
                top, lim = last[k], max(w, applied)
                while h and h[0] <= lim:
                    x = heapq.heappop(h)
                    if x > top:
                        top = x
                last[k] = top
                if not h:
                    del heaps[g]
            if cleans and due[k] <= w and g not in heaps:
                due[k], last[k], epoch[k] = NO_DUE, MIN_WM, epoch[k] + 1
            if not ok or t <= last[k]:
                late[i] = True
                continue
            ep[i] = epoch[k]
            h = heaps.get(g)
            if h is None:
                heaps[g] = [t]
            else:
                heapq.heappush(h, t)
            if cleans and (due[k] == NO_DUE or due[k] < t + p + 1):
                due[k] = t + step
        self.last_ts[uniq], self.due[uniq], self.epoch[uniq] = last, due, epoch
        return late, ep

    # ---- release --------------------------------------------------------------------------
    def on_watermark(self, wm: int) -> list[pa.RecordBatch]:
        self.wm_applied = max(self.wm_applied, wm)
        out = []
        if self.pending:
            ready, waiting = [], []
            for chunk in self.pending:  # rows arrive nearly in time order: most chunks go whole or stay whole
                t = chunk.column("$t").to_numpy()
                if len(t) == 0:
                    continue
                if t.max() <= wm:
                    ready.append(chunk)
                elif t.min() > wm:
                    waiting.append(chunk)
                else:
                    due = t <= wm
                    ready.append(chunk.filter(pa.array(due)))
                    waiting.append(chunk.filter(pa.array(~due)))
            self.pending = waiting
            if ready:
                out = self._release(pa.concat_tables(ready) if len(ready) > 1 else ready[0])
        if self.cleans:
            self._cleanup(wm)
        return out

    def _release(self, rel: pa.Table) -> list[pa.RecordBatch]:
        g = rel.column("$g").to_numpy()
        t = rel.column("$t").to_numpy()
        seq = rel.column("$seq").to_numpy()
        ep = rel.column("$ep").to_numpy()
        if self.bounded:
            current = ep == self.epoch[g]
            np.maximum.at(self.last_ts, g[current], t[current])
        vals = {c: _numbers(rel.column(f"c{c}").combine_chunks(), self.floating[c]) for c in self.arg_cols}
        m = len(g)
        order = np.lexsort((seq, t, ep, g))
        if self.bounded:
            results = self._bounded(g[order], ep[order], t[order], {c: (v[order], ok[order])
                                                                       for c, (v, ok) in vals.items()})
        else:
            results = self._unbounded(g[order], t[order], {c: (v[order], ok[order]) for c, (v, ok) in vals.items()})
        # output in (timestamp, arrival) order across partitions
        emit = np.lexsort((seq, t))
        back = np.empty(m, np.int64)
        back[order] = np.arange(m)
        at = back[emit]
        arrays = [rel.column(f"c{i}").take(pa.array(emit)).combine_chunks() for i in range(self.n_in)]
        arrays += [r.take(pa.array(at)) for r in results]
        return [make_batch(INSERT, arrays, self.names)]

    def _stats(self, a, vals: dict, n: int) -> tuple[np.ndarray, np.ndarray]:
        if not a.args:
            return np.ones(n, np.int64), np.ones(n, bool)
        return vals[a.args[0]]

    def _bounded(self, g, ep, t, vals) -> list[pa.Array]:
        """Frames over each partition's kept rows followed by its released ones (rows in (partition, epoch,
        timestamp, arrival) order); keeps the rows later frames can reach. Rows released before a cleanup
        still see the rows kept before it."""
        kept = self.kept
        touched = np.isin(kept["g"], g)
        k_idx = np.flatnonzero(touched)
        h = len(k_idx)
        m = len(g)
        all_g = np.concatenate([kept["g"][k_idx], g])
        all_ep = np.concatenate([kept["ep"][k_idx], ep])
        all_t = np.concatenate([kept["t"][k_idx], t])
        is_new = np.concatenate([np.zeros(h, bool), np.ones(m, bool)])
        order = np.lexsort((np.arange(h + m), is_new, all_ep, all_g)) if h else np.arange(m)
        all_g, all_ep, all_t, is_new = all_g[order], all_ep[order], all_t[order], is_new[order]
        all_vals = {}
        for c, (v, ok) in vals.items():
            all_vals[c] = (np.concatenate([kept[f"v{c}"][k_idx], v])[order],
                           np.concatenate([kept[f"ok{c}"][k_idx], ok])[order])
        n = h + m
        start = np.r_[True, (all_g[1:] != all_g[:-1]) | (all_ep[1:] != all_ep[:-1])]
        seg = np.cumsum(start) - 1
        seg_start = np.flatnonzero(start)[seg]
        pos = np.arange(n)
        if self.frame == "RANGE":
            # peers share the frame of the last row with their timestamp; the frame starts at t - preceding
            run_end = np.r_[(all_t[1:] != all_t[:-1]) | start[1:], True]
            last_of_run = np.flatnonzero(run_end)
            hi = last_of_run[np.searchsorted(last_of_run, pos)]
            lo = _segment_search(seg, all_t, all_t - self.preceding)
        else:
            hi = pos
            lo = np.maximum(pos - self.preceding, seg_start)
        new = np.flatnonzero(is_new)
        results = self._frames(all_vals, lo[new], hi[new], n)
        # keep, per partition's newest epoch, the rows a later frame can reach
        seg_end = np.r_[start[1:], True]
        last_idx = np.flatnonzero(seg_end)[seg]
        if self.frame == "RANGE":
            keep = all_t >= all_t[last_idx] - self.preceding
        else:
            keep = pos > last_idx - self.preceding - 1 if self.preceding > 0 else np.zeros(n, bool)
        keep &= all_ep == self.epoch[all_g]
        rest = ~touched & (kept["ep"] == self.epoch[kept["g"]])
        for name in kept:
            src = {"g": all_g, "ep": all_ep, "t": all_t}.get(name)
            if src is None:
                c = int(name[1:]) if name[0] == "v" else int(name[2:])
                src = all_vals[c][0] if name[0] == "v" else all_vals[c][1]
            kept[name] = np.concatenate([kept[name][rest], src[keep]])
        return results

    def _frames(self, vals, lo: np.ndarray, hi: np.ndarray, n: int) -> list[pa.Array]:
        """Each aggregate over the rows [lo, hi] of every frame. Integer sums come from prefix sums and extrema
        from a sparse table when frames are long; floating sums always add each frame's rows in order."""
        long_frames = len(lo) and float(np.mean(hi - lo)) > 16
        bounds = np.empty(2 * len(lo), dtype=np.int64)
        bounds[0::2], bounds[1::2] = lo, hi + 1
        out = []
        cache = {}

        def red(ufunc, x, fill):  # reduceat needs every end bound to be an index
            return ufunc.reduceat(np.append(x, fill), bounds)[0::2]

        def add(x):
            if long_frames and x.dtype == np.int64:
                c = np.concatenate([[0], np.cumsum(x)])
                return c[hi + 1] - c[lo]
            return red(np.add, x, 0)

        def extreme(ufunc, x, fill):
            return _range_extreme(ufunc, x, lo, hi) if long_frames else red(ufunc, x, fill)
        for a in self.aggs:
            key = a.args[0] if a.args else None
            v, ok = self._stats(a, vals, n)
            fill_hi, fill_lo = (_I64.max, _I64.min) if v.dtype == np.int64 else (np.inf, -np.inf)
            need = _NEEDS.get(a.fn, ("nn", "total", "sq"))
            stats = cache.setdefault(key, {})
            for name in need:  # only what this aggregate reads, once per argument
                if name not in stats:
                    stats[name] = (add(ok.astype(np.int64)) if name == "nn" else
                                   add(np.where(ok, v, 0)) if name == "total" else
                                   extreme(np.minimum, np.where(ok, v, fill_hi), fill_hi) if name == "mn" else
                                   extreme(np.maximum, np.where(ok, v, fill_lo), fill_lo) if name == "mx" else
                                   add(np.where(ok, v * v, 0)))
            out.append(self._finish_array(a, hi - lo + 1, stats.get("nn"), stats.get("total"), stats.get("mn"),
                                          stats.get("mx"), stats.get("sq")))
        return out

    def _unbounded(self, g, t, vals) -> list[pa.Array]:
        """Running accumulations per partition seeded with its accumulators (rows in (partition, timestamp,
        arrival) order); RANGE peers take the last peer's values."""
        m = len(g)
        start = np.r_[True, g[1:] != g[:-1]]
        seg_end = np.r_[start[1:], True]
        if self.frame == "RANGE":
            run_end = np.r_[(t[1:] != t[:-1]) | start[1:], True]
            last_of_run = np.flatnonzero(run_end)
            hi = last_of_run[np.searchsorted(last_of_run, np.arange(m))]
        else:
            hi = np.arange(m)
        ends = np.flatnonzero(seg_end)
        out = []
        for j, a in enumerate(self.aggs):
            v, ok = self._stats(a, vals, m)
            acc = self.acc_int if v.dtype == np.int64 else self.acc
            seeds = acc[g, j]
            need = ("rows",) + _NEEDS.get(a.fn, ("nn", "total", "sq"))
            fill_hi, fill_lo = (_I64.max, _I64.min) if v.dtype == np.int64 else (np.inf, -np.inf)
            inputs = {"rows": (np.add, np.ones(m, np.int64), 0, np.int64), "nn": (np.add, ok.astype(np.int64), 0, np.int64),
                      "total": (np.add, np.where(ok, v, 0), 0, v.dtype),
                      "mn": (np.minimum, np.where(ok, v, fill_hi), fill_hi, v.dtype),
                      "mx": (np.maximum, np.where(ok, v, fill_lo), fill_lo, v.dtype),
                      "sq": (np.add, np.where(ok, v * v, 0), 0, v.dtype)}
            running = {}
            ge = g[ends]
            for name in need:  # only what this aggregate reads; the accumulators keep the rest unchanged
                ufunc, x, identity, dtype = inputs[name]
                slot = _SLOTS.index(name)
                running[name] = seg_accumulate(ufunc, x.astype(dtype), start, seeds[:, slot].astype(dtype), identity)
                acc[ge, j, slot] = running[name][ends]
            out.append(self._finish_array(a, *(running[x][hi] if x in running else None for x in _SLOTS)))
        return out

    def _finish_array(self, a, rows, nn, total, mn, mx, squares) -> pa.Array:
        """A frame's value per row with Flink's semantics from its count, sum, extrema and sum of squares."""
        t = a.type.to_arrow()
        empty = nn == 0
        if a.fn in VARIANCES:
            return variance(a, pa.array(total, mask=empty), pa.array(nn), pa.array(squares, mask=empty),
                            integer_arithmetic=True).cast(t)
        if a.fn == "COUNT":
            return pa.array(nn if a.args else rows).cast(t)
        if a.fn in ("MIN", "MAX"):
            v = mn if a.fn == "MIN" else mx
        elif a.fn in ("SUM", "SUM0"):
            v = total
            if a.fn == "SUM0":
                return pa.array(v).cast(t, safe=False)
        elif a.type.is_integer:  # AVG of an integer type truncates toward zero
            q = np.abs(total) // np.maximum(nn, 1)
            v = np.where(total >= 0, q, -q)
        else:
            with np.errstate(invalid="ignore", divide="ignore"):
                v = total / np.maximum(nn, 1)
        return pa.array(v, mask=empty).cast(t, safe=False)

    def _cleanup(self, wm: int) -> None:
        """Flink's cleanup timer: a RANGE partition with nothing waiting forgets its rows and progress once the
        watermark reaches its due time."""
        n = len(self.index)
        due = np.flatnonzero(self.due[:n] <= wm)
        if not len(due):
            return
        if self.pending:
            waiting = np.bincount(self.pending[0].column("$g").to_numpy(), minlength=n)[due] > 0 \
                if len(self.pending) == 1 else \
                np.bincount(np.concatenate([p.column("$g").to_numpy() for p in self.pending]), minlength=n)[due] > 0
            due = due[~waiting]
        if not len(due):
            return
        self.due[due], self.last_ts[due] = NO_DUE, MIN_WM
        self.epoch[due] += 1
        live = self.kept["ep"] == self.epoch[self.kept["g"]]
        if not live.all():
            self.kept = {k: v[live] for k, v in self.kept.items()}

    def close(self) -> list[pa.RecordBatch]:
        return []

    def metrics(self) -> dict:
        return {"late_records_dropped": self.late_dropped}

    # ---- checkpoints ----------------------------------------------------------------------
    def snapshot_table(self) -> pa.Table:
        """Pending rows (whole), kept frame rows and partitions' progress (key columns and numbers only)."""
        types = self.types[:self.n_in]
        parts = []
        pend = pa.concat_tables(self.pending) if self.pending else None
        n_keys = len(self.index)
        live = np.array([k is not None for k in self.index.keys], bool) if n_keys else np.zeros(0, bool)
        gl = np.flatnonzero(live)
        kept = self.kept

        def key_cols(gs: np.ndarray) -> dict:
            cols = {}
            for j, p in enumerate(self.partition):
                cols[p] = pa.array([self.index.keys[g][j] for g in gs.tolist()], types[p])
            return cols

        def block(kind: int, count: int, cols: dict, extra: dict) -> pa.Table:
            data = {f"c{i}": cols.get(i, pa.nulls(count, types[i])) for i in range(self.n_in)}
            data["$kind"] = pa.array(np.full(count, kind, np.int8))
            for name in ("$t", "$seq", "$ep", "$last", "$due"):
                data[name] = extra.get(name, pa.nulls(count, pa.int64()))
            for c in self.arg_cols:
                ty = pa.float64() if self.floating[c] else pa.int64()
                data[f"$v{c}"] = extra.get(f"$v{c}", pa.nulls(count, ty))
            data["$acc"] = extra.get("$acc", pa.nulls(count, pa.string()))
            return pa.table(data)
        if pend is not None and pend.num_rows:
            parts.append(block(PENDING, pend.num_rows, {i: pend.column(f"c{i}") for i in range(self.n_in)},
                               {"$t": pend.column("$t"), "$seq": pend.column("$seq"), "$ep": pend.column("$ep")}))
        if len(kept["g"]):
            extra = {"$t": pa.array(kept["t"]), "$ep": pa.array(kept["ep"])}
            for c in self.arg_cols:
                extra[f"$v{c}"] = pa.array(kept[f"v{c}"], mask=~kept[f"ok{c}"])
            parts.append(block(KEPT, len(kept["g"]), key_cols(kept["g"]), extra))
        if len(gl):
            extra = {"$ep": pa.array(self.epoch[gl]), "$last": pa.array(self.last_ts[gl]),
                     "$due": pa.array(self.due[gl])}
            if not self.bounded:
                extra["$acc"] = pa.array([json.dumps([self.acc_int[g].tolist(), self.acc[g].tolist()])
                                          for g in gl.tolist()], pa.string())
            parts.append(block(PARTITION, len(gl), key_cols(gl), extra))
        table = pa.concat_tables(parts) if parts else block(PARTITION, 0, {}, {})
        return table.replace_schema_metadata({"layout": LAYOUT, "seq": str(self.seq),
                                              "late": str(self.late_dropped), "wm": str(self.wm_applied)})

    def restore_table(self, table: pa.Table) -> None:
        meta = table.schema.metadata or {}
        self.index, self.pending = KeyIndex(), []
        self.last_ts = self.due = self.epoch = np.zeros(0, np.int64)
        self.acc, self.acc_int = self._fresh_acc(0, np.float64), self._fresh_acc(0, np.int64)
        self.kept = self._empty_kept()
        self.seq, self.late_dropped = int(meta.get(b"seq", b"0")), int(meta.get(b"late", b"0"))
        self.wm_applied = int(meta.get(b"wm", str(MIN_WM).encode()))
        if "$pending" in table.column_names:
            table = self._from_row_layout(table)
        elif meta.get(b"layout") != LAYOUT.encode():
            raise ExecutionError("the OVER aggregation's checkpoint has a layout this version does not read; "
                                 "start the job without restoring it")
        if table.num_rows == 0:
            return
        kind = table.column("$kind").to_numpy()
        gids, _ = self.index.lookup([table.column(f"c{p}") for p in self.partition], table.num_rows)
        self._grow()
        prt = np.flatnonzero(kind == PARTITION)
        if len(prt):
            g = gids[prt]
            self.epoch[g] = table.column("$ep").take(pa.array(prt)).to_numpy()
            self.last_ts[g] = table.column("$last").take(pa.array(prt)).to_numpy()
            self.due[g] = table.column("$due").take(pa.array(prt)).to_numpy()
            if not self.bounded:
                for gg, text in zip(g.tolist(), table.column("$acc").take(pa.array(prt)).to_pylist()):
                    ints, floats = json.loads(text)
                    self.acc_int[gg], self.acc[gg] = ints, floats
        kpt = np.flatnonzero(kind == KEPT)
        if len(kpt):
            take = pa.array(kpt)
            self.kept["g"], self.kept["t"] = gids[kpt], table.column("$t").take(take).to_numpy()
            self.kept["ep"] = table.column("$ep").take(take).to_numpy()
            for c in self.arg_cols:
                v, ok = _numbers(table.column(f"$v{c}").take(take).combine_chunks(), self.floating[c])
                self.kept[f"v{c}"], self.kept[f"ok{c}"] = v, ok
        pnd = np.flatnonzero(kind == PENDING)
        if len(pnd):
            take = pa.array(pnd)
            t = table.column("$t").take(take).to_numpy()
            cols = [table.column(f"c{i}").take(take).combine_chunks() for i in range(self.n_in)]
            g = gids[pnd]
            self.pending = [pa.Table.from_arrays(cols + [pa.array(g), pa.array(t),
                                                         table.column("$seq").take(take).combine_chunks(),
                                                         table.column("$ep").take(take).combine_chunks()],
                                                 names=[f"c{i}" for i in range(self.n_in)] +
                                                 ["$g", "$t", "$seq", "$ep"])]

    def _from_row_layout(self, table: pa.Table) -> pa.Table:
        """The row-at-a-time operator's checkpoint in this layout: its pending rows, frame rows, running
        accumulators and cleanup times."""
        n = table.num_rows
        types = self.types[:self.n_in]
        pend = np.asarray(table.column("$pending").to_numpy(zero_copy_only=False), bool)
        accs = table.column("$acc").to_pylist() if "$acc" in table.column_names else [None] * n
        is_acc = np.array([a is not None for a in accs], bool)
        kind = np.where(pend, PENDING, np.where(is_acc, PARTITION, KEPT)).astype(np.int8)
        ts = table.column("$ts").to_numpy()
        data = {f"c{i}": table.column(f"c{i}") for i in range(self.n_in)}
        data["$kind"] = pa.array(kind)
        data["$t"] = pa.array(ts)
        data["$seq"] = table.column("$seq")
        data["$ep"] = pa.array(np.zeros(n, np.int64))
        for c in self.arg_cols:
            data[f"$v{c}"] = pc.cast(table.column(f"c{c}"), pa.float64() if self.floating[c] else pa.int64())
        acc_json = [None if a is None else self._seeds_json(json.loads(a)) for a in accs]
        data["$acc"] = pa.array(acc_json, pa.string())
        out = pa.table(data)
        # per partition: the newest timestamp processed and its cleanup time
        done = ~pend
        keys = list(zip(*[table.column(f"c{p}").to_pylist() for p in self.partition])) if self.partition \
            else [()] * n
        cleanup = table.column("$cleanup").to_pylist()
        last: dict[tuple, int] = {}
        due: dict[tuple, int] = {}
        for k, d, t_, dn in zip(keys, cleanup, ts.tolist(), done.tolist()):
            if dn:
                last[k] = max(last.get(k, MIN_WM), t_)
            if d is not None:
                due[k] = d
        all_keys = list(dict.fromkeys(list(last) + list(due)))
        acc_by_key = {k: a for k, a, f in zip(keys, acc_json, is_acc.tolist()) if f}
        rows = {f"c{i}": pa.array([k[self.partition.index(i)] if i in self.partition else None
                                   for k in all_keys], types[i]) for i in range(self.n_in)}
        rows["$kind"] = pa.array(np.full(len(all_keys), PARTITION, np.int8))
        rows["$t"] = pa.nulls(len(all_keys), pa.int64())
        rows["$seq"] = pa.nulls(len(all_keys), pa.int64())
        rows["$ep"] = pa.array(np.zeros(len(all_keys), np.int64))
        rows["$last"] = pa.array([last.get(k, MIN_WM) for k in all_keys], pa.int64())
        rows["$due"] = pa.array([due.get(k, NO_DUE) for k in all_keys], pa.int64())
        for c in self.arg_cols:
            rows[f"$v{c}"] = pa.nulls(len(all_keys), data[f"$v{c}"].type)
        rows["$acc"] = pa.array([acc_by_key.get(k) for k in all_keys], pa.string())
        out = out.filter(pa.array(kind != PARTITION))
        out = out.append_column("$last", pa.nulls(out.num_rows, pa.int64())).append_column(
            "$due", pa.nulls(out.num_rows, pa.int64()))
        return pa.concat_tables([out.select(list(rows)), pa.table(rows)])

    def _seeds_json(self, seeds: list) -> str:
        """The row-at-a-time operator's accumulators ([rows, non-null, sum, min, max, squares] per aggregate)
        as this operator keeps them."""
        ints, floats = self._fresh_acc(1, np.int64)[0], self._fresh_acc(1, np.float64)[0]
        for j, (a, seed) in enumerate(zip(self.aggs, seeds)):
            seed = list(seed) + [0] * (6 - len(seed))
            target = floats if a.args and self.floating[a.args[0]] else ints
            for s_, x in enumerate(seed):
                if x is not None:
                    target[j, s_] = x
        return json.dumps([ints.tolist(), floats.tolist()])


def _range_extreme(ufunc, x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """ufunc (minimum or maximum) over x[lo..hi] for every range, from a sparse table: O(n log n) however long
    the ranges are."""
    levels = [x]
    span = int((hi - lo).max()) + 1
    k = 1
    while 2 * k <= span:
        prev = levels[-1]
        levels.append(ufunc(prev[:-k], prev[k:]) if len(prev) > k else prev[:0])
        k *= 2
    length = hi - lo + 1
    level = np.floor(np.log2(length)).astype(np.int64)
    out = np.empty(len(lo), x.dtype)
    for j in np.unique(level).tolist():
        rows = np.flatnonzero(level == j)
        table = levels[j]
        out[rows] = ufunc(table[lo[rows]], table[hi[rows] - (1 << j) + 1])
    return out


def _segment_search(seg: np.ndarray, t: np.ndarray, target: np.ndarray) -> np.ndarray:
    """For each row, the first index of its segment whose t is >= target (rows sorted by (segment, t))."""
    n = len(t)
    if n == 0:
        return np.zeros(0, np.int64)
    lo_t = min(int(t.min()), int(target.min()))
    span = max(int(t.max()), int(target.max())) - lo_t + 1
    if span * (int(seg[-1]) + 1) < 2 ** 62:
        combined = seg * span + (t - lo_t)
        return np.searchsorted(combined, seg * span + (target - lo_t), side="left")
    out = np.empty(n, np.int64)
    starts = np.flatnonzero(np.r_[True, seg[1:] != seg[:-1]])
    for a, b in zip(starts.tolist(), np.append(starts[1:], n).tolist()):
        out[a:b] = a + np.searchsorted(t[a:b], target[a:b], side="left")
    return out
