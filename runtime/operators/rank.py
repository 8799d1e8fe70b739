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

Over updating input ordered by one signed integer column, a partition's list is a sorted top list and an
unsorted rest in numpy arrays, stepped by the loops of `rank_lists` (imported only then; compiled once a job has
stepped enough rows); the layout of the
state is the same, so snapshots restore either way."""
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
from sqlstream.runtime.operators.held_rows import HeldRows
from sqlstream.runtime.rows import batch_rows, rows_equal

RANKED_ROWS = {"seq": np.int64, "live": bool}
SPARE = 8  # a top list of the compiled lists holds up to limit + 1 + SPARE entries
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
        # updating input ordered by one signed integer column: the lists in numpy arrays, stepped compiled (open)
        self.compiled = not append_only and col is not None and pa.types.is_signed_integer(types[col])
        self.spare = SPARE
        self.lists = None

    def open(self, ctx: OperatorContext) -> None:
        schema = pa.schema([(f"c{i}", t) for i, t in enumerate(self.types)])
        self.rows = ctx.keyed_rows("ranked_rows", schema, [f"c{i}" for i in self.partition], RANKED_ROWS,
                                   live="live")
        if self.compiled:
            from sqlstream.runtime.operators.rank_lists import PartitionLists
            self.lists = PartitionLists(self.limit, self.spare)
            self.lists.grow(len(self.part_index))

    def _new_part_index(self):
        return key_index([self.types[i] for i in self.partition])

    def _partition_ids(self, cols: list[pa.Array], n: int) -> np.ndarray:
        gids, _ = self.part_index.lookup([cols[i] for i in self.partition], n)
        grow = len(self.part_index) - len(self.floor)
        if grow > 0:
            self.floor = np.concatenate([self.floor, np.zeros(grow, self.floor_dtype)])
            self.has_floor = np.concatenate([self.has_floor, np.zeros(grow, bool)])
        if self.lists is not None:
            self.lists.grow(len(self.part_index))
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
        seqs = self.rows.array("seq")
        hashes = hash_keys(cols, n) if n else np.zeros(0, np.uint64)
        self._hash_of = Growing(hashes)
        self.parts = {}
        refs = np.arange(n, dtype=np.int64)
        keys, fits = self._packed_keys(cols[self.order[0][0]]) if n and self.lists is not None else (None, False)
        if self.lists is not None and (fits or not n):
            self.lists.fill(gids.astype(np.int64), np.zeros(0, np.int64) if keys is None else keys, seqs, refs,
                            len(self.part_index))
        else:
            self.lists = None
            skeys = self._sort_keys(cols, n) if n else []
            for i, (g, k, s) in enumerate(zip(gids.tolist(), skeys, seqs.tolist())):
                self.parts.setdefault(g, []).append((k, s, i))
            for part in self.parts.values():
                part.sort()
        self.hashed = HeldRows()
        if not self.append_only:
            self.hashed.reset(hashes, np.abs(seqs), refs)
        self.held = n
        self.seq = int(np.abs(seqs).max()) + 1 if n else 0
        self._restored_floors()

    def _restored_floors(self) -> None:
        """Floors of the restored partitions (AppendRankOperator)."""

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        """Row by row in arrival order, each step touching only its partition's sorted entries: a row that
        lands (or leaves) below the top N changes the entries and emits nothing; a retraction finds its entry
        by binary search on its sort key and its hash. With numpy lists (`lists`) the steps run compiled."""
        self._index_restored()
        n = batch.num_rows
        if n == 0:
            return []
        cols = data_columns(batch)
        ops = np.asarray(batch.column(0).to_numpy(zero_copy_only=False))
        adds = (ops == INSERT) | (ops == UPDATE_AFTER)
        gids = self._partition_ids(cols, n)
        packed = None
        if self.lists is not None:
            packed, fits = self._packed_keys(cols[self.order[0][0]])
            if not fits:
                self._unsplit()
        hashes = hash_keys(cols, n)
        add_rows = np.flatnonzero(adds)
        seqs = self.tie_sign * (self.seq + np.arange(len(add_rows), dtype=np.int64))
        base = self._store(cols, add_rows, seqs, hashes) if len(add_rows) else len(self.rows)
        refs = np.full(n, -1, np.int64)
        refs[add_rows] = base + np.arange(len(add_rows))
        self.seq += len(add_rows)
        row_seq = np.zeros(n, np.int64)
        row_seq[add_rows] = seqs
        target_arr = None if self.append_only else self.hashed.take(hashes, adds, refs, self.tie_sign > 0)
        if self.lists is not None:
            seq_of = self.rows.array("seq")
            gone_seq = seq_of[np.maximum(target_arr, 0)] if len(seq_of) else np.zeros(n, np.int64)
            out, pairs = self.lists.step(adds, gids.astype(np.int64), packed, row_seq, refs, target_arr, gone_seq,
                                         len(self.rows), self.with_rank)
            matched, retracted, dropped = pairs[:, 0], pairs[:, 1], np.zeros(0, np.int64)
        else:
            out, matched, retracted, dropped = self._steps(cols, n, adds, gids, refs, row_seq, target_arr)
        dead = np.concatenate([matched, dropped])
        if len(dead):
            self.rows.set("live", dead, False)
        self.held += len(add_rows) - len(dead)
        if len(matched):
            self._confirm(cols, matched, retracted)
        result = self._output(out[:, 1:]) if len(out) else []
        self._compact()
        return result

    def _steps(self, cols: list[pa.Array], n: int, adds: np.ndarray, gids: np.ndarray, refs: np.ndarray,
               row_seq: np.ndarray, target_arr: np.ndarray | None) -> tuple[np.ndarray, ...]:
        """The steps of the rows in Python over the partitions' lists of tuples: the changelog (batch row, store
        row, row kind, rank), the (store row, batch row) of each retraction that found its entry, the rows an
        insert-only input pushed below the top N."""
        limit, parts, append_only, with_rank = self.limit, self.parts, self.append_only, self.with_rank
        skeys = self._sort_keys(cols, n)
        targets = [] if append_only else target_arr.tolist()
        # per step: the signed arrival number of the row a retraction takes
        seq_of = self.rows.array("seq")
        gone_seq = seq_of[target_arr].tolist() if not append_only and len(seq_of) else [0] * n
        out: list[int] = []  # (batch row, store row, row kind, rank) after one another
        matched: list[int] = []  # (store row, batch row) of each retraction after one another
        dropped: list[int] = []  # rows an insert-only input pushed below the top N
        bisect_right, bisect_left = bisect.bisect_right, bisect.bisect_left
        refs_l, seqs_l = refs.tolist(), row_seq.tolist()
        # a retraction followed by an add to its partition (an update as a GROUP BY emits it) that lands where the
        # retracted entry was: the entry is replaced, one step for both
        paired = np.zeros(n, bool)
        paired[:-1] = ~adds[:-1] & adds[1:] & (gids[:-1] == gids[1:])
        skip = False
        for i, (add, g, k, ref, s, gs, pair) in enumerate(zip(adds.tolist(), gids.tolist(), skeys, refs_l, seqs_l,
                                                              gone_seq, paired.tolist())):
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
                new = (skeys[i + 1], seqs_l[i + 1], refs_l[i + 1])
                if (pos == 0 or part[pos - 1] < new) and (pos + 1 == end or new < part[pos + 1]):
                    if pos < limit:
                        self._replace_changes(out, part, pos, new, i, i + 1)
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
        pairs = np.array(matched, np.int64).reshape(-1, 2)
        return (np.array(out, np.int64).reshape(-1, 4), pairs[:, 0], pairs[:, 1], np.array(dropped, np.int64))

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

    # ---- packed integer sort keys (`lists`) ---------------------------------------------------------------------
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

    def _unsplit(self) -> None:
        """The lists back to Python lists of entries (a sort key outside the packed range arrived)."""
        gids, keys, seqs, refs = self.lists.entries()
        entries = list(zip(self._python_keys(keys), seqs.tolist(), refs.tolist()))
        bounds = np.r_[np.flatnonzero(np.r_[True, gids[1:] != gids[:-1]]), len(gids)].tolist() if len(gids) else []
        for gid, lo, hi in zip(gids[bounds[:-1]].tolist(), bounds[:-1], bounds[1:]):
            self.parts[gid] = entries[lo:hi]
        self.lists = None

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
        remap = new_ref.tolist() if self.parts else []
        self.rows.keep(live)
        self._hash_of = Growing(self._hash_of.values[live])
        self.hashed.remap(new_ref)
        if self.lists is not None:
            self.lists.remap(new_ref, len(self.part_index))
        self.parts = {g: [(e[0], e[1], remap[e[2]]) for e in part] for g, part in self.parts.items()}
        self.held = len(live)

    def metrics(self) -> dict:
        return {"state_bytes": self.rows.size_bytes() if self.rows is not None else 0}

