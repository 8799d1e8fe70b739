"""INTERSECT ALL / EXCEPT ALL: per distinct row, how many copies each side holds; a change of either count
changes how many copies the result holds (min(l, r), or max(0, l - r)), emitted as that many +I or -D rows."""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from sqlstream.core.changelog import DELETE, INSERT, UPDATE_AFTER, data_columns, make_batch
from sqlstream.runtime.operator import Operator, OperatorContext
from sqlstream.runtime.rows import batch_rows, columns, rows_table, table_rows


class _Counts:
    """row -> [left copies, right copies]."""

    def __init__(self, types: list[pa.DataType]):
        self.types = types
        self.rows: dict[tuple, list[int]] = {}

    def snapshot(self) -> pa.Table:
        rows = list(self.rows)
        return rows_table(rows, self.types, {"$left": pa.array([self.rows[r][0] for r in rows], pa.int64()),
                                             "$right": pa.array([self.rows[r][1] for r in rows], pa.int64())})

    def restore(self, table: pa.Table) -> None:
        self.rows = {row: [left, right] for row, left, right in zip(table_rows(table, len(self.types)),
                                                         table.column("$left").to_pylist(),
                                                         table.column("$right").to_pylist())}

    def size_bytes(self) -> int:
        return len(self.rows) * 16 * (len(self.types) + 2)


class SetOpAllOperator(Operator):
    name = "SetOpAll"

    def __init__(self, kind: str, names: list[str], types: list[pa.DataType]):
        self.kind, self.names, self.types = kind, names, types
        self.counts = _Counts(types)

    def open(self, ctx: OperatorContext) -> None:
        ctx.register("row_counts", self.counts)

    def _copies(self, c: list[int]) -> int:
        return min(c[0], c[1]) if self.kind == "INTERSECT" else max(0, c[0] - c[1])

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        cols = [c.cast(t) if c.type != t else c for c, t in zip(data_columns(batch), self.types)]
        rows = batch_rows(cols, batch.num_rows)
        ops = batch.column(0).to_numpy(zero_copy_only=False)
        out_rows, out_ops = [], []
        for op, row in zip(ops, rows):
            c = self.counts.rows.setdefault(row, [0, 0])
            before = self._copies(c)
            c[input] += 1 if op in (INSERT, UPDATE_AFTER) else -1
            after = self._copies(c)
            if c == [0, 0]:
                del self.counts.rows[row]
            delta = after - before
            out_rows += [row] * abs(delta)
            out_ops += [INSERT if delta > 0 else DELETE] * abs(delta)
        if not out_rows:
            return []
        return [make_batch(pa.array(np.array(out_ops, dtype=np.int8)), columns(out_rows, self.types), self.names)]

    def metrics(self) -> dict:
        return {"state_bytes": self.counts.size_bytes()}
