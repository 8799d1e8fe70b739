"""LATERAL TABLE(f(..)): the table function's rows for a whole batch at once, joined to their input rows by
index (Arrow `take`), each keeping its input row's change kind and watermark."""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from sqlstream.plan.expr import Expr
from sqlstream.core.changelog import data_columns, make_batch, row_watermarks
from sqlstream.runtime.expressions import evaluate
from sqlstream.runtime.operator import Operator
from sqlstream.core.errors import ExecutionError


class CorrelateOperator(Operator):
    name = "Correlate"

    def __init__(self, function: str, args: list[Expr], left: bool, names: list[str], types: list[pa.DataType]):
        self.function, self.args, self.left, self.names, self.types = function, args, left, names, types

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        from sqlstream.core.udf import registered
        fn = registered(self.function)
        if fn is None:
            raise ExecutionError(f"Python table function {self.function} is not registered in this process")
        cols = data_columns(batch)
        n = batch.num_rows
        parents, out = fn([evaluate(a, cols, n) for a in self.args], n)
        parents = parents.to_numpy(zero_copy_only=False)
        if self.left:  # rows the function gave nothing for stay, padded with NULLs
            missing = np.setdiff1d(np.arange(n), parents)
            if len(missing):
                order = np.argsort(np.concatenate([parents, missing]), kind="stable")
                out = [pa.concat_arrays([c, pa.nulls(len(missing), t)]).take(pa.array(order))
                       for c, t in zip(out, self.types)]
                parents = np.concatenate([parents, missing])[order]
        if len(parents) == 0:
            return []
        take = pa.array(parents)
        wm = row_watermarks(batch)
        return [make_batch(batch.column(0).take(take), [c.take(take) for c in cols] + list(out), self.names,
                           None if wm is None else wm[parents])]
