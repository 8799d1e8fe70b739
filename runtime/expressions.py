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
from sqlstream.plan.expr import NONDETERMINISTIC, Call, Expr, Lit, Ref


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
    """A structural identity of a deterministic call without UDFs (None: never shared). A call is deterministic
    when its function is and its arguments have keys (a test of the whole subtree at each level would make
    `SharedSubexpressions` cubic in a chain's length: 300 terms of `a + 1` took 14 s)."""
    if isinstance(e, Ref):
        return ("ref", e.index, e.type)
    if isinstance(e, Lit):
        return ("lit", repr(e.value), e.type)
    if not isinstance(e, Call) or e.fn.startswith("UDF:") or e.fn in NONDETERMINISTIC:
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
        from sqlstream.core.udf import registered
        udf = registered(e.fn[4:])
        if udf is None:
            raise ExecutionError(f"Python function {e.fn[4:]} is not registered in this process")
        return udf([full(_eval(a, cols, n, memo), n) for a in e.args], n)
    if impl is None:
        raise ExecutionError(f"function {e.fn} is not implemented")
    if e.fn in ("AND", "OR"):
        try:
            return _apply(e, impl, cols, n, memo)
        except ExecutionError:
            return _and_or_taken_rows(e, cols, n)
    return _apply(e, impl, cols, n, memo)


def _apply(e: Call, impl, cols, n, memo: Memo | None):
    args = [_eval(a, cols, n, memo) for a in e.args]
    try:
        return impl(e, args, n)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ZeroDivisionError, decimal.InvalidOperation) as ex:
        raise ExecutionError(f"error evaluating {e.fn}: {ex}") from None


# ---- forms that evaluate their own arguments ---------------------------------------------------
def _case(e, cols, n, memo):
    try:
        return _case_all_rows(e, cols, n, memo)
    except ExecutionError:
        return _case_taken_rows(e, cols, n)


def _case_taken_rows(e, cols, n):
    """CASE with each condition evaluated on the rows no earlier one took and each branch on the rows that take
    it, as Flink evaluates them row by row: a branch that fails on rows that do not take it (IF(i > 0, 10 / i, 0),
    CASE WHEN s <> '' THEN CAST(s AS INT) END) does not fail the query. Only used when evaluating every branch
    on every row failed."""
    t = e.type.to_arrow()
    conds, branches = e.args[0:-1:2], list(e.args[1:-1:2]) + [e.args[-1]]
    choice = np.full(n, len(conds))  # each row's branch; the last is ELSE
    undecided = np.arange(n)
    for k, c in enumerate(conds):
        if not len(undecided):
            break
        hit = full(_eval(c, _rows(cols, undecided), len(undecided)), len(undecided), pa.bool_())
        hit = np.asarray(pc.fill_null(hit, False).to_numpy(zero_copy_only=False), dtype=bool)
        choice[undecided[hit]] = k
        undecided = undecided[~hit]
    values, positions = [], []
    for k, branch in enumerate(branches):
        rows = np.flatnonzero(choice == k)
        if len(rows):
            values.append(full(cast_to(_eval(branch, _rows(cols, rows), len(rows)), t), len(rows), t))
            positions.append(rows)
    if not values:
        return pa.nulls(n, t)
    return pa.concat_arrays(values).take(pa.array(np.argsort(np.concatenate(positions), kind="stable")))


def _and_or_taken_rows(e, cols, n):
    """AND / OR with each operand evaluated only on the rows the ones before it leave undecided, as Flink's
    generated code does (`i <> 0 AND 10 / i > 1`). Only used when evaluating every operand on every row failed."""
    decisive = e.fn == "OR"  # the value that decides a row: FALSE for AND, TRUE for OR
    values, valid = np.full(n, not decisive), np.ones(n, dtype=bool)
    undecided = np.arange(n)
    for a in e.args:
        if not len(undecided):
            break
        v = full(_eval(a, _rows(cols, undecided), len(undecided)), len(undecided), pa.bool_())
        so_far = pa.array(values[undecided], mask=~valid[undecided])
        both = pc.or_kleene(so_far, v) if decisive else pc.and_kleene(so_far, v)
        got, known = (np.asarray(x.to_numpy(zero_copy_only=False), dtype=bool)
                      for x in (pc.fill_null(both, False), both.is_valid()))
        values[undecided], valid[undecided] = got, known
        undecided = undecided[~(known & (got == decisive))]
    return pa.array(values, pa.bool_(), mask=~valid)


def _rows(cols, rows: np.ndarray) -> list:
    at = pa.array(rows)
    return [c.take(at) if isinstance(c, (pa.Array, pa.ChunkedArray)) else c for c in cols]


def _case_all_rows(e, cols, n, memo):
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
