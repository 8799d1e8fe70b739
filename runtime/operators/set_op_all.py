"""INTERSECT ALL / EXCEPT ALL: per distinct row, how many copies each side holds; a change of either count
changes how many copies the result holds (min(l, r), or max(0, l - r)), emitted as that many +I or -D rows."""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from sqlstream.core.changelog import DELETE, INSERT, UPDATE_AFTER, data_columns, make_batch
from sqlstream.runtime.operator import Operator, OperatorContext
from sqlstream.runtime.rows import batch_rows, columns


class SetOpAllOperator(Operator):
    name = "SetOpAll"

    def __init__(self, kind: str, names: list[str], types: list[pa.DataType]):
        self.kind, self.names, self.types = kind, names, types
        self.counts = None

    def open(self, ctx: OperatorContext) -> None:
        # row -> how many copies of it each side holds
        self.counts = ctx.keyed_table("row_counts", self.types, {"$left": pa.int64(), "$right": pa.int64()})

    def _copies(self, c: list[int]) -> int:
        return min(c[0], c[1]) if self.kind == "INTERSECT" else max(0, c[0] - c[1])

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        cols = [c.cast(t) if c.type != t else c for c, t in zip(data_columns(batch), self.types)]
        n = batch.num_rows
        rows = batch_rows(cols, n)
        ops = batch.column(0).to_numpy(zero_copy_only=False)
        stored, found = self.counts.get(cols, n)
        lefts, rights = stored["$left"].to_pylist(), stored["$right"].to_pylist()
        changed: dict[tuple, list[int]] = {}
        out_rows, out_ops = [], []
        for i, (op, row) in enumerate(zip(ops, rows)):
            c = changed.get(row)
            if c is None:
                c = changed[row] = [lefts[i], rights[i]] if found[i] else [0, 0]
            before = self._copies(c)
            c[input] += 1 if op in (INSERT, UPDATE_AFTER) else -1
            delta = self._copies(c) - before
            out_rows += [row] * abs(delta)
            out_ops += [INSERT if delta > 0 else DELETE] * abs(delta)
        self._write(changed)
        if not out_rows:
            return []
        return [make_batch(pa.array(np.array(out_ops, dtype=np.int8)), columns(out_rows, self.types), self.names)]

    def _write(self, changed: dict[tuple, list[int]]) -> None:
        kept = [(r, c) for r, c in changed.items() if c != [0, 0]]
        gone = [r for r, c in changed.items() if c == [0, 0]]
        if kept:
            self.counts.put(columns([r for r, _ in kept], self.types),
                            {"$left": pa.array([c[0] for _, c in kept], pa.int64()),
                             "$right": pa.array([c[1] for _, c in kept], pa.int64())})
        if gone:
            self.counts.delete(columns(gone, self.types), len(gone))

    def metrics(self) -> dict:
        return {"state_bytes": self.counts.size_bytes()}
