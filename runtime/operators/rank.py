"""Top-N and deduplication (ROW_NUMBER() <= N per partition): keeps each partition's rows sorted and emits
Flink's changelog per rank position (-U old / +U new for a position that changes hands, +I for a new
position, -D for a position that empties) when the row number is read downstream; when it is not, per row,
as Flink's Top-N without row number: -D for each row that leaves the top N, then +I for each that enters.
Ties keep arrival order, except in keep-last deduplication, where the newer row wins a tie (entries carry
the negated arrival number).

Rows are kept as Arrow in declared keyed rows (each with its arrival number; a snapshot adds its partition's
key group, so the state splits by key group); a partition is a sorted list of small entries (sort key, signed arrival, store row).
Everything per column is computed over the batch (partition ids, sort keys, a 64-bit hash of each row that
finds a retracted row, output rows gathered with one `take`); what stays per row is the step on its
partition's list, because each row's changelog depends on the rows before it. An update as a GROUP BY emits it
(a retraction, then an add to the same partition) whose new entry lands where the old one was is one step that
replaces the entry.

Over updating input ordered by one signed integer column, a partition's list holds only its best entries (N
and a few spare: its top list); the others (its rest) are per store row columns (partition, packed sort key,
in a top list or not). A row that lands behind its partition's top list, or retracts a rest row, changes no
rank: such rows are found over the batch and applied as counts, without a step; only the rows that reach a top
list step. In a partition new in the batch, an add behind N adds that arrived before it and stay needs no step
either (nor does its retraction); after the steps, its list is made again from every row it holds. Between batches the top lists are cut or refilled from the rests; the layout of the state is the
same, so snapshots restore either way."""
from __future__ import annotations

import bisect
import functools
import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.core.changelog import DELETE, INSERT, UPDATE_AFTER, UPDATE_BEFORE, data_columns, make_batch
from sqlstream.runtime.growing import Growing
from sqlstream.runtime.key_groups import hash_keys
from sqlstream.runtime.int_keys import key_index
from sqlstream.runtime.operator import Operator, OperatorContext
from sqlstream.runtime.operators.fresh_ranks import MAX_CHANGES, behind_stayers, fresh_changes
from sqlstream.runtime.operators.held_rows import HeldRows
from sqlstream.runtime.rows import batch_rows, rows_equal

RANKED_ROWS = {"seq": np.int64, "live": bool}
SPARE = 8  # a partition's top list keeps limit + SPARE entries (between limit + SPARE // 2 and limit + 2 * SPARE)
BOUND = 1 << 62  # packed integer sort keys stay inside (-BOUND, BOUND); NULLs are placed at -BOUND or BOUND


@functools.total_ordering
class _Desc:
    __slots__ = ("v",)

    def __init__(self, v):
        self.v = v

    def __eq__(self, other):
        return self.v == other.v

    def __lt__(self, other):
        return self.v > other.v


def order_key(order: list[tuple[int, bool]], row: tuple) -> tuple:
    """A row's sort key for ORDER BY `order` ((column, descending) pairs), NULLs placed as Flink places them."""
    key = []
    for i, desc in order:
        v = row[i]
        # Flink: NULLS FIRST for ASC, NULLS LAST for DESC
        key.append((0, None) if v is None and not desc else ((2, None) if v is None else (1, _Desc(v) if desc else v)))
    return tuple(key)


class RankOperator(Operator):
    name = "Rank"

    def __init__(self, partition: list[int], order: list[tuple[int, bool]], limit: int, names: list[str],
                 types: list[pa.DataType], append_only: bool = False, newest_wins_ties: bool = False,
                 with_rank: bool = True):
        self.partition, self.order, self.limit = partition, order, limit
        self.with_rank = with_rank
        self.tie_sign = -1 if newest_wins_ties else 1
        self.append_only = append_only
        self.names, self.types = names, types  # input types; output adds the rank (BIGINT)
        col = order[0][0] if len(order) == 1 else None
        self.numeric = col is not None and (pa.types.is_integer(types[col]) or pa.types.is_floating(types[col]))
        # insert-only input ordered by one numeric column: per partition, the value a row must beat to enter
        # a full top N, to skip rows that would change nothing (AppendRankOperator)
        self.floor_col = col if append_only and self.numeric and not newest_wins_ties else None
        self.part_index = self._new_part_index()
        self.floor_dtype = np.int64 if col is not None and pa.types.is_integer(types[col]) else np.float64
        self.floor = np.zeros(0, self.floor_dtype)
        self.has_floor = np.zeros(0, bool)
        self.parts: dict[int, list[tuple]] = {}  # partition id -> sorted entries (sort key, signed arrival, row)
        self._hash_of = Growing(np.zeros(0, np.uint64))  # per store row: the hash that finds it when it is retracted
        self.hashed = HeldRows()  # the store rows a retraction can take, by hash
        self.held = 0  # entries the partitions hold (live rows of the store)
        self.seq = 0
        self.rows = None  # declared in open
        # updating input ordered by one signed integer column: a partition's list holds only its best entries
        # (its top list); the others (its rest) are columns per store row, changed a batch at a time
        self.split = (not append_only and col is not None and pa.types.is_signed_integer(types[col]))
        self.spare = SPARE
        self.rest = np.zeros(0, np.int64)  # per partition id: entries held outside its top list
        self.top_len = np.zeros(0, np.int64)  # per partition id: entries in its top list
        # per store row: partition id, packed sort key, in its top list
        self._gid_of, self._key_of, self._in_top = (Growing(np.zeros(0, t)) for t in (np.int64, np.int64, bool))

    @property
    def gid_of(self) -> np.ndarray:
        return self._gid_of.values

    @property
    def key_of(self) -> np.ndarray:
        return self._key_of.values

    @property
    def in_top(self) -> np.ndarray:
        return self._in_top.values

    def open(self, ctx: OperatorContext) -> None:
        schema = pa.schema([(f"c{i}", t) for i, t in enumerate(self.types)])
        self.rows = ctx.keyed_rows("ranked_rows", schema, [f"c{i}" for i in self.partition], RANKED_ROWS,
                                   live="live")

    def _new_part_index(self):
        return key_index([self.types[i] for i in self.partition])

    def _partition_ids(self, cols: list[pa.Array], n: int) -> np.ndarray:
        gids, _ = self.part_index.lookup([cols[i] for i in self.partition], n)
        grow = len(self.part_index) - len(self.floor)
        if grow > 0:
            self.floor = np.concatenate([self.floor, np.zeros(grow, self.floor_dtype)])
            self.has_floor = np.concatenate([self.has_floor, np.zeros(grow, bool)])
        grow = len(self.part_index) - len(self.rest)
        if grow > 0:
            self.rest = np.concatenate([self.rest, np.zeros(grow, np.int64)])
            self.top_len = np.concatenate([self.top_len, np.zeros(grow, np.int64)])
        return gids

    def _sort_keys(self, cols: list[pa.Array], n: int) -> list:
        """Each row's sort key: one number for one numeric ORDER BY column (negated for DESC, NULLs first for ASC
        and last for DESC as in Flink), computed over the column; else a tuple per row."""
        if self.numeric:
            i, desc = self.order[0]
            col = cols[i]
            v = np.asarray(pc.fill_null(col, 0).to_numpy(zero_copy_only=False))
            keys = (-v if desc else v).tolist()
            if col.null_count:
                for j in np.flatnonzero(np.asarray(pc.is_null(col).to_numpy(zero_copy_only=False))).tolist():
                    keys[j] = math.inf if desc else -math.inf
            return keys
        used = {i for i, _ in self.order}
        rows = batch_rows([cols[i] if i in used else pa.nulls(n) for i in range(len(cols))], n)
        return [order_key(self.order, r) for r in rows]

    def _store(self, cols: list[pa.Array], rows: np.ndarray | None, seqs: np.ndarray, hashes: np.ndarray) -> int:
        """Append the batch's rows `rows` (all when None), with their signed arrival numbers and hashes, to the
        store; the position of the first."""
        picked = cols if rows is None else [c.take(pa.array(rows, pa.int64())) for c in cols]
        table = pa.Table.from_arrays(picked, schema=self.rows.schema)
        self._hash_of.append(hashes if rows is None else hashes[rows])
        return self.rows.append(table, seq=seqs, live=np.ones(len(seqs), bool))

    def _index_restored(self) -> None:
        """The partitions' entries, hashes and arrival counter for the rows a restore brought."""
        if self.rows is None or not self.rows.take_restored():
            return
        table = self.rows.rows()
        n = table.num_rows
        cols = [table.column(i).combine_chunks() for i in range(table.num_columns)]
        self.part_index = self._new_part_index()
        self.floor, self.has_floor = np.zeros(0, self.floor_dtype), np.zeros(0, bool)
        gids = self._partition_ids(cols, n) if n else np.zeros(0, np.int64)
        skeys = self._sort_keys(cols, n) if n else []
        seqs = self.rows.array("seq")
        hashes = hash_keys(cols, n) if n else np.zeros(0, np.uint64)
        self._hash_of = Growing(hashes)
        self.parts = {}
        for i, (g, k, s) in enumerate(zip(gids.tolist(), skeys, seqs.tolist())):
            self.parts.setdefault(g, []).append((k, s, i))
        for part in self.parts.values():
            part.sort()
        self.hashed = HeldRows()
        if not self.append_only:
            self.hashed.reset(hashes, np.abs(seqs), np.arange(n, dtype=np.int64))
        self.held = n
        self.seq = int(np.abs(seqs).max()) + 1 if n else 0
        self.rest = np.zeros(len(self.part_index), np.int64)
        self.top_len = np.bincount(gids, minlength=len(self.part_index)).astype(np.int64) if n else \
            np.zeros(len(self.part_index), np.int64)
        if self.split:
            keys, fits = self._packed_keys(cols[self.order[0][0]]) if n else (np.zeros(0, np.int64), True)
            self._gid_of, self._key_of, self._in_top = Growing(gids.astype(np.int64)), Growing(keys), \
                Growing(np.ones(n, bool))
            if not fits:
                self.split = False
        self._restored_floors()

    def _restored_floors(self) -> None:
        """Floors of the restored partitions (AppendRankOperator)."""

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        """Row by row in arrival order, each step touching only its partition's sorted entries: a row that
        lands (or leaves) below the top N changes the entries and emits nothing; a retraction finds its entry
        by binary search on its sort key and its hash. With top lists (`split`), the rows that land in or leave
        a partition's rest are found over the batch and skip the steps."""
        self._index_restored()
        n = batch.num_rows
        if n == 0:
            return []
        cols = data_columns(batch)
        ops = np.asarray(batch.column(0).to_numpy(zero_copy_only=False))
        adds = (ops == INSERT) | (ops == UPDATE_AFTER)
        gids = self._partition_ids(cols, n)
        packed = None
        if self.split:
            packed, fits = self._packed_keys(cols[self.order[0][0]])
            if fits:
                self._settle(np.flatnonzero(np.bincount(gids, minlength=len(self.rest))))
            else:
                self._unsplit()
        hashes = hash_keys(cols, n)
        add_rows = np.flatnonzero(adds)
        seqs = self.tie_sign * (self.seq + np.arange(len(add_rows), dtype=np.int64))
        base = self._store(cols, add_rows, seqs, hashes) if len(add_rows) else len(self.rows)
        refs = np.full(n, -1, np.int64)
        refs[add_rows] = base + np.arange(len(add_rows))
        self.seq += len(add_rows)
        limit, parts, append_only, with_rank = self.limit, self.parts, self.append_only, self.with_rank
        row_seq = np.zeros(n, np.int64)
        row_seq[add_rows] = seqs
        target_arr = None if append_only else self.hashed.take(hashes, adds, refs, self.tie_sign > 0)
        matched: list[int] = []  # (store row, batch row) of each retraction after one another
        changes = None  # (batch row, store row, row kind, rank) of the partitions ranked over the batch
        big = np.zeros(0, np.int64)  # new partitions of more changes than that, listed again after the steps
        if self.split:
            self._gid_of.append(gids[add_rows])
            self._key_of.append(packed[add_rows])
            self._in_top.append(np.ones(len(add_rows), bool))
            steps = self._steps(adds, gids, packed, row_seq, target_arr, base, add_rows)
            size = len(self.top_len)
            self.top_len += _counts(gids, steps & adds, size) - _counts(gids, steps & ~adds & (target_arr >= 0), size)
            quiet = np.flatnonzero(~steps & ~adds & (target_arr >= 0))
            matched = np.column_stack([target_arr[quiet], quiet]).ravel().tolist()
            changes, covered = self._fresh(steps, adds, gids, packed, row_seq, refs, target_arr)
            if changes is not None:
                gone = covered[~adds[covered] & (target_arr[covered] >= 0)]
                matched += np.column_stack([target_arr[gone], gone]).ravel().tolist()
                steps[covered] = False
            big = self._new_partitions(steps, gids)
            if len(big):
                behind = self._behind_stayers(big, steps, adds, gids, packed, row_seq, refs, target_arr)
                gone = behind[~adds[behind]]
                matched += np.column_stack([target_arr[gone], gone]).ravel().tolist()
                steps[behind] = False
            steps = np.flatnonzero(steps)
            skeys = self._python_keys(packed[steps])
        else:
            steps = np.arange(n)
            skeys = self._sort_keys(cols, n)
        targets = [] if append_only else target_arr.tolist()
        # per step: the signed arrival number of the row a retraction takes
        seq_of = self.rows.array("seq")
        gone_seq = seq_of[target_arr[steps]].tolist() if not append_only and len(seq_of) else [0] * len(steps)
        out: list[int] = []  # (batch row, store row, row kind, rank) after one another
        dropped: list[int] = []  # rows an insert-only input pushed below the top N
        bisect_right, bisect_left = bisect.bisect_right, bisect.bisect_left
        rows_l, refs_l, seqs_l = steps.tolist(), refs[steps].tolist(), row_seq[steps].tolist()
        # a retraction followed by an add to its partition (an update as a GROUP BY emits it) that lands where the
        # retracted entry was: the entry is replaced, one step for both
        paired = np.zeros(len(steps), bool)
        paired[:-1] = ~adds[steps[:-1]] & adds[steps[1:]] & (gids[steps[:-1]] == gids[steps[1:]])
        skip = False
        for at, (i, add, g, k, ref, s, gs, pair) in enumerate(zip(rows_l, adds[steps].tolist(), gids[steps].tolist(),
                                                                 skeys, refs_l, seqs_l, gone_seq, paired.tolist())):
            if skip:
                skip = False
                continue
            part = parts.get(g)
            if add:
                entry = (k, s, ref)
                if part is None:
                    part = parts[g] = []
                pos = bisect_right(part, entry)
                if pos >= limit:
                    if append_only:
                        dropped.append(ref)
                    else:
                        part.insert(pos, entry)
                    continue
                if not with_rank:
                    if len(part) >= limit:
                        out += (i, part[limit - 1][2], DELETE, limit)
                    part.insert(pos, entry)
                    out += (i, ref, INSERT, pos + 1)
                else:
                    before = part[:limit]
                    part.insert(pos, entry)
                    after = part[:limit]
                    for j in range(pos, len(after)):
                        if j < len(before):
                            out += (i, before[j][2], UPDATE_BEFORE, j + 1, i, after[j][2], UPDATE_AFTER, j + 1)
                        else:
                            out += (i, after[j][2], INSERT, j + 1)
                if append_only and len(part) > limit:
                    dropped += [e[2] for e in part[limit:]]  # an insert-only input never brings a lower row back
                    del part[limit:]
                continue
            gone = targets[i]
            if gone < 0 or part is None:
                continue
            end = len(part)
            pos = bisect_left(part, (k, gs))
            if pos >= end or part[pos][2] != gone:
                continue
            matched += (gone, i)
            if pair:
                new = (skeys[at + 1], seqs_l[at + 1], refs_l[at + 1])
                if (pos == 0 or part[pos - 1] < new) and (pos + 1 == end or new < part[pos + 1]):
                    if pos < limit:
                        self._replace_changes(out, part, pos, new, i, rows_l[at + 1])
                    part[pos] = new
                    skip = True
                    continue
            if pos < limit:
                if not with_rank:
                    out += (i, gone, DELETE, pos + 1)
                    if end > limit:
                        out += (i, part[limit][2], INSERT, limit)
                else:
                    for j in range(pos, min(end, limit)):
                        if j + 1 < end:
                            out += (i, part[j][2], UPDATE_BEFORE, j + 1, i, part[j + 1][2], UPDATE_AFTER, j + 1)
                        else:
                            out += (i, part[j][2], DELETE, j + 1)
            del part[pos]
            if not part:
                del parts[g]
        if len(big):
            self._relist(big, adds, gids, packed, row_seq, refs, target_arr, base)
        dead = matched[::2] + dropped
        if dead:
            self.rows.set("live", dead, False)
        self.held += len(add_rows) - len(dead)
        if matched:
            self._confirm(cols, matched[::2], matched[1::2])
        out = np.array(out, np.int64).reshape(-1, 4)
        if changes is not None and len(changes):
            out = np.concatenate([out, changes])
            out = out[np.argsort(out[:, 0], kind="stable")]  # in arrival order, as the steps emit
        result = self._output(out[:, 1:]) if len(out) else []
        self._compact()
        return result

    def _replace_changes(self, out: list[int], part: list[tuple], pos: int, new: tuple, i: int, i_new: int) -> None:
        """What the steps emit for the retraction (batch row `i`) of the entry at `pos` (< N) of `part` and then the
        add (batch row `i_new`) of entry `new`, which lands at the same position, as the per-row steps would."""
        limit, end = self.limit, len(part)
        gone = part[pos][2]
        if not self.with_rank:
            out += (i, gone, DELETE, pos + 1)
            if end > limit:
                out += (i, part[limit][2], INSERT, limit, i_new, part[limit][2], DELETE, limit)
            out += (i_new, new[2], INSERT, pos + 1)
            return
        for j in range(pos, min(end, limit)):
            if j + 1 < end:
                out += (i, part[j][2], UPDATE_BEFORE, j + 1, i, part[j + 1][2], UPDATE_AFTER, j + 1)
            else:
                out += (i, part[j][2], DELETE, j + 1)
        # the list without the retracted entry is part[j + 1] at j >= pos; with the new one, `new` at pos
        for j in range(pos, min(end, limit)):
            now = new[2] if j == pos else part[j][2]
            if j + 1 < end:
                out += (i_new, part[j + 1][2], UPDATE_BEFORE, j + 1, i_new, now, UPDATE_AFTER, j + 1)
            else:
                out += (i_new, now, INSERT, j + 1)

    # ---- top lists and rests (`split`) ------------------------------------------------------------------------
    def _packed_keys(self, col: pa.Array) -> tuple[np.ndarray, bool]:
        """The sort key of each row as one int64 (negated for DESC; NULLs first for ASC, last for DESC), and
        whether every value fits inside (-BOUND, BOUND)."""
        desc = self.order[0][1]
        v = np.asarray(pc.fill_null(col, 0).to_numpy(zero_copy_only=False), np.int64)
        fits = not len(v) or (int(v.min()) > -BOUND and int(v.max()) < BOUND)
        keys = -v if desc else v.copy()
        if col.null_count:
            keys[np.asarray(pc.is_null(col).to_numpy(zero_copy_only=False))] = BOUND if desc else -BOUND
        return keys, fits

    def _python_keys(self, packed: np.ndarray) -> list:
        """Packed sort keys as the partitions' lists hold them (NULLs as infinities, as `_sort_keys` gives)."""
        keys = packed.tolist()
        for j in np.flatnonzero(np.abs(packed) == BOUND).tolist():
            keys[j] = math.inf if keys[j] > 0 else -math.inf
        return keys

    def _steps(self, adds: np.ndarray, gids: np.ndarray, packed: np.ndarray, row_seq: np.ndarray,
               targets: np.ndarray, base: int, add_rows: np.ndarray) -> np.ndarray:
        """Which batch rows must step through their partition's top list: those of partitions with neither a rest
        nor N entries, rows that land before the top list's last entry, retractions of top-list entries. The
        others land in or leave the rest and change no rank: the top list keeps at least N entries while they are
        applied, else (a partition that could run short in this batch) its rest joins its top list first."""
        rest = (self.rest[gids] > 0) | (self.top_len[gids] >= self.limit)  # rows may go to (or leave) a rest
        steps = ~rest
        if not rest.any():
            return steps
        parts = self.parts
        tg = np.unique(gids[rest])
        tails = [parts[g][-1] for g in tg.tolist()]
        tail_key = np.array([k if type(k) is int else (BOUND if k > 0 else -BOUND) for k, _, _ in tails], np.int64)
        tail_seq = np.array([t[1] for t in tails], np.int64)
        top_len = self.top_len[tg]
        at = np.searchsorted(tg, gids)
        at[~rest] = 0
        k_t, s_t = tail_key[at], tail_seq[at]
        steps |= adds & rest & ((packed < k_t) | ((packed == k_t) & (row_seq < s_t)))
        retracts = ~adds & (targets >= 0)
        t = targets[retracts]
        later = t >= base  # retracts a row of this batch
        old_top = np.zeros(len(t), bool)
        old_top[~later] = self.in_top[t[~later]]
        add_of = np.full(len(self.in_top) - base, -1, np.int64)
        add_of[:len(add_rows)] = add_rows
        old_top[later] = steps[add_of[t[later] - base]]
        steps[np.flatnonzero(retracts)[old_top]] = True
        # a partition's top list must keep N entries after each retraction while its rest is not empty
        moving = np.flatnonzero(steps & rest & (adds | retracts))
        if len(moving):
            delta = np.where(adds[moving], 1, -1)
            by_part = np.lexsort((moving, at[moving]))
            g_sorted, d_sorted = at[moving][by_part], delta[by_part]
            run = np.cumsum(d_sorted)
            firsts = np.flatnonzero(np.r_[True, g_sorted[1:] != g_sorted[:-1]])
            run -= np.repeat(run[firsts] - d_sorted[firsts], np.diff(np.r_[firsts, len(run)]))
            short = (d_sorted < 0) & (top_len[g_sorted] + run < self.limit)
            if short.any():
                spill = tg[np.unique(g_sorted[short])]
                self._join_rests(spill, base)
                steps |= np.isin(gids, spill)
        self.in_top[base:base + len(add_rows)] = steps[add_rows]
        cold_adds = add_rows[~steps[add_rows]]
        self.rest += np.bincount(gids[cold_adds], minlength=len(self.rest))
        self.rest -= _counts(gids, retracts & ~steps, len(self.rest))
        return steps

    def _fresh(self, steps: np.ndarray, adds: np.ndarray, gids: np.ndarray, packed: np.ndarray,
               row_seq: np.ndarray, refs: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
        """The changelog of the partitions that held nothing before this batch and bring at most MAX_CHANGES
        changes, computed over the batch (`fresh_changes`) instead of a step per row, and the batch rows it
        covers. Their lists then hold their best limit + spare rows, the others go to their rests."""
        size = len(self.rest)
        change = steps & (adds | (targets >= 0))
        touched = np.flatnonzero(np.bincount(gids[change], minlength=size))
        parts = self.parts
        new = touched[np.array([g not in parts for g in touched.tolist()], bool)] if len(touched) else touched
        new = new[(self.rest[new] == 0) & (_counts(gids, change, size)[new] <= MAX_CHANGES)]
        if not len(new):
            return None, new
        mark = np.zeros(size, bool)
        mark[new] = True
        covered = np.flatnonzero(mark[gids])
        rows = covered[change[covered]]
        ref = np.where(adds[rows], refs[rows], targets[rows])
        changes, left = fresh_changes(rows, gids[rows], adds[rows], packed[rows], row_seq[rows], ref, self.limit,
                                      self.with_rank)
        left = rows[left]
        g, keys, seqs, stored = gids[left], packed[left], row_seq[left], refs[left]
        # the rows left, in list order per partition: the first limit + spare into the list, the others to the rest
        firsts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]]) if len(g) else np.zeros(0, np.int64)
        place = np.arange(len(g)) - np.repeat(firsts, np.diff(np.r_[firsts, len(g)]))
        top = place < self.limit + self.spare
        if not top.all():
            self.in_top[stored[~top]] = False
            moved = np.bincount(g[~top], minlength=size)
            self.rest += moved
            self.top_len -= moved
        g, keys, seqs, stored = g[top], keys[top], seqs[top], stored[top]
        entries = list(zip(self._python_keys(keys), seqs.tolist(), stored.tolist()))
        bounds = np.r_[np.flatnonzero(np.r_[True, g[1:] != g[:-1]]), len(g)].tolist() if len(g) else []
        for gid, lo, hi in zip(g[bounds[:-1]].tolist(), bounds[:-1], bounds[1:]):
            parts[gid] = entries[lo:hi]
        return changes, covered

    def _new_partitions(self, steps: np.ndarray, gids: np.ndarray) -> np.ndarray:
        """The partitions whose rows step that held nothing when the batch started (those fresh_changes left)."""
        touched = np.flatnonzero(np.bincount(gids[steps], minlength=len(self.rest)) & (self.rest == 0))
        parts = self.parts
        return touched[np.array([g not in parts for g in touched.tolist()], bool)] if len(touched) else touched

    def _behind_stayers(self, big: np.ndarray, steps: np.ndarray, adds: np.ndarray, gids: np.ndarray,
                        packed: np.ndarray, row_seq: np.ndarray, refs: np.ndarray,
                        targets: np.ndarray) -> np.ndarray:
        """The batch rows of new partitions `big` that need no step (`behind_stayers`): adds behind N adds that
        arrived before them and stay, and their retractions."""
        mark = np.zeros(len(self.rest), bool)
        mark[big] = True
        rows = np.flatnonzero(steps & mark[gids] & (adds | (targets >= 0)))
        own = np.where(adds[rows], refs[rows], targets[rows])
        return rows[behind_stayers(rows, gids[rows], adds[rows], packed[rows], row_seq[rows], own, self.limit)]

    def _relist(self, big: np.ndarray, adds: np.ndarray, gids: np.ndarray, packed: np.ndarray,
                row_seq: np.ndarray, refs: np.ndarray, targets: np.ndarray, base: int) -> None:
        """The lists of new partitions `big` from every row they hold at the end of the batch (some never
        stepped): the best limit + spare in the list, the others in the rest."""
        mark = np.zeros(len(self.rest), bool)
        mark[big] = True
        taken = np.zeros(len(self.in_top) - base, bool)
        gone = targets[~adds & (targets >= base)] - base
        taken[gone] = True
        left = np.flatnonzero(adds & mark[gids])
        left = left[~taken[refs[left] - base]]
        left = left[np.lexsort((row_seq[left], packed[left], gids[left]))]
        g = gids[left]
        firsts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]]) if len(g) else np.zeros(0, np.int64)
        place = np.arange(len(g)) - np.repeat(firsts, np.diff(np.r_[firsts, len(g)]))
        top = place < self.limit + self.spare
        self.in_top[refs[left]] = top
        self.rest[big] = 0
        self.top_len[big] = 0
        self.rest += np.bincount(g[~top], minlength=len(self.rest))
        self.top_len += np.bincount(g[top], minlength=len(self.rest))
        parts = self.parts
        for gid in big.tolist():
            parts.pop(gid, None)
        left, g = left[top], g[top]
        entries = list(zip(self._python_keys(packed[left]), row_seq[left].tolist(), refs[left].tolist()))
        bounds = np.r_[np.flatnonzero(np.r_[True, g[1:] != g[:-1]]), len(g)].tolist() if len(g) else []
        for gid, lo, hi in zip(g[bounds[:-1]].tolist(), bounds[:-1], bounds[1:]):
            parts[gid] = entries[lo:hi]

    def _join_rests(self, spill: np.ndarray, end: int) -> None:
        """Moves the rest of partitions `spill` (their store rows before `end`) to the end of their top lists."""
        live = self.rows.array("live")[:end]
        rows = np.flatnonzero(live & ~self.in_top[:end] & np.isin(self.gid_of[:end], spill))
        self._to_top(rows, None)

    def _to_top(self, rows: np.ndarray, room: np.ndarray | None) -> None:
        """Appends rest rows to their partitions' top lists in sort order, at most room[partition] of each
        partition (all when None)."""
        if not len(rows):
            return
        seqs = self.rows.array("seq")[rows]
        g, k = self.gid_of[rows], self.key_of[rows]
        order = np.lexsort((seqs, k, g))
        rows, g, k, seqs = rows[order], g[order], k[order], seqs[order]
        if room is not None:
            firsts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
            place = np.arange(len(g)) - np.repeat(firsts, np.diff(np.r_[firsts, len(g)]))
            take = place < room[g]
            rows, g, k, seqs = rows[take], g[take], k[take], seqs[take]
        self.in_top[rows] = True
        moved = np.bincount(g, minlength=len(self.rest))
        self.rest -= moved
        self.top_len += moved
        parts = self.parts
        for gid, key, s, ref in zip(g.tolist(), self._python_keys(k), seqs.tolist(), rows.tolist()):
            parts[gid].append((key, s, ref))

    def _settle(self, touched: np.ndarray) -> None:
        """Before a batch, puts the top list of each partition it touches between limit + SPARE // 2 and
        limit + 2 * SPARE entries (or all of the partition): the longer ones give their tail to the rest, the
        shorter ones take from it. A partition no batch touches again keeps its list as it is."""
        parts, spare = self.parts, self.spare
        keep = self.limit + spare
        lens = self.top_len[touched]
        long = np.flatnonzero(lens > self.limit + 2 * spare)
        if len(long):
            cut = []
            for g in touched[long].tolist():
                part = parts[g]
                cut += [e[2] for e in part[keep:]]
                del part[keep:]
            self.in_top[cut] = False
            self.rest[touched[long]] += lens[long] - keep
            self.top_len[touched[long]] = keep
        short = np.flatnonzero((lens < self.limit + spare // 2) & (self.rest[touched] > 0))
        if len(short):
            room = np.zeros(len(self.rest), np.int64)
            room[touched[short]] = keep - lens[short]
            live = self.rows.array("live")
            rows = np.flatnonzero(live & ~self.in_top & (room[self.gid_of] > 0))
            self._to_top(rows, room)

    def _unsplit(self) -> None:
        """Every rest back into its top list (a sort key outside the packed range arrived)."""
        spill = np.flatnonzero(self.rest)
        if len(spill):
            self._join_rests(spill, len(self.in_top))
        self.split = False

    def _confirm(self, cols: list[pa.Array], matched: list[int], retracted: list[int]) -> None:
        """A retraction found its row by sort key and hash; the rows must be equal in every column."""
        matched = np.array(matched, np.int64)
        order = np.argsort(matched)  # store rows in ascending order are taken from the store's pieces directly
        kept = self.rows.rows(matched[order])
        rows = pa.array(np.array(retracted, np.int64)[order])
        same = rows_equal([c.combine_chunks() for c in kept.columns], [c.take(rows) for c in cols])
        for a, b in zip(kept.columns, cols):  # NaN is a value like any other here, as in the row's hash
            if not same.all() and pa.types.is_floating(a.type):
                same |= np.asarray(pc.fill_null(pc.and_(pc.is_nan(a.combine_chunks()), pc.is_nan(b.take(rows))),
                                                False))
        if not same.all():
            raise RuntimeError(f"{self.name}: two different rows have the same 64-bit hash; the retraction of a row "
                               f"cannot be matched safely")

    def _output(self, out: np.ndarray) -> list[pa.RecordBatch]:
        """The output rows (store row, row kind, rank) gathered from the store; a position that passes to an
        identical row emits nothing."""
        refs = out[:, 0]
        ops_a, ranks_a = out[:, 1].astype(np.int8), out[:, 2]
        rows = self.rows.rows(refs)
        ub = np.flatnonzero(ops_a == UPDATE_BEFORE)
        if len(ub):
            same = refs[ub] == refs[ub + 1]
            hashes = self._hash_of.values
            # rows of different hashes differ; only equal hashes need a comparison
            check = np.flatnonzero(~same & (hashes[refs[ub]] == hashes[refs[ub + 1]]))
            if len(check):
                pairs = ub[check]
                same[check] = rows_equal([c.take(pa.array(pairs)) for c in rows.columns],
                                          [c.take(pa.array(pairs + 1)) for c in rows.columns])
            if same.any():
                keep = np.ones(len(ops_a), dtype=bool)
                keep[ub[same]] = keep[ub[same] + 1] = False
                rows, ops_a, ranks_a = rows.take(pa.array(np.flatnonzero(keep))), ops_a[keep], ranks_a[keep]
                if not len(ops_a):
                    return []
        arrays = [c.combine_chunks() for c in rows.columns] + [pa.array(ranks_a, pa.int64())]
        return [make_batch(ops_a, arrays, self.names)]

    def _compact(self) -> None:
        """Drops store rows no partition holds any more, once they outnumber the held ones; else keeps the store
        in few pieces."""
        if len(self.rows) <= 4 * self.held + 65536:
            if self.rows.many_fragments():
                self.rows.merge_newest_fragments()
            return
        live = np.flatnonzero(self.rows.array("live"))
        new_ref = np.full(len(self.rows), -1, np.int64)
        new_ref[live] = np.arange(len(live))
        remap = new_ref.tolist()
        self.rows.keep(live)
        if self.split:
            self._gid_of, self._key_of, self._in_top = (Growing(a.values[live])
                                                        for a in (self._gid_of, self._key_of, self._in_top))
        self._hash_of = Growing(self._hash_of.values[live])
        self.hashed.remap(new_ref)
        self.parts = {g: [(e[0], e[1], remap[e[2]]) for e in part] for g, part in self.parts.items()}
        self.held = len(live)

    def metrics(self) -> dict:
        return {"state_bytes": self.rows.size_bytes() if self.rows is not None else 0}


def _counts(gids: np.ndarray, rows: np.ndarray, size: int) -> np.ndarray:
    """Per partition id (of `size`), how many of the rows (a mask over the batch) it has."""
    return np.bincount(gids[rows], minlength=size)
