"""ChangelogNormalize: an upsert stream keyed by the primary key becomes a retract changelog (+I, -U/+U, -D),
keeping the last row per key, as Flink does after an upsert-kafka source."""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from sqlstream.core.changelog import DELETE, INSERT, UPDATE_AFTER, UPDATE_BEFORE, data_columns, make_batch, row_watermarks
from sqlstream.runtime.operator import Operator, OperatorContext
from sqlstream.runtime.rows import batch_rows, columns


class ChangelogNormalizeOperator(Operator):
    name = "ChangelogNormalize"

    def __init__(self, keys: list[int], names: list[str], types: list[pa.DataType]):
        self.keys, self.names, self.types = keys, names, types
        self.last_rows = None

    def open(self, ctx: OperatorContext) -> None:
        self.last_rows = ctx.keyed_table("last_rows", [self.types[k] for k in self.keys],
                                         {f"c{i}": t for i, t in enumerate(self.types)})

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        cols = data_columns(batch)
        n = batch.num_rows
        ops = batch.column(0).to_pylist()
        rows = batch_rows(cols, n)
        stored, found = self.last_rows.get([cols[k] for k in self.keys], n)
        stored_rows = batch_rows([stored[f"c{i}"] for i in range(len(self.types))], n)
        wm = row_watermarks(batch)
        out_rows, out_ops, out_src = [], [], []
        changed: dict[tuple, tuple | None] = {}  # key -> its last row after this batch (None: deleted)
        for i, (op, row) in enumerate(zip(ops, rows)):
            k = tuple(row[j] for j in self.keys)
            prev = changed[k] if k in changed else (stored_rows[i] if found[i] else None)
            if op in (INSERT, UPDATE_AFTER):
                if prev is None:
                    out_rows.append(row), out_ops.append(INSERT), out_src.append(i)
                elif prev != row:
                    out_rows += [prev, row]
                    out_ops += [UPDATE_BEFORE, UPDATE_AFTER]
                    out_src += [i, i]
                changed[k] = row
            elif op in (DELETE, UPDATE_BEFORE):
                if prev is not None:
                    out_rows.append(prev), out_ops.append(DELETE), out_src.append(i)
                    changed[k] = None
        self._write(changed)
        if not out_rows:
            return []
        arrays = columns(out_rows, [c.type for c in cols])
        return [make_batch(np.array(out_ops, dtype=np.int8), arrays, self.names,
                           None if wm is None else wm[np.array(out_src)])]

    def _write(self, changed: dict[tuple, tuple | None]) -> None:
        kept = [r for r in changed.values() if r is not None]
        gone = [k for k, r in changed.items() if r is None]
        if kept:
            values = columns(kept, self.types)
            self.last_rows.put([values[k] for k in self.keys],
                               {f"c{i}": v for i, v in enumerate(values)})
        if gone:
            self.last_rows.delete([pa.array([k[j] for k in gone], self.types[c]) for j, c in enumerate(self.keys)],
                                  len(gone))
