"""Top-N over an insert-only input, rows kept as Arrow in the Top-N's keyed rows (with their arrival numbers).

Ordered by one integer or temporal column (and N up to `COLUMNAR_LIMIT`), a partition's top N are numpy
columns (sort key, store row) and a batch is ranked column-wise: rows that cannot beat a full partition's N-th
row are dropped, the rest are laid out per partition after its current top N, and the top N after each row
comes from `prefix_smallest`; the changelog is the difference between each row's list and the one before it.
Other orders keep each partition's entries as a sorted Python list of (sort key, arrival, store row) and step
through the batch row by row. Output rows are gathered from the store with one take; a position that passes
to an identical row emits nothing.

Same changelog as RankOperator: -U/+U for a position that changes hands, +I for a new one; or, when the row
number is not read downstream, -D for the row pushed out of the top N, then +I for the one that entered. Same
state as RankOperator too (its declared keyed rows), so either layout restores from the other's snapshots."""
from __future__ import annotations

import bisect

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.core.changelog import DELETE, INSERT, UPDATE_AFTER, UPDATE_BEFORE, data_columns, make_batch
from sqlstream.runtime.int_keys import as_int64, integer_view
from sqlstream.runtime.key_groups import hash_keys
from sqlstream.runtime.operators.rank import RankOperator
from sqlstream.runtime.prefix_top import prefix_smallest
from sqlstream.runtime.rows import rows_equal

COLUMNAR_LIMIT = 64  # beyond, a batch's lists (rows x N) cost more than the per-row steps
EMPTY = 3  # the class of an empty place: after NULLs first (0), values (1) and NULLs last (2)


def _one_chunk(col: pa.ChunkedArray) -> pa.Array:
    return col.chunk(0) if col.num_chunks == 1 else col.combine_chunks()


class AppendRankOperator(RankOperator):
    """RankOperator for insert-only input."""

    def __init__(self, partition, order, limit, names, types, with_rank: bool = True):
        super().__init__(partition, order, limit, names, types, append_only=True, with_rank=with_rank)
        # no order (LIMIT without ORDER BY): every row ties, so a row enters while its partition has room and
        # never leaves: the first N rows in arrival order
        self.arrival = not order
        col, self.desc = order[0] if order else (None, False)
        self.view = integer_view(types[col]) if len(order) == 1 else None
        self.columnar = self.view is not None and limit <= COLUMNAR_LIMIT
        # partition id -> its top N, best first: how many, each one's class and key, its row in the store
        self.count = np.zeros(0, np.int64)
        self.cls = np.zeros((0, limit), np.int8)
        self.key = np.zeros((0, limit), np.int64)
        self.ref = np.zeros((0, limit), np.int64)

    # ---- the column-wise path ----------------------------------------------------------------------------
    def _order_values(self, col: pa.Array) -> tuple[np.ndarray, np.ndarray]:
        """Each row's place in the ORDER BY, smaller first: a class (NULLs first for ASC, last for DESC, as in
        Flink) and a key (the value, inverted bitwise for DESC)."""
        key = as_int64(col, self.view).copy()
        if self.desc:
            key = ~key
        cls = np.ones(len(key), np.int8)
        if col.null_count:
            nulls = np.asarray(pc.is_null(col))
            cls[nulls] = 2 if self.desc else 0
            key[nulls] = 0
        return cls, key

    def _lists_for(self, gids: np.ndarray) -> None:
        """Room in the lists for partition ids up to those of `gids`."""
        need = len(self.part_index)
        have = len(self.count)
        if need <= have:
            return
        size = max(need, 2 * have, 1024)
        grow = size - have
        self.count = np.concatenate([self.count, np.zeros(grow, np.int64)])
        self.cls = np.concatenate([self.cls, np.full((grow, self.limit), EMPTY, np.int8)])
        self.key = np.concatenate([self.key, np.zeros((grow, self.limit), np.int64)])
        self.ref = np.concatenate([self.ref, np.full((grow, self.limit), -1, np.int64)])

    def _columnar_batch(self, cols: list[pa.Array], n: int) -> list[pa.RecordBatch]:
        gids, _ = self.part_index.lookup([cols[i] for i in self.partition], n)
        self._lists_for(gids)
        cls, key = self._order_values(cols[self.order[0][0]])
        limit = self.limit
        full = self.count[gids] >= limit
        if full.any():  # rows no better than a full partition's N-th row change nothing
            last_cls, last_key = self.cls[gids, limit - 1], self.key[gids, limit - 1]
            full &= (last_cls < cls) | ((last_cls == cls) & (last_key <= key))
            cand = np.flatnonzero(~full)
        else:
            cand = np.arange(n)
        seq0 = self.seq
        self.seq += n
        if not len(cand):
            return []
        # one sequence per partition the batch touches: its top N (best first), then its rows in arrival order
        by_part = np.argsort(gids[cand], kind="stable")
        rows_in_order = cand[by_part]
        parts, first, ncand = np.unique(gids[rows_in_order], return_index=True, return_counts=True)
        held = self.count[parts]
        sizes = held + ncand
        total = int(sizes.sum())
        nseq = len(parts)
        starts = np.cumsum(sizes) - sizes
        seq_of = np.repeat(np.arange(nseq), sizes)
        place = np.arange(total) - starts[seq_of]
        is_entry = place < held[seq_of]
        entries = np.flatnonzero(is_entry)
        arrivals = np.flatnonzero(~is_entry)
        e_part, e_place = parts[seq_of[entries]], place[entries]
        el_cls = np.empty(total, np.int8)
        el_key = np.empty(total, np.int64)
        el_ref = np.full(total, -1, np.int64)
        el_cls[entries], el_key[entries] = self.cls[e_part, e_place], self.key[e_part, e_place]
        el_ref[entries] = self.ref[e_part, e_place]
        el_cls[arrivals], el_key[arrivals] = cls[rows_in_order], key[rows_in_order]
        # every element's place in one order: later sequences first, then sort key, ties the earlier element
        ranked = np.lexsort((el_key, el_cls, nseq - 1 - seq_of))
        values = np.empty(total, np.int64)
        values[ranked] = np.arange(total)
        lists = prefix_smallest(values, limit, total)
        low = np.cumsum(sizes[::-1])[::-1] - sizes  # a sequence's values: low .. low + size - 1

        def elements(rows: np.ndarray, seqs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            """The elements of list rows of the sequences `seqs` (per row), and which places hold one."""
            lo = low[seqs][:, None]
            valid = (rows >= lo) & (rows < lo + sizes[seqs][:, None])
            return ranked[np.minimum(rows, total - 1)], valid

        # the rows that enter a top N, in arrival order: the list before each (the previous step's) and after it
        arrive = np.argsort(rows_in_order, kind="stable")
        steps = arrivals[arrive]
        entered = values[steps] <= lists[steps, limit - 1]
        arrive, steps = arrive[entered], steps[entered]
        step_seq = seq_of[steps]
        after, has_after = elements(lists[steps], step_seq)
        before_rows = lists[np.maximum(steps - 1, 0)]
        before_rows[steps == 0] = total
        before, has_before = elements(before_rows, step_seq)
        # entered rows go to the store, in arrival order
        new_rows = rows_in_order[arrive]
        if len(new_rows):
            take = pa.array(new_rows)
            table = pa.Table.from_arrays([c.take(take) for c in cols], schema=self.rows.schema)
            base = self.rows.append(table, seq=seq0 + new_rows, live=np.ones(len(new_rows), bool))
            el_ref[steps] = base + np.arange(len(new_rows))
        # the partitions' lists after the batch, and the rows no list holds any more
        final, has_final = elements(lists[starts + sizes - 1], np.arange(nseq))
        kept = np.zeros(total, bool)
        kept[final[has_final]] = True
        alive = is_entry.copy()
        alive[steps] = True
        dead = el_ref[alive & ~kept]
        if len(dead):
            self.rows.set("live", dead, False)
        self.held += len(new_rows) - len(dead)
        self.count[parts] = has_final.sum(axis=1)
        self.cls[parts] = np.where(has_final, el_cls[final], EMPTY)
        self.key[parts] = np.where(has_final, el_key[final], 0)
        self.ref[parts] = np.where(has_final, el_ref[final], -1)
        if self.with_rank:
            out = self._position_changes(before, has_before, after, has_after)
        else:
            out = self._row_changes(before, has_before, after, has_after, steps)
        result = self._emit(*out, el_cls, el_key, el_ref) if len(out[0]) else []
        self._compact_lists()
        return result

    def _position_changes(self, before, has_before, after, has_after):
        """Per rank position whose row changed: -U old, +U new (or +I for a position that was empty); arrays of
        (element before or -1, element, row kind, rank), in arrival order and rank order."""
        changed = has_after & (~has_before | (before != after))
        at = np.flatnonzero(changed.ravel())
        pair = has_before.ravel()[at]
        counts = 1 + pair
        first = np.cumsum(counts) - counts
        elem = np.repeat(after.ravel()[at], counts)
        ops = np.full(len(elem), INSERT, np.int8)
        old = first[pair]
        elem[old] = before.ravel()[at[pair]]
        ops[old], ops[old + 1] = UPDATE_BEFORE, UPDATE_AFTER
        ranks = np.repeat(at % self.limit + 1, counts)
        return elem, ops, ranks

    def _row_changes(self, before, has_before, after, has_after, steps):
        """Per row that entered: -D for the row it pushed out of a full top N, then +I for itself."""
        limit = self.limit
        pos = np.argmax(has_after & (after == steps[:, None]), axis=1)
        pushed = has_before[:, limit - 1]
        counts = 1 + pushed
        first = np.cumsum(counts) - counts
        elem = np.repeat(steps, counts)
        ops = np.full(len(elem), INSERT, np.int8)
        ranks = np.repeat(pos + 1, counts)
        out = first[pushed]
        elem[out] = before[pushed, limit - 1]
        ops[out], ranks[out] = DELETE, limit
        return elem, ops, ranks

    def _emit(self, elem, ops, ranks, el_cls, el_key, el_ref) -> list[pa.RecordBatch]:
        """The output rows (elements, row kinds, ranks) gathered from the store; a position that passes to an
        identical row emits nothing (rows of different sort keys differ; others are compared)."""
        ub = np.flatnonzero(ops == UPDATE_BEFORE)
        drop = None
        if len(ub):
            old, new = elem[ub], elem[ub + 1]
            suspects = ub[(el_cls[old] == el_cls[new]) & (el_key[old] == el_key[new])]
            if len(suspects):
                a = self.rows.rows(el_ref[elem[suspects]])
                b = self.rows.rows(el_ref[elem[suspects + 1]])
                same = suspects[rows_equal([c.combine_chunks() for c in a.columns],
                                           [c.combine_chunks() for c in b.columns])]
                if len(same):
                    drop = np.concatenate([same, same + 1])
        if drop is not None:
            keep = np.ones(len(ops), bool)
            keep[drop] = False
            elem, ops, ranks = elem[keep], ops[keep], ranks[keep]
            if not len(ops):
                return []
        rows = self.rows.rows(el_ref[elem])
        arrays = [_one_chunk(c) for c in rows.columns] + [pa.array(ranks, pa.int64())]
        return [make_batch(ops, arrays, self.names)]

    def _compact_lists(self) -> None:
        """Drops store rows no list holds any more, once they are as many as the held ones; else keeps the store
        in few pieces."""
        if len(self.rows) <= 2 * self.held + 65536:
            if self.rows.many_fragments():
                self.rows.merge_newest_fragments()
            return
        live = np.flatnonzero(self.rows.array("live"))
        new_ref = np.full(len(self.rows) + 1, -1, np.int64)  # the last: where an empty place (-1) goes
        new_ref[live] = np.arange(len(live))
        self.rows.keep(live)
        self.ref = new_ref[self.ref]
        self.held = len(live)

    def _restore_lists(self) -> None:
        """The lists of the rows a restore brought: each partition's rows by sort key, ties by arrival."""
        table = self.rows.rows()
        n = table.num_rows
        self.part_index = self._new_part_index()
        self.count = np.zeros(0, np.int64)
        self.cls = np.zeros((0, self.limit), np.int8)
        self.key = np.zeros((0, self.limit), np.int64)
        self.ref = np.zeros((0, self.limit), np.int64)
        seqs = self.rows.array("seq")
        self.seq = int(np.abs(seqs).max()) + 1 if n else 0
        self.held = 0
        if not n:
            return
        cols = [table.column(i).combine_chunks() for i in range(table.num_columns)]
        gids, _ = self.part_index.lookup([cols[i] for i in self.partition], n)
        self._lists_for(gids)
        cls, key = self._order_values(cols[self.order[0][0]])
        ranked = np.lexsort((seqs, key, cls, gids))
        g = gids[ranked]
        start = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
        place = np.arange(n) - np.repeat(start, np.diff(np.r_[start, n]))
        top = place < self.limit
        rows, g, place = ranked[top], g[top], place[top]
        self.cls[g, place], self.key[g, place], self.ref[g, place] = cls[rows], key[rows], rows
        np.add.at(self.count, g, 1)
        if not top.all():
            self.rows.set("live", ranked[~top], False)
        self.held = int(top.sum())

    # ---- the per-row path ----------------------------------------------------------------------------------
    def _note_floors(self, gids) -> None:
        """A full partition's N-th sort key is the value a new row must beat."""
        if self.floor_col is None:
            return
        desc, limit = self.order[0][1], self.limit
        for g in gids:
            part = self.parts.get(g)
            if part is not None and len(part) >= limit:
                k = part[limit - 1][0]
                if k == k and k not in (np.inf, -np.inf):
                    self.floor[g], self.has_floor[g] = (-k if desc else k), True

    def _restored_floors(self) -> None:
        if self.arrival:
            self.count = np.zeros(len(self.part_index), np.int64)
            for g, part in self.parts.items():
                self.count[g] = len(part)
        self._note_floors(list(self.parts))

    def _arrival_batch(self, cols: list[pa.Array], n: int) -> list[pa.RecordBatch]:
        """With no order: the rows that find room in their partition (fewer than N before them), +I each."""
        seq0 = self.seq
        self.seq += n
        if not self.partition and len(self.count) and self.count[0] >= self.limit:
            return []
        gids = self._partition_ids(cols, n)
        if len(self.count) < len(self.part_index):
            self.count = np.concatenate([self.count, np.zeros(len(self.part_index) - len(self.count), np.int64)])
        by_part = np.argsort(gids, kind="stable")
        g = gids[by_part]
        start = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
        place = np.empty(n, np.int64)
        place[by_part] = np.arange(n) - np.repeat(start, np.diff(np.r_[start, n]))
        pos = self.count[gids] + place
        enter = np.flatnonzero(pos < self.limit)
        if not len(enter):
            return []
        np.add.at(self.count, gids[enter], 1)
        take = pa.array(enter)
        picked = [c.take(take) for c in cols]
        base = self._store(picked, None, seq0 + enter, hash_keys(picked, len(enter)))
        self.held += len(enter)
        out = np.column_stack([base + np.arange(len(enter)), np.full(len(enter), INSERT, np.int64), pos[enter] + 1])
        return self._output(out)

    def _index_restored(self) -> None:
        if not self.columnar:
            super()._index_restored()
        elif self.rows is not None and self.rows.take_restored():
            self._restore_lists()

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        self._index_restored()
        if batch.num_rows == 0:
            return []
        cols = data_columns(batch)
        n = batch.num_rows
        if self.columnar:
            return self._columnar_batch(cols, n)
        if self.arrival:
            return self._arrival_batch(cols, n)
        gids = self._partition_ids(cols, n)
        if self.floor_col is not None:  # rows no better than a full partition's N-th row change nothing
            col = cols[self.floor_col]
            values = np.asarray(pc.fill_null(col, 0), dtype=self.floor_dtype)
            hopeless = self.has_floor[gids] & np.asarray(pc.is_valid(col))
            with np.errstate(invalid="ignore"):
                hopeless &= (values <= self.floor[gids]) if self.order[0][1] else (values >= self.floor[gids])
            if hopeless.any():
                keep = np.flatnonzero(~hopeless)
                if len(keep) == 0:
                    return []
                take = pa.array(keep)
                cols, gids, n = [c.take(take) for c in cols], gids[keep], len(keep)
        skeys = self._sort_keys(cols, n)
        base = self._store(cols, None, self.seq + np.arange(n, dtype=np.int64), hash_keys(cols, n))
        limit, parts, seq = self.limit, self.parts, self.seq
        out: list[int] = []  # (store row, row kind, rank) after one another
        dead: list[int] = []
        for i, (g, k) in enumerate(zip(gids.tolist(), skeys)):
            part = parts.get(g)
            if part is None:
                part = parts[g] = []
            entry = (k, seq, base + i)
            seq += 1
            pos = bisect.bisect_right(part, entry)
            if pos >= limit:
                dead.append(base + i)
                continue
            if not self.with_rank:
                if len(part) >= limit:
                    out += (part[limit - 1][2], DELETE, limit)
                    dead.append(part[limit - 1][2])
                    del part[limit - 1:]
                part.insert(pos, entry)
                out += (entry[2], INSERT, pos + 1)
                continue
            old = [e[2] for e in part[pos:]]
            part.insert(pos, entry)
            if len(part) > limit:
                dead.append(part[limit][2])
                del part[limit:]
            for j in range(len(part) - pos):
                r = pos + j + 1
                if j < len(old):
                    out += (old[j], UPDATE_BEFORE, r, part[pos + j][2], UPDATE_AFTER, r)
                else:
                    out += (part[pos + j][2], INSERT, r)
        self.seq = seq
        self.held += n - len(dead)
        if dead:
            self.rows.set("live", dead, False)
        self._note_floors(np.unique(gids).tolist())
        result = self._output(np.array(out, np.int64).reshape(-1, 3)) if out else []
        self._compact()
        return result
