"""UNNEST: one row per array element (or map entry), computed with Arrow's list kernels for the whole batch."""
from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.plan.expr import Expr
from sqlstream.core.changelog import data_columns, make_batch, row_watermarks
from sqlstream.runtime.expressions import evaluate
from sqlstream.runtime.operator import Operator


class UnnestOperator(Operator):
    name = "Unnest"

    def __init__(self, array: Expr, names: list[str]):
        self.array, self.names = array, names

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        cols = data_columns(batch)
        lists = evaluate(self.array, cols, batch.num_rows)
        if pa.types.is_map(lists.type):
            # a map is a list of (key, value) entries over the same offsets
            entries = pa.StructArray.from_arrays([lists.keys, lists.items], names=["key", "value"])
            as_list = pa.ListArray.from_arrays(pc.subtract(lists.offsets, lists.offsets[0]), entries,
                                               mask=pc.is_null(lists))
            flat = pc.list_flatten(as_list)
            parents = pc.list_parent_indices(as_list)
            extra = [flat.field("key"), flat.field("value")]
        else:
            extra = [pc.list_flatten(lists)]
            parents = pc.list_parent_indices(lists)
        if len(parents) == 0:
            return []
        out = [c.take(parents) for c in cols] + extra
        wm = row_watermarks(batch)
        return [make_batch(batch.column(0).take(parents), out, self.names,
                           None if wm is None else wm[parents.to_numpy()])]
