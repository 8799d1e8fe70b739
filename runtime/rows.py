"""Row tuples and Arrow, for the operators whose bookkeeping is per row (joins, rank, OVER, set operations):
the conversions both ways, and the state-table layout (columns c0..cN plus the operator's own columns)."""
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
