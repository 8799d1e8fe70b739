"""Calc: filter then projection, vectorized over the batch; `_op` and `_wm` pass through."""
from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.plan.expr import Call, Expr, Ref
from sqlstream.core.changelog import data_columns, has_wm, make_batch, row_watermarks
from sqlstream.runtime.expressions import evaluate
from sqlstream.runtime.operator import Operator


class CalcOperator(Operator):
    name = "Calc"

    def __init__(self, projections: list[Expr], condition: Expr | None, names: list[str]):
        self.projections, self.condition, self.names = projections, condition, names
        exprs = list(projections) + ([condition] if condition is not None else [])
        self.reads_watermark = any(_calls(e, "CURRENT_WATERMARK") for e in exprs)
        self.rewritten = False
        self.wm_type = next((c.type.to_arrow() for e in exprs for c in _find(e, "CURRENT_WATERMARK")),
                            pa.timestamp("ms"))

    def _with_watermark(self, batch: pa.RecordBatch) -> None:
        """CURRENT_WATERMARK(ts) reads the watermark before each row (NULL before the first): the batch's
        watermark column, given to the expressions as one more input column."""
        width = len(data_columns(batch))
        if not self.rewritten:
            slot = lambda e: _replace(e, width)  # noqa: E731
            self.projections = [slot(p) for p in self.projections]
            self.condition = slot(self.condition) if self.condition is not None else None
            self.rewritten = True

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        if self.reads_watermark:
            self._with_watermark(batch)
            batch = _append_watermark(batch, self.wm_type)
        if self.condition is not None:
            mask = evaluate(self.condition, data_columns(batch), batch.num_rows)
            mask = pc.fill_null(mask, False)
            if mask.true_count != batch.num_rows:
                batch = batch.filter(mask)
            if batch.num_rows == 0:
                return []
        cols = data_columns(batch)
        n = batch.num_rows
        out = [cols[p.index] if isinstance(p, Ref) else evaluate(p, cols, n) for p in self.projections]
        if self.reads_watermark:
            batch = batch.drop_columns([WM_COLUMN])
        return [make_batch(batch.column(0), out, self.names, row_watermarks(batch) if has_wm(batch) else None)]


WM_COLUMN = "$current_watermark"


def _calls(e: Expr, fn: str) -> bool:
    return isinstance(e, Call) and (e.fn == fn or any(_calls(a, fn) for a in e.args))


def _find(e: Expr, fn: str) -> list[Call]:
    if not isinstance(e, Call):
        return []
    return ([e] if e.fn == fn else []) + [c for a in e.args for c in _find(a, fn)]


def _replace(e: Expr, slot: int) -> Expr:
    if isinstance(e, Call) and e.fn == "CURRENT_WATERMARK":
        return Ref(e.type, slot, "CURRENT_WATERMARK")
    if isinstance(e, Call):
        return Call(e.type, e.fn, tuple(_replace(a, slot) for a in e.args))
    return e


def _append_watermark(batch: pa.RecordBatch, t: pa.DataType) -> pa.RecordBatch:
    """The batch with the watermark before each row as a TIMESTAMP(3) data column just before `_wm`."""
    import numpy as np
    from sqlstream.runtime.event_time import MIN_WM
    wm = row_watermarks(batch)
    values = np.full(batch.num_rows, MIN_WM, np.int64) if wm is None else wm
    col = pa.array(values, pa.int64(), mask=values == MIN_WM).cast(pa.timestamp("ms")).cast(t)
    at = batch.num_columns - 1 if has_wm(batch) else batch.num_columns
    arrays = [batch.column(i) for i in range(batch.num_columns)]
    names = list(batch.schema.names)
    return pa.RecordBatch.from_arrays(arrays[:at] + [col] + arrays[at:], names=names[:at] + [WM_COLUMN] + names[at:])
