"""Row-at-a-time evaluation of simple expressions (comparisons, AND/OR/NOT, IS NULL, COALESCE, integer and
floating arithmetic) for operators that must decide one row at a time, such as MATCH_RECOGNIZE's navigating
DEFINE conditions; anything else returns None from `compile_row` and goes through the vectorized evaluator."""
from __future__ import annotations

import operator
from typing import Callable

from sqlstream.plan.expr import Call, Expr, Lit, Ref

_COMPARE = {"=": operator.eq, "<>": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
            ">=": operator.ge}
_ARITH = {"+": operator.add, "-": operator.sub, "*": operator.mul}
_BITS = {"TINYINT": 8, "SMALLINT": 16, "INT": 32, "INTEGER": 32, "BIGINT": 64}


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
    fn = e.fn
    if fn in _COMPARE and all(_plain(a.type) for a in e.args):
        op, (x, y) = _COMPARE[fn], args

        def compare(row):
            a, b = x(row), y(row)
            return None if a is None or b is None else op(a, b)
        return compare
    if fn in _ARITH and e.type.is_numeric and not e.type.is_decimal and all(a.type.is_numeric for a in e.args):
        op, (x, y) = _ARITH[fn], args
        bits = _BITS.get(e.type.name)

        def arith(row):
            a, b = x(row), y(row)
            if a is None or b is None:
                return None
            v = op(a, b)
            if bits:  # integers wrap around as in Java
                half = 1 << (bits - 1)
                v = (v + half) % (1 << bits) - half
            return v
        return arith
    if fn == "AND":
        x, y = args

        def and_(row):
            a, b = x(row), y(row)
            if a is False or b is False:
                return False
            return None if a is None or b is None else True
        return and_
    if fn == "OR":
        x, y = args

        def or_(row):
            a, b = x(row), y(row)
            if a is True or b is True:
                return True
            return None if a is None or b is None else False
        return or_
    if fn == "NOT":
        (x,) = args
        return lambda row: None if (v := x(row)) is None else not v
    if fn in ("IS_NULL", "IS_NOT_NULL"):
        (x,) = args
        null = fn == "IS_NULL"
        return lambda row: (x(row) is None) == null
    if fn == "COALESCE" and all(_plain(a.type) for a in e.args):
        def coalesce(row):
            for a in args:
                v = a(row)
                if v is not None:
                    return v
            return None
        return coalesce
    if fn == "CAST" and e.type.is_numeric and not e.type.is_decimal and e.args[0].type.is_numeric \
            and not e.args[0].type.is_decimal:
        (x,) = args
        conv = float if e.type.name in ("DOUBLE", "FLOAT") else int
        return lambda row: None if (v := x(row)) is None else conv(v)
    return None


def _plain(t) -> bool:
    """Types whose Python values compare as Flink compares them."""
    return t.is_numeric or t.name in ("VARCHAR", "CHAR", "STRING", "BOOLEAN", "DATE", "TIMESTAMP", "NULL")
