"""Watermark assigner: a watermark after every row, as Flink with a 0 ms emit interval.

Each row carries in `_wm` the watermark in force *before* it (max over earlier rows of the WATERMARK
expression), so downstream lateness checks do not depend on how rows were cut into batches.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.plan.expr import Expr
from sqlstream.core.changelog import data_columns, make_batch
from sqlstream.runtime.expressions import evaluate
from sqlstream.runtime.event_time import MAX_WM, MIN_WM
from sqlstream.runtime.operator import Operator, OperatorContext



class WatermarkState:
    def __init__(self) -> None:
        self.current = MIN_WM

    def snapshot(self) -> pa.Table:
        splits = self.owner.splits if getattr(self, "owner", None) is not None else []
        return pa.table({"watermark": pa.array([self.current], pa.int64())}).replace_schema_metadata(
            {"splits": ",".join(str(w) for w in splits)})

    def restore(self, table: pa.Table) -> None:
        self.current = int(table.column("watermark")[0].as_py())
        splits = (table.schema.metadata or {}).get(b"splits", b"").decode()
        owner = getattr(self, "owner", None)
        if splits and owner is not None and len(owner.splits) == len(splits.split(",")):
            owner.splits = [int(w) for w in splits.split(",")]
        if owner is not None:
            owner.emitted = self.current  # downstream state already reflects it

    def size_bytes(self) -> int:
        return 8


class WatermarkAssignerOperator(Operator):
    """One watermark per source split (Kafka partition); the operator's watermark is their minimum.

    A split that has sent nothing for `idle_timeout_ms` (processing time) stops holding the watermark back
    until it sends again, as with Flink's table.exec.source.idle-timeout.
    """

    name = "WatermarkAssigner"

    def __init__(self, watermark: Expr, names: list[str], idle_timeout_ms: int = 0, clock=None):
        self.watermark, self.names = watermark, names
        self.state = WatermarkState()
        self.emitted = MIN_WM
        self.splits: list[int] = []        # per-split watermark; empty = one global split
        self.last_active: list[float] = []
        self.idle: list[bool] = []
        self.idle_timeout_ms = idle_timeout_ms
        import time
        self.clock = clock or time.monotonic

    def set_splits(self, n: int) -> None:
        if n > 1 and not self.splits:
            now = self.clock()
            self.splits = [MIN_WM] * n
            self.last_active = [now] * n
            self.idle = [False] * n

    def _combined(self) -> int:
        active = [w for w, idle in zip(self.splits, self.idle) if not idle]
        return min(active) if active else self.state.current

    def check_idle(self) -> None:
        if not self.splits or self.idle_timeout_ms <= 0:
            return
        now = self.clock()
        newly = sorted((t, i) for i, t in enumerate(self.last_active)
                       if not self.idle[i] and (now - t) * 1000 >= self.idle_timeout_ms)
        for _, i in newly:  # oldest first: each split going idle lets the others' watermark through
            self.idle[i] = True
            if not all(self.idle):
                self.state.current = max(self.state.current, self._combined())

    def holding_back(self) -> list[tuple[int, int]]:
        """(split, its watermark) of the active splits at the minimum (what holds the watermark back)."""
        if not self.splits:
            return []
        low = self._combined()
        return [(i, w) for i, (w, idle) in enumerate(zip(self.splits, self.idle)) if not idle and w == low]

    def on_split_batch(self, batch: pa.RecordBatch, split: int) -> list[pa.RecordBatch]:
        if not self.splits:
            return self.on_batch(batch)
        cols = data_columns(batch)
        vals = self._values(cols, batch.num_rows)
        running = np.maximum.accumulate(np.concatenate(([self.splits[split]], vals)))
        self.splits[split] = int(running[-1])
        self.last_active[split] = self.clock()
        self.idle[split] = False
        others = [w for i, (w, idle) in enumerate(zip(self.splits, self.idle)) if i != split and not idle]
        floor = min(others) if others else MAX_WM
        per_row = np.minimum(running[:-1], floor)
        per_row = np.maximum(per_row, self.state.current)  # never behind what was already emitted
        self.state.current = max(self.state.current, self._combined())
        return [make_batch(batch.column(0), cols, self.names, wm=per_row)]

    def _values(self, cols, n) -> np.ndarray:
        wm = evaluate(self.watermark, cols, n)
        wm = pc.cast(pc.cast(wm, pa.timestamp("ms", tz=wm.type.tz), safe=False), pa.int64())
        return np.asarray(pc.fill_null(wm, MIN_WM).to_numpy(zero_copy_only=False), dtype=np.int64)

    def open(self, ctx: OperatorContext) -> None:
        ctx.register("watermark", self.state)
        self.state.owner = self

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        if self.splits:
            return self.on_split_batch(batch, 0)
        cols = data_columns(batch)
        n = batch.num_rows
        vals = self._values(cols, n)
        running = np.maximum.accumulate(np.concatenate(([self.state.current], vals)))
        self.state.current = int(running[-1])
        return [make_batch(batch.column(0), cols, self.names, wm=running[:-1])]

    def take_watermark(self) -> int | None:
        if self.state.current > self.emitted:
            self.emitted = self.state.current
            return self.emitted
        return None
