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
    out = _convert(v, src, to, safe, from_arrow)
    return cut_fraction(out, to) if to.is_timestamp or to.name == "TIME" else out


_UNIT_DIGITS = {"s": 0, "ms": 3, "us": 6, "ns": 9}


def cut_fraction(v: pa.Array, to: FlinkType) -> pa.Array:
    """A TIMESTAMP(p) / TIME(p) value with the fraction digits past p zeroed, as Flink's cast truncates them (its
    unit holds 3, 6 or 9 digits): milliseconds toward zero, as Java's division, and finer digits down."""
    digits = _UNIT_DIGITS[v.type.unit]
    if to.precision is None or to.precision >= digits:
        return v
    step = 10 ** (digits - to.precision)
    whole = pa.int32() if v.type.bit_width == 32 else pa.int64()
    count = pc.cast(pc.cast(v, whole), pa.int64())
    cut = pc.multiply(pc.divide(count, step), step)
    if digits > 3 and to.precision > 3:  # the digits below a millisecond are counted up from it
        cut = pc.if_else(pc.less(count, cut), pc.subtract(cut, step), cut)
    return cut.cast(whole).cast(v.type)


def _convert(v, src: FlinkType, to: FlinkType, safe: bool, from_arrow: bool) -> pa.Array:
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
        if to.is_numeric and pa.types.is_boolean(st):  # 1 or 0
            return pc.cast(pc.cast(v, pa.int8()), pa.decimal128(3, 0) if to.is_decimal else target).cast(target)
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
            return _integer_from_float(v, to)
        if to.name == "BOOLEAN" and (pa.types.is_integer(st) or pa.types.is_floating(st) or pa.types.is_decimal(st)):
            return pc.not_equal(v, pa.scalar(0, st))
        if pa.types.is_float32(target) and pa.types.is_decimal(st):  # Arrow's own is off by a float32 ulp
            return pc.cast(pc.cast(v, pa.float64()), target)
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


def _integer_from_float(v: pa.Array, to: FlinkType) -> pa.Array:
    """FLOAT/DOUBLE to an integer type as Java casts it: toward zero, NaN is 0, and out of range the nearest end
    of INT (of BIGINT for BIGINT) before a TINYINT or SMALLINT keeps its low bits (1e10 is 2147483647 as INT,
    -1 as TINYINT)."""
    wide = pc.if_else(pc.is_nan(v), pa.scalar(0.0, v.type), pc.trunc(v))
    bits = 64 if to.name == "BIGINT" else 32
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    below = pc.less(wide, pa.scalar(float(lo), v.type))
    above = pc.greater_equal(wide, pa.scalar(float(hi) + 1, v.type))
    inside = pc.cast(pc.if_else(pc.or_(below, above), pa.scalar(0.0, v.type), wide), pa.int64())
    clamped = pc.if_else(below, lo, pc.if_else(above, hi, inside))
    return pc.cast(clamped, to.to_arrow(), safe=False)


def _fitting_decimal(v: pa.Array, to: FlinkType) -> pa.Array:
    """An integer or DECIMAL as DECIMAL(p, s); NULL where it has more than p - s integer digits, as in Flink
    (Arrow refuses a narrower type outright, or wraps)."""
    if pa.types.is_integer(v.type) and to.scale > 38 - 19:  # Arrow wants room for any integer at the scale
        whole = pc.cast(v, pa.decimal128(38, 0))
        limit = pa.scalar(decimal.Decimal(10) ** (to.precision - to.scale), whole.type)
        v = pc.if_else(pc.less(pc.abs(whole), limit), whole, pa.scalar(None, whole.type))
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
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return _utf8_text(v)
    return pc.cast(v, pa.string())


def _utf8_text(v: pa.Array) -> pa.Array:
    """Bytes read as UTF-8 text, each malformed sequence U+FFFD, as Java's String of bytes makes it."""
    try:
        return pc.cast(v, pa.string())
    except pa.ArrowInvalid:
        return pa.array([None if b is None else b.decode("utf-8", "replace") for b in v.to_pylist()], pa.string())


def _from_string(v, to: FlinkType, safe: bool):
    s = pc.utf8_trim_whitespace(v)
    target = to.to_arrow()
    if to.is_timestamp:
        return parse_timestamp(s, to)
    if to.is_integer:  # Flink trims only spaces here: '\t7' is no INT
        return _integer_from_string(pc.utf8_trim(v, " "), to, safe)
    if to.name == "BOOLEAN":  # Flink's words for true and false, as written (' true ' is none)
        low = pc.utf8_lower(v)
        out = pc.if_else(pc.is_in(low, value_set=_TRUE_WORDS), True,
                         pc.if_else(pc.is_in(low, value_set=_FALSE_WORDS), False, pa.scalar(None, pa.bool_())))
    elif to.name == "DATE":
        out = _date_from_string(s)
    elif to.name == "TIME":
        out = _time_from_string(s, to)
    elif to.is_decimal:
        out = _decimal_from_string(s, to)
    else:
        return pc.cast(s, target)
    if not safe:  # CAST fails on text that TRY_CAST makes NULL
        bad = pc.and_(pc.is_valid(s), pc.is_null(out))
        if pc.any(bad).as_py():
            raise ExecutionError(f"Cannot cast STRING to {to}: '{pc.filter(v, bad)[0].as_py()}' is not a valid "
                                 f"{to.with_nullable(True)} value; use TRY_CAST to get NULL for such values")
    return out


_TRUE_WORDS = pa.array(["t", "true", "y", "yes", "1"])
_FALSE_WORDS = pa.array(["f", "false", "n", "no", "0"])
_INTEGER_TEXT = r"^(?P<sign>[+-]?)0*(?P<digits>\d*)(?:\.\d*)?$"


def _integer_from_string(s: pa.Array, to: FlinkType, safe: bool) -> pa.Array:
    """Text as an integer type as Flink parses it: an optional sign, digits, and an optional fraction that is
    cut off ('1.9' is 1, '.5' is 0, '5.' is 5); no exponent, no hexadecimal; out of the type's range, NULL."""
    parts = pc.extract_regex(s, _INTEGER_TEXT)
    valid = pc.and_(pc.is_valid(parts), pc.match_substring_regex(s, r"[0-9.]"))
    if not safe:
        bad = pc.and_(pc.is_valid(s), pc.invert(pc.fill_null(valid, False)))
        if pc.any(bad).as_py():
            text = pc.filter(s, bad)[0].as_py()
            raise ExecutionError(f"Cannot cast STRING to {to}: '{text}' is not a valid {to.with_nullable(True)} "
                                 f"value; use TRY_CAST to get NULL for such values")
    digits = pc.struct_field(parts, [1])
    fits = pc.less_equal(pc.utf8_length(digits), 38)
    digits = pc.if_else(pc.equal(digits, ""), "0", pc.if_else(fits, digits, pa.scalar(None, pa.string())))
    signed = pc.binary_join_element_wise(pc.struct_field(parts, [0]), digits, "")
    number = pc.cast(pc.if_else(valid, signed, pa.scalar(None, pa.string())), pa.decimal128(38, 0))
    half = 1 << (_BITS[to.name] - 1)
    inside = pc.and_(pc.greater_equal(number, pa.scalar(decimal.Decimal(-half), number.type)),
                     pc.less(number, pa.scalar(decimal.Decimal(half), number.type)))
    if not safe and pc.any(pc.invert(pc.fill_null(inside, True))).as_py():
        text = pc.filter(s, pc.invert(pc.fill_null(inside, True)))[0].as_py()
        raise ExecutionError(f"Cannot cast STRING to {to}: '{text}' is out of the range of {to.with_nullable(True)}")
    return pc.cast(pc.if_else(inside, number, pa.scalar(None, number.type)), to.to_arrow())


_DECIMAL_TEXT = r"^(?P<sign>[+-]?)(?P<int>\d*)(?:\.(?P<frac>\d*))?(?:[eE](?P<exp>[+-]?\d+))?$"


def _decimal_from_string(s: pa.Array, to: FlinkType) -> pa.Array:
    """Text as DECIMAL(p, s) as Flink parses it: rounded HALF_UP to the scale; NULL if it does not parse or
    needs more than p digits. Up to precision 18 (and text of up to 18 bytes) Flink counts every digit written,
    leading zeros too ('00012' does not fit DECIMAL(5, 2))."""
    parts = pc.extract_regex(s, _DECIMAL_TEXT)
    int_len = pc.utf8_length(pc.struct_field(parts, [1]))
    frac_len = pc.utf8_length(pc.fill_null(pc.struct_field(parts, [2]), ""))
    written = pc.add(int_len, frac_len)
    text = pc.if_else(pc.fill_null(pc.greater(written, 0), False), s, pa.scalar(None, pa.string()))
    try:
        wide = pc.cast(text, pa.decimal128(38, min(38, to.scale + 6)))
    except pa.ArrowInvalid:  # digits or an exponent past what 38 can hold: one at a time
        return pa.array([_decimal_of_text(x, to) for x in text.to_pylist()], to.to_arrow())
    value = pc.round(wide, ndigits=to.scale, round_mode="half_towards_infinity")
    if to.precision - to.scale < 38 - wide.type.scale:
        fits = pc.less(pc.abs(value), pa.scalar(decimal.Decimal(10) ** (to.precision - to.scale), wide.type))
    else:  # any value the wide type holds fits
        fits = pc.is_valid(value)
    if to.precision <= 18:
        exp_text = pc.fill_null(pc.struct_field(parts, [3]), "")
        exp = pc.cast(pc.if_else(pc.equal(exp_text, ""), "0", exp_text), pa.int64())
        needed = pc.add(pc.subtract(pc.add(written, exp), frac_len), to.scale)
        short = pc.less_equal(pc.binary_length(s), 18)
        fits = pc.if_else(short, pc.less_equal(needed, to.precision), fits)
    return pc.cast(pc.if_else(fits, value, pa.scalar(None, value.type)), to.to_arrow(), safe=False)


_WIDE = decimal.Context(prec=100)  # room for any DECIMAL(38, s) and its rounding


def _decimal_of_text(text: str | None, to: FlinkType) -> decimal.Decimal | None:
    """One text as DECIMAL(p, s), rounded HALF_UP; None if it is no number or does not fit."""
    try:
        d = decimal.Decimal(text)
    except (decimal.InvalidOperation, TypeError):
        return None
    if not d.is_finite() or d and d.adjusted() >= to.precision - to.scale:
        return None
    d = d.quantize(decimal.Decimal(1).scaleb(-to.scale), rounding=decimal.ROUND_HALF_UP, context=_WIDE)
    return d if abs(d) < decimal.Decimal(10) ** (to.precision - to.scale) else None


def _time_from_string(s: pa.Array, to: FlinkType) -> pa.Array:
    """Text as TIME(p) as Flink parses it: 'H[:m[:s[.fff]]]' with one or two digits a field, the fraction cut to
    milliseconds and then to p digits; NULL out of range."""
    parts = pc.extract_regex(s, r"^(?P<h>\d{1,2})(?::(?P<m>\d{1,2})(?::(?P<s>\d{1,2})(?:\.(?P<f>\d*))?)?)?$")

    def field(i, digits=None):
        text = pc.fill_null(pc.struct_field(parts, [i]), "")
        if digits:
            text = pc.utf8_slice_codeunits(pc.utf8_rpad(text, digits, "0"), 0, digits)
        return pc.cast(pc.if_else(pc.equal(text, ""), "0", text), pa.int64())
    h, m, sec, frac = field(0), field(1), field(2), field(3, 3)
    step = 10 ** (3 - min(to.precision if to.precision is not None else 0, 3))
    millis = pc.add(pc.multiply(pc.add(pc.multiply(pc.add(pc.multiply(h, 60), m), 60), sec), 1000),
                    pc.multiply(pc.divide(frac, step), step))
    ok = pc.and_(pc.is_valid(parts), pc.and_(pc.less(h, 24), pc.and_(pc.less(m, 60), pc.less(sec, 60))))
    millis = pc.if_else(ok, millis, pa.scalar(None, pa.int64()))
    return pc.cast(pc.cast(millis, pa.int32()), pa.time32("ms")).cast(to.to_arrow())


def _date_from_string(s: pa.Array) -> pa.Array:
    """Text as a DATE as Flink parses it: 'y[-M[-d]]' with digits only, a missing month or day 1 ('2024' is
    2024-01-01), a year up to 9999, anything after a space left out ('2024-01-05 10:00' is 2024-01-05); NULL
    for a day that does not exist."""
    parts = pc.extract_regex(s, r"^(?P<y>\d{1,9})(?:-(?P<m>\d{1,9})(?:-(?P<d>\d{1,9}))?)?(?: .*)?$")
    year, month, day = (pc.cast(pc.cast(pc.replace_substring_regex(pc.struct_field(parts, [i]), "^$", "1"),
                                        pa.int64()), pa.string()) for i in (0, 1, 2))
    text = pc.binary_join_element_wise(year, month, day, "-")
    small = pc.less_equal(pc.cast(year, pa.int64()), 9999)
    parsed = parse_local(pc.if_else(small, text, pa.scalar(None, pa.string())), "y-M-d", unit="s")
    return pc.cast(parsed, pa.date32())


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
    if e.args[0].type.is_approx:  # NaN is 0; past the ends of INT (BIGINT) the nearest end, as Java's cast does
        end = 1 << (_BITS[e.type.name] - 1 if e.type.name == "BIGINT" else 31)

        def from_float(v):
            v = 0 if v != v else max(-end, min(end - 1, int(v))) if abs(v) != float("inf") else \
                (end - 1 if v > 0 else -end)
            return (v + half) % (2 * half) - half
        return lambda row: None if (v := x(row)) is None else from_float(v)
    return lambda row: None if (v := x(row)) is None else (int(v) + half) % (2 * half) - half


FUNCTIONS = (
    scalar("CAST", None, _cast, row=_cast_row),
    scalar("TRY_CAST", None, _cast),
    scalar("TYPEOF", returns(STRING.with_nullable(False), (1, 1), keep_null=False), None),  # the binder's literal
)
