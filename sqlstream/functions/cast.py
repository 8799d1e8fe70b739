"""CAST and TRY_CAST between Flink types over Arrow arrays, with Flink's conversions (DOUBLE to DECIMAL through
its shortest decimal text, integers truncated toward zero, text parsed as Java parses it); TRY_CAST gives NULL
where CAST fails. Both are typed by the binder from their target type, and so is TYPEOF, a constant."""
from __future__ import annotations

import decimal
import re

import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.core.errors import ExecutionError
from sqlstream.core.formatting import format_double, format_interval, format_timestamp
from sqlstream.core.types import INT, MAX_VARCHAR, STRING, FlinkType
from sqlstream.functions.arrow import DEC_CTX, fields_by_position, full
from sqlstream.functions.catalog import scalar
from sqlstream.functions.inference import returns
from sqlstream.functions.java_datetime import PER_SECOND, parse_local

def _cast(e, args, n):
    return fit_length(cast_array(full(args[0], n), e.args[0].type, e.type, safe=e.fn == "TRY_CAST"), e.type)


def fit_length(v: pa.Array, to: FlinkType) -> pa.Array:
    """A value cast to CHAR(n) / VARCHAR(n) / BINARY(n) / VARBINARY(n) as Flink makes it: cut to n characters
    (bytes), and a CHAR padded with spaces, a BINARY with zero bytes, to n."""
    size = to.precision
    if to.name not in ("CHAR", "VARCHAR", "BINARY", "VARBINARY") or size is None or size >= MAX_VARCHAR:
        return v
    if to.name in ("CHAR", "VARCHAR"):
        v = pc.utf8_slice_codeunits(v, 0, size)
        return pc.utf8_rpad(v, width=size, padding=" ") if to.name == "CHAR" else v
    if to.name == "BINARY":
        v = pc.binary_join_element_wise(v, pa.scalar(b"\0" * size), pa.scalar(b""))
    return pc.binary_slice(v, 0, size)


def cast_array(v, src: FlinkType, to: FlinkType, safe: bool, from_arrow: bool = False) -> pa.Array:
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
            if src.name in ("INTERVAL_DAY_TIME", "INTERVAL_YEAR_MONTH"):
                return format_interval(v, src.name == "INTERVAL_YEAR_MONTH")
            if src.name in ("ARRAY", "MAP", "MULTISET", "ROW") and (pa.types.is_list(st) or pa.types.is_map(st)
                                                         or pa.types.is_struct(st)):
                return _collection_to_string(v, src)
            return _to_string(v)
        if pa.types.is_string(st) or pa.types.is_large_string(st):
            return _from_string(v, to, safe)
        if to.name == "ROW" and pa.types.is_struct(st) and st.num_fields == len(to.children):
            kinds = src.children if src.name == "ROW" else [FlinkType("?")] * st.num_fields
            return fields_by_position(v, target, lambda f, i: cast_array(f, kinds[i], to.children[i], safe))
        if to.is_decimal:
            if pa.types.is_floating(st):
                return _float_to_decimal(v, to)
            if pa.types.is_decimal(st) and st.scale > to.scale:
                v = pc.round(v, ndigits=to.scale, round_mode="half_towards_infinity")
            if pa.types.is_integer(st) or pa.types.is_decimal(st):
                return _fitting_decimal(v, to)
            return pc.cast(v, target, safe=not safe and False)
        if to.is_integer and pa.types.is_decimal(st):
            return pc.cast(pc.trunc(pc.cast(v, pa.float64())) if st.precision > 18 else pc.trunc(v), target,
                           safe=False)
        if to.is_integer and pa.types.is_floating(st):
            return pc.cast(pc.trunc(v), target, safe=False)
        if to.name == "BOOLEAN" and (pa.types.is_integer(st) or pa.types.is_floating(st) or pa.types.is_decimal(st)):
            return pc.not_equal(v, pa.scalar(0, st))
        if to.is_numeric and pa.types.is_boolean(st):
            return pc.cast(pc.cast(v, pa.int8()), target)
        if to.is_timestamp and pa.types.is_timestamp(st):
            if to.name == "TIMESTAMP_LTZ" and st.tz is None or to.name == "TIMESTAMP" and st.tz is not None:
                v = pc.cast(pc.cast(v, pa.int64()), pa.timestamp(st.unit, tz=target.tz))
            return pc.cast(v, target, safe=False)
        if to.is_timestamp and pa.types.is_time(st):  # the time of day on 1970-01-01
            since_midnight = pc.cast(pc.cast(pc.cast(v, pa.time64("ns")), pa.int64()), pa.int64())
            return pc.cast(pc.cast(since_midnight, pa.timestamp("ns")), target, safe=False)
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
        bad = re.match(r"Failed to parse string: '(.*)' as a scalar of type", str(ex), re.S)
        if bad:  # Arrow names its own types: say which value, and the remedy
            raise ExecutionError(f"Cannot cast {src if not from_arrow else st} to {to}: '{bad.group(1)}' is not a "
                                 f"valid {to.with_nullable(True)} value; use TRY_CAST to get NULL for such values"
                                 ) from None
        raise ExecutionError(f"Cannot cast {src if not from_arrow else st} to {to}: {ex}") from None


def _fitting_decimal(v: pa.Array, to: FlinkType) -> pa.Array:
    """An integer or DECIMAL as DECIMAL(p, s); NULL where it has more than p - s integer digits, as in Flink
    (Arrow refuses a narrower type outright, or wraps)."""
    wide = pc.cast(v, pa.decimal128(38, to.scale)) if pa.types.is_integer(v.type) or v.type.scale != to.scale \
        else v
    if pa.types.is_decimal(wide.type) and wide.type.precision <= to.precision:
        return pc.cast(wide, to.to_arrow())
    limit = pa.scalar(decimal.Decimal(10) ** (to.precision - to.scale), wide.type)
    fits = pc.less(pc.abs(wide), limit)
    return pc.cast(pc.if_else(fits, wide, pa.scalar(None, wide.type)), to.to_arrow(), safe=False)


def _per_row_try(v: pa.Array, to: FlinkType) -> pa.Array:
    out = []
    for x in v:
        try:
            out.append(cast_array(pa.array([x.as_py()], v.type), FlinkType("?"), to, False).to_pylist()[0])
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
        d = decimal.Decimal(repr(x)).quantize(q, context=DEC_CTX)
        out.append(d if len(d.as_tuple().digits) <= to.precision else None)
    return pa.array(out, to.to_arrow())


def _collection_to_string(v: pa.Array, src: FlinkType) -> pa.Array:
    """An ARRAY as Flink writes it, '[a, b]', a MAP '{k=1, j=2}' (a MULTISET too: value=count) and a ROW
    '(1, x)': each element cast to STRING, NULL as 'NULL'."""
    def strings(child: pa.Array, t: FlinkType) -> list:
        return ["NULL" if x is None else x for x in cast_array(child, t, STRING, False).to_pylist()]
    if src.name == "ROW":
        fields = [strings(f, t) for f, t in zip(v.flatten(), src.children)]
        out = ["(" + ", ".join(f[i] for f in fields) + ")" for i in range(len(v))]
        return pa.array([None if not ok else x for x, ok in zip(out, v.is_valid().to_pylist())], pa.string())
    offsets = v.offsets.to_pylist()
    if src.name == "ARRAY":
        items = strings(v.values, src.children[0])
        parts = [", ".join(items[offsets[i]:offsets[i + 1]]) for i in range(len(v))]
        out = ["[" + p + "]" for p in parts]
    else:
        counts = src.children[1] if src.name == "MAP" else INT
        keys, values = strings(v.keys, src.children[0]), strings(v.items, counts)
        out = ["{" + ", ".join(f"{keys[j]}={values[j]}" for j in range(offsets[i], offsets[i + 1])) + "}"
               for i in range(len(v))]
    return pa.array([None if not ok else x for x, ok in zip(out, v.is_valid().to_pylist())], pa.string())


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
        return parse_timestamp(s, to)
    if to.is_decimal:
        try:
            return pc.cast(s, target)
        except pa.ArrowInvalid:
            wide = pc.cast(s, pa.decimal128(38, min(38, to.scale + 6)))
            return pc.cast(pc.round(wide, ndigits=to.scale, round_mode="half_towards_infinity"), target, safe=False)
    return pc.cast(s, target)


def parse_timestamp(s: pa.Array, to: FlinkType, fmt: str | None = None) -> pa.Array:
    """Strings as TIMESTAMPs: Flink's 'yyyy-MM-dd HH:mm:ss[.fff]' form (single-digit fields accepted, as Java's
    Timestamp.valueOf does) or a DateTimeFormatter pattern; NULL where a string does not parse."""
    target = to.to_arrow()
    if fmt is None:
        t = parse_default(s, target.unit)
    else:
        t = parse_local(s, fmt, unit=target.unit)
        if t.null_count > s.null_count:  # Flink falls back to the default form when the pattern fails
            t = pc.coalesce(t, parse_default(s, target.unit))
    if target.tz is not None:
        t = pc.cast(pc.cast(t, pa.int64()), target)
    return t


def parse_default(s: pa.Array, unit: str = "ns") -> pa.Array:
    """Flink's default 'yyyy-MM-dd[ HH:mm:ss[.f..]]' as wall-clock timestamp[unit] values (NULL past year 9999,
    as Flink's TO_TIMESTAMP)."""
    s = pc.utf8_trim_whitespace(s)
    t = pc.coalesce(parse_local(s, "y-M-d H:m:s", unit=unit), _parse_fraction(s, unit),
                    parse_local(s, "y-M-d", unit=unit))
    if unit == "ns":  # ends in 2262
        return t
    past = pc.greater_equal(t, pa.scalar(253_402_300_800 * PER_SECOND[unit], pa.int64()).cast(t.type))
    return pc.if_else(pc.fill_null(past, False), pa.scalar(None, t.type), t)


def _parse_fraction(s: pa.Array, unit: str) -> pa.Array:
    """'y-M-d H:m:s.f' with 1 to 9 fraction digits (those finer than the unit cut off)."""
    parts = pc.extract_regex(s, r"^(?P<head>\d+-\d{1,2}-\d{1,2} \d{1,2}:\d{1,2}:\d{1,2})\.(?P<frac>\d{1,9})$")
    head = parse_local(pc.struct_field(parts, [0]), "y-M-d H:m:s", unit=unit)
    digits = {"s": 0, "ms": 3, "us": 6, "ns": 9}[unit]
    if not digits:
        return head
    frac = pc.utf8_slice_codeunits(pc.utf8_rpad(pc.struct_field(parts, [1]), digits, "0"), 0, digits)
    return pc.add(head, pc.cast(pc.cast(frac, pa.int64()), pa.duration(unit)))


_BITS = {"TINYINT": 8, "SMALLINT": 16, "INT": 32, "INTEGER": 32, "BIGINT": 64}


def _cast_row(e, args):
    """Numeric to numeric (not DECIMAL), one row at a time."""
    if not (e.type.is_numeric and not e.type.is_decimal and e.args[0].type.is_numeric
            and not e.args[0].type.is_decimal):
        return None
    (x,) = args
    if e.type.is_approx:
        return lambda row: None if (v := x(row)) is None else float(v)
    half = 1 << (_BITS[e.type.name] - 1)  # a narrower integer wraps around, as Java's cast does
    return lambda row: None if (v := x(row)) is None else (int(v) + half) % (2 * half) - half


FUNCTIONS = (
    scalar("CAST", None, _cast, row=_cast_row),
    scalar("TRY_CAST", None, _cast),
    scalar("TYPEOF", returns(STRING.with_nullable(False), (1, 1), keep_null=False), None),  # the binder's literal
)
