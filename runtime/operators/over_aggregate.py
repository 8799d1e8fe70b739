"""OVER aggregation on rowtime, column-wise, its aggregates computed by their accumulators.

The same results and changelog as the row-at-a-time operator (`OverAggregateOperator`, its reference), with no
Python work per row in the operator: rows wait in an Arrow buffer with their partition id, timestamp and arrival
number; a watermark releases the rows it has passed, sorts them by (partition, timestamp, arrival) behind the
rows each partition keeps for its frames, and computes every frame of every partition at once through each
aggregate's accumulator (`runtime/accumulators.py`; the operator names no function): a bounded frame is a
[lo, hi] range of rows (`frames`), an unbounded one a running result of its partition's group (`running`, the
accumulator keeping each partition's state).

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
from sqlstream.plan.logical import AggCall
from sqlstream.runtime.accumulators import Accumulator, make_accumulator
from sqlstream.runtime.event_time import MIN_WM, rowtime_ms
from sqlstream.runtime.keys import KeyIndex
from sqlstream.runtime.numeric_aggregates import seg_accumulate
from sqlstream.runtime.operator import Operator, OperatorContext

NO_DUE = np.iinfo(np.int64).max
LAYOUT = "columnar-2"  # the snapshot layout (checkpoints written before its progress moved out name it in metadata)
PENDING, KEPT, PARTITION = 0, 1, 2  # kinds of state rows




class OverAggregateOperator(Operator):
    """OVER aggregation, whole watermarks' releases at once (ordered by a processing-time attribute, each
    batch as it arrives)."""

    drops_late_rows = True
    name = "OverAggregate"

    def __init__(self, partition: list[int], time_index: int, frame: str, preceding: int | None,
                 aggs: list[AggCall], names: list[str], types: list[pa.DataType], rowtime: bool = True):
        self.partition, self.time_index, self.frame, self.preceding = partition, time_index, frame, preceding
        self.rowtime = rowtime
        self.aggs, self.names, self.types = aggs, names, types
        self.seq = 0
        self.late_dropped = 0
        self.n_in = len(types) - len(aggs)
        # the kept rows' argument columns; at least one, as an Arrow table without columns loses its row count
        # in take/concat (COUNT(*) alone over a bounded frame)
        self.arg_cols = sorted({i for a in aggs for i in a.args}) or [0]
        self.bounded = preceding is not None
        self.cleans = frame == "RANGE" and self.bounded  # Flink's cleanup timer drops idle RANGE partitions
        self.index = KeyIndex()
        self.last_ts = np.zeros(0, np.int64)   # partition -> last processed timestamp (MIN_WM: none)
        self.due = np.zeros(0, np.int64)       # partition -> cleanup watermark (NO_DUE: none)
        self.epoch = np.zeros(0, np.int64)     # partition -> cleanups so far
        self.pending: list[pa.Table] = []      # input columns, then $g, $t, $seq, $ep
        self.kept = self._empty_kept()         # frame rows kept per partition (bounded frames)
        self.kept_args = self._empty_args()    # their argument columns
        self.accs = self._fresh_accs()         # unbounded frames: each partition's group
        self.wm_applied = MIN_WM

    @staticmethod
    def _empty_kept() -> dict[str, np.ndarray]:
        return {"g": np.zeros(0, np.int64), "ep": np.zeros(0, np.int64), "t": np.zeros(0, np.int64)}

    def _empty_args(self) -> pa.Table:
        return pa.table({f"c{c}": pa.array([], self.types[c]) for c in self.arg_cols})

    def _accumulator(self, a: AggCall) -> Accumulator:
        """Unbounded frames never take a row back; bounded ones slide."""
        return make_accumulator(a, [self.types[i] for i in a.args], False if not self.bounded else None, over=True)

    def _fresh_accs(self) -> list[Accumulator]:
        return [self._accumulator(a) for a in self.aggs]

    def open(self, ctx: OperatorContext) -> None:
        ctx.keyed_snapshot("over", self, [f"c{p}" for p in self.partition])
        ctx.counters("progress", self, ("seq", "late_dropped", "wm_applied"), sums=("late_dropped",))

    def state_size_bytes(self) -> int:
        return sum(t.nbytes for t in self.pending) + sum(a.nbytes for a in self.kept.values()) + \
            self.kept_args.nbytes + self.last_ts.nbytes * 3 + sum(acc.size_bytes() for acc in self.accs)

    # ---- arrival --------------------------------------------------------------------------
    def _grow(self) -> None:
        n = len(self.index)
        have = len(self.last_ts)
        if n > have:
            more = max(n - have, have)
            self.last_ts = np.concatenate([self.last_ts, np.full(more, MIN_WM, np.int64)])
            self.due = np.concatenate([self.due, np.full(more, NO_DUE, np.int64)])
            self.epoch = np.concatenate([self.epoch, np.zeros(more, np.int64)])

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        n = batch.num_rows
        if n == 0:
            return []
        if not self.rowtime:
            return self._on_arrival(batch)
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

    def _on_arrival(self, batch: pa.RecordBatch) -> list[pa.RecordBatch]:
        """Processing time: the batch's rows at once, in arrival order; a bounded RANGE frame measures its
        interval on the wall clock (the batch's rows are peers), the other frames count rows."""
        import time
        n = batch.num_rows
        cols = data_columns(batch)
        gids, _ = self.index.lookup([cols[p] for p in self.partition], n)
        self._grow()
        seq = self.seq + np.arange(n, dtype=np.int64)
        self.seq += n
        t = np.full(n, int(time.time() * 1000), np.int64) if self.frame == "RANGE" and self.bounded else seq
        rel = pa.Table.from_arrays(list(cols[:self.n_in]) + [pa.array(gids), pa.array(t), pa.array(seq),
                                                             pa.array(np.zeros(n, np.int64))],
                                   names=[f"c{i}" for i in range(self.n_in)] + ["$g", "$t", "$seq", "$ep"])
        return self._release(rel)

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
        m = len(g)
        order = np.lexsort((seq, t, ep, g))
        args = rel.select([f"c{c}" for c in self.arg_cols]).take(pa.array(order)).combine_chunks()
        if self.bounded:
            results = self._bounded(g[order], ep[order], t[order], args)
        else:
            results = self._unbounded(g[order], t[order], args)
        # output in (timestamp, arrival) order across partitions
        emit = np.lexsort((seq, t))
        back = np.empty(m, np.int64)
        back[order] = np.arange(m)
        at = back[emit]
        arrays = [rel.column(f"c{i}").take(pa.array(emit)).combine_chunks() for i in range(self.n_in)]
        arrays += [r.take(pa.array(at)) for r in results]
        return [make_batch(INSERT, arrays, self.names)]

    def _args(self, a: AggCall, args: pa.Table) -> list[pa.Array]:
        return [args.column(f"c{i}").combine_chunks() for i in a.args]

    def _bounded(self, g, ep, t, args: pa.Table) -> list[pa.Array]:
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
        if h:
            all_args = pa.concat_tables([self.kept_args.take(pa.array(k_idx)), args]).take(pa.array(order))
        else:
            all_args = args
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
        lo_new, hi_new = lo[new], hi[new]
        results = [self._accumulator(a).frames(self._args(a, all_args), lo_new, hi_new) for a in self.aggs]
        # keep, per partition's newest epoch, the rows a later frame can reach
        seg_end = np.r_[start[1:], True]
        last_idx = np.flatnonzero(seg_end)[seg]
        if self.frame == "RANGE":
            keep = all_t >= all_t[last_idx] - self.preceding
        else:
            keep = pos > last_idx - self.preceding - 1 if self.preceding > 0 else np.zeros(n, bool)
        keep &= all_ep == self.epoch[all_g]
        rest = ~touched & (kept["ep"] == self.epoch[kept["g"]])
        for name, src in (("g", all_g), ("ep", all_ep), ("t", all_t)):
            kept[name] = np.concatenate([kept[name][rest], src[keep]])
        self.kept_args = pa.concat_tables([self.kept_args.take(pa.array(np.flatnonzero(rest))),
                                           all_args.take(pa.array(np.flatnonzero(keep)))]).combine_chunks()
        return results

    def _unbounded(self, g, t, args: pa.Table) -> list[pa.Array]:
        """Running results per partition, each partition a group of every aggregate's accumulator (rows in
        (partition, timestamp, arrival) order); RANGE peers take the last peer's result."""
        m = len(g)
        if self.frame == "RANGE":
            start = np.r_[True, g[1:] != g[:-1]]
            run_end = np.r_[(t[1:] != t[:-1]) | start[1:], True]
            last_of_run = np.flatnonzero(run_end)
            hi = pa.array(last_of_run[np.searchsorted(last_of_run, np.arange(m))])
        else:
            hi = None
        signs, fresh = np.ones(m, np.int64), np.zeros(m, bool)
        out = []
        for a, acc in zip(self.aggs, self.accs):
            after, _ = acc.running(self._args(a, args), g, signs, fresh)
            out.append(after if hi is None else after.take(hi))
        return out

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
            self.kept_args = self.kept_args.filter(pa.array(live))

    def close(self) -> list[pa.RecordBatch]:
        return []

    def metrics(self) -> dict:
        return {"late_records_dropped": self.late_dropped}

    # ---- checkpoints ----------------------------------------------------------------------
    def snapshot_table(self) -> pa.Table:
        """Pending rows (whole), kept frame rows (keys and arguments) and partitions' progress and
        accumulator states (`$s<aggregate>_<state>`)."""
        types = self.types[:self.n_in]
        parts = []
        n_keys = len(self.index)
        live = np.array([k is not None for k in self.index.keys], bool) if n_keys else np.zeros(0, bool)
        gl = np.flatnonzero(live)
        kept = self.kept

        def key_cols(gs: np.ndarray) -> dict:
            return {f"c{p}": pa.array([self.index.keys[g][j] for g in gs.tolist()], types[p])
                    for j, p in enumerate(self.partition)}

        def block(kind: int, count: int, cols: dict) -> pa.Table:
            data = {f"c{i}": cols.pop(f"c{i}") if f"c{i}" in cols else pa.nulls(count, types[i])
                    for i in range(self.n_in)}
            data["$kind"] = pa.array(np.full(count, kind, np.int8))
            for name in ("$t", "$seq", "$ep", "$last", "$due"):
                data[name] = cols.pop(name) if name in cols else pa.nulls(count, pa.int64())
            data.update(cols)
            return pa.table(data)
        for chunk in self.pending:
            if chunk.num_rows:
                cols = {f"c{i}": chunk.column(f"c{i}") for i in range(self.n_in)}
                cols.update({x: chunk.column(x) for x in ("$t", "$seq", "$ep")})
                parts.append(block(PENDING, chunk.num_rows, cols))
        if len(kept["g"]):
            cols = key_cols(kept["g"])
            cols.update({f"c{c}": self.kept_args.column(f"c{c}") for c in self.arg_cols})
            cols.update({"$t": pa.array(kept["t"]), "$ep": pa.array(kept["ep"])})
            parts.append(block(KEPT, len(kept["g"]), cols))
        if len(gl):
            cols = key_cols(gl)
            cols.update({"$ep": pa.array(self.epoch[gl]), "$last": pa.array(self.last_ts[gl]),
                         "$due": pa.array(self.due[gl])})
            if not self.bounded:
                for j, acc in enumerate(self.accs):
                    for k, arr in enumerate(acc.state(gl)):
                        cols[f"$s{j}_{k}"] = arr
            parts.append(block(PARTITION, len(gl), cols))
        return pa.concat_tables(parts, promote_options="default") if parts else block(PARTITION, 0, {})

    def restore_tables(self, tables: list[pa.Table]) -> None:
        """One snapshot, or the parts of several subtasks' (each partition's rows are in one of them). Arrival
        numbers, late rows and the watermark applied are the `progress` counters (merged when rescaled); a
        snapshot of the earlier layouts kept them in its schema's metadata."""
        self.index, self.pending = KeyIndex(), []
        self.last_ts = self.due = self.epoch = np.zeros(0, np.int64)
        self.accs = self._fresh_accs()
        self.kept, self.kept_args = self._empty_kept(), self._empty_args()
        metas = [t.schema.metadata or {} for t in tables]
        if any(b"seq" in m for m in metas):
            self.seq = max(int(m.get(b"seq", b"0")) for m in metas)
            self.late_dropped = sum(int(m.get(b"late", b"0")) for m in metas)
            self.wm_applied = min(int(m.get(b"wm", str(MIN_WM).encode())) for m in metas)
        tables = [self._current_layout(t, m) for t, m in zip(tables, metas)]
        table = pa.concat_tables(tables, promote_options="default") if len(tables) > 1 else tables[0]
        if table.num_rows == 0:
            return
        kind = table.column("$kind").to_numpy()
        gids, _ = self.index.lookup([table.column(f"c{p}") for p in self.partition], table.num_rows)
        self._grow()

        def rows(sel: np.ndarray, name: str) -> pa.Array:
            return table.column(name).take(pa.array(sel)).combine_chunks()
        prt = np.flatnonzero(kind == PARTITION)
        if len(prt):
            g = gids[prt]
            self.epoch[g] = rows(prt, "$ep").to_numpy()
            self.last_ts[g] = rows(prt, "$last").to_numpy()
            self.due[g] = rows(prt, "$due").to_numpy()
            if not self.bounded and "$acc" in table.column_names:
                self._merge_legacy(rows(prt, "$acc").to_pylist(), g)
            elif not self.bounded:
                for j, acc in enumerate(self.accs):
                    names = [c for c in table.column_names if c.startswith(f"$s{j}_")]
                    names.sort(key=lambda c: int(c.rsplit("_", 1)[1]))
                    acc.merge([rows(prt, c) for c in names], g)
        kpt = np.flatnonzero(kind == KEPT)
        if len(kpt):
            args = pa.table({f"c{c}": rows(kpt, f"c{c}") for c in self.arg_cols})
            if self.bounded:
                self.kept = {"g": gids[kpt], "t": rows(kpt, "$t").to_numpy(), "ep": rows(kpt, "$ep").to_numpy()}
                self.kept_args = args
            else:  # the row-at-a-time operator kept an unbounded frame's rows: they are the groups' state
                order = np.argsort(gids[kpt], kind="stable")
                args = args.take(pa.array(order))
                for a, acc in zip(self.aggs, self.accs):
                    acc.update(self._args(a, args), gids[kpt][order])
        pnd = np.flatnonzero(kind == PENDING)
        if len(pnd):
            cols = [rows(pnd, f"c{i}") for i in range(self.n_in)]
            self.pending = [pa.Table.from_arrays(cols + [pa.array(gids[pnd]), rows(pnd, "$t"), rows(pnd, "$seq"),
                                                         rows(pnd, "$ep")],
                                                 names=[f"c{i}" for i in range(self.n_in)] +
                                                 ["$g", "$t", "$seq", "$ep"])]

    def _current_layout(self, table: pa.Table, meta: dict) -> pa.Table:
        if "$pending" in table.column_names:
            return self._from_row_layout(table)
        if meta.get(b"layout") == b"columnar-1":
            return self._from_columnar_1(table)
        if meta.get(b"layout", LAYOUT.encode()) != LAYOUT.encode():
            raise ExecutionError("the OVER aggregation's checkpoint has a layout this version does not read; "
                                 "start the job without restoring it")
        return table.replace_schema_metadata(None)

    def _from_columnar_1(self, table: pa.Table) -> pa.Table:
        """The earlier column-wise layout (numeric arguments as `$v<col>`, unbounded frames' running count,
        sum, extrema and squares as JSON) in this one, its accumulators as the row-at-a-time operator's."""
        kept = pc.equal(table.column("$kind"), KEPT)
        for c in self.arg_cols:
            if f"$v{c}" in table.column_names:
                col = pc.if_else(kept, pc.cast(table.column(f"$v{c}"), self.types[c], safe=False),
                                 table.column(f"c{c}"))
                table = table.set_column(table.schema.get_field_index(f"c{c}"), f"c{c}", col)
        floating = [bool(a.args) and pa.types.is_floating(self.types[a.args[0]]) for a in self.aggs]
        texts = table.column("$acc").to_pylist()
        seeds = [None if x is None else json.dumps([(m[1] if f else m[0])[j] for j, f in enumerate(floating)
                                                    for m in [json.loads(x)]]) for x in texts]
        return table.set_column(table.schema.get_field_index("$acc"), "$acc", pa.array(seeds, pa.string()))

    def _merge_legacy(self, texts: list, g: np.ndarray) -> None:
        """Unbounded frames' running [rows, non-null, sum, min, max, squares] per aggregate (the earlier
        layouts' numeric accumulators) into the accumulators' states."""
        have = np.array([x is not None for x in texts], bool)
        if not have.any():
            return
        seeds = [json.loads(x) for x in texts if x is not None]
        g = g[have]
        for j, (a, acc) in enumerate(zip(self.aggs, self.accs)):
            stats = np.array([[0 if v is None else v for v in (list(s[j]) + [0] * 6)[:6]] for s in seeds])
            nn = stats[:, 0 if not a.args else 1].astype(np.int64)
            named = {"nn": pa.array(nn), "sum": pa.array(stats[:, 2]), "sq": pa.array(stats[:, 5]),
                     "ext": pa.array(stats[:, 3 if a.fn == "MIN" else 4]), "ext_valid": pa.array(nn > 0)}
            if not a.args or not pa.types.is_floating(self.types[a.args[0]]):
                named = {k: v.cast(pa.int64()) if k in ("sum", "sq", "ext") else v for k, v in named.items()}
            acc.merge([named[name] for name in acc.state_names], g)

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
        data["$acc"] = pa.array(accs, pa.string())
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
        acc_by_key = {k: a for k, a, f in zip(keys, accs, is_acc.tolist()) if f}
        rows = {f"c{i}": pa.array([k[self.partition.index(i)] if i in self.partition else None
                                   for k in all_keys], types[i]) for i in range(self.n_in)}
        rows["$kind"] = pa.array(np.full(len(all_keys), PARTITION, np.int8))
        rows["$t"] = pa.nulls(len(all_keys), pa.int64())
        rows["$seq"] = pa.nulls(len(all_keys), pa.int64())
        rows["$ep"] = pa.array(np.zeros(len(all_keys), np.int64))
        rows["$acc"] = pa.array([acc_by_key.get(k) for k in all_keys], pa.string())
        rows["$last"] = pa.array([last.get(k, MIN_WM) for k in all_keys], pa.int64())
        rows["$due"] = pa.array([due.get(k, NO_DUE) for k in all_keys], pa.int64())
        out = out.filter(pa.array(kind != PARTITION))
        out = out.append_column("$last", pa.nulls(out.num_rows, pa.int64())).append_column(
            "$due", pa.nulls(out.num_rows, pa.int64()))
        return pa.concat_tables([out.select(list(rows)), pa.table(rows)])


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


def aggregate(call: AggCall, values: list, arg_types: list[pa.DataType] = ()) -> object:
    """One aggregate over a frame's values (a value per row, or a tuple of the row's arguments when the call
    has several; the rows themselves for COUNT(*)): the frame is one group of the call's accumulator."""
    if not call.args:
        args = []
    elif len(call.args) == 1 and not (values and isinstance(values[0], tuple)):
        args = [pa.array(values, arg_types[0] if arg_types else None)]
    else:
        args = [pa.array([v[i] for v in values], arg_types[i] if arg_types else None)
                for i in range(len(call.args))]
    acc = make_accumulator(call, [a.type for a in args], False, over=True)
    acc.update(args, np.zeros(len(values), np.int64))
    return acc.evaluate(np.zeros(1, np.int64))[0].as_py()
