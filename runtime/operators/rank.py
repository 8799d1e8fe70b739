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
partition's list, because each row's changelog depends on the rows before it."""
from __future__ import annotations

import bisect
import functools
import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.core.changelog import DELETE, INSERT, UPDATE_AFTER, UPDATE_BEFORE, data_columns, make_batch
from sqlstream.runtime.key_groups import hash_keys
from sqlstream.runtime.int_keys import key_index
from sqlstream.runtime.operator import Operator, OperatorContext
from sqlstream.runtime.rows import batch_rows, rows_equal

RANKED_ROWS = {"seq": np.int64, "live": bool}


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
        self.hashes: list[int] = []  # per stored row: the hash that finds it when it is retracted
        self.seq_of: list[int] = []  # per stored row: its signed arrival number
        self.by_hash: dict[int, int | list[int]] = {}  # hash -> held store row(s) with it, in arrival order
        self.held = 0  # entries the partitions hold (live rows of the store)
        self.seq = 0
        self.rows = None  # declared in open

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
        new = (hashes if rows is None else hashes[rows]).tolist()
        self.hashes += new
        self.seq_of += seqs.tolist()
        return self.rows.append(table, seq=seqs, live=np.ones(len(seqs), bool))

    def _hold(self, hashes: list[int], base: int) -> None:
        """Registers store rows base, base + 1, ... under their hashes, so that a retraction finds its row
        without scanning the rows that tie with it."""
        by_hash = self.by_hash
        for ref, h in enumerate(hashes, base):
            _hold_one(by_hash, h, ref)

    def _release(self, h: int, ref: int) -> None:
        refs = self.by_hash[h]
        if type(refs) is list:
            refs.remove(ref)
            if len(refs) == 1:
                self.by_hash[h] = refs[0]
        else:
            del self.by_hash[h]

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
        self.hashes = hash_keys(cols, n).tolist() if n else []
        self.seq_of = seqs.tolist()
        self.parts = {}
        for i, (g, k, s) in enumerate(zip(gids.tolist(), skeys, seqs.tolist())):
            self.parts.setdefault(g, []).append((k, s, i))
        for part in self.parts.values():
            part.sort()
        self.by_hash = {}
        if not self.append_only:
            self._hold(self.hashes, 0)
            for refs in self.by_hash.values():  # arrival order
                if type(refs) is list:
                    refs.sort(key=lambda r: abs(self.seq_of[r]))
        self.held = n
        self.seq = int(np.abs(seqs).max()) + 1 if n else 0
        self._restored_floors()

    def _restored_floors(self) -> None:
        """Floors of the restored partitions (AppendRankOperator)."""

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        """Row by row in arrival order, each step touching only its partition's sorted entries: a row that
        lands (or leaves) below the top N changes the entries and emits nothing; a retraction finds its entry
        by binary search on its sort key and its hash."""
        self._index_restored()
        n = batch.num_rows
        if n == 0:
            return []
        cols = data_columns(batch)
        ops = np.asarray(batch.column(0).to_numpy(zero_copy_only=False))
        adds = (ops == INSERT) | (ops == UPDATE_AFTER)
        gids = self._partition_ids(cols, n)
        skeys = self._sort_keys(cols, n)
        hashes = hash_keys(cols, n)
        add_rows = np.flatnonzero(adds)
        seqs = self.tie_sign * (self.seq + np.arange(len(add_rows), dtype=np.int64))
        base = self._store(cols, add_rows, seqs, hashes) if len(add_rows) else 0
        refs = np.full(n, -1, np.int64)
        refs[add_rows] = base + np.arange(len(add_rows))
        self.seq += len(add_rows)
        limit, parts, append_only, with_rank = self.limit, self.parts, self.append_only, self.with_rank
        targets = [] if append_only else self._targets(hashes, adds, add_rows, refs[add_rows]).tolist()
        seq_of = self.seq_of
        out: list[int] = []  # (store row, row kind, rank) after one another
        dropped: list[int] = []  # rows an insert-only input pushed below the top N
        matched: list[int] = []  # (store row, batch row) of each retraction after one another
        row_seq = np.zeros(n, np.int64)
        row_seq[add_rows] = seqs
        bisect_right, bisect_left = bisect.bisect_right, bisect.bisect_left
        for i, (add, g, k, ref, s) in enumerate(zip(adds.tolist(), gids.tolist(), skeys, refs.tolist(),
                                                     row_seq.tolist())):
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
                        out += (part[limit - 1][2], DELETE, limit)
                    part.insert(pos, entry)
                    out += (ref, INSERT, pos + 1)
                else:
                    before = part[:limit]
                    part.insert(pos, entry)
                    after = part[:limit]
                    for j in range(pos, len(after)):
                        if j < len(before):
                            out += (before[j][2], UPDATE_BEFORE, j + 1, after[j][2], UPDATE_AFTER, j + 1)
                        else:
                            out += (after[j][2], INSERT, j + 1)
                if append_only and len(part) > limit:
                    dropped += [e[2] for e in part[limit:]]  # an insert-only input never brings a lower row back
                    del part[limit:]
                continue
            gone = targets[i]
            if gone < 0 or part is None:
                continue
            end = len(part)
            pos = bisect_left(part, (k, seq_of[gone]))
            if pos >= end or part[pos][2] != gone:
                continue
            matched += (gone, i)
            if pos < limit:
                if not with_rank:
                    out += (gone, DELETE, pos + 1)
                    if end > limit:
                        out += (part[limit][2], INSERT, limit)
                else:
                    for j in range(pos, min(end, limit)):
                        if j + 1 < end:
                            out += (part[j][2], UPDATE_BEFORE, j + 1, part[j + 1][2], UPDATE_AFTER, j + 1)
                        else:
                            out += (part[j][2], DELETE, j + 1)
            del part[pos]
            if not part:
                del parts[g]
        dead = matched[::2] + dropped
        if dead:
            self.rows.set("live", dead, False)
        self.held += len(add_rows) - len(dead)
        if matched:
            self._confirm(cols, matched[::2], matched[1::2])
        result = self._output(np.array(out, np.int64).reshape(-1, 3)) if out else []
        self._compact()
        return result

    def _targets(self, hashes: np.ndarray, adds: np.ndarray, add_rows: np.ndarray, add_refs: np.ndarray) -> np.ndarray:
        """Files the batch's new rows under their hashes and takes each retraction's held row away from its hash:
        per batch row, the store row a retraction takes (-1 for none). The held row is the first of its hash in
        sort order: the oldest, or the newest when the newest wins ties. Hashes that several rows of the batch
        (or several held rows) carry go row by row in arrival order."""
        n = len(hashes)
        by_hash = self.by_hash
        target = np.full(n, -1, np.int64)
        refs_of = np.full(n, -1, np.int64)
        refs_of[add_rows] = add_refs
        by_hash_order = np.argsort(hashes, kind="stable")
        sorted_h = hashes[by_hash_order]
        starts = np.flatnonzero(np.r_[True, sorted_h[1:] != sorted_h[:-1]]) if n else np.zeros(0, np.int64)
        sizes = np.diff(np.r_[starts, n])
        single = by_hash_order[starts[sizes == 1]]
        # a row that arrives and is retracted within the batch: the common pair of a hash the batch carries twice
        two = starts[sizes == 2]
        first, second = by_hash_order[two], by_hash_order[two + 1]
        pair = adds[first] & ~adds[second]
        first, second = first[pair], second[pair]
        tangled = set(hashes[by_hash_order[starts[sizes > 2]]].tolist())
        tangled.update(hashes[by_hash_order[two[~pair]]].tolist())
        pair_h = hashes[first].tolist()
        tangled.update(filter(by_hash.__contains__, pair_h))
        single_add = single[adds[single]]
        add_h = hashes[single_add].tolist()
        tangled.update(filter(by_hash.__contains__, add_h))
        single_rem = single[~adds[single]]
        rem_h = hashes[single_rem].tolist()
        held = list(map(by_hash.get, rem_h))
        tangled.update(h for h, x in zip(rem_h, held) if type(x) is list)
        if tangled:
            clean = np.array([h not in tangled for h in pair_h], bool)
            first, second = first[clean], second[clean]
            by_hash.update((h, r) for h, r in zip(add_h, refs_of[single_add].tolist()) if h not in tangled)
        else:
            by_hash.update(zip(add_h, refs_of[single_add].tolist()))
        target[second] = refs_of[first]
        hits = [(i, h, x) for i, h, x in zip(single_rem.tolist(), rem_h, held) if x is not None and h not in tangled]
        if hits:
            rows, hs, refs = zip(*hits)
            target[list(rows)] = refs
            for h in hs:
                del by_hash[h]
        if tangled:
            first_oldest = self.tie_sign > 0
            rows = np.flatnonzero(np.isin(hashes, np.fromiter(tangled, np.uint64, len(tangled))))
            for i, h, add, ref in zip(rows.tolist(), hashes[rows].tolist(), adds[rows].tolist(),
                                      refs_of[rows].tolist()):
                if add:
                    _hold_one(by_hash, h, ref)
                    continue
                x = by_hash.get(h)
                if x is None:
                    continue
                x = x if type(x) is not list else x[0 if first_oldest else -1]
                self._release(h, x)
                target[i] = x
        return target

    def _confirm(self, cols: list[pa.Array], matched: list[int], retracted: list[int]) -> None:
        """A retraction found its row by sort key and hash; the rows must be equal in every column."""
        kept = self.rows.rows(np.array(matched, np.int64))
        rows = pa.array(retracted, pa.int64())
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
            hashes, old, new = self.hashes, refs[ub].tolist(), refs[ub + 1].tolist()
            # rows of different hashes differ; only equal hashes need a comparison
            check = [j for j in np.flatnonzero(~same).tolist() if hashes[old[j]] == hashes[new[j]]]
            if check:
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
        """Drops store rows no partition holds any more, once they outnumber the held ones."""
        if len(self.rows) <= 4 * self.held + 65536:
            return
        live = np.flatnonzero(self.rows.array("live"))
        new_ref = np.full(len(self.rows), -1, np.int64)
        new_ref[live] = np.arange(len(live))
        remap = new_ref.tolist()
        self.rows.keep(live)
        kept = live.tolist()
        self.hashes = [self.hashes[r] for r in kept]
        self.seq_of = [self.seq_of[r] for r in kept]
        self.by_hash = {h: remap[refs] if type(refs) is not list else [remap[r] for r in refs]
                        for h, refs in self.by_hash.items()}
        self.parts = {g: [(e[0], e[1], remap[e[2]]) for e in part] for g, part in self.parts.items()}
        self.held = len(live)

    def metrics(self) -> dict:
        return {"state_bytes": self.rows.size_bytes() if self.rows is not None else 0}


def _hold_one(by_hash: dict, h: int, ref: int) -> None:
    """Store row `ref` under hash `h`: one ref, or a list of them in arrival order when rows are equal."""
    was = by_hash.setdefault(h, ref)
    if was != ref:
        if type(was) is list:
            was.append(ref)
        else:
            by_hash[h] = [was, ref]
