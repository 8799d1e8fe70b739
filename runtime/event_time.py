"""Event time: the watermark bounds and rowtime columns as epoch milliseconds, shared by every operator."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.core.changelog import data_columns, row_watermarks
from sqlstream.core.errors import ExecutionError

MIN_WM = -(2 ** 63)
MAX_WM = 2 ** 63 - 1


def rowtime_ms(col: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(epoch milliseconds, valid mask) of a TIMESTAMP column."""
    if pa.types.is_timestamp(col.type):
        col = pc.cast(col, pa.timestamp("ms", tz=col.type.tz), safe=False)
    ints = pc.cast(col, pa.int64())
    if not ints.null_count:  # no copy, no mask to compute (fill_null copies even a column without NULLs)
        return np.asarray(ints.to_numpy(zero_copy_only=False)), np.ones(len(ints), dtype=bool)
    valid = np.asarray(pc.is_valid(ints).to_numpy(zero_copy_only=False))
    return np.asarray(pc.fill_null(ints, 0).to_numpy(zero_copy_only=False)), valid


def event_times(batch: pa.RecordBatch, time_index: int, proctime: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(rowtime ms, watermark before each row) of a batch; a NULL rowtime is an error, as in Flink."""
    ts, valid = rowtime_ms(data_columns(batch)[time_index])
    if not valid.all():
        raise ExecutionError("RowTime field should not be null, please convert it to a non-null long value.")
    wm = row_watermarks(batch)
    if wm is None or proctime:  # processing time: no row is late
        wm = np.full(batch.num_rows, MIN_WM, dtype=np.int64)
    return ts, wm
