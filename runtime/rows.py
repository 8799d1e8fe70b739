"""Row tuples and Arrow, for the operators whose bookkeeping is per row (joins, rank, OVER, set operations):
the conversions both ways, and the state-table layout (columns c0..cN plus the operator's own columns)."""
from __future__ import annotations

import pyarrow as pa


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
