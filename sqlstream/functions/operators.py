"""SQL operators: arithmetic (Java's integer wrap-around and truncating division, DECIMAL results rounded
HALF_UP, temporal +/- intervals), comparison, three-valued logic, IS [NOT] NULL/TRUE/FALSE, IN, LIKE,
SIMILAR TO, COALESCE/IFNULL, NULLIF, GREATEST/LEAST and CASE/IF (whose branches the evaluator runs itself).

The simple ones also have a row implementation, for operators that decide one row at a time."""
from __future__ import annotations

import decimal
import operator
import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.core.errors import ExecutionError, ValidationError
from sqlstream.core.types import BOOLEAN, INTEGERS, FlinkType, common_type
from sqlstream.functions.arrow import DEC_CTX, cast_to, full, hashable, rescale, trunc_div
from sqlstream.functions.catalog import scalar
from sqlstream.functions.inference import (MIN_ADJUSTED_SCALE, adjust_decimal, coalesce, common_of,
                                           nullable, require, returns, same_as_first, strings)
from sqlstream.functions.java_datetime import add_months

def _arith(op: str):
    def impl(e, args, n):
        a, b = args
        ta, tb = e.args[0].type, e.args[1].type
        rt = e.type
        if rt.is_decimal:
            return _decimal_arith(op, a, b, ta, tb, rt, n)
        if ta.is_temporal or tb.is_temporal or ta.is_interval or tb.is_interval:
            return _temporal_arith(op, a, b, ta, tb, rt, n)
        target = rt.to_arrow()
        a = cast_to(a, target)
        b = cast_to(b, target)
        if op == "+":
            return pc.add(a, b)
        if op == "-":
            return pc.subtract(a, b)
        if op == "*":
            return pc.multiply(a, b)
        if rt.is_integer:
            return _int_divide(a, b, target, n)
        return pc.divide(a, b)
    return impl


def _int_divide(a, b, target, n):
    """Integer division truncating toward zero (Java semantics); division by zero is an error, except where the
    dividend is NULL (NULL, as Flink checks NULL first)."""
    a, b = full(a, n, target), full(b, n, target)
    mask = np.asarray(pc.or_(pc.is_null(a), pc.is_null(b)).to_numpy(zero_copy_only=False))
    an = np.asarray(pc.fill_null(a, 0).to_numpy(zero_copy_only=False))
    bn = np.where(mask, 1, np.asarray(pc.fill_null(b, 1).to_numpy(zero_copy_only=False)))
    if np.any(bn == 0):
        raise ExecutionError("Division by zero (integer division '/')")
    return pa.array(trunc_div(an, bn), target, mask=mask)


def _decimal_arith(op, a, b, ta, tb, rt, n):
    if op == "/":
        return _decimal_divide(a, b, rt, n)
    if op in "+-":
        s = max(_scale(ta), _scale(tb))
        a = _to_decimal(a, ta, pa.decimal128(min(37, _prec(ta) - _scale(ta) + s), s))
        b = _to_decimal(b, tb, pa.decimal128(min(37, _prec(tb) - _scale(tb) + s), s))
        r = pc.add(a, b) if op == "+" else pc.subtract(a, b)
    else:
        a = _to_decimal(a, ta, pa.decimal128(min(38, _prec(ta)), _scale(ta)))
        b = _to_decimal(b, tb, pa.decimal128(min(38, _prec(tb)), _scale(tb)))
        if a.type.precision + b.type.precision + 1 > 38:  # beyond Arrow's product type: exactly, per row
            return _decimal_rows(lambda x, y: x * y, a, b, rt, n)
        r = pc.multiply(a, b)
    return rescale(r, rt)


def _decimal_rows(op, a, b, rt, n):
    """A DECIMAL operation on Python decimals, rounded HALF_UP to the result scale; NULL where the result has more
    integer digits than its type holds (as Flink's DecimalData.fromBigDecimal)."""
    precision, scale = rt.decimal_precision_scale()
    q, limit = decimal.Decimal(1).scaleb(-scale), decimal.Decimal(10) ** (precision - scale)
    out = [None if x is None or y is None else op(decimal.Decimal(x), decimal.Decimal(y)).quantize(q, context=DEC_CTX)
           for x, y in zip(full(a, n).to_pylist(), full(b, n).to_pylist())]
    return pa.array([None if v is None or abs(v) >= limit else v for v in out], rt.to_arrow())


def _prec(t: FlinkType) -> int:
    return t.decimal_precision_scale()[0] if (t.is_decimal or t.is_integer) else 38


def _scale(t: FlinkType) -> int:
    return t.decimal_precision_scale()[1] if (t.is_decimal or t.is_integer) else 0


def _to_decimal(v, t: FlinkType, target: pa.DataType):
    if t.is_approx:
        raise ExecutionError("internal: approximate value in DECIMAL arithmetic")
    return cast_to(v, target)


def _decimal_divide(a, b, rt, n):
    """DECIMAL division rounded HALF_UP to the result scale (exact, via Python decimals)."""
    a, b = full(a, n), full(b, n)
    q = decimal.Decimal(1).scaleb(-rt.scale)
    out = []
    for x, y in zip(a.to_pylist(), b.to_pylist()):
        if x is None or y is None:
            out.append(None)
            continue
        if y == 0:
            raise ExecutionError("Division by zero (DECIMAL '/')")
        out.append(DEC_CTX.divide(decimal.Decimal(x), decimal.Decimal(y)).quantize(q, context=DEC_CTX))
    return pa.array(out, rt.to_arrow())


def _temporal_arith(op, a, b, ta, tb, rt, n):
    if ta.is_interval and tb.is_numeric or tb.is_interval and ta.is_numeric:
        iv, num = (a, b) if ta.is_interval else (b, a)
        ms = pc.multiply(pc.cast(iv, pa.int64()), pc.cast(num, pa.int64()))
        return pc.cast(ms, pa.duration("ms"))
    if ta.is_interval and not tb.is_interval:
        a, b, ta, tb = b, a, tb, ta
    if tb.name == "INTERVAL_YEAR_MONTH":
        return add_months(a, b, -1 if op == "-" else 1, rt, n)
    dur = cast_to(b, pa.duration(rt.to_arrow().unit if rt.is_timestamp else "ms"))
    if ta.name == "TIME":  # the time of day moves around the clock, as in Flink
        of_day = pc.cast(pc.cast(pc.cast(a, pa.time32("ms")), pa.int32()), pa.int64())
        moved = pc.add(of_day, pc.cast(dur, pa.int64())) if op == "+" else pc.subtract(of_day, pc.cast(dur, pa.int64()))
        wrapped = np.mod(np.asarray(pc.fill_null(moved, 0).to_numpy(zero_copy_only=False)), 86_400_000)
        out = pa.array(wrapped.astype(np.int32), pa.int32(), mask=np.asarray(pc.is_null(moved).to_numpy(
            zero_copy_only=False)))
        return pc.cast(out, pa.time32("ms")).cast(rt.to_arrow())
    if ta.name == "DATE":
        days = pc.cast(pc.divide(pc.cast(dur, pa.int64()), 86_400_000), pa.int32())
        base = pc.cast(a, pa.int32())
        r = pc.add(base, days) if op == "+" else pc.subtract(base, days)
        return pc.cast(r, pa.date32())
    return pc.add(a, dur) if op == "+" else pc.subtract(a, dur)


def _mod(e, args, n):
    a, b = args
    t = e.type.to_arrow()
    if e.type.is_decimal:
        a, b = full(a, n), full(b, n)
        out = [None if x is None or y is None else decimal.Decimal(x) % decimal.Decimal(y)
               for x, y in zip(a.to_pylist(), b.to_pylist())]
        return pa.array(out, t)
    a, b = full(cast_to(a, pa.int64()), n), full(cast_to(b, pa.int64()), n)
    an = pc.fill_null(a, 0).to_numpy(zero_copy_only=False)
    bn = pc.fill_null(b, 1).to_numpy(zero_copy_only=False)
    if np.any(bn == 0):
        raise ExecutionError("Division by zero (MOD)")
    mask = pc.or_(pc.is_null(a), pc.is_null(b)).to_numpy(zero_copy_only=False)
    return pa.array(np.fmod(an, bn), pa.int64(), mask=mask).cast(t)


def _negate(e, args, n):
    return pc.negate(args[0])


# ---- comparison & logic -----------------------------------------------------------------------------
def _cmp(fn):
    def impl(e, args, n):
        a, b = args
        if isinstance(a, pa.Scalar) and isinstance(b, pa.Scalar):
            a = full(a, n)
        if pa.types.is_nested(a.type) and fn in (pc.equal, pc.not_equal):  # no Arrow kernel: value by value
            same = [None if x is None or y is None else hashable(x) == hashable(y)
                    for x, y in zip(full(a, n).to_pylist(), full(b, n).to_pylist())]
            out = pa.array(same, pa.bool_())
            return out if fn is pc.equal else pc.invert(out)
        return fn(a, b)
    return impl


def _distinct(negate: bool):
    def impl(e, args, n):
        a, b = full(args[0], n), full(args[1], n)
        eq = pc.equal(a, b)
        both_null = pc.and_(pc.is_null(a), pc.is_null(b))
        same = pc.if_else(pc.is_null(eq), both_null, eq)
        return pc.invert(same) if negate else same
    return impl


def _is(kind):
    def impl(e, args, n):
        a = full(args[0], n, pa.bool_())
        if kind == "IS_NULL":
            return pc.is_null(a)
        if kind == "IS_NOT_NULL":
            return pc.is_valid(a)
        if kind == "IS_TRUE":
            return pc.fill_null(a, False)
        if kind == "IS_FALSE":
            return pc.fill_null(pc.invert(a), False)
        if kind == "IS_NOT_TRUE":
            return pc.invert(pc.fill_null(a, False))
        return pc.invert(pc.fill_null(pc.invert(a), False))
    return impl


def _in(e, args, n):
    x = full(args[0], n)
    vals = [v for v in args[1:]]
    if not all(isinstance(v, pa.Scalar) for v in vals):  # columns in the list: x = v1 OR x = v2 ..., 3-valued
        r = pc.equal(x, full(vals[0], n, x.type))
        for v in vals[1:]:
            r = pc.or_kleene(r, pc.equal(x, full(v, n, x.type)))
        return r
    value_set = pa.array([v.as_py() for v in vals], x.type)
    r = pc.is_in(x, value_set=value_set)
    has_null = any(not v.is_valid for v in vals)
    r = pc.if_else(pc.is_null(x), pa.scalar(None, pa.bool_()), r)
    if has_null:
        r = pc.if_else(r, r, pa.scalar(None, pa.bool_()))
    return r


def _like(e, args, n):
    s, pat = args[0], args[1]
    if not isinstance(pat, pa.Scalar):
        raise ExecutionError("LIKE pattern must be a constant")
    p = pat.as_py()
    if len(args) > 2:
        esc = args[2].as_py()
        p = _convert_escape(p, esc)
    return pc.match_like(full(s, n), p)


def _convert_escape(p: str, esc: str) -> str:
    out, i = [], 0
    while i < len(p):
        if p[i] == esc and i + 1 < len(p):
            out.append("\\" + p[i + 1])
            i += 2
        else:
            out.append(p[i])
            i += 1
    return "".join(out)


def _similar(e, args, n):
    """SIMILAR TO: a regular expression in which % is any string and _ any character, matching the whole value."""
    pattern = re.sub(r"(\\.)|%|_", lambda m: m.group(1) or (".*" if m.group(0) == "%" else "."), args[1].as_py())
    return _regexp_match(full(args[0], n), pattern, full=True)


def _regexp_match(s, pattern, full=False):
    return pc.match_substring_regex(s, ("^(?:" + pattern + ")$") if full else pattern)


def _coalesce(e, args, n):
    t = e.type.to_arrow()
    return pc.coalesce(*[full(cast_to(a, t), n, t) for a in args])


def _nullif(e, args, n):
    a, b = full(args[0], n), args[1]
    eq = pc.fill_null(pc.equal(a, cast_to(b, a.type)), False)
    return pc.if_else(eq, pa.scalar(None, a.type), a)


def _greatest(fn):
    def impl(e, args, n):
        t = e.type.to_arrow()
        arrs = [full(cast_to(a, t), n, t) for a in args]
        r = fn(*arrs, skip_nulls=False)
        return r
    return impl


# ---- types ----
def _numeric_pair(name: str, args: list[FlinkType]) -> None:
    require(name, args, len(args) == 2 and all(a.is_numeric or a.name == "NULL" for a in args))


def _wider_integer(a: FlinkType, b: FlinkType) -> str:
    return max(a.name, b.name, key=INTEGERS.index)


def plus_minus(name: str, args: list[FlinkType]) -> FlinkType:
    a, b = args
    n = nullable(args)
    if a.is_temporal and b.is_interval:
        return a.without_time_attr().with_nullable(n)
    if a.is_interval and b.is_temporal and name == "+":
        return b.without_time_attr().with_nullable(n)
    if a.is_interval and b.is_interval:
        return a.with_nullable(n)
    _numeric_pair(name, args)
    return _arith_type(a, b, n, "add")


def _arith_type(a: FlinkType, b: FlinkType, n: bool, kind: str) -> FlinkType:
    if a.name == "NULL":
        a = b
    if b.name == "NULL":
        b = a
    if a.is_approx or b.is_approx:
        return FlinkType("DOUBLE" if "DOUBLE" in (a.name, b.name) or a.is_decimal or b.is_decimal
                         else "FLOAT", nullable=n)
    if a.is_integer and b.is_integer:
        return FlinkType(_wider_integer(a, b), nullable=n)
    (p1, s1), (p2, s2) = a.decimal_precision_scale(), b.decimal_precision_scale()
    if kind == "add":
        s = max(s1, s2)
        return adjust_decimal(max(p1 - s1, p2 - s2) + s + 1, s, n)
    if kind == "mul":
        return adjust_decimal(p1 + p2 + 1, s1 + s2, n)
    # divide
    s = max(MIN_ADJUSTED_SCALE, s1 + p2 + 1)
    return adjust_decimal(p1 - s1 + s2 + s, s, n)


def times(name: str, args: list[FlinkType]) -> FlinkType:
    a, b = args
    if a.is_interval and b.is_numeric:
        return a.with_nullable(nullable(args))
    if b.is_interval and a.is_numeric:
        return b.with_nullable(nullable(args))
    _numeric_pair(name, args)
    return _arith_type(a, b, nullable(args), "mul")


def divide(name: str, args: list[FlinkType]) -> FlinkType:
    _numeric_pair(name, args)
    return _arith_type(args[0], args[1], nullable(args), "div")


def mod_type(name: str, args: list[FlinkType]) -> FlinkType:
    """MOD of integers: the divisor's type; with a DECIMAL, as Flink's decimal modulo: the integer digits of
    the narrower operand and the larger scale."""
    require(name, args, len(args) == 2 and all(a.is_integer or a.is_decimal or a.name == "NULL"
                                                for a in args))
    if not any(a.is_decimal for a in args) or any(a.name == "NULL" for a in args):
        return args[1].with_nullable(nullable(args))
    (p1, s1), (p2, s2) = (_decimal_digits(a) for a in args)
    scale = max(s1, s2)
    return FlinkType("DECIMAL", min(p1 - s1, p2 - s2) + scale, scale, nullable(args))


def _decimal_digits(t: FlinkType) -> tuple[int, int]:
    """(precision, scale) of a DECIMAL, or of the DECIMAL an integer type fits in."""
    if t.is_decimal:
        return t.precision, t.scale
    return {"TINYINT": 3, "SMALLINT": 5, "INT": 10, "BIGINT": 19}[t.name], 0


def comparison(name: str, args: list[FlinkType]) -> FlinkType:
    a, b = args
    comparable = (common_type(a, b) is not None or (a.is_string and b.is_temporal)
                  or (a.is_temporal and b.is_string) or (a.is_numeric and b.is_string)
                  or (a.is_string and b.is_numeric))
    require(name, args, comparable)
    return BOOLEAN.with_nullable(nullable(args))


def boolean_op(name: str, args: list[FlinkType]) -> FlinkType:
    require(name, args, all(a.name in ("BOOLEAN", "NULL") for a in args))
    return BOOLEAN.with_nullable(nullable(args))


def not_null_boolean(name: str, args: list[FlinkType]) -> FlinkType:
    return BOOLEAN.with_nullable(False)


# ---- row implementations ----
_BITS = {"TINYINT": 8, "SMALLINT": 16, "INT": 32, "INTEGER": 32, "BIGINT": 64}


def _plain(t) -> bool:
    """Types whose Python values compare as Flink compares them."""
    return t.is_numeric or t.name in ("VARCHAR", "CHAR", "STRING", "BOOLEAN", "DATE", "TIMESTAMP", "NULL")


def _compare_row(op):
    def compile(e, args):
        if not all(_plain(a.type) for a in e.args):
            return None
        x, y = args

        def compare(row):
            a, b = x(row), y(row)
            return None if a is None or b is None else op(a, b)
        return compare
    return compile


def _arith_row(op):
    def compile(e, args):
        if not (e.type.is_numeric and not e.type.is_decimal and all(a.type.is_numeric for a in e.args)):
            return None
        x, y = args
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
    return compile


def _and_row(e, args):
    x, y = args

    def and_(row):
        a, b = x(row), y(row)
        if a is False or b is False:
            return False
        return None if a is None or b is None else True
    return and_


def _or_row(e, args):
    x, y = args

    def or_(row):
        a, b = x(row), y(row)
        if a is True or b is True:
            return True
        return None if a is None or b is None else False
    return or_


def _not_row(e, args):
    (x,) = args
    return lambda row: None if (v := x(row)) is None else not v


def _null_test_row(null: bool):
    def compile(e, args):
        (x,) = args
        return lambda row: (x(row) is None) == null
    return compile


def _coalesce_row(e, args):
    if not all(_plain(a.type) for a in e.args):
        return None

    def coalesce(row):
        for a in args:
            v = a(row)
            if v is not None:
                return v
        return None
    return coalesce


_BOOL_NOT_NULL = returns(BOOLEAN.with_nullable(False))

def _comparable(name: str, args: list[FlinkType]) -> FlinkType:
    """GREATEST/LEAST: the arguments' common type, which must have an order (Flink: Comparable type expected)."""
    t = common_of(name, args)
    if t.name in ("ARRAY", "MAP", "MULTISET", "ROW"):
        raise ValidationError(f"Comparable type expected, but was '{t.without_time_attr().with_nullable(True)}': "
                              f"{name} takes numbers, strings, times or BOOLEANs")
    return t


FUNCTIONS = (
    scalar("+", plus_minus, _arith("+"), row=_arith_row(operator.add)),
    scalar("-", plus_minus, _arith("-"), row=_arith_row(operator.sub)),
    scalar("*", times, _arith("*"), row=_arith_row(operator.mul)),
    scalar("/", divide, _arith("/")),
    scalar(("MOD", "%"), mod_type, _mod),
    scalar("NEGATE", same_as_first, _negate),
    scalar("=", comparison, _cmp(pc.equal), row=_compare_row(operator.eq)),
    scalar("<>", comparison, _cmp(pc.not_equal), row=_compare_row(operator.ne)),
    scalar("<", comparison, _cmp(pc.less), row=_compare_row(operator.lt)),
    scalar("<=", comparison, _cmp(pc.less_equal), row=_compare_row(operator.le)),
    scalar(">", comparison, _cmp(pc.greater), row=_compare_row(operator.gt)),
    scalar(">=", comparison, _cmp(pc.greater_equal), row=_compare_row(operator.ge)),
    scalar("IS_DISTINCT_FROM", lambda n, a: BOOLEAN.with_nullable(False), _distinct(True)),
    scalar("IS_NOT_DISTINCT_FROM", lambda n, a: BOOLEAN.with_nullable(False), _distinct(False)),
    scalar("AND", boolean_op, lambda e, a, n: pc.and_kleene(full(a[0], n, pa.bool_()), a[1]), row=_and_row),
    scalar("OR", boolean_op, lambda e, a, n: pc.or_kleene(full(a[0], n, pa.bool_()), a[1]), row=_or_row),
    scalar("NOT", boolean_op, lambda e, a, n: pc.invert(full(a[0], n, pa.bool_())), row=_not_row),
    scalar("IS_NULL", not_null_boolean, _is("IS_NULL"), row=_null_test_row(True)),
    scalar("IS_NOT_NULL", not_null_boolean, _is("IS_NOT_NULL"), row=_null_test_row(False)),
    scalar("IS_TRUE", not_null_boolean, _is("IS_TRUE")),
    scalar("IS_FALSE", not_null_boolean, _is("IS_FALSE")),
    scalar("IS_NOT_TRUE", not_null_boolean, _is("IS_NOT_TRUE")),
    scalar("IS_NOT_FALSE", not_null_boolean, _is("IS_NOT_FALSE")),
    scalar("IN", lambda n, a: BOOLEAN.with_nullable(nullable(a)), _in),
    scalar("LIKE", returns(BOOLEAN, (2, 3), check=strings), _like,
           signatures=(("STRING", "STRING"), ("STRING", "STRING", "STRING"))),
    scalar("SIMILAR", returns(BOOLEAN, (2, 2), check=strings), _similar, signatures=(("STRING", "STRING"),)),
    scalar(("COALESCE", "IFNULL"), coalesce, _coalesce, row=_coalesce_row),
    scalar("NULLIF", lambda n, a: a[0].with_nullable(True), _nullif),
    scalar("GREATEST", _comparable, _greatest(pc.max_element_wise)),
    scalar("LEAST", _comparable, _greatest(pc.min_element_wise)),
    scalar("CASE", common_of, None),  # its branches are evaluated lazily by the evaluator
    scalar("IF", common_of, None),  # bound as CASE
)
