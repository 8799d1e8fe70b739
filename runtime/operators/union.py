"""UNION ALL: forwards every input; a row's watermark becomes the minimum over all inputs' watermarks."""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from sqlstream.core.changelog import data_columns, make_batch, row_watermarks
from sqlstream.runtime.event_time import MIN_WM
from sqlstream.runtime.operator import Operator, OperatorContext


class UnionOperator(Operator):
    name = "Union"

    def __init__(self, n_inputs: int, names: list[str]):
        self.names = names
        self.input_wm = [MIN_WM] * n_inputs

    def open(self, ctx: OperatorContext) -> None:
        self.input_wm = ctx.input_watermarks  # the runtime keeps each input's watermark (and checkpoints it)

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        wm = row_watermarks(batch)
        others = min((w for i, w in enumerate(self.input_wm) if i != input), default=MIN_WM)
        if wm is not None:
            wm = np.minimum(wm, others)
        return [make_batch(batch.column(0), data_columns(batch), self.names, wm)]
