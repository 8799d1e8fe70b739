"""Keeping the rows of a mask in only the columns, and the ROW fields, that a consumer reads.

A filter before a projection (`WHERE event_type = 2` before reading `bid.price`) need not copy the columns the
projection does not read, nor the fields of a ROW column it does not read; the rest is filtered in one call,
which lets Arrow turn the mask into row indices once for all columns.
"""
from __future__ import annotations

import pyarrow as pa


def filter_columns(columns: list[pa.Array], mask: pa.BooleanArray,
                   reads: dict[int, set[str] | None]) -> list[pa.Array | None]:
    """`columns`' rows where `mask` is true (a mask without NULLs), for the columns `reads` names (None for the
    others): of a ROW column read only through some of its fields (a set of names), only those fields."""
    kept = [i for i in range(len(columns)) if i in reads]
    if not kept:
        return [None] * len(columns)
    arrays = [narrow(columns[i], reads[i]) for i in kept]
    batch = pa.RecordBatch.from_arrays(arrays, names=[str(i) for i in kept]).filter(mask)
    out: list[pa.Array | None] = [None] * len(columns)
    for j, i in enumerate(kept):
        out[i] = batch.column(j)
    return out


def narrow(column: pa.Array, fields: set[str] | None) -> pa.Array:
    """A ROW column with only `fields` (all when None), its rows' validity kept."""
    if fields is None or not isinstance(column, pa.StructArray) or column.offset:
        return column
    kind = column.type
    chosen = [i for i in range(kind.num_fields) if kind.field(i).name in fields]
    if len(chosen) == kind.num_fields:
        return column
    return pa.StructArray.from_buffers(pa.struct([kind.field(i) for i in chosen]), len(column),
                                       [column.buffers()[0]], null_count=column.null_count,
                                       children=[column.field(i) for i in chosen])
