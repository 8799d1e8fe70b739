"""Evaluates planner IR over Arrow arrays with pyarrow.compute (one call per batch, not per row)."""
from __future__ import annotations

import datetime as dt
import decimal
import re
import time

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.functions.catalog import lookup
from sqlstream.plan.expr import Call, Expr, Lit, Ref
from sqlstream.runtime.java_datetime import format_local, parse_local
from sqlstream.runtime.time_zones import from_local, to_local
from sqlstream.core.errors import ExecutionError
from sqlstream.core.formatting import format_double, format_timestamp
from sqlstream.core.types import FlinkType

_DEC_CTX = decimal.Context(prec=60, rounding=decimal.ROUND_HALF_UP)


def evaluate(e: Expr, cols: list[pa.Array], n: int) -> pa.Array:
    """Evaluate `e` over input columns `cols` (all of length n) into an array of e.type."""
    v = _eval(e, cols, n)
    return _as_array(v, e.type, n)


def _as_array(v, t: FlinkType, n: int) -> pa.Array:
    if isinstance(v, pa.ChunkedArray):
        v = v.combine_chunks()
    if isinstance(v, pa.Scalar):
        if not v.is_valid:
            return pa.nulls(n, t.to_arrow())
        return pa.array([v.as_py()], t.to_arrow()).take(pa.array(np.zeros(n, dtype=np.int32)))
    want = t.to_arrow()
    if v.type != want:
        v = _cast_array(v, FlinkType("?"), t, safe=False, from_arrow=True)
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


def _eval(e: Expr, cols, n):
    if isinstance(e, Ref):
        return cols[e.index]
    if isinstance(e, Lit):
        return _scalar(e)
    impl = FUNCTIONS.get(e.fn)
    if impl is None:
        fn = lookup(e.fn)
        impl = fn.impl if fn is not None else None
    if impl is None and e.fn.startswith("UDF:"):
        from sqlstream.core.udf import REGISTRY
        fn = REGISTRY.get(e.fn[4:])
        if fn is None:
            raise ExecutionError(f"Python function {e.fn[4:]} is not registered in this process")
        return fn([_full(_eval(a, cols, n), n) for a in e.args], n)
    if impl is None:
        raise ExecutionError(f"function {e.fn} is not implemented")
    if e.fn in LAZY:
        return impl(e, cols, n)
    args = [_eval(a, cols, n) for a in e.args]
    try:
        return impl(e, args, n)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ZeroDivisionError, decimal.InvalidOperation) as ex:
        raise ExecutionError(f"error evaluating {e.fn}: {ex}") from None


def implemented(name: str) -> bool:
    """Whether the runtime evaluates calls of `name` (a catalog function with an implementation, or a form the
    evaluator handles itself)."""
    fn = lookup(name)
    return name in FUNCTIONS or fn is not None and fn.impl is not None


def _full(v, n: int, t: pa.DataType | None = None) -> pa.Array:
    if isinstance(v, pa.Scalar):
        if not v.is_valid:
            return pa.nulls(n, t or v.type)
        return pa.repeat(v, n)  # keeps nanoseconds, which a Python datetime would drop
    if isinstance(v, pa.ChunkedArray):
        return v.combine_chunks()
    return v


# ---- arithmetic --------------------------------------------------------------------------------
def _arith(op: str):
    def impl(e: Call, args, n):
        a, b = args
        ta, tb = e.args[0].type, e.args[1].type
        rt = e.type
        if rt.is_decimal:
            return _decimal_arith(op, a, b, ta, tb, rt, n)
        if ta.is_temporal or tb.is_temporal or ta.is_interval or tb.is_interval:
            return _temporal_arith(op, a, b, ta, tb, rt, n)
        target = rt.to_arrow()
        a = _cast_to(a, target)
        b = _cast_to(b, target)
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


def _cast_to(v, target: pa.DataType):
    if v.type == target:
        return v
    if isinstance(v, pa.Scalar):
        return v.cast(target) if v.is_valid else pa.scalar(None, target)
    return pc.cast(v, target, safe=False)


def _int_divide(a, b, target, n):
    """Integer division truncating toward zero (Java semantics); division by zero is an error."""
    a, b = _full(a, n, target), _full(b, n, target)
    an = np.asarray(pc.fill_null(a, 0).to_numpy(zero_copy_only=False))
    bn = np.asarray(pc.fill_null(b, 1).to_numpy(zero_copy_only=False))
    if np.any(bn == 0):
        raise ExecutionError("Division by zero (integer division '/')")
    mask = np.asarray(pc.or_(pc.is_null(a), pc.is_null(b)).to_numpy(zero_copy_only=False))
    return pa.array(_trunc_div(an, bn), target, mask=mask)


def _trunc_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    q = np.floor_divide(a, b)
    fix = (np.remainder(a, b) != 0) & ((a < 0) ^ (b < 0))
    return q + fix


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
        r = pc.multiply(a, b)
    return _rescale(r, rt)


def _prec(t: FlinkType) -> int:
    return t.decimal_precision_scale()[0] if (t.is_decimal or t.is_integer) else 38


def _scale(t: FlinkType) -> int:
    return t.decimal_precision_scale()[1] if (t.is_decimal or t.is_integer) else 0


def _to_decimal(v, t: FlinkType, target: pa.DataType):
    if t.is_approx:
        raise ExecutionError("internal: approximate value in DECIMAL arithmetic")
    return _cast_to(v, target)


def _rescale(v, rt: FlinkType):
    target = rt.to_arrow()
    if v.type == target:
        return v
    if isinstance(v.type, pa.Decimal128Type) and v.type.scale > rt.scale:
        v = pc.round(v, ndigits=rt.scale, round_mode="half_up")
    return pc.cast(v, target, safe=False)


def _decimal_divide(a, b, rt, n):
    """DECIMAL division rounded HALF_UP to the result scale (exact, via Python decimals)."""
    a, b = _full(a, n), _full(b, n)
    q = decimal.Decimal(1).scaleb(-rt.scale)
    out = []
    for x, y in zip(a.to_pylist(), b.to_pylist()):
        if x is None or y is None:
            out.append(None)
            continue
        if y == 0:
            raise ExecutionError("Division by zero (DECIMAL '/')")
        out.append(_DEC_CTX.divide(decimal.Decimal(x), decimal.Decimal(y)).quantize(q, context=_DEC_CTX))
    return pa.array(out, rt.to_arrow())


def _temporal_arith(op, a, b, ta, tb, rt, n):
    if ta.is_interval and tb.is_numeric or tb.is_interval and ta.is_numeric:
        iv, num = (a, b) if ta.is_interval else (b, a)
        ms = pc.multiply(pc.cast(iv, pa.int64()), pc.cast(num, pa.int64()))
        return pc.cast(ms, pa.duration("ms"))
    if rt.name == "INTERVAL_DAY_TIME" and ta.is_timestamp:
        return pc.cast(pc.subtract(pc.cast(a, pa.int64()), pc.cast(_cast_to(b, a.type), pa.int64())),
                       pa.duration("ms"))
    if ta.is_interval and not tb.is_interval:
        a, b, ta, tb = b, a, tb, ta
    if tb.name == "INTERVAL_YEAR_MONTH":
        return _add_months(a, b, -1 if op == "-" else 1, rt, n)
    dur = _cast_to(b, pa.duration(rt.to_arrow().unit if rt.is_timestamp else "ms"))
    if ta.name == "DATE":
        days = pc.cast(pc.divide(pc.cast(dur, pa.int64()), 86_400_000), pa.int32())
        base = pc.cast(a, pa.int32())
        r = pc.add(base, days) if op == "+" else pc.subtract(base, days)
        return pc.cast(r, pa.date32())
    return pc.add(a, dur) if op == "+" else pc.subtract(a, dur)


def _add_months(ts, months, sign, rt, n):
    ts = _full(ts, n)
    m = _full(months, n).to_pylist()
    out = []
    for x, k in zip(ts.to_pylist(), m):
        if x is None or k is None:
            out.append(None)
            continue
        total = x.month - 1 + sign * k
        y, mo = x.year + total // 12, total % 12 + 1
        import calendar
        day = min(x.day, calendar.monthrange(y, mo)[1])
        out.append(x.replace(year=y, month=mo, day=day))
    return pa.array(out, rt.to_arrow())


def _mod(e, args, n):
    a, b = args
    t = e.type.to_arrow()
    if e.type.is_decimal:
        a, b = _full(a, n), _full(b, n)
        out = [None if x is None or y is None else decimal.Decimal(x) % decimal.Decimal(y)
               for x, y in zip(a.to_pylist(), b.to_pylist())]
        return pa.array(out, t)
    a, b = _full(_cast_to(a, pa.int64()), n), _full(_cast_to(b, pa.int64()), n)
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
            a = _full(a, n)
        return fn(a, b)
    return impl


def _distinct(negate: bool):
    def impl(e, args, n):
        a, b = _full(args[0], n), _full(args[1], n)
        eq = pc.equal(a, b)
        both_null = pc.and_(pc.is_null(a), pc.is_null(b))
        same = pc.if_else(pc.is_null(eq), both_null, eq)
        return pc.invert(same) if negate else same
    return impl


def _is(kind):
    def impl(e, args, n):
        a = _full(args[0], n, pa.bool_())
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
    x = _full(args[0], n)
    vals = [v for v in args[1:]]
    if not all(isinstance(v, pa.Scalar) for v in vals):  # columns in the list: x = v1 OR x = v2 ..., 3-valued
        r = pc.equal(x, _full(vals[0], n, x.type))
        for v in vals[1:]:
            r = pc.or_kleene(r, pc.equal(x, _full(v, n, x.type)))
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
    return pc.match_like(_full(s, n), p)


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
    return _regexp_match(_full(args[0], n), pattern, full=True)


def _regexp_match(s, pattern, full=False):
    return pc.match_substring_regex(s, ("^(?:" + pattern + ")$") if full else pattern)


def _case(e, cols, n):
    parts = [_eval(a, cols, n) for a in e.args]
    conds = [pc.fill_null(_full(c, n, pa.bool_()), False) for c in parts[0:-1:2]]
    t = e.type.to_arrow()
    vals = [_full(_cast_to(v, t), n, t) for v in parts[1:-1:2]]
    els = _full(_cast_to(parts[-1], t), n, t)
    if len(conds) == 1:
        return pc.if_else(conds[0], vals[0], els)
    struct = pa.StructArray.from_arrays(conds, names=[f"c{i}" for i in range(len(conds))])
    return pc.case_when(struct, *vals, els)


def _coalesce(e, args, n):
    t = e.type.to_arrow()
    return pc.coalesce(*[_full(_cast_to(a, t), n, t) for a in args])


def _nullif(e, args, n):
    a, b = _full(args[0], n), args[1]
    eq = pc.fill_null(pc.equal(a, _cast_to(b, a.type)), False)
    return pc.if_else(eq, pa.scalar(None, a.type), a)


def _greatest(fn):
    def impl(e, args, n):
        t = e.type.to_arrow()
        arrs = [_full(_cast_to(a, t), n, t) for a in args]
        r = fn(*arrs, skip_nulls=False)
        return r
    return impl


# ---- casts -----------------------------------------------------------------------------------
def _cast(e, args, n):
    return _cast_array(_full(args[0], n), e.args[0].type, e.type, safe=e.fn == "TRY_CAST")


def _cast_array(v, src: FlinkType, to: FlinkType, safe: bool, from_arrow: bool = False) -> pa.Array:
    target = to.to_arrow()
    if v.type == target:
        return v
    st = v.type
    try:
        if pa.types.is_null(st):
            return pa.nulls(len(v), target)
        if to.is_string:
            if pa.types.is_timestamp(st) and src.is_timestamp:
                return format_timestamp(v, src.precision)
            if pa.types.is_time(st) and src.name == "TIME":  # HH:mm:ss[.f..] with TIME(p)'s digits
                text = pc.cast(pc.cast(v, pa.time64("ns")), pa.string())
                return pc.utf8_slice_codeunits(text, 0, 9 + src.precision if src.precision else 8)
            return _to_string(v)
        if pa.types.is_string(st) or pa.types.is_large_string(st):
            return _from_string(v, to, safe)
        if to.is_decimal:
            if pa.types.is_floating(st):
                return _float_to_decimal(v, to)
            if pa.types.is_decimal(st) and st.scale > to.scale:
                v = pc.round(v, ndigits=to.scale, round_mode="half_up")
            return pc.cast(v, target, safe=not safe and False)
        if to.is_integer and pa.types.is_decimal(st):
            return pc.cast(pc.trunc(pc.cast(v, pa.float64())) if st.precision > 18 else pc.trunc(v), target,
                           safe=False)
        if to.is_integer and pa.types.is_floating(st):
            return pc.cast(pc.trunc(v), target, safe=False)
        if to.name == "BOOLEAN" and (pa.types.is_integer(st) or pa.types.is_floating(st)):
            return pc.not_equal(v, pa.scalar(0, st))
        if to.is_numeric and pa.types.is_boolean(st):
            return pc.cast(pc.cast(v, pa.int8()), target)
        if to.is_timestamp and pa.types.is_timestamp(st):
            if to.name == "TIMESTAMP_LTZ" and st.tz is None or to.name == "TIMESTAMP" and st.tz is not None:
                v = pc.cast(pc.cast(v, pa.int64()), pa.timestamp(st.unit, tz=target.tz))
            return pc.cast(v, target, safe=False)
        if to.name == "DATE" and pa.types.is_timestamp(st):
            return pc.cast(pc.floor_temporal(v, unit="day"), pa.date32(), safe=False)
        if to.is_timestamp and pa.types.is_date(st):
            return pc.cast(pc.cast(v, pa.timestamp("ms")), target)
        if to.name == "TIME" and pa.types.is_timestamp(st):  # the time of day, cut to TIME(p)'s precision
            if st.unit in ("s", "ms"):
                millis = pc.cast(pc.cast(pc.cast(v, pa.time32("ms"), safe=False), pa.int32()), pa.int64())
            else:
                nanos = pc.cast(pc.cast(pc.cast(v, pa.time64("ns"), safe=False), pa.int64()), pa.int64())
                millis = pc.divide(nanos, 1_000_000)
            step = 10 ** (3 - min(to.precision, 3))
            cut = pc.multiply(pc.divide(millis, step), step)
            return pc.cast(pc.cast(cut, pa.int32()), pa.time32("ms")).cast(target)
        return pc.cast(v, target, safe=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as ex:
        if safe:
            return _per_row_try(v, to)
        raise ExecutionError(f"Cannot cast {src if not from_arrow else st} to {to}: {ex}") from None


def _per_row_try(v: pa.Array, to: FlinkType) -> pa.Array:
    out = []
    for x in v:
        try:
            out.append(_cast_array(pa.array([x.as_py()], v.type), FlinkType("?"), to, False).to_pylist()[0])
        except Exception:
            out.append(None)
    return pa.array(out, to.to_arrow())


def _float_to_decimal(v: pa.Array, to: FlinkType) -> pa.Array:
    """Flink casts DOUBLE to DECIMAL through its shortest decimal string, rounding HALF_UP."""
    q = decimal.Decimal(1).scaleb(-to.scale)
    out = []
    for x in v.to_pylist():
        if x is None or x != x or x in (float("inf"), float("-inf")):
            out.append(None)
            continue
        d = decimal.Decimal(repr(x)).quantize(q, context=_DEC_CTX)
        out.append(d if len(d.as_tuple().digits) <= to.precision else None)
    return pa.array(out, to.to_arrow())


def _to_string(v: pa.Array) -> pa.Array:
    t = v.type
    if pa.types.is_boolean(t):
        return pc.utf8_upper(pc.cast(v, pa.string()))
    if pa.types.is_floating(t):
        return format_double(v)
    if pa.types.is_timestamp(t):
        return format_timestamp(v)
    return pc.cast(v, pa.string())


def _from_string(v, to: FlinkType, safe: bool):
    s = pc.utf8_trim_whitespace(v)
    target = to.to_arrow()
    if to.name == "BOOLEAN":
        low = pc.utf8_lower(s)
        return pc.if_else(pc.equal(low, "true"), True,
                          pc.if_else(pc.equal(low, "false"), False, pa.scalar(None, pa.bool_())))
    if to.is_timestamp:
        return _parse_timestamp(s, to)
    if to.is_decimal:
        try:
            return pc.cast(s, target)
        except pa.ArrowInvalid:
            wide = pc.cast(s, pa.decimal128(38, min(38, to.scale + 6)))
            return pc.cast(pc.round(wide, ndigits=to.scale, round_mode="half_up"), target, safe=False)
    return pc.cast(s, target)


def _parse_timestamp(s: pa.Array, to: FlinkType, fmt: str | None = None) -> pa.Array:
    """Strings as TIMESTAMPs: Flink's 'yyyy-MM-dd HH:mm:ss[.fff]' form (single-digit fields accepted, as Java's
    Timestamp.valueOf does) or a DateTimeFormatter pattern; NULL where a string does not parse."""
    target = to.to_arrow()
    if fmt is None:
        t = _parse_default(s)
    else:
        t = parse_local(s, fmt)
        if t.null_count > s.null_count:  # Flink falls back to the default form when the pattern fails
            t = pc.coalesce(t, _parse_default(s))
    t = pc.cast(t, pa.timestamp(target.unit), safe=False)
    if target.tz is not None:
        t = pc.cast(pc.cast(t, pa.int64()), target)
    return t


def _parse_default(s: pa.Array) -> pa.Array:
    s = pc.utf8_trim_whitespace(s)
    return pc.coalesce(parse_local(s, "y-M-d H:m:s"), _parse_fraction(s), parse_local(s, "y-M-d"))


def _parse_fraction(s: pa.Array) -> pa.Array:
    """'y-M-d H:m:s.f' with 1 to 9 fraction digits."""
    parts = pc.extract_regex(s, r"^(?P<head>\d+-\d{1,2}-\d{1,2} \d{1,2}:\d{1,2}:\d{1,2})\.(?P<frac>\d{1,9})$")
    head = parse_local(pc.struct_field(parts, [0]), "y-M-d H:m:s")
    frac = pc.utf8_slice_codeunits(pc.utf8_rpad(pc.struct_field(parts, [1]), 9, "0"), 0, 9)
    nanos = pc.cast(pc.cast(frac, pa.int64()), pa.duration("ns"))
    return pc.add(head, nanos)


def _date_format(e, args, n):
    """DATE_FORMAT(TIMESTAMP, pattern) formats with DateTimeFormatter; DATE_FORMAT(STRING, pattern) parses the
    string as a TIMESTAMP and formats with SimpleDateFormat, as Flink does."""
    v, fmt = _full(args[0], n), args[1]
    if not fmt.is_valid:
        return pa.nulls(n, pa.string())
    simple = pa.types.is_string(v.type)
    if simple:  # read as SimpleDateFormat 'yyyy-MM-dd HH:mm:ss' does: a matching prefix, no fraction
        v = parse_local(v, "yyyy-MM-dd HH:mm:ss", lenient=True)
    return format_local(v, fmt.as_py(), simple=simple)


def _to_timestamp(e, args, n):
    s = _full(args[0], n)
    fmt = args[1].as_py() if len(args) > 1 else None
    return _parse_timestamp(s, e.type, fmt)


def _to_timestamp_ltz(e, args, n):
    v = _full(args[0], n)
    precision = args[1].as_py() if len(args) > 1 else 3
    ms = pc.cast(v, pa.int64()) if precision == 3 else pc.multiply(pc.cast(v, pa.int64()), 1000)
    return pc.cast(ms, pa.timestamp("ms", tz="UTC"))


def _to_date(e, args, n):
    """TO_DATE(s [, pattern]): with a pattern, parsed as SimpleDateFormat does (leniently: 29/02/2023 is March 1st)."""
    s = _full(args[0], n)
    if len(args) < 2:
        return _cast_array(s, FlinkType("?"), e.type, False)
    if not args[1].is_valid:
        return pa.nulls(n, pa.date32())
    return pc.cast(pc.floor_temporal(parse_local(s, args[1].as_py(), lenient=True), unit="day"), pa.date32())


def _ltz_to_local(e, args, n):
    return pc.cast(to_local(_full(args[0], n), args[1].as_py()), e.type.to_arrow())


def _local_to_ltz(e, args, n):
    return pc.cast(from_local(_full(args[0], n), args[1].as_py()), e.type.to_arrow())


_UNIT_ARROW = {"MILLISECOND": "millisecond", "SECOND": "second", "MINUTE": "minute", "HOUR": "hour",
               "DAY": "day", "WEEK": "week", "MONTH": "month", "QUARTER": "quarter", "YEAR": "year"}


def _floor_to(fn):
    """FLOOR/CEIL(x TO unit); for a TIMESTAMP_LTZ (a third argument names the session zone) on the wall clock
    there, shifted back by the offset of the original instant as Flink does (so across a clock change the
    result keeps the input's offset)."""
    def impl(e, args, n):
        v = _full(args[0], n)
        unit = _UNIT_ARROW[args[1].as_py()]
        kw = {"week_starts_monday": False} if unit == "week" else {}  # Flink's weeks start on Sunday
        if len(args) < 3:
            return fn(v, unit=unit, **kw)
        local = to_local(v, args[2].as_py())
        offset = pc.subtract(pc.cast(local, pa.int64()), pc.cast(v, pa.int64()))
        rounded = pc.cast(fn(local, unit=unit, **kw), pa.int64())
        return pc.cast(pc.subtract(rounded, offset), v.type)
    return impl


_SUBSECOND_DIVISOR = {"MILLISECOND": 1_000_000, "MICROSECOND": 1_000, "NANOSECOND": 1}


def _extract_unit(unit: str, v: pa.Array) -> pa.Array:
    u = unit.upper()
    if u == "DAYOFWEEK" or u == "DOW":
        r = pc.day_of_week(v, count_from_zero=False, week_start=7)
    elif u in ("DAYOFMONTH", "DAY"):
        r = pc.day(v)
    elif u in ("DAYOFYEAR", "DOY"):
        r = pc.day_of_year(v)
    elif u == "WEEK":
        r = pc.iso_week(v)
    elif u == "ISODOW":
        r = pc.day_of_week(v, count_from_zero=False, week_start=1)
    elif u == "ISOYEAR":
        r = pc.iso_year(v)
    elif u == "EPOCH":
        return _epoch_seconds(v)
    elif u in _SUBSECOND_DIVISOR:  # the part of the second, in that unit (negative before 1970, as in Flink)
        ns = np.asarray(pc.fill_null(_epoch_nanos(v), 0).to_numpy(zero_copy_only=False))
        frac = np.fmod(ns, 1_000_000_000)
        return pa.array(_trunc_div(frac, np.int64(_SUBSECOND_DIVISOR[u])), pa.int64(), mask=_null_mask(v))
    elif u in ("CENTURY", "MILLENNIUM", "DECADE"):
        years = np.asarray(pc.fill_null(pc.year(v), 1).to_numpy(zero_copy_only=False)).astype(np.int64)
        r = {"CENTURY": (years + 99) // 100, "MILLENNIUM": (years + 999) // 1000, "DECADE": years // 10}[u]
        return pa.array(r, pa.int64(), mask=_null_mask(v))
    else:
        r = getattr(pc, u.lower())(v)
    return pc.cast(r, pa.int64())


def _null_mask(v: pa.Array) -> np.ndarray:
    return np.asarray(pc.is_null(v).to_numpy(zero_copy_only=False))


def _epoch_nanos(v: pa.Array) -> pa.Array:
    """Nanoseconds since 1970-01-01 00:00 of TIMESTAMP / DATE values (wall clock for TIMESTAMP)."""
    if pa.types.is_date(v.type):
        v = pc.cast(v, pa.timestamp("s"))
    unit = v.type.unit
    scale = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}[unit]
    raw = pc.cast(pc.cast(v, pa.timestamp(unit)) if v.type.tz else v, pa.int64())
    return pc.multiply(raw, scale) if scale != 1 else raw


def _epoch_seconds(v: pa.Array) -> pa.Array:
    """Whole seconds since the epoch, truncated toward zero as Flink does."""
    ns = np.asarray(pc.fill_null(_epoch_nanos(v), 0).to_numpy(zero_copy_only=False))
    return pa.array(_trunc_div(ns, np.int64(1_000_000_000)), pa.int64(), mask=_null_mask(v))


def _extract(e, args, n):
    return _extract_unit(args[0].as_py(), _full(args[1], n))


def _unit_fn(unit):
    def impl(e, args, n):
        return _extract_unit(unit, _full(args[0], n))
    return impl


_UNIT_MS = {"MILLISECOND": 1, "SECOND": 1000, "MINUTE": 60_000, "HOUR": 3_600_000, "DAY": 86_400_000,
            "WEEK": 7 * 86_400_000}


def _timestampadd(e, args, n):
    """TIMESTAMPADD(unit, k, x) for a TIMESTAMP, a DATE (whole days or months; the binder makes a DATE with a
    time unit a TIMESTAMP) or a TIME (wrapping around midnight)."""
    unit, k, ts = args[0].as_py(), _full(args[1], n), _full(args[2], n)
    if unit in ("MONTH", "YEAR", "QUARTER"):
        months = pc.multiply(pc.cast(k, pa.int64()), {"MONTH": 1, "QUARTER": 3, "YEAR": 12}[unit])
        if pa.types.is_time(ts.type):
            return ts
        return _add_months(ts, months, 1, e.type, n)
    ms = pc.multiply(pc.cast(k, pa.int64()), _UNIT_MS[unit])
    if pa.types.is_date(ts.type):
        days = pc.cast(pc.divide(ms, 86_400_000), pa.int32())
        return pc.cast(pc.add(pc.cast(ts, pa.int32()), days), pa.date32())
    if pa.types.is_time(ts.type):
        of_day = pc.cast(pc.cast(pc.cast(ts, pa.time32("ms")), pa.int32()), pa.int64())
        wrapped = np.mod(np.asarray(pc.fill_null(pc.add(of_day, ms), 0).to_numpy(zero_copy_only=False)),
                         86_400_000)
        out = pa.array(wrapped.astype(np.int32), pa.int32(), mask=_null_mask(pc.add(of_day, ms)))
        return pc.cast(out, pa.time32("ms")).cast(e.type.to_arrow())
    return pc.add(ts, pc.cast(ms, pa.duration("ms")).cast(pa.duration(ts.type.unit)))


def _timestampdiff(e, args, n):
    unit, a, b = args[0].as_py(), _full(args[1], n), _full(args[2], n)
    if unit in ("MONTH", "YEAR", "QUARTER"):
        per = {"MONTH": 1, "QUARTER": 3, "YEAR": 12}[unit]
        out = []
        for x, y in zip(a.to_pylist(), b.to_pylist()):
            if x is None or y is None:
                out.append(None)
                continue
            months = (y.year - x.year) * 12 + (y.month - x.month)
            if months > 0 and (y.day, y.time()) < (x.day, x.time()):
                months -= 1
            elif months < 0 and (y.day, y.time()) > (x.day, x.time()):
                months += 1
            out.append(int(months / per))
        return pa.array(out, pa.int32())
    ams = pc.cast(pc.cast(a, pa.timestamp("ms")), pa.int64())
    bms = pc.cast(pc.cast(b, pa.timestamp("ms")), pa.int64())
    diff = pc.subtract(bms, ams).to_numpy(zero_copy_only=False)
    mask = pc.or_(pc.is_null(a), pc.is_null(b)).to_numpy(zero_copy_only=False)
    q = _trunc_div(np.nan_to_num(diff).astype(np.int64), np.int64(_UNIT_MS[unit]))
    return pa.array(q.astype(np.int32), pa.int32(), mask=mask)


def _now(e, args, n):
    """The current instant; LOCALTIMESTAMP, CURRENT_DATE and CURRENT_TIME read it in the session zone."""
    now = pa.array(np.full(n, time.time_ns() // 1_000_000, dtype=np.int64)).cast(pa.timestamp("ms", tz="UTC"))
    if e.fn in ("CURRENT_TIMESTAMP", "NOW", "PROCTIME", "CURRENT_ROW_TIMESTAMP"):
        return now.cast(e.type.to_arrow())
    local = to_local(now, args[-1].as_py())
    if e.fn == "CURRENT_DATE":
        return pc.cast(pc.floor_temporal(local, unit="day"), pa.date32())
    if e.fn in ("CURRENT_TIME", "LOCALTIME"):
        since_midnight = pc.subtract(pc.cast(local, pa.int64()), pc.cast(pc.floor_temporal(local, unit="day"),
                                                                          pa.int64()))
        return pc.cast(pc.cast(since_midnight, pa.int32()), pa.time32("ms")).cast(e.type.to_arrow())
    return local.cast(e.type.to_arrow())


def _convert_tz(e, args, n):
    """CONVERT_TZ('yyyy-MM-dd HH:mm:ss', from_zone, to_zone): the same instant on the other zone's wall clock.
    Zones may be columns: the rows are converted per distinct pair of zones."""
    s, src, dst = _full(args[0], n), args[1], args[2]
    if isinstance(src, pa.Scalar) and isinstance(dst, pa.Scalar):
        if not src.is_valid or not dst.is_valid:
            return pa.nulls(n, pa.string())
        return _convert_tz_const(s, src.as_py(), dst.as_py())
    src, dst = _full(src, n), _full(dst, n)
    pairs = pc.dictionary_encode(pc.binary_join_element_wise(src, dst, "\x00"))  # NULL where a zone is
    codes = pairs.indices.fill_null(-1)
    parts, positions = [pa.nulls(pairs.indices.null_count, pa.string())], [pc.indices_nonzero(pc.equal(codes, -1))]
    for code, pair in enumerate(pairs.dictionary.to_pylist()):
        where = pc.indices_nonzero(pc.equal(codes, code))
        positions.append(where)
        zone_from, zone_to = pair.split("\x00")
        parts.append(_convert_tz_const(s.take(where), zone_from, zone_to))
    if not parts:
        return pa.nulls(n, pa.string())
    order = pc.sort_indices(pa.concat_arrays(positions))
    return pa.concat_arrays(parts).take(order)


def _convert_tz_const(s: pa.Array, src: str, dst: str) -> pa.Array:
    local = pc.cast(_parse_default(s), pa.timestamp("ms"))
    moved = to_local(from_local(local, zone_name(src), repeated="latest"), zone_name(dst))
    return format_local(moved, "yyyy-MM-dd HH:mm:ss")


def zone_name(zone: str) -> str:
    m = re.fullmatch(r"(?:GMT|UTC)?([+-])(\d{1,2})(?::?(\d{2}))?", zone.strip())
    return f"{m.group(1)}{int(m.group(2)):02d}:{m.group(3) or '00'}" if m else zone


LONG_MIN = -(1 << 63)


def _unix_timestamp(e, args, n):
    """UNIX_TIMESTAMP([s [, pattern]]): seconds since the epoch of a wall clock in the session zone, parsed as
    SimpleDateFormat does (a matching prefix is enough); Long.MIN_VALUE where it cannot parse."""
    *args, zone = args
    if not args:
        return pa.scalar(time.time_ns() // 1_000_000_000, pa.int64())
    s = _full(args[0], n)
    fmt = args[1].as_py() if len(args) > 1 else "yyyy-MM-dd HH:mm:ss"
    local = parse_local(s, fmt, lenient=True)
    instants = pc.cast(from_local(pc.cast(local, pa.timestamp("ms")), zone.as_py(), repeated="latest"), pa.int64())
    secs = pa.array(np.floor_divide(np.asarray(pc.fill_null(instants, 0).to_numpy(zero_copy_only=False)), 1000))
    parsed = pc.if_else(pc.is_valid(instants), secs, pa.scalar(LONG_MIN, pa.int64()))
    return pc.if_else(pc.is_valid(s), parsed, pa.scalar(None, pa.int64()))


def _from_unixtime(e, args, n):
    """FROM_UNIXTIME(seconds [, pattern]): the wall clock in the session zone, formatted as SimpleDateFormat does."""
    *args, zone = args
    v = _full(args[0], n)
    fmt = args[1].as_py() if len(args) > 1 else "yyyy-MM-dd HH:mm:ss"
    instants = pc.cast(pc.cast(v, pa.int64()), pa.timestamp("s", tz="UTC"))
    return format_local(to_local(instants, zone.as_py()), fmt, simple=True)


# ---- math ------------------------------------------------------------------------------------
def _per_row(e, args, n, fn):
    cols = [(_full(a, n).to_pylist()) for a in args]
    out = [fn(*vals) for vals in zip(*cols)]
    return pa.array(out, e.type.to_arrow())


def _per_unique(e, args, n, fn):
    """Apply a Python function once per distinct input (strings repeat a lot in streams)."""
    first = _full(args[0], n)
    rest = [a.as_py() if isinstance(a, pa.Scalar) else None for a in args[1:]]
    if any(not isinstance(a, pa.Scalar) for a in args[1:]):
        return _per_row(e, args, n, fn)
    enc = pc.dictionary_encode(first)
    uniq = [fn(x, *rest) for x in enc.dictionary.to_pylist()]
    return pa.array(uniq, e.type.to_arrow()).take(enc.indices)


def _grouping_id(e, cols, n):
    sets = _full(_eval(e.args[0], cols, n), n)
    ids = pa.array(list(e.args[1].value), e.type.to_arrow())
    return ids.take(sets)


def _field(e, args, n):
    """A field of a ROW (struct) column; NULL where the row itself is NULL."""
    rows = _full(args[0], n)
    return pc.struct_field(rows, [rows.type.get_field_index(args[1].as_py())])


LAZY = {"CASE", "GROUPING_ID"}

FUNCTIONS = {
    "+": _arith("+"), "-": _arith("-"), "*": _arith("*"), "/": _arith("/"), "MOD": _mod, "%": _mod,
    "NEGATE": _negate,
    "=": _cmp(pc.equal), "<>": _cmp(pc.not_equal), "<": _cmp(pc.less), "<=": _cmp(pc.less_equal),
    ">": _cmp(pc.greater), ">=": _cmp(pc.greater_equal),
    "IS_DISTINCT_FROM": _distinct(True), "IS_NOT_DISTINCT_FROM": _distinct(False),
    "AND": lambda e, a, n: pc.and_kleene(_full(a[0], n, pa.bool_()), a[1]),
    "OR": lambda e, a, n: pc.or_kleene(_full(a[0], n, pa.bool_()), a[1]),
    "NOT": lambda e, a, n: pc.invert(_full(a[0], n, pa.bool_())),
    "IS_NULL": _is("IS_NULL"), "IS_NOT_NULL": _is("IS_NOT_NULL"), "IS_TRUE": _is("IS_TRUE"),
    "IS_FALSE": _is("IS_FALSE"), "IS_NOT_TRUE": _is("IS_NOT_TRUE"), "IS_NOT_FALSE": _is("IS_NOT_FALSE"),
    "IN": _in, "LIKE": _like, "SIMILAR": _similar, "CASE": _case, "COALESCE": _coalesce,
    "IFNULL": _coalesce, "NULLIF": _nullif,
    "GREATEST": _greatest(pc.max_element_wise), "LEAST": _greatest(pc.min_element_wise),
    "CAST": _cast, "TRY_CAST": _cast,
    "DATE_FORMAT": _date_format, "TO_TIMESTAMP": _to_timestamp, "TO_TIMESTAMP_LTZ": _to_timestamp_ltz,
    "TO_DATE": _to_date,
    "FLOOR_TO": _floor_to(pc.floor_temporal), "CEIL_TO": _floor_to(pc.ceil_temporal),
    "EXTRACT": _extract, "TIMESTAMPADD": _timestampadd, "TIMESTAMPDIFF": _timestampdiff,
    "UNIX_TIMESTAMP": _unix_timestamp, "FROM_UNIXTIME": _from_unixtime,
    "CURRENT_TIMESTAMP": _now, "NOW": _now, "LOCALTIMESTAMP": _now, "PROCTIME": _now, "CURRENT_DATE": _now,
    "CURRENT_TIME": _now, "LOCALTIME": _now, "CURRENT_ROW_TIMESTAMP": _now, "CONVERT_TZ": _convert_tz, "LTZ_TO_LOCAL": _ltz_to_local, "LOCAL_TO_LTZ": _local_to_ltz,
    "GROUPING_ID": _grouping_id, "FIELD": _field,
}
for _u in ("YEAR", "QUARTER", "MONTH", "WEEK", "DAYOFYEAR", "DAYOFMONTH", "DAYOFWEEK", "HOUR", "MINUTE",
           "SECOND"):
    FUNCTIONS[_u] = _unit_fn(_u)
