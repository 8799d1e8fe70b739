"""RowKind bytes and helpers for changelog batches (first column `_op`, optional last column `_wm`)."""
from __future__ import annotations

import numpy as np
import pyarrow as pa

INSERT, UPDATE_BEFORE, UPDATE_AFTER, DELETE = 0, 1, 2, 3
OP_NAMES = ("+I", "-U", "+U", "-D")
OP = "_op"
WM = "_wm"  # per-row watermark in force before the row arrived (ms); carried until a stateful operator


def ops_of(batch: pa.RecordBatch) -> np.ndarray:
    return batch.column(0).to_numpy(zero_copy_only=False)


def data_columns(batch: pa.RecordBatch) -> list[pa.Array]:
    """The user-visible columns (without `_op` and `_wm`)."""
    end = batch.num_columns - (1 if batch.schema.names[-1] == WM else 0)
    return [batch.column(i) for i in range(1, end)]


def has_wm(batch: pa.RecordBatch) -> bool:
    return batch.schema.names[-1] == WM


def row_watermarks(batch: pa.RecordBatch) -> np.ndarray | None:
    return batch.column(batch.num_columns - 1).to_numpy() if has_wm(batch) else None


def make_batch(ops: np.ndarray | pa.Array | int, columns: list[pa.Array], names: list[str],
               wm: np.ndarray | None = None) -> pa.RecordBatch:
    n = len(columns[0]) if columns else (len(wm) if wm is not None else (len(ops) if not isinstance(ops, int) else 0))
    if isinstance(ops, int):
        op_arr = pa.array(np.full(n, ops, dtype=np.int8))
    elif isinstance(ops, np.ndarray):
        op_arr = pa.array(ops.astype(np.int8, copy=False))
    else:
        op_arr = ops
    arrays = [op_arr] + list(columns)
    all_names = [OP] + list(names)
    if wm is not None:
        arrays.append(pa.array(wm, pa.int64()))
        all_names.append(WM)
    return pa.RecordBatch.from_arrays(arrays, names=all_names)


def strip_wm(batch: pa.RecordBatch) -> pa.RecordBatch:
    if has_wm(batch):
        return batch.drop_columns([WM]) if hasattr(batch, "drop_columns") else \
            pa.RecordBatch.from_arrays(batch.columns[:-1], names=batch.schema.names[:-1])
    return batch
