"""Window TVF without aggregation: appends window_start, window_end, window_time (HOP/CUMULATE repeat rows)."""
from __future__ import annotations

import pyarrow as pa

from sqlstream.plan.logical import WindowSpec
from sqlstream.runtime import windows
from sqlstream.core.changelog import data_columns, make_batch, row_watermarks
from sqlstream.runtime.operator import Operator
from sqlstream.runtime.event_time import rowtime_ms


class WindowTableFunctionOperator(Operator):
    name = "WindowTableFunction"

    def __init__(self, window: WindowSpec, names: list[str]):
        self.window, self.names = window, names

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        cols = data_columns(batch)
        ts, valid = rowtime_ms(cols[self.window.time_index])
        rows, start, end = windows.assign(self.window, ts)
        keep = valid[rows]
        rows, start, end = rows[keep], start[keep], end[keep]
        take = pa.array(rows)
        out = [c.take(take) for c in cols]
        out += windows.window_properties(self.window, start, end)
        wm = row_watermarks(batch)
        return [make_batch(batch.column(0).take(take), out, self.names, None if wm is None else wm[rows])]
