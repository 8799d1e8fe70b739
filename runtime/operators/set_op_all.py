"""INTERSECT ALL / EXCEPT ALL: per distinct row, how many copies each side holds; a change of either count
changes how many copies the result holds (min(l, r), or max(0, l - r)), emitted as that many +I or -D rows."""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from runtime.changelog import DELETE, INSERT, UPDATE_AFTER, data_columns, make_batch
from runtime.operator import Operator
from runtime.state import StateBackend


class _Counts:
    """row -> [left copies, right copies]."""

    def __init__(self, types: list[pa.DataType]):
        self.types = types
        self.rows: dict[tuple, list[int]] = {}

    def snapshot(self) -> pa.Table:
        rows = list(self.rows)
        cols = {f"c{i}": pa.array([r[i] for r in rows], t) for i, t in enumerate(self.types)}
        cols["$left"] = pa.array([self.rows[r][0] for r in rows], pa.int64())
        cols["$right"] = pa.array([self.rows[r][1] for r in rows], pa.int64())
        return pa.table(cols)

    def restore(self, table: pa.Table) -> None:
        cols = [table.column(f"c{i}").to_pylist() for i in range(len(self.types))]
        self.rows = {row: [l, r] for row, l, r in zip(zip(*cols), table.column("$left").to_pylist(),
                                                         table.column("$right").to_pylist())}

    def size_bytes(self) -> int:
        return len(self.rows) * 16 * (len(self.types) + 2)


class SetOpAllOperator(Operator):
    name = "SetOpAll"

    def __init__(self, kind: str, names: list[str], types: list[pa.DataType]):
        self.kind, self.names, self.types = kind, names, types
        self.counts = _Counts(types)

    def open(self, state: StateBackend) -> None:
        state.register("row_counts", self.counts)

    def _copies(self, c: list[int]) -> int:
        return min(c[0], c[1]) if self.kind == "INTERSECT" else max(0, c[0] - c[1])

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        cols = [c.cast(t) if c.type != t else c for c, t in zip(data_columns(batch), self.types)]
        rows = list(zip(*[c.to_pylist() for c in cols])) if cols else [()] * batch.num_rows
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
        out = [pa.array([r[j] for r in out_rows], t) for j, t in enumerate(self.types)]
        return [make_batch(pa.array(np.array(out_ops, dtype=np.int8)), out, self.names)]

    def metrics(self) -> dict:
        return {"state_bytes": self.counts.size_bytes()}
