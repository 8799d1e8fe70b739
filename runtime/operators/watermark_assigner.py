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
from sqlstream.runtime.event_time import MIN_WM
from sqlstream.runtime.operator import Operator, OperatorContext
from sqlstream.runtime.split_watermarks import SplitWatermarks, part_prefix


class WatermarkState:
    """A source's watermark: the combined one in force and each split's, one row (`watermark`, `splits`).
    Watermarks are not keyed: every subtask of a rescaled job restores the same row."""

    def __init__(self, marks: SplitWatermarks | None = None) -> None:
        self.marks = marks or SplitWatermarks()

    @property
    def current(self) -> int:
        return self.marks.current

    @current.setter
    def current(self, value: int) -> None:
        self.marks.current = value

    def snapshot(self) -> pa.Table:
        splits = self.owner.splits if getattr(self, "owner", None) is not None else []
        return pa.table({"watermark": pa.array([self.current], pa.int64()),
                         "splits": pa.array([list(splits)], pa.list_(pa.int64()))})

    def restore(self, table: pa.Table) -> None:
        self.current = int(table.column("watermark")[0].as_py())
        if "splits" in table.column_names:
            splits = table.column("splits")[0].as_py() or []
        else:  # written before the splits were a column
            text = (table.schema.metadata or {}).get(b"splits", b"").decode()
            splits = [int(w) for w in text.split(",")] if text else []
        owner = getattr(self, "owner", None)
        if splits and owner is not None and len(owner.splits) == len(splits):
            owner.splits = list(splits)
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
        self.marks = SplitWatermarks()
        self.state = WatermarkState(self.marks)
        self.emitted = MIN_WM
        self.last_active: list[float] = []
        self.idle_timeout_ms = idle_timeout_ms
        import time
        self.clock = clock or time.monotonic

    @property
    def splits(self) -> list[int]:
        """Per-split watermark; empty = one global split."""
        return self.marks.splits

    @splits.setter
    def splits(self, value: list[int]) -> None:
        self.marks.splits = value

    @property
    def idle(self) -> list[bool]:
        return self.marks.idle

    def set_splits(self, n: int) -> None:
        if n > 1 and not self.splits:
            self.marks.set_splits(n)
            self.last_active = [self.clock()] * n

    def _combined(self) -> int:
        return self.marks.combined()

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
        prefix, part_max = part_prefix(self.values(cols, batch.num_rows))
        per_row = self.marks.row_watermarks(split, prefix)
        self.marks.add_part(split, part_max)
        self.last_active[split] = self.clock()
        return [make_batch(batch.column(0), cols, self.names, wm=per_row)]

    def values(self, cols, n) -> np.ndarray:
        """The WATERMARK expression of each row as epoch ms (MIN_WM where NULL, and where not after 1970: Flink's
        assigner starts from watermark 0 and emits only a larger one, so rows before 1970 are never late)."""
        wm = evaluate(self.watermark, cols, n)
        wm = pc.cast(pc.cast(wm, pa.timestamp("ms", tz=wm.type.tz), safe=False), pa.int64())
        ms = np.asarray(pc.fill_null(wm, MIN_WM).to_numpy(zero_copy_only=False), dtype=np.int64)
        return np.where(ms > 0, ms, MIN_WM)

    def open(self, ctx: OperatorContext) -> None:
        ctx.register("watermark", self.state)
        self.state.owner = self

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        if self.splits:
            return self.on_split_batch(batch, 0)
        cols = data_columns(batch)
        prefix, part_max = part_prefix(self.values(cols, batch.num_rows))
        per_row = self.marks.row_watermarks(0, prefix)
        self.marks.add_part(0, part_max)
        return [make_batch(batch.column(0), cols, self.names, wm=per_row)]

    def take_watermark(self) -> int | None:
        if self.state.current > self.emitted:
            self.emitted = self.state.current
            return self.emitted
        return None
