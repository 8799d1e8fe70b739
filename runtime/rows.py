"""Row tuples and Arrow, for the operators whose bookkeeping is per row (joins, rank, OVER, set operations):
the conversions both ways, the state-table layout (columns c0..cN plus the operator's own columns), and rows
taken from a table kept in appended pieces."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def batch_rows(cols: list[pa.Array], n: int) -> list[tuple]:
    """The rows of n-row columns as tuples (n empty tuples when there are no columns)."""
    return list(zip(*[c.to_pylist() for c in cols])) if cols else [()] * n


def columns(rows: list[tuple], types: list[pa.DataType]) -> list[pa.Array]:
    return [pa.array([r[j] for r in rows], t) for j, t in enumerate(types)]


def rows_table(rows: list[tuple], types: list[pa.DataType], extra: dict[str, pa.Array] | None = None) -> pa.Table:
    """A state table: the rows as columns c0..cN, then `extra`."""
    cols = {f"c{i}": c for i, c in enumerate(columns(rows, types))}
    cols.update(extra or {})
    return pa.table(cols)


def table_rows(table: pa.Table, n: int) -> list[tuple]:
    """The rows of a state table written by rows_table with n row columns."""
    return batch_rows([table.column(f"c{i}") for i in range(n)], table.num_rows)


def rows_equal(a: list[pa.Array], b: list[pa.Array]) -> np.ndarray:
    """Row-wise equality of two column lists, NULL equal to NULL."""
    same = np.ones(len(a[0]), dtype=bool)
    for x, y in zip(a, b):
        eq = pc.fill_null(pc.equal(x, y), False)
        both_null = pc.and_(pc.is_null(x), pc.is_null(y))
        same &= np.asarray(pc.or_(eq, both_null))
    return same


def pop_ready(pending: dict, key, wm: int, order=None) -> list[tuple]:
    """Entries (timestamp first) of `pending[key]` the watermark `wm` has passed, in (timestamp, ..) order;
    the rest stay, and an emptied key is dropped."""
    buf = pending.get(key)
    if not buf:
        return []
    ready = sorted((e for e in buf if e[0] <= wm), key=order)
    if ready:
        rest = [e for e in buf if e[0] > wm]
        if rest:
            pending[key] = rest
        else:
            del pending[key]
    return ready


def take_rows(table: pa.Table, positions: np.ndarray) -> pa.Table:
    """The rows of `table` at `positions`, in that order. Arrow's take joins a table's chunks into one copy
    before it takes anything, so rows kept as many appended pieces are taken from the pieces they are in, and
    then put in the order asked for. The positions are grouped by piece with a stable sort of their piece
    numbers (a radix sort of small integers), not of the positions."""
    positions = np.asarray(positions, np.int64)
    batches = table.to_batches()
    if len(batches) <= 1 or not len(positions):
        return table.take(pa.array(positions, pa.int64()))
    if int(positions.min()) < 0 or int(positions.max()) >= table.num_rows:
        raise IndexError(f"row positions out of range 0..{table.num_rows - 1}")
    ends = np.cumsum([b.num_rows for b in batches])
    piece = np.searchsorted(ends, positions, side="right")
    ascending = bool((piece[1:] >= piece[:-1]).all())
    order = None if ascending else np.argsort(piece.astype(np.int16) if len(batches) < 1 << 15 else piece,
                                              kind="stable")
    wanted, piece = (positions, piece) if order is None else (positions[order], piece[order])
    cuts = np.searchsorted(piece, np.arange(len(batches) + 1)).tolist()
    starts = [0] + ends[:-1].tolist()
    taken = [batch.take(pa.array(wanted[lo:hi] - start))
             for batch, lo, hi, start in zip(batches, cuts[:-1], cuts[1:], starts) if hi > lo]
    rows = pa.Table.from_batches(taken, table.schema)
    if order is None:
        return rows
    back = np.empty(len(order), np.int64)
    back[order] = np.arange(len(order))
    return rows.combine_chunks().take(pa.array(back))
