"""Operator base class: batches in, batches out; the executor owns watermarks and alignment.

    source split ──poll──> [WatermarkAssigner] ──batch──> [Calc] ──batch──> [WindowAggregate] ──> sink
                                  │ watermark                                   │ on_watermark(wm):
                                  └──────────(min over inputs)────────────────> fire closed windows

Each operator returns its output instead of pushing it, so a unit test is a call and an assertion.
A batch is a pyarrow.RecordBatch whose first column `_op` holds RowKind bytes (runtime.changelog).
"""
from __future__ import annotations

import pyarrow as pa

from sqlstream.runtime.state import StateBackend


class Operator:
    name = "Operator"
    wants_input_watermarks = False  # if set, `input_watermarks` holds each input's watermark during on_batch
    drops_late_rows = False  # an operator that drops late rows hands them to `late_rows` (a LateRowCollector) if set
    late_rows = None

    def open(self, state: StateBackend) -> None:
        """Declare state tables; called once before the first batch (and before restore)."""

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        raise NotImplementedError

    def on_watermark(self, wm: int) -> list[pa.RecordBatch]:
        """The combined input watermark advanced to `wm` (ms); emit what it completes."""
        return []

    def take_watermark(self) -> int | None:
        """A watermark this operator generated itself (only watermark assigners do)."""
        return None

    def close(self) -> list[pa.RecordBatch]:
        """End of input, after the final watermark."""
        return []

    def metrics(self) -> dict:
        return {}
