"""UNNEST: one row per array element (or map entry), computed with Arrow's list kernels for the whole batch."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.plan.expr import Expr
from sqlstream.core.changelog import data_columns, make_batch, row_watermarks
from sqlstream.runtime.expressions import evaluate
from sqlstream.runtime.operator import Operator


class UnnestOperator(Operator):
    name = "Unnest"

    def __init__(self, array: Expr, names: list[str], outer: bool = False, ordinality: bool = False,
                 condition: Expr | None = None):
        self.array, self.names = array, names
        self.outer, self.ordinality, self.condition = outer, ordinality, condition

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        cols = data_columns(batch)
        lists = evaluate(self.array, cols, batch.num_rows)
        if isinstance(lists, pa.ChunkedArray):
            lists = lists.combine_chunks()
        if pa.types.is_map(lists.type):
            # a map is a list of (key, value) entries over the same offsets; its keys and items are those of
            # the whole buffer, so a slice of the map (a batch cut from a larger one) takes the slice's part
            first = lists.offsets[0].as_py()
            size = lists.offsets[-1].as_py() - first
            entries = pa.StructArray.from_arrays([lists.keys.slice(first, size), lists.items.slice(first, size)],
                                                 names=["key", "value"])
            lists = pa.ListArray.from_arrays(pc.subtract(lists.offsets, first), entries, mask=pc.is_null(lists))
            flat = lists.flatten()
            extra = [flat.field("key"), flat.field("value")]
        else:
            flat = lists.flatten()
            # an array of ROWs gives a column per field (a NULL element NULLs in each)
            extra = flat.flatten() if pa.types.is_struct(flat.type) else [flat]
        parents = pc.list_parent_indices(lists)
        parents = parents.to_numpy(zero_copy_only=False).astype(np.int64)
        if self.ordinality:
            lengths = pc.fill_null(pc.list_value_length(lists), 0).to_numpy(zero_copy_only=False).astype(np.int64)
            starts = np.cumsum(lengths) - lengths
            extra.append(pa.array(np.arange(len(parents), dtype=np.int32) - starts[parents].astype(np.int32) + 1))
        if self.condition is not None and len(parents):  # the ON of a join with UNNEST, on the joined rows
            take = pa.array(parents)
            keep = pc.fill_null(evaluate(self.condition, [c.take(take) for c in cols] + extra, len(parents)), False)
            parents, extra = parents[np.asarray(keep)], [e.filter(keep) for e in extra]
        if self.outer:  # rows without an element (left) once each, padded, in input order
            empty = np.flatnonzero(np.bincount(parents, minlength=batch.num_rows) == 0)
            if len(empty):
                order = np.argsort(np.concatenate([parents, empty]), kind="stable")
                parents = np.concatenate([parents, empty])[order]
                extra = [pa.concat_arrays([e, pa.nulls(len(empty), e.type)]).take(pa.array(order)) for e in extra]
        if len(parents) == 0:
            return []
        take = pa.array(parents)
        out = [c.take(take) for c in cols] + extra
        wm = row_watermarks(batch)
        return [make_batch(batch.column(0).take(take), out, self.names, None if wm is None else wm[parents])]
