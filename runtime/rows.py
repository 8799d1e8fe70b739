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
    before it takes anything, so rows kept as many appended pieces are taken from the pieces they are in, each
    distinct row once, and then put in the order asked for."""
    positions = np.asarray(positions, np.int64)
    batches = table.to_batches()
    if len(batches) <= 1 or not len(positions):
        return table.take(pa.array(positions, pa.int64()))
    if bool((positions[1:] > positions[:-1]).all()):
        wanted, back = positions, None
    else:
        wanted, back = np.unique(positions, return_inverse=True)
    if wanted[0] < 0 or wanted[-1] >= table.num_rows:
        raise IndexError(f"row positions out of range 0..{table.num_rows - 1}")
    taken, lo, end = [], 0, 0
    for batch, hi in zip(batches, np.searchsorted(wanted, np.cumsum([b.num_rows for b in batches])).tolist()):
        if hi > lo:
            taken.append(batch.take(pa.array(wanted[lo:hi] - end)))
        lo, end = hi, end + batch.num_rows
    rows = pa.Table.from_batches(taken, table.schema)
    return rows if back is None else rows.combine_chunks().take(pa.array(back))
