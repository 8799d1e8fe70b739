"""UNION ALL: forwards every input; a row's watermark becomes the minimum over all inputs' watermarks."""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from sqlstream.core.changelog import data_columns, make_batch, row_watermarks
from sqlstream.runtime.operator import Operator

MIN_WM = -(2 ** 63)


class UnionOperator(Operator):
    name = "Union"

    def __init__(self, n_inputs: int, names: list[str]):
        self.names = names
        self.input_wm = [MIN_WM] * n_inputs

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        wm = row_watermarks(batch)
        others = min((w for i, w in enumerate(self.input_wm) if i != input), default=MIN_WM)
        if wm is not None:
            wm = np.minimum(wm, others)
        return [make_batch(batch.column(0), data_columns(batch), self.names, wm)]

    def open(self, state) -> None:
        state.register("input_watermarks", self)

    def snapshot(self) -> pa.Table:
        return pa.table({"watermark": pa.array(self.input_wm, pa.int64())})

    def restore(self, table: pa.Table) -> None:
        self.input_wm = [int(v) for v in table.column("watermark").to_pylist()]

    def size_bytes(self) -> int:
        return 8 * len(self.input_wm)

    def on_input_watermark(self, input: int, wm: int) -> None:
        self.input_wm[input] = max(self.input_wm[input], wm)
