"""Calc: filter then projection, vectorized over the batch; `_op` and `_wm` pass through."""
from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from planner.expr import Expr, Ref
from runtime.changelog import data_columns, has_wm, make_batch, row_watermarks
from runtime.expressions import evaluate
from runtime.operator import Operator


class CalcOperator(Operator):
    name = "Calc"

    def __init__(self, projections: list[Expr], condition: Expr | None, names: list[str]):
        self.projections, self.condition, self.names = projections, condition, names

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        if self.condition is not None:
            mask = evaluate(self.condition, data_columns(batch), batch.num_rows)
            mask = pc.fill_null(mask, False)
            if mask.true_count != batch.num_rows:
                batch = batch.filter(mask)
            if batch.num_rows == 0:
                return []
        cols = data_columns(batch)
        n = batch.num_rows
        out = [cols[p.index] if isinstance(p, Ref) else evaluate(p, cols, n) for p in self.projections]
        return [make_batch(batch.column(0), out, self.names, row_watermarks(batch) if has_wm(batch) else None)]
