"""Calc: filter then projection, vectorized over the batch; `_op` and `_wm` pass through."""
from __future__ import annotations

from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.plan.expr import Call, Expr, Lit, Ref
from sqlstream.runtime.batch_filter import filter_columns
from sqlstream.core.changelog import data_columns, has_wm, make_batch, row_watermarks
from sqlstream.runtime.expressions import SharedSubexpressions, evaluate
from sqlstream.runtime.operator import Operator


class CalcOperator(Operator):
    name = "Calc"

    def __init__(self, projections: list[Expr], condition: Expr | None, names: list[str]):
        self.projections, self.condition, self.names = projections, condition, names
        exprs = list(projections) + ([condition] if condition is not None else [])
        self.reads_watermark = any(_calls(e, "CURRENT_WATERMARK") for e in exprs)
        self.rewritten = False
        self.reads: dict[int, set[str] | None] | None = None  # input columns the projections read (ROW fields)
        self.shared: SharedSubexpressions | None = None
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
        cols = data_columns(batch)
        n = batch.num_rows
        ops = batch.column(0)
        wm = batch.column(batch.num_columns - 1) if has_wm(batch) else None
        if self.shared is None:
            self.shared = SharedSubexpressions(self.projections, self.condition)
        memo = self.shared.batch()
        if self.condition is not None:
            mask = pc.fill_null(evaluate(self.condition, cols, n, memo), False)
            kept = mask.true_count
            if kept == 0:
                return []
            if kept != n:  # only what the projections read, with the row kinds and watermarks
                if self.reads is None:
                    self.reads = _reads(self.projections)
                width = len(cols)
                passed = [ops] + ([wm] if wm is not None else [])
                filtered = filter_columns(cols + passed, mask,
                                          {**self.reads, **{width + j: None for j in range(len(passed))}})
                cols, ops, n = filtered[:width], filtered[width], kept
                wm = filtered[width + 1] if wm is not None else None
                if memo is not None:
                    memo.filter(mask, self.shared.projected)
        out = [cols[p.index] if isinstance(p, Ref) else evaluate(p, cols, n, memo) for p in self.projections]
        return [make_batch(ops, out, self.names, None if wm is None else wm.to_numpy())]

    def routes_before_filter(self) -> bool:
        """Whether `split` can route this calc's output: it filters, reads no watermark, and every output column
        is an input column or a field of one (nexmark's bid view), which can be read for the rows the filter
        drops too (a computed column could fail on them, and would be computed for rows nobody keeps)."""
        return self.condition is not None and not self.reads_watermark \
            and all(_plain_read(p) for p in self.projections)

    def split(self, batch: pa.RecordBatch, owner: Callable[[pa.RecordBatch], np.ndarray],
              parallelism: int) -> list[pa.RecordBatch | None]:
        """The output rows for each of `parallelism` destinations (None: none), in their order, where `owner`
        gives each output row's destination: the columns are read for every input row, and each destination's
        passing rows are copied once, instead of copying every passing row into one batch that routing then
        copies again (`routes_before_filter`)."""
        cols, n = data_columns(batch), batch.num_rows
        if self.shared is None:
            self.shared = SharedSubexpressions(self.projections, self.condition)
        mask = pc.fill_null(evaluate(self.condition, cols, n, self.shared.batch()), False)
        if not mask.true_count:
            return [None] * parallelism
        out = make_batch(batch.column(0), [cols[p.index] if isinstance(p, Ref) else evaluate(p, cols, n)
                                           for p in self.projections], self.names, row_watermarks(batch))
        destination = owner(out)
        passing = mask.to_numpy(zero_copy_only=False)
        routed: list[pa.RecordBatch | None] = []
        for d in range(parallelism):
            rows = np.flatnonzero(passing & (destination == d))
            routed.append(out.take(pa.array(rows)) if len(rows) else None)
        return routed


WM_COLUMN = "$current_watermark"


def _calls(e: Expr, fn: str) -> bool:
    return isinstance(e, Call) and (e.fn == fn or any(_calls(a, fn) for a in e.args))


def _find(e: Expr, fn: str) -> list[Call]:
    if not isinstance(e, Call):
        return []
    return ([e] if e.fn == fn else []) + [c for a in e.args for c in _find(a, fn)]


def _plain_read(e: Expr) -> bool:
    """An input column, or a field of one (of a field ..): read for any row without failing."""
    while isinstance(e, Call) and e.fn == "FIELD" and len(e.args) == 2 and isinstance(e.args[1], Lit):
        e = e.args[0]
    return isinstance(e, Ref)


def _reads(exprs: list[Expr]) -> dict[int, set[str] | None]:
    """The input columns `exprs` read: of a ROW column read only through FIELD(col, 'name'), those names;
    None for a column read whole."""
    reads: dict[int, set[str] | None] = {}

    def visit(e: Expr) -> None:
        if isinstance(e, Call) and e.fn == "FIELD" and isinstance(e.args[0], Ref) and isinstance(e.args[1], Lit):
            i = e.args[0].index
            if i not in reads or reads[i] is not None:
                reads[i] = (reads.get(i) or set()) | {e.args[1].value}
            return
        if isinstance(e, Ref):
            reads[e.index] = None
        for c in e.children():
            visit(c)
    for e in exprs:
        visit(e)
    return reads


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
