"""SESSION window aggregation: merging windows per PARTITION BY key, aggregated per group key when the
watermark passes their end.

A row opens the window [ts, ts + gap) and merges with every open session of its partition that it intersects: as in
Flink, windows intersect when one ends where the other starts, so rows exactly one gap apart share a session.
A session is open until the watermark reaches end - 1; a row whose own window is already behind the
watermark and merges with no open session is late and dropped (Flink's merging window semantics).
Membership depends on earlier rows: keys whose rows arrive in time order (the usual case) are assigned all at
once, column-wise; the others row by row in arrival order. The aggregation runs vectorized over the buffered
rows when a session fires.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.plan.logical import AggCall, WindowSpec
from sqlstream.runtime.aggregates import aggregate_rows, finalize
from sqlstream.core.changelog import INSERT, data_columns, make_batch
from sqlstream.runtime.operator import Operator, OperatorContext
from sqlstream.runtime.aggregates import expand_grouping_sets, needed_columns
from sqlstream.runtime.event_time import MIN_WM, event_times
from sqlstream.runtime.keys import KeyIndex
from sqlstream.runtime.operators.group_aggregate import seg_accumulate
from sqlstream.core.types import FlinkType


class SessionState:
    """Open sessions per key, the union-find of merged session ids, and the buffered rows. Declared as keyed
    state (`KeyedSnapshot` on the partition keys): a snapshot is the buffered rows, each with its resolved
    session and that session's bounds, and a restore rebuilds the sessions and their merge structure from such
    rows, of one or several subtasks."""

    def __init__(self) -> None:
        self.open: dict[tuple, list[int]] = {}
        self.bounds: dict[int, list[int]] = {}   # sid -> [start, end]
        self.key_of: dict[int, tuple] = {}
        self.parent: dict[int, int] = {}
        self.rows: list[pa.Table] = []
        self.next_sid = 0
        self.key_names: list[str] = []

    def find(self, sid: int) -> int:
        root = sid
        while self.parent.get(root, root) != root:
            root = self.parent[root]
        while sid != root:
            nxt = self.parent.get(sid, sid)
            self.parent[sid] = root
            sid = nxt
        return root

    def snapshot_table(self) -> pa.Table:
        """Buffered rows with their (resolved) session id and that session's bounds."""
        if not self.rows:
            return pa.table({"$sid": pa.array([], pa.int64()), "$start": pa.array([], pa.int64()),
                             "$end": pa.array([], pa.int64())})
        rows = pa.concat_tables(self.rows)
        roots = np.array([self.find(int(x)) for x in rows.column("$sid").to_pylist()], dtype=np.int64)
        rows = rows.set_column(rows.schema.get_field_index("$sid"), "$sid", pa.array(roots))
        rows = rows.append_column("$start", pa.array([self.bounds[r][0] for r in roots], pa.int64()))
        return rows.append_column("$end", pa.array([self.bounds[r][1] for r in roots], pa.int64()))

    def restore_tables(self, tables: list[pa.Table]) -> None:
        """Rebuild from the rows of one or several subtasks' snapshots. Session ids are numbered anew by
        (partition key, id): ids of different subtasks may be equal, and new sessions are numbered after them."""
        key_names = self.key_names
        self.__init__()
        self.key_names = key_names
        tables = [t.replace_schema_metadata(None) for t in tables if t.num_rows]
        if not tables:
            return
        table = pa.concat_tables(tables).combine_chunks()
        ids, _ = KeyIndex().lookup([table.column(k) for k in key_names] + [table.column("$sid")], table.num_rows)
        self.next_sid = int(ids.max()) + 1
        starts, ends = table.column("$start").to_pylist(), table.column("$end").to_pylist()
        keys = list(zip(*[table.column(k).to_pylist() for k in key_names])) if key_names else [()] * len(ids)
        for sid, st, en, k in zip(ids.tolist(), starts, ends, keys):
            if sid not in self.bounds:
                self.bounds[sid] = [st, en]
                self.key_of[sid] = k
                self.open.setdefault(k, []).append(sid)
        rows = table.drop_columns(["$start", "$end"])
        self.rows = [rows.set_column(rows.schema.get_field_index("$sid"), "$sid", pa.array(ids, pa.int64()))]

    def state_size_bytes(self) -> int:
        return sum(t.nbytes for t in self.rows) + 64 * len(self.bounds)


class SessionWindowAggregateOperator(Operator):
    drops_late_rows = True
    name = "SessionWindowAggregate"

    def __init__(self, window: WindowSpec, keys: list[int], aggs: list[AggCall],
                 grouping_sets: list[list[int]] | None, out_names: list[str], out_types: list[FlinkType]):
        self.window, self.keys, self.aggs, self.sets = window, keys, aggs, grouping_sets
        self.out_names, self.out_types = out_names, out_types
        # sessions are per PARTITION BY key (the group keys of a legacy GROUP BY SESSION), then aggregated per
        # group key: without PARTITION BY a session spans every key
        self.session_keys = list(window.partition)
        self.state = SessionState()
        self.state.key_names = [f"c{i}" for i in self.session_keys]
        self.late_dropped = 0
        self.last_wm = MIN_WM
        self.seq = 0
        self.key_index = KeyIndex()
        self.vectorized = True  # False: every row through the row loop (the reference)

    def open(self, ctx: OperatorContext) -> None:
        ctx.keyed_snapshot("sessions", self.state, self.state.key_names)
        ctx.counters("progress", self, ("seq", "last_wm", "late_dropped"), sums=("late_dropped",))

    def _needed(self) -> list[int]:
        return sorted(set(needed_columns(self.keys, self.aggs)) | set(self.session_keys))

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        cols = data_columns(batch)
        n = batch.num_rows
        if n == 0:
            return []
        ts, wm = event_times(batch, self.window.time_index)
        gids, _ = self.key_index.lookup([cols[i] for i in self.session_keys], n)
        sids = np.full(n, -1, dtype=np.int64)
        late = np.zeros(n, dtype=bool)
        rest = self._assign_in_order(gids, ts, wm, sids) if self.vectorized else np.arange(n)
        if len(rest):
            self._assign_rows(rest, gids, ts, wm, sids, late)
        if self.late_rows is not None:
            self.late_rows.add(cols, late, ts, wm)
        keep = np.flatnonzero(sids >= 0)
        seq0 = self.seq
        self.seq += n
        if len(keep):
            take = pa.array(keep)
            data = {f"c{i}": cols[i].take(take) for i in self._needed()}
            data["$sid"] = pa.array(sids[keep])
            data["$rn"] = pa.array(seq0 + keep)
            self.state.rows.append(pa.table(data))
        return []

    def _assign_in_order(self, gids: np.ndarray, ts: np.ndarray, wm: np.ndarray, sids: np.ndarray) -> np.ndarray:
        """Session ids for the rows of keys that arrive in time order, at or after the start of their key's
        only open session, and are not late: all keys at once. A row joins the session before it when that
        session is still open at the row's watermark and reaches the row; else it starts a new one. Returns the
        rows left for the row loop (other keys)."""
        st, gap = self.state, self.window.gap
        n = len(gids)
        order = np.lexsort((np.arange(n), gids))
        g, t, w = gids[order], ts[order], wm[order]
        start = np.r_[True, g[1:] != g[:-1]]
        first = np.flatnonzero(start)
        seg = np.cumsum(start) - 1
        keys = self.key_index.keys
        k_list = [keys[x] for x in g[first].tolist()]
        s0 = np.zeros(len(first), np.int64)
        e0 = np.zeros(len(first), np.int64)
        sid0 = np.full(len(first), -1, np.int64)
        bad = np.zeros(len(first), bool)
        for j, k in enumerate(k_list):
            live = st.open.get(k)
            if live:
                if len(live) > 1:
                    bad[j] = True
                else:
                    sid0[j] = live[0]
                    s0[j], e0[j] = st.bounds[live[0]]
        t_prev = np.r_[t[0], t[:-1]]
        bad[seg[~start & (t < t_prev)]] = True
        bad |= (sid0 >= 0) & (t[first] < s0)
        has0 = sid0[seg] >= 0
        e_first = np.where(start, e0[seg], np.maximum(e0[seg], t_prev + gap))
        e_later = t_prev + gap
        brk_first = (start & ~has0) | ~((e_first - 1 > w) & (t <= e_first))
        brk_later = ~((e_later - 1 > w) & (t <= e_later))
        cum = np.cumsum(brk_first)
        before = cum - brk_first - (cum - brk_first)[first][seg]
        brk = np.where(before > 0, brk_later, brk_first)
        bad[seg[brk & (t + gap - 1 <= w)]] = True  # a late row: the row loop decides
        ok = ~bad[seg]
        brk &= ok
        starts_at = np.flatnonzero(brk)
        new_sid = np.full(n, -1, np.int64)
        new_sid[starts_at] = st.next_sid + np.arange(len(starts_at))
        st.next_sid += len(starts_at)
        last_break = seg_accumulate(np.maximum, np.where(brk, np.arange(n), -1), start, np.full(n, -1), -1)
        row_sid = np.where(last_break >= 0, new_sid[np.maximum(last_break, 0)], sid0[seg])
        sids[order[ok]] = row_sid[ok]
        # each session's end: its last row's timestamp + gap (rows come in time order)
        seg_end = np.r_[start[1:], True]
        sess_end = np.flatnonzero(ok & (seg_end | np.r_[brk[1:], False]))
        for sid, tt, k_pos, lb in zip(row_sid[sess_end].tolist(), t[sess_end].tolist(), seg[sess_end].tolist(),
                                      last_break[sess_end].tolist()):
            if lb < 0:
                b = st.bounds[sid]
                b[1] = max(b[1], tt + gap)
            else:
                k = k_list[k_pos]
                st.bounds[sid] = [int(t[lb]), tt + gap]
                st.key_of[sid] = k
                st.open.setdefault(k, []).append(sid)
        return np.sort(order[~ok])

    def _assign_rows(self, rows: np.ndarray, gids: np.ndarray, ts: np.ndarray, wm: np.ndarray, sids: np.ndarray,
                     late: np.ndarray) -> None:
        """Row by row in arrival order: a row merges every open session of its key it intersects."""
        keys = self.key_index.keys
        gap = self.window.gap
        st = self.state
        for i in rows.tolist():
            t, w, k = int(ts[i]), int(wm[i]), keys[gids[i]]
            lo, hi = t, t + gap
            live = st.open.get(k)
            merged = []
            if live:
                for sid in live:
                    s, e = st.bounds[sid]
                    if e - 1 > w and s <= hi and lo <= e:
                        merged.append(sid)
            if not merged:
                if hi - 1 <= w:
                    self.late_dropped += 1
                    late[i] = True
                    continue
                sid = st.next_sid
                st.next_sid += 1
                st.bounds[sid] = [lo, hi]
                st.key_of[sid] = k
                st.open.setdefault(k, []).append(sid)
                sids[i] = sid
                continue
            target = merged[0]
            b = st.bounds[target]
            b[0], b[1] = min(b[0], lo), max(b[1], hi)
            for other in merged[1:]:
                ob = st.bounds.pop(other)
                b[0], b[1] = min(b[0], ob[0]), max(b[1], ob[1])
                st.parent[other] = target
                st.key_of.pop(other, None)
                st.open[k].remove(other)
            sids[i] = target

    def on_watermark(self, wm: int) -> list[pa.RecordBatch]:
        prev, self.last_wm = self.last_wm, wm
        st = self.state
        fired = [sid for sid, (s, e) in st.bounds.items() if e - 1 <= wm]
        if not fired or not st.rows:
            for sid in fired:
                self._forget(sid)
            return []
        table = pa.concat_tables(st.rows)
        raw = table.column("$sid").to_numpy()
        uniq, inv = np.unique(raw, return_inverse=True)
        roots = np.array([st.find(int(s)) for s in uniq], dtype=np.int64)[inv]
        fired_arr = pa.array(np.array(fired, dtype=np.int64))
        is_fired = pc.is_in(pa.array(roots), value_set=fired_arr)
        mask = np.asarray(is_fired.to_numpy(zero_copy_only=False))
        rest = table.filter(pa.array(~mask))
        st.rows = [rest.set_column(rest.schema.get_field_index("$sid"), "$sid", pa.array(roots[~mask]))] \
            if rest.num_rows else []
        done = table.filter(pa.array(mask))
        done = done.set_column(done.schema.get_field_index("$sid"), "$sid", pa.array(roots[mask]))
        bounds = {sid: tuple(st.bounds[sid]) for sid in fired}
        for sid in fired:
            self._forget(sid)
        return [self._aggregate(done, bounds, prev)]

    def _forget(self, sid: int) -> None:
        st = self.state
        k = st.key_of.pop(sid, None)
        st.bounds.pop(sid, None)
        if k is not None and k in st.open:
            st.open[k].remove(sid)
            if not st.open[k]:
                del st.open[k]

    def _aggregate(self, table: pa.Table, bounds: dict[int, tuple], prev_wm: int) -> pa.RecordBatch:
        """Aggregates per (window_start, window_end, group key): sessions of different partitions with equal
        bounds share a group when the group keys do not tell them apart, as in Flink."""
        key_names = [f"c{i}" for i in self.keys]
        sid = table.column("$sid").to_numpy()
        uniq, inv = np.unique(sid, return_inverse=True)
        table = table.append_column("$ws", pa.array(np.array([bounds[s][0] for s in uniq], np.int64)[inv]))
        table = table.append_column("$we", pa.array(np.array([bounds[s][1] for s in uniq], np.int64)[inv]))
        if self.sets is not None:
            table = expand_grouping_sets(table, key_names, self.sets)
        group_cols = ["$ws", "$we"] + key_names + (["$gs"] if self.sets is not None else [])
        result = aggregate_rows(table, group_cols, self._needed(), self.aggs)
        order = np.lexsort((result.column("$rn_min").to_numpy(), result.column("$we").to_numpy()))
        result = result.take(pa.array(order))
        start, end = result.column("$ws").to_numpy(), result.column("$we").to_numpy()
        arrays = [result.column(k).combine_chunks() for k in key_names]
        arrays += [pa.array(start).cast(pa.timestamp("ms")), pa.array(end).cast(pa.timestamp("ms")),
                   pa.array(end - 1).cast(pa.timestamp("ms"))]
        if self.sets is not None:
            arrays.append(result.column("$gs").combine_chunks())
        arrays += finalize(result, self.aggs)
        arrays = [a.cast(t.to_arrow()) if a.type != t.to_arrow() else a for a, t in zip(arrays, self.out_types)]
        return make_batch(INSERT, arrays, self.out_names, wm=np.full(result.num_rows, prev_wm, dtype=np.int64))

    def metrics(self) -> dict:
        return {"late_records_dropped": self.late_dropped, "state_bytes": self.state.state_size_bytes()}
