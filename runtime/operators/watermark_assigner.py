"""Watermark assigner: a watermark after every row, as Flink with a 0 ms emit interval.

Each row carries in `_wm` the watermark in force *before* it (max over earlier rows of the WATERMARK
expression), so downstream lateness checks do not depend on how rows were cut into batches.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from planner.expr import Expr
from runtime.changelog import data_columns, make_batch
from runtime.expressions import evaluate
from runtime.operator import Operator
from runtime.state import StateBackend

MIN_WM = -(2 ** 63)


class WatermarkState:
    def __init__(self) -> None:
        self.current = MIN_WM

    def snapshot(self) -> pa.Table:
        return pa.table({"watermark": pa.array([self.current], pa.int64())})

    def restore(self, table: pa.Table) -> None:
        self.current = int(table.column("watermark")[0].as_py())
        self.restored = True

    def size_bytes(self) -> int:
        return 8


class WatermarkAssignerOperator(Operator):
    name = "WatermarkAssigner"

    def __init__(self, watermark: Expr, names: list[str]):
        self.watermark, self.names = watermark, names
        self.state = WatermarkState()
        self.emitted = MIN_WM

    def open(self, state: StateBackend) -> None:
        state.register("watermark", self.state)

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        cols = data_columns(batch)
        n = batch.num_rows
        wm = evaluate(self.watermark, cols, n)
        wm = pc.cast(pc.cast(wm, pa.timestamp("ms", tz=wm.type.tz), safe=False), pa.int64())
        vals = np.asarray(pc.fill_null(wm, MIN_WM).to_numpy(zero_copy_only=False), dtype=np.int64)
        running = np.maximum.accumulate(np.concatenate(([self.state.current], vals)))
        self.state.current = int(running[-1])
        return [make_batch(batch.column(0), cols, self.names, wm=running[:-1])]

    def take_watermark(self) -> int | None:
        if getattr(self.state, "restored", False):
            self.state.restored = False
            self.emitted = self.state.current  # downstream state already reflects it
        if self.state.current > self.emitted:
            self.emitted = self.state.current
            return self.emitted
        return None
