"""SESSION window aggregation: merging windows per PARTITION BY key, aggregated per group key when the
watermark passes their end.

A row opens the window [ts, ts + gap) and merges with every open session of its partition that it intersects: as in
Flink, windows intersect when one ends where the other starts, so rows exactly one gap apart share a session.
A session is open until the watermark reaches end - 1; a row whose own window is already behind the
watermark and merges with no open session is late and dropped (Flink's merging window semantics).
Membership depends on earlier rows: keys whose rows arrive in time order after their latest session's start (the
usual case) are assigned all at once, column-wise; the others row by row in arrival order. Sessions live in
arrays indexed by session id, so firing, merging and the bookkeeping of a batch's new sessions are column-wise
too. The aggregation runs vectorized over the buffered rows when a session fires.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from sqlstream.plan.logical import AggCall, WindowSpec
from sqlstream.runtime.aggregates import aggregate_rows, finalize
from sqlstream.core.changelog import INSERT, data_columns, make_batch
from sqlstream.runtime.operator import Operator, OperatorContext
from sqlstream.runtime.aggregates import expand_grouping_sets, needed_columns
from sqlstream.runtime.event_time import MIN_WM, event_times
from sqlstream.runtime.keys import KeyIndex
from sqlstream.core.types import FlinkType
from sqlstream.runtime.windows import window_properties

NONE = -1  # no session
WAVES = 4  # column-wise passes over a batch, each after the row loop took every key's first row it could not
COALESCE_PARTS = 64  # buffered row tables kept apart before they are joined into one


class SessionState:
    """Open sessions and the buffered rows. A session is a slot of the arrays `start`, `end`, `key` (the
    partition key's id in `keys`), `alive` and `parent` (the union-find of merged sessions: a merged-away session
    points to the one it joined); per key id, `n_open` counts its open sessions and `latest_of` names the one
    that starts last. Buffered rows are tables of the needed columns, `$sid` and `$rn`, each with a lower bound
    of its rows' session ends (ends only grow), so a watermark reads only the tables it may fire rows of.

    Declared as keyed state (`KeyedSnapshot` on the partition keys): a snapshot is the buffered rows, each with
    its resolved session and that session's bounds, and a restore rebuilds the sessions and their merge structure
    from such rows, of one or several subtasks."""

    def __init__(self) -> None:
        self.keys = KeyIndex()
        self.start = np.empty(0, np.int64)
        self.end = np.empty(0, np.int64)
        self.key = np.empty(0, np.int64)
        self.alive = np.empty(0, bool)
        self.parent = np.empty(0, np.int64)
        self.next_sid = 0
        self.live = 0
        self.latest_of = np.empty(0, np.int64)
        self.n_open = np.empty(0, np.int64)
        self.rows: list[tuple[pa.Table, int]] = []
        self.row_bytes = 0
        self.key_names: list[str] = []

    # ---- sessions ------------------------------------------------------------------------------
    def new_sessions(self, count: int) -> int:
        """Room for `count` new sessions (open, their bounds and key still to be set); the first one's id."""
        first = self.next_sid
        need = first + count
        if need > len(self.start):
            size = max(need, 2 * len(self.start), 1024)
            for name, fill in (("start", 0), ("end", 0), ("key", NONE), ("alive", False), ("parent", 0)):
                old = getattr(self, name)
                grown = np.full(size, fill, dtype=old.dtype)
                grown[:len(old)] = old
                setattr(self, name, grown)
        self.next_sid = need
        ids = np.arange(first, need)
        self.parent[ids] = ids
        self.alive[ids] = True
        self.live += count
        return first

    def key_room(self) -> None:
        """The per-key arrays cover every key id the key index has given."""
        if len(self.keys) > len(self.n_open):
            size = max(len(self.keys), 2 * len(self.n_open), 1024)
            latest, count = np.full(size, NONE, np.int64), np.zeros(size, np.int64)
            latest[:len(self.latest_of)], count[:len(self.n_open)] = self.latest_of, self.n_open
            self.latest_of, self.n_open = latest, count

    def open_by_key(self, marked: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The open sessions of the keys `marked` (a mask over key ids), by key and then start: their ids, their
        keys, and which is its key's last (on equal starts, the later id)."""
        sids = np.flatnonzero(self.alive[:self.next_sid])
        sids = sids[marked[self.key[sids]]]
        sids = sids[np.lexsort((self.start[sids], self.key[sids]))]
        keys = self.key[sids]
        last = np.ones(len(keys), bool)
        last[:-1] = keys[1:] != keys[:-1]
        return sids, keys, last

    def opened(self, sids: np.ndarray) -> None:
        """New sessions (ascending ids grouped by key, each later than its key's open ones) are open."""
        if not len(sids):
            return
        keys = self.key[sids]
        first = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        last = np.r_[first[1:] - 1, len(sids) - 1]
        self.latest_of[keys[last]] = sids[last]
        self.n_open[keys[first]] += last - first + 1

    def close(self, sids: np.ndarray) -> None:
        """Sessions that fired are no longer open for their keys."""
        self.alive[sids] = False
        self.live -= len(sids)
        keys, counts = np.unique(self.key[sids], return_counts=True)
        self.n_open[keys] -= counts
        gone = keys[~self.alive[self.latest_of[keys]]]
        self.latest_of[gone] = NONE
        self.recount(gone[self.n_open[gone] > 0])

    def recount(self, keys: np.ndarray) -> None:
        """`n_open` and `latest_of` of these keys from their open sessions."""
        if not len(keys):
            return
        marked = np.zeros(len(self.n_open), bool)
        marked[keys] = True
        sids, of, last = self.open_by_key(marked)
        self.n_open[keys] = 0
        self.latest_of[keys] = NONE
        np.add.at(self.n_open, of, 1)
        self.latest_of[of[last]] = sids[last]

    def roots(self, sids: np.ndarray) -> np.ndarray:
        """The session each id ended up in (after merges)."""
        roots = self.parent[sids]
        while True:
            up = self.parent[roots]
            if np.array_equal(up, roots):
                return roots
            roots = up

    # ---- buffered rows -------------------------------------------------------------------------
    def add_rows(self, table: pa.Table, end_bound: int) -> None:
        self.rows.append((table, end_bound))
        self.row_bytes += table.nbytes
        if len(self.rows) > COALESCE_PARTS:
            self.rows = [(pa.concat_tables([t for t, _ in self.rows]), min(b for _, b in self.rows))]

    def take_fired(self, wm: int, fired: np.ndarray) -> pa.Table | None:
        """Remove and return (in arrival order) the buffered rows of the sessions `fired`, with `$sid` resolved;
        only tables whose end bound the watermark reached can hold any."""
        is_fired = np.zeros(self.next_sid, bool)
        is_fired[fired] = True
        done, kept = [], []
        for table, bound in self.rows:
            if bound - 1 > wm:
                kept.append((table, bound))
                continue
            roots = self.roots(table.column("$sid").to_numpy())
            mask = is_fired[roots]
            if mask.any():
                done.append(_with_sid(table.filter(pa.array(mask)), roots[mask]))
            if not mask.all():
                rest = ~mask
                kept.append((_with_sid(table.filter(pa.array(rest)), roots[rest]), int(self.end[roots[rest]].min())))
        self.rows = kept
        self.row_bytes = sum(t.nbytes for t, _ in kept)
        return pa.concat_tables(done) if done else None

    def compact(self) -> None:
        """Renumber the open sessions 0..n-1 and forget the rest (and the keys without an open session), once
        closed sessions outnumber them: the arrays stay as large as what is open."""
        n = self.next_sid
        if n < 2 * self.live + 4096:
            return
        keep = np.flatnonzero(self.alive[:n])
        new_id = np.full(n, NONE, np.int64)
        new_id[keep] = np.arange(len(keep))
        self.rows = [(_with_sid(t, new_id[self.roots(t.column("$sid").to_numpy())]), b) for t, b in self.rows]
        for name in ("start", "end", "key", "alive"):
            setattr(self, name, getattr(self, name)[keep])
        self.parent = np.arange(len(keep), dtype=np.int64)
        self.next_sid = len(keep)
        one = self.latest_of >= 0
        self.latest_of[one] = new_id[self.latest_of[one]]
        unused = np.flatnonzero(self.n_open[:len(self.keys)] == 0)
        self.keys.release(unused)

    # ---- snapshots -----------------------------------------------------------------------------
    def snapshot_table(self) -> pa.Table:
        """Buffered rows with their (resolved) session id and that session's bounds."""
        if not self.rows:
            return pa.table({"$sid": pa.array([], pa.int64()), "$start": pa.array([], pa.int64()),
                             "$end": pa.array([], pa.int64())})
        rows = pa.concat_tables([t for t, _ in self.rows])
        roots = self.roots(rows.column("$sid").to_numpy())
        rows = _with_sid(rows, roots)
        rows = rows.append_column("$start", pa.array(self.start[roots]))
        return rows.append_column("$end", pa.array(self.end[roots]))

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
        n = table.num_rows
        ids, _ = KeyIndex().lookup([table.column(k) for k in key_names] + [table.column("$sid")], n)
        count = int(ids.max()) + 1
        self.new_sessions(count)
        first = np.full(count, n, np.int64)
        np.minimum.at(first, ids, np.arange(n))
        keys, _ = self.keys.lookup([table.column(k) for k in key_names], n)
        self.key_room()
        self.start[:count] = table.column("$start").to_numpy()[first]
        self.end[:count] = table.column("$end").to_numpy()[first]
        self.key[:count] = keys[first]
        self.recount(np.unique(keys))
        rows = _with_sid(table.drop_columns(["$start", "$end"]), ids)
        self.add_rows(rows, int(self.end[ids].min()))

    def state_size_bytes(self) -> int:
        return self.row_bytes + 64 * self.live


def _with_sid(table: pa.Table, sids: np.ndarray) -> pa.Table:
    return table.set_column(table.schema.get_field_index("$sid"), "$sid", pa.array(sids, pa.int64()))


class SessionWindowAggregateOperator(Operator):
    drops_late_rows = True
    name = "SessionWindowAggregate"

    def __init__(self, window: WindowSpec, keys: list[int], aggs: list[AggCall],
                 grouping_sets: list[list[int]] | None, out_names: list[str], out_types: list[FlinkType],
                 rows: bool = False):
        self.window, self.keys, self.aggs, self.sets = window, keys, aggs, grouping_sets
        # rows: the SESSION window TVF itself, which puts out each row of a closed session with its bounds
        self.rows = rows
        self.out_names, self.out_types = out_names, out_types
        # sessions are per PARTITION BY key (the group keys of a legacy GROUP BY SESSION), then aggregated per
        # group key: without PARTITION BY a session spans every key
        self.session_keys = list(window.partition)
        self.state = SessionState()
        self.state.key_names = [f"c{i}" for i in self.session_keys]
        self.late_dropped = 0
        self.last_wm = MIN_WM
        self.seq = 0
        self.vectorized = True  # False: every row through the row loop (the reference)

    def open(self, ctx: OperatorContext) -> None:
        ctx.keyed_snapshot("sessions", self.state, self.state.key_names)
        ctx.counters("progress", self, ("seq", "last_wm", "late_dropped"), sums=("late_dropped",))

    def _needed(self) -> list[int]:
        if self.rows:  # every input column (the output's, before the window's three)
            return list(range(len(self.out_names) - 3))
        return sorted(set(needed_columns(self.keys, self.aggs)) | set(self.session_keys))

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        cols = data_columns(batch)
        n = batch.num_rows
        if n == 0:
            return []
        st = self.state
        ts, wm = event_times(batch, self.window.time_index)
        gids, _ = st.keys.lookup([cols[i] for i in self.session_keys], n)
        st.key_room()
        sids = np.full(n, -1, dtype=np.int64)
        late = np.zeros(n, dtype=bool)
        rest = np.arange(n)
        for _ in range(WAVES if self.vectorized else 0):
            rest = self._assign_in_order(rest, gids, ts, wm, sids)
            if not len(rest):
                break
            _, firsts = np.unique(gids[rest], return_index=True)  # each key's row the column-wise pass stopped at
            self._assign_rows(rest[np.sort(firsts)], gids, ts, wm, sids, late)
            rest = np.delete(rest, firsts)
            if not len(rest):
                break
        if len(rest):
            self._assign_rows(rest, gids, ts, wm, sids, late)
        if self.late_rows is not None:
            self.late_rows.add(cols, late, ts, wm)
        keep = np.flatnonzero(sids >= 0)
        seq0 = self.seq
        self.seq += n
        if len(keep):
            if len(keep) == n:
                data = {f"c{i}": cols[i] for i in self._needed()}
            else:
                take = pa.array(keep)
                data = {f"c{i}": cols[i].take(take) for i in self._needed()}
            data["$sid"] = pa.array(sids[keep])
            data["$rn"] = pa.array(seq0 + keep)
            st.add_rows(pa.table(data), int(st.end[st.roots(sids[keep])].min()))
        return []

    def _assign_in_order(self, rows: np.ndarray, gids: np.ndarray, ts: np.ndarray, wm: np.ndarray,
                         sids: np.ndarray) -> np.ndarray:
        """Session ids for `rows` (in arrival order), all keys at once, as far as each key's rows arrive in time
        order, at or after the start of the key's latest open session (which its other open sessions end before),
        and do not start a late session. A row joins the session before it when that session is still open at
        the row's watermark and reaches the row; else it starts a new one. Returns the rows left (each key's rows
        from the first that is none of these, in arrival order)."""
        st, gap = self.state, self.window.gap
        n = len(rows)
        # stable: each key's rows stay in arrival order (a radix sort when key ids fit 16 bits)
        g = gids[rows]
        order = rows[np.argsort(g.astype(np.uint16) if len(st.keys) <= 1 << 16 else g, kind="stable")]
        g, t, w = gids[order], ts[order], wm[order]
        start = np.r_[True, g[1:] != g[:-1]]
        first = np.flatnonzero(start)
        seg = np.cumsum(start) - 1
        g_first = g[first]
        sid0 = st.latest_of[g_first]
        bad = np.zeros(len(first), bool)
        several = np.flatnonzero(st.n_open[g_first] > 1)
        if len(several):  # the latest session only, when the key's others end before it starts
            marked = np.zeros(len(st.n_open), bool)
            marked[g_first[several]] = True
            open_sids, keys, last = st.open_by_key(marked)
            ends = np.where(last, MIN_WM, st.end[open_sids])
            others_end = np.maximum.reduceat(ends, np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]))
            bad[np.searchsorted(g_first, keys[last])] = others_end >= st.start[open_sids[last]]
        has = sid0 >= 0
        s0, e0 = np.zeros(len(first), np.int64), np.zeros(len(first), np.int64)
        s0[has], e0[has] = st.start[sid0[has]], st.end[sid0[has]]
        t_prev = np.r_[t[0], t[:-1]]
        has0 = has[seg]
        e_first = np.where(start, e0[seg], np.maximum(e0[seg], t_prev + gap))
        e_later = t_prev + gap
        brk_first = (start & ~has0) | ~((e_first - 1 > w) & (t <= e_first))
        brk_later = ~((e_later - 1 > w) & (t <= e_later))
        cum = np.cumsum(brk_first)
        before = cum - brk_first - (cum - brk_first)[first][seg]
        brk = np.where(before > 0, brk_later, brk_first)
        stop = (start & (bad[seg] | has0 & (t < s0[seg]))) | (~start & (t < t_prev)) \
            | (brk & (t + gap - 1 <= w))  # a late row: the row loop decides
        cut = np.full(len(first), n)
        stops = np.flatnonzero(stop)
        at_seg, at = np.unique(seg[stops], return_index=True)
        cut[at_seg] = stops[at]
        ok = np.arange(n) < cut[seg]
        brk &= ok
        starts_at = np.flatnonzero(brk)
        new_sid = np.full(n, -1, np.int64)
        new_sid[starts_at] = st.new_sessions(len(starts_at)) + np.arange(len(starts_at))
        # the row that started each row's session in this batch (-1: the key's open session goes on)
        last_break = np.maximum.accumulate(np.where(brk, np.arange(n), -1))
        last_break[last_break < first[seg]] = -1
        row_sid = np.where(last_break >= 0, new_sid[np.maximum(last_break, 0)], sid0[seg])
        sids[order[ok]] = row_sid[ok]
        # each session's end: its last row's timestamp + gap (rows come in time order)
        ends = np.flatnonzero(ok & (np.r_[start[1:], True] | np.r_[brk[1:], False] | ~np.r_[ok[1:], False]))
        sid_e, t_e, lb_e = row_sid[ends], t[ends], last_break[ends]
        grown = lb_e < 0
        st.end[sid_e[grown]] = np.maximum(st.end[sid_e[grown]], t_e[grown] + gap)
        made, lb_made = sid_e[~grown], lb_e[~grown]
        st.start[made] = t[lb_made]
        st.end[made] = t_e[~grown] + gap
        st.key[made] = g[lb_made]
        st.opened(made)
        return np.sort(order[~ok])

    def _assign_rows(self, rows: np.ndarray, gids: np.ndarray, ts: np.ndarray, wm: np.ndarray, sids: np.ndarray,
                     late: np.ndarray) -> None:
        """Row by row in arrival order: a row merges every open session of its key it intersects."""
        gap = self.window.gap
        st = self.state
        keys = np.unique(gids[rows])
        marked = np.zeros(len(st.n_open), bool)
        marked[keys] = True
        open_sids, of, _ = st.open_by_key(marked)
        live_of: dict[int, list[int]] = {}
        for sid, k in zip(open_sids.tolist(), of.tolist()):
            live_of.setdefault(k, []).append(sid)
        for i in rows.tolist():
            t, w, k = int(ts[i]), int(wm[i]), int(gids[i])
            lo, hi = t, t + gap
            live = live_of.setdefault(k, [])
            merged = [sid for sid in live if st.end[sid] - 1 > w and st.start[sid] <= hi and lo <= st.end[sid]]
            if not merged:
                if hi - 1 <= w:
                    self.late_dropped += 1
                    late[i] = True
                    continue
                sid = st.new_sessions(1)
                st.start[sid], st.end[sid], st.key[sid] = lo, hi, k
                live.append(sid)
                sids[i] = sid
                continue
            target = merged[0]
            st.start[target], st.end[target] = min(st.start[target], lo), max(st.end[target], hi)
            for other in merged[1:]:
                st.start[target] = min(st.start[target], st.start[other])
                st.end[target] = max(st.end[target], st.end[other])
                st.parent[other] = target
                st.alive[other] = False
                st.live -= 1
                live.remove(other)
            sids[i] = target
        st.recount(keys)

    def on_watermark(self, wm: int) -> list[pa.RecordBatch]:
        prev, self.last_wm = self.last_wm, wm
        st = self.state
        n = st.next_sid
        fired = np.flatnonzero(st.alive[:n] & (st.end[:n] - 1 <= wm))
        if not len(fired):
            return []
        done = st.take_fired(wm, fired) if st.rows else None
        out = [] if done is None else [self._session_rows(done, prev) if self.rows else self._aggregate(done, prev)]
        st.close(fired)
        st.compact()
        return out

    def _session_rows(self, table: pa.Table, prev_wm: int) -> pa.RecordBatch:
        """The rows of closed sessions with their window_start, window_end and window_time, by session end and
        then arrival (the watermark before them the one before this step, so operators after take them)."""
        sid = table.column("$sid").to_numpy()
        start, end = self.state.start[sid], self.state.end[sid]
        order = np.lexsort((table.column("$rn").to_numpy(), end))
        table = table.take(pa.array(order))
        arrays = [table.column(f"c{i}").combine_chunks() for i in self._needed()]
        arrays += window_properties(self.window, start[order], end[order])
        arrays = [a.cast(t.to_arrow()) if a.type != t.to_arrow() else a for a, t in zip(arrays, self.out_types)]
        return make_batch(INSERT, arrays, self.out_names, wm=np.full(table.num_rows, prev_wm, dtype=np.int64))

    def _aggregate(self, table: pa.Table, prev_wm: int) -> pa.RecordBatch:
        """Aggregates per (window_start, window_end, group key): sessions of different partitions with equal
        bounds share a group when the group keys do not tell them apart, as in Flink."""
        key_names = [f"c{i}" for i in self.keys]
        sid = table.column("$sid").to_numpy()
        table = table.append_column("$ws", pa.array(self.state.start[sid]))
        table = table.append_column("$we", pa.array(self.state.end[sid]))
        if self.sets is not None:
            table = expand_grouping_sets(table, key_names, self.sets)
        group_cols = ["$ws", "$we"] + key_names + (["$gs"] if self.sets is not None else [])
        result = aggregate_rows(table, group_cols, self._needed(), self.aggs)
        order = np.lexsort((result.column("$rn_min").to_numpy(), result.column("$we").to_numpy()))
        result = result.take(pa.array(order))
        start, end = result.column("$ws").to_numpy(), result.column("$we").to_numpy()
        arrays = [result.column(k).combine_chunks() for k in key_names]
        arrays += window_properties(self.window, start, end)
        if self.sets is not None:
            arrays.append(result.column("$gs").combine_chunks())
        arrays += finalize(result, self.aggs)
        arrays = [a.cast(t.to_arrow()) if a.type != t.to_arrow() else a for a, t in zip(arrays, self.out_types)]
        return make_batch(INSERT, arrays, self.out_names, wm=np.full(result.num_rows, prev_wm, dtype=np.int64))

    def metrics(self) -> dict:
        return {"late_records_dropped": self.late_dropped, "state_bytes": self.state.state_size_bytes()}
