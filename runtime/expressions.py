"""Evaluates planner IR over Arrow arrays with pyarrow.compute (one call per batch, not per row)."""
from __future__ import annotations

import datetime as dt
import decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.core.errors import ExecutionError
from sqlstream.core.types import FlinkType
from sqlstream.functions.arrow import cast_to, full
from sqlstream.functions.cast import cast_array
from sqlstream.functions.catalog import lookup
from sqlstream.plan.expr import Call, Expr, Lit, Ref, is_deterministic


class SharedSubexpressions:
    """The deterministic calls that occur more than once among some expressions (LOWER(channel) in four CASE
    branches, one REGEXP_EXTRACT in both WHERE and SELECT), found once: `batch()` gives the memo with which each
    of them is evaluated once per batch. A Python UDF is called as often as the query says."""

    def __init__(self, projections: list[Expr], condition: Expr | None = None):
        groups: dict[tuple, list[Expr]] = {}
        projected: set[tuple] = set()

        def visit(e: Expr, into: set | None) -> None:
            if isinstance(e, Call):
                key = _key(e)
                if key is not None:
                    groups.setdefault(key, []).append(e)
                    if into is not None:
                        into.add(key)
                for a in e.args:
                    visit(a, into)
        for e in projections:
            visit(e, projected)
        if condition is not None:
            visit(condition, None)
        self.key_of = {id(x): k for k, xs in groups.items() if len(xs) > 1 for x in xs}
        self.projected = projected & set(self.key_of.values())  # what the projections read after a filter
        self.exprs = projections, condition  # the ids above stay theirs while the expressions live

    def batch(self) -> "Memo | None":
        """A memo for one batch's rows, or None when nothing repeats."""
        return Memo(self.key_of) if self.key_of else None


class Memo:
    """Values of shared subexpressions over one batch's rows."""

    def __init__(self, key_of: dict[int, tuple]):
        self.key_of = key_of
        self.values: dict[tuple, object] = {}

    def filter(self, mask: pa.Array, wanted: set[tuple]) -> None:
        """The rows where `mask` holds are kept (a filter's passing rows), of the values still `wanted`."""
        self.values = {k: v if isinstance(v, pa.Scalar) else pc.filter(v, mask)
                       for k, v in self.values.items() if k in wanted}


def _key(e: Expr) -> tuple | None:
    """A structural identity of a deterministic call without UDFs (None: never shared)."""
    if isinstance(e, Ref):
        return ("ref", e.index, e.type)
    if isinstance(e, Lit):
        return ("lit", repr(e.value), e.type)
    if not isinstance(e, Call) or e.fn.startswith("UDF:") or not is_deterministic(e):
        return None
    args = tuple(_key(a) for a in e.args)
    return None if None in args else ("call", e.fn, e.type, args)


def evaluate(e: Expr, cols: list[pa.Array], n: int, memo: Memo | None = None) -> pa.Array:
    """Evaluate `e` over input columns `cols` (all of length n) into an array of e.type; with a memo, the
    shared subexpressions it holds are evaluated once for these rows."""
    v = _eval(e, cols, n, memo)
    return _as_array(v, e.type, n)


def implemented(name: str) -> bool:
    """Whether the runtime evaluates calls of `name`: a catalog function with an implementation, or a form the
    evaluator runs itself."""
    fn = lookup(name)
    return name in SPECIAL_FORMS or fn is not None and fn.impl is not None


def _as_array(v, t: FlinkType, n: int) -> pa.Array:
    if isinstance(v, pa.ChunkedArray):
        v = v.combine_chunks()
    if isinstance(v, pa.Scalar):
        if not v.is_valid:
            return pa.nulls(n, t.to_arrow())
        if v.type == t.to_arrow():  # as it is (a nanosecond TIMESTAMP(9) has no Python datetime)
            return pa.repeat(v, n)
        return pa.array([v.as_py()], t.to_arrow()).take(pa.array(np.zeros(n, dtype=np.int32)))
    want = t.to_arrow()
    if v.type != want:
        v = cast_array(v, FlinkType("?"), t, safe=False, from_arrow=True)
    return v


def _scalar(e: Lit) -> pa.Scalar:
    if e.type.name == "NULL" and e.value is not None:
        return pa.scalar(e.value)  # a symbol such as a time unit
    t = e.type.to_arrow() if e.type.name != "NULL" else pa.null()
    if e.value is None:
        return pa.scalar(None, t)
    v = e.value
    if e.type.name == "INTERVAL_DAY_TIME":
        return pa.scalar(dt.timedelta(milliseconds=v), pa.duration("ms"))
    if e.type.is_string:
        return pa.scalar(v, pa.string())
    return pa.scalar(v, t)


def _eval(e: Expr, cols, n, memo: Memo | None = None):
    if isinstance(e, Ref):
        return cols[e.index]
    if isinstance(e, Lit):
        return _scalar(e)
    if memo is not None:
        key = memo.key_of.get(id(e))
        if key is not None:
            if key not in memo.values:
                memo.values[key] = _call(e, cols, n, memo)
            return memo.values[key]
    return _call(e, cols, n, memo)


def _call(e: Expr, cols, n, memo: Memo | None):
    form = SPECIAL_FORMS.get(e.fn)
    if form is not None:
        return form(e, cols, n, memo)
    fn = lookup(e.fn)
    impl = fn.impl if fn is not None else None
    if impl is None and e.fn.startswith("UDF:"):
        from sqlstream.core.udf import REGISTRY
        udf = REGISTRY.get(e.fn[4:])
        if udf is None:
            raise ExecutionError(f"Python function {e.fn[4:]} is not registered in this process")
        return udf([full(_eval(a, cols, n, memo), n) for a in e.args], n)
    if impl is None:
        raise ExecutionError(f"function {e.fn} is not implemented")
    args = [_eval(a, cols, n, memo) for a in e.args]
    try:
        return impl(e, args, n)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ZeroDivisionError, decimal.InvalidOperation) as ex:
        raise ExecutionError(f"error evaluating {e.fn}: {ex}") from None


# ---- forms that evaluate their own arguments ---------------------------------------------------
def _case(e, cols, n, memo):
    parts = [_eval(a, cols, n, memo) for a in e.args]
    conds = [pc.fill_null(full(c, n, pa.bool_()), False) for c in parts[0:-1:2]]
    t = e.type.to_arrow()
    vals = [full(cast_to(v, t), n, t) for v in parts[1:-1:2]]
    els = full(cast_to(parts[-1], t), n, t)
    if len(conds) == 1:
        return pc.if_else(conds[0], vals[0], els)
    struct = pa.StructArray.from_arrays(conds, names=[f"c{i}" for i in range(len(conds))])
    return pc.case_when(struct, *vals, els)


def _grouping_id(e, cols, n, memo):
    sets = full(_eval(e.args[0], cols, n, memo), n)
    ids = pa.array(list(e.args[1].value), e.type.to_arrow())
    return ids.take(sets)


SPECIAL_FORMS = {"CASE": _case, "GROUPING_ID": _grouping_id}
