"""Top-1 and deduplication over an insert-only input (ROW_NUMBER() OVER (PARTITION BY .. ORDER BY ..) = 1), column-wise;
also over an updating input Flink ranks update-fast (`upserts`). Each partition keeps only its best row. A batch is
ranked together with the kept rows of the partitions it touches; a row takes over when it beats every earlier row of
its partition (a segmented running maximum of its rank), and emits -U for the row it replaces and +U for itself, or
+I for a new partition, in arrival order: exactly the changelog of the per-row Top-N operator, whatever the batch
size.

Ties keep the earlier row, except in keep-last deduplication, where the newer row wins (Flink replaces the
kept row when the new one's time is not older). The kept rows are declared keyed rows in the Top-N's layout
(rows and arrival numbers; a snapshot adds each partition's key group), so the state splits by key group.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.core.changelog import INSERT, UPDATE_AFTER, UPDATE_BEFORE, data_columns, make_batch
from sqlstream.runtime.int_keys import key_index
from sqlstream.runtime.operator import Operator, OperatorContext
from sqlstream.runtime.operators.rank import RANKED_ROWS
from sqlstream.runtime.rows import rows_equal, take_rows
from sqlstream.runtime.sort import distinct_runs, stable_argsort


def _per_key_null_placement() -> bool:
    """Newer pyarrow takes the NULL placement in each sort key (and deprecates the separate option)."""
    try:
        pc.rank(pa.array([1]), sort_keys=[("", "ascending", "at_start")])
        return True
    except (ValueError, TypeError):
        return False


PER_KEY_NULLS = _per_key_null_placement()


def _dense_rank(col: pa.Array, order: str, nulls: str) -> pa.Array:
    if PER_KEY_NULLS:
        return pc.rank(col, sort_keys=[("", order, nulls)], tiebreaker="dense")
    return pc.rank(col, sort_keys=order, null_placement=nulls, tiebreaker="dense")


def _integer_values(col) -> np.ndarray | None:
    """An integer, timestamp or date column without NULLs as int64 values in its order (None for other columns)."""
    col = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    if col.null_count:
        return None
    if pa.types.is_integer(col.type) and col.type != pa.uint64():
        return np.asarray(col.cast(pa.int64()), dtype=np.int64)
    if pa.types.is_timestamp(col.type) or col.type == pa.date64():
        return np.asarray(col.view(pa.int64()), dtype=np.int64)
    if col.type == pa.date32():
        return np.asarray(col.view(pa.int32()), dtype=np.int64)
    return None


def _packed_positions(cols: list, desc: list[bool]) -> np.ndarray | None:
    """`sort_positions` for integer-like keys without NULLs: the keys packed into one int64 in ORDER BY order
    (when their ranges fit) and ranked by one sort of it instead of one Arrow rank per key and a lexsort."""
    packed, span = None, 1
    for col, d in zip(cols, desc):
        v = _integer_values(col)
        if v is None or not len(v):
            return None
        low, high = int(v.min()), int(v.max())
        width = high - low + 1
        if span * width >= 1 << 62:
            return None
        v = (high - v) if d else (v - low)
        packed = v if packed is None else packed * width + v
        span *= width
    return dense_positions(packed)


def dense_positions(values: np.ndarray) -> np.ndarray:
    """Each value's position among the distinct values (np.unique's inverse)."""
    return distinct_runs(values)[2]


def _one_array(col: pa.ChunkedArray) -> pa.Array:
    """The column as one array (a copy only when it is in pieces: combining one piece copies it too)."""
    return col.chunk(0) if col.num_chunks == 1 else col.combine_chunks()


def sort_positions(cols: list[pa.Array], desc: list[bool]) -> np.ndarray:
    """Dense position of each row in the ORDER BY (0 = first), NULLs first for ASC and last for DESC as in Flink."""
    n = len(cols[0])
    fast = _packed_positions(cols, desc)
    if fast is not None:
        return fast
    keys = []
    for col, d in zip(cols, desc):
        col = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
        r = _dense_rank(col, "descending" if d else "ascending", "at_end" if d else "at_start")
        keys.append(np.asarray(r, dtype=np.int64))
    if len(keys) == 1:
        return keys[0] - 1
    order = np.lexsort(keys[::-1])
    sorted_keys = np.stack([k[order] for k in keys])
    new = np.r_[True, (sorted_keys[:, 1:] != sorted_keys[:, :-1]).any(axis=0)] if n else np.zeros(0, bool)
    pos = np.empty(n, dtype=np.int64)
    pos[order] = np.cumsum(new) - 1
    return pos


class Top1Operator(Operator):
    name = "Rank"

    def __init__(self, partition: list[int], order: list[tuple[int, bool]], names: list[str],
                 types: list[pa.DataType], newest_wins_ties: bool = False, upserts: bool = False):
        self.partition, self.order = partition, order
        # an updating input with a unique key holding the partition, its sort key only moving up (Flink's
        # update-fast Top-1, `planner/rank_strategy.py`): its -U rows are ignored and each other row is a candidate
        self.upserts = upserts
        self.names, self.types = names, types  # input types; output adds the rank (always 1)
        self.newest_wins_ties = newest_wins_ties
        self.index = key_index([types[i] for i in partition])
        self.best = np.zeros(0, np.int64)  # partition id -> row of the store holding its kept row (-1: none)
        self.seq = 0
        self.rows = None  # the kept rows (and replaced ones until compaction), declared in open

    def open(self, ctx: OperatorContext) -> None:
        schema = pa.schema([(f"c{i}", t) for i, t in enumerate(self.types)])
        self.rows = ctx.keyed_rows("ranked_rows", schema, [f"c{i}" for i in self.partition], RANKED_ROWS,
                                   live="live")

    def _index_restored(self) -> None:
        """Partition ids and kept rows for the rows a restore brought."""
        if not self.rows.take_restored():
            return
        table = self.rows.rows()
        self.index, self.best = key_index([self.types[i] for i in self.partition]), np.zeros(0, np.int64)
        seqs = self.rows.array("seq")
        self.seq = int(np.abs(seqs).max()) + 1 if len(seqs) else 0
        if table.num_rows:
            gids, _ = self.index.lookup([table.column(i).combine_chunks() for i in self.partition], table.num_rows)
            self.best = np.full(len(self.index), -1, np.int64)
            self.best[gids] = np.arange(table.num_rows)

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        self._index_restored()
        if self.upserts:
            batch = batch.filter(pc.not_equal(batch.column(0), UPDATE_BEFORE))
        cols = data_columns(batch)
        n = batch.num_rows
        if not n:
            return []
        table = pa.Table.from_arrays(cols, names=[f"c{i}" for i in range(len(cols))])
        gids, _ = self.index.lookup([cols[i] for i in self.partition], n)
        if len(self.best) < len(self.index):
            self.best = np.concatenate([self.best, np.full(len(self.index) - len(self.best), -1, np.int64)])
        # the batch by partition, in arrival order within one; the partitions it touches and their kept rows
        in_order = stable_argsort(gids)
        g_in = gids[in_order]
        heads = np.flatnonzero(np.r_[True, g_in[1:] != g_in[:-1]])
        touched = g_in[heads]
        has_kept = self.best[touched] >= 0
        kept_gids = touched[has_kept]
        m = len(kept_gids)
        kept_at = self.best[kept_gids]
        # candidates: the kept rows of the touched partitions (before the batch), then the batch in arrival order
        group = np.concatenate([kept_gids, gids])
        by_group = np.insert(in_order + m, heads[has_kept], np.arange(m)) if m else in_order
        order_cols = [i for i, _ in self.order]
        if m:
            stored = take_rows(self.rows.rows().select([f"c{i}" for i in order_cols]), kept_at)
            keys = [pa.chunked_array([stored.column(j), cols[i]]) for j, i in enumerate(order_cols)]
        else:
            keys = [cols[i] for i in order_cols]
        score = -sort_positions(keys, [d for _, d in self.order])
        g, s = group[by_group], score[by_group]
        first = np.r_[True, g[1:] != g[:-1]]
        # best score of the earlier rows of the same partition: a segmented running maximum
        seg = np.cumsum(first) - 1
        span = int(s.max() - s.min()) + 1 if len(s) else 1
        running = np.maximum.accumulate(s - s.min() + seg * span)
        before = np.r_[np.int64(-1), running[:-1]] - seg * span + s.min()
        wins = first | ((s >= before) if self.newest_wins_ties else (s > before))
        # each winner replaces the previous winner of its partition (a kept row or an earlier batch row)
        win_pos = np.flatnonzero(wins)
        prev = np.r_[-1, win_pos[:-1]]
        prev[first[win_pos]] = -1
        new_wins = by_group[win_pos] >= m
        w, p = by_group[win_pos[new_wins]], prev[new_wins]
        p = np.where(p >= 0, by_group[np.maximum(p, 0)], -1)
        emitted = stable_argsort(w)
        w, p = w[emitted], p[emitted]
        out = self._emit(table, kept_at, score, w, p, m)
        # keep the last winner of each touched partition
        gw = g[win_pos]
        final = by_group[win_pos[np.r_[gw[1:] != gw[:-1], True]]]
        final = final[final >= m] - m
        if len(final):
            self._keep(table, gids[final], final, n)
        self.seq += n
        return out

    def _keep(self, table: pa.Table, parts: np.ndarray, final: np.ndarray, n: int) -> None:
        """Stores the batch rows `final` as their partitions' kept rows. When most of the batch is kept, the
        batch is stored whole (no copy), its other rows marked as not live."""
        replaced = self.best[parts]
        self.rows.set("live", replaced[replaced >= 0], False)
        sign = -1 if self.newest_wins_ties else 1  # as the Top-N operator stores arrival numbers
        if 2 * len(final) >= n:
            live = np.zeros(n, bool)
            live[final] = True
            stored, seq, at = table, self.seq + np.arange(n), final
        else:
            live = np.ones(len(final), bool)
            stored, seq, at = table.take(pa.array(final)), self.seq + final, np.arange(len(final))
        base = self.rows.append(pa.Table.from_arrays(stored.columns, schema=self.rows.schema), seq=sign * seq,
                                live=live)
        self.best[parts] = base + at
        if len(self.rows) > 2 * max(len(self.index), 1024) or self.rows.many_fragments():
            self._compact()

    def _emit(self, table: pa.Table, kept_at: np.ndarray, score: np.ndarray, w: np.ndarray, p: np.ndarray,
              m: int) -> list[pa.RecordBatch]:
        """The changelog of the winners `w` (candidates: the m kept rows, then the batch) replacing `p` (-1:
        none), in arrival order; a winner equal to the row it replaces emits nothing."""
        if not len(w):
            return []
        has_prev = p >= 0
        # rows of different ORDER BY positions differ; only ties are compared column by column
        tied = np.flatnonzero(has_prev)
        tied = tied[score[p[tied]] == score[w[tied]]]
        # the replaced kept rows, then the batch: the table the changelog is taken from
        old_kept = np.unique(p[has_prev & (p < m)])
        row_of = np.full(m + table.num_rows, -1, np.int64)  # candidate -> row of that table
        row_of[m:] = np.arange(len(old_kept), len(old_kept) + table.num_rows)
        row_of[old_kept] = np.arange(len(old_kept))
        source = table
        if len(old_kept):
            source = pa.concat_tables([take_rows(self.rows.rows(), kept_at[old_kept]), table]).combine_chunks()
        w, p = row_of[w], np.where(has_prev, row_of[np.maximum(p, 0)], -1)
        if len(tied):
            same = np.zeros(len(w), dtype=bool)
            same[tied] = self._same_rows(source, p[tied], w[tied])
            w, p, has_prev = w[~same], p[~same], has_prev[~same]
            if not len(w):
                return []
        counts = 1 + has_prev
        starts = np.cumsum(counts) - counts
        take = np.repeat(w, counts)
        ops = np.full(len(take), INSERT, np.int8)
        old = starts[has_prev]
        take[old] = p[has_prev]
        ops[old] = UPDATE_BEFORE
        ops[old + 1] = UPDATE_AFTER
        rows = source.take(pa.array(take))
        arrays = [_one_array(c) for c in rows.columns] + [pa.array(np.ones(len(take), np.int64))]
        return [make_batch(ops, arrays, self.names)]

    def _same_rows(self, cand: pa.Table, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Whether rows a[i] and b[i] of `cand` are equal, column by column from the ORDER BY's (where a winner
        differs from the row it replaces unless they tie): only pairs equal so far are taken from the next."""
        same = np.ones(len(a), dtype=bool)
        first = [i for i, _ in self.order]
        for i in first + [i for i in range(cand.num_columns) if i not in first]:
            at = np.flatnonzero(same)
            if not len(at):
                break
            col = cand.column(i)
            same[at] = rows_equal([col.take(pa.array(a[at]))], [col.take(pa.array(b[at]))])
        return same

    def _compact(self) -> None:
        """Drops replaced rows (the store keeps the kept rows only) when they are half the store; else joins the
        newest pieces."""
        live = np.flatnonzero(self.best >= 0)
        if len(self.rows) > 2 * max(len(live), 1024):
            self.rows.keep(self.best[live])
            self.best[live] = np.arange(len(live))
            return
        self.rows.merge_newest_fragments()

    def metrics(self) -> dict:
        return {"state_bytes": self.rows.size_bytes() if self.rows is not None else 0}
