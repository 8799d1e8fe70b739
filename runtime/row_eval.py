"""Row-at-a-time evaluation of simple expressions for operators that must decide one row at a time, such as
MATCH_RECOGNIZE's navigating DEFINE conditions: the catalog functions with a row implementation (comparisons,
AND/OR/NOT, IS NULL, COALESCE, integer and floating arithmetic, numeric casts); anything else returns None from
`compile_row` and goes through the vectorized evaluator."""
from __future__ import annotations

from typing import Callable

from sqlstream.functions.catalog import lookup
from sqlstream.plan.expr import Call, Expr, Lit, Ref


def compile_row(e: Expr) -> Callable[[tuple], object] | None:
    """A function of a row tuple giving e's value (None for NULL), or None if e needs the vectorized path."""
    if isinstance(e, Ref):
        i = e.index
        return lambda row: row[i]
    if isinstance(e, Lit):
        if e.type.name.startswith("INTERVAL") or e.type.is_decimal:
            return None
        v = e.value
        return lambda row: v
    if not isinstance(e, Call):
        return None
    args = [compile_row(a) for a in e.args]
    if any(a is None for a in args):
        return None
    fn = lookup(e.fn)
    if fn is None or fn.row is None:
        return None
    return fn.row(e, args)
