"""ChangelogNormalize: an upsert stream keyed by the primary key becomes a retract changelog (+I, -U/+U, -D),
keeping the last row per key, as Flink does after an upsert-kafka source."""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from sqlstream.core.changelog import DELETE, INSERT, UPDATE_AFTER, UPDATE_BEFORE, data_columns, make_batch, row_watermarks
from sqlstream.runtime.operator import Operator
from sqlstream.runtime.rows import batch_rows, columns
from sqlstream.runtime.state import StateBackend


class LastRowState:
    def __init__(self, names: list[str], types: list[pa.DataType]):
        self.names, self.types = names, types
        self.rows: dict[tuple, tuple] = {}

    def snapshot(self) -> pa.Table:
        rows = list(self.rows.values())
        return pa.table({n: pa.array([r[i] for r in rows], t) for i, (n, t) in enumerate(zip(self.names, self.types))})

    def restore(self, table: pa.Table) -> None:
        cols = [table.column(n).to_pylist() for n in self.names]
        self.rows = {}
        for r in zip(*cols):
            self.rows[self.key(r)] = r

    def size_bytes(self) -> int:
        return 64 * len(self.rows) * max(1, len(self.names))

    key = None


class ChangelogNormalizeOperator(Operator):
    name = "ChangelogNormalize"

    def __init__(self, keys: list[int], names: list[str], types: list[pa.DataType]):
        self.keys, self.names = keys, names
        self.state = LastRowState(names, types)
        self.state.key = lambda row: tuple(row[k] for k in keys)

    def open(self, state: StateBackend) -> None:
        state.register("last_rows", self.state)

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        cols = data_columns(batch)
        ops = batch.column(0).to_pylist()
        rows = batch_rows(cols, batch.num_rows)
        wm = row_watermarks(batch)
        out_rows, out_ops, out_src = [], [], []
        last = self.state.rows
        for i, (op, row) in enumerate(zip(ops, rows)):
            k = self.state.key(row)
            prev = last.get(k)
            if op in (INSERT, UPDATE_AFTER):
                if prev is None:
                    out_rows.append(row), out_ops.append(INSERT), out_src.append(i)
                elif prev != row:
                    out_rows += [prev, row]
                    out_ops += [UPDATE_BEFORE, UPDATE_AFTER]
                    out_src += [i, i]
                last[k] = row
            elif op in (DELETE, UPDATE_BEFORE):
                if prev is not None:
                    out_rows.append(prev), out_ops.append(DELETE), out_src.append(i)
                    del last[k]
        if not out_rows:
            return []
        arrays = columns(out_rows, [c.type for c in cols])
        return [make_batch(np.array(out_ops, dtype=np.int8), arrays, self.names,
                           None if wm is None else wm[np.array(out_src)])]
