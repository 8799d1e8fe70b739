"""Date and time functions: formatting and parsing with Java's patterns, TO_TIMESTAMP/TO_DATE, FLOOR/CEIL to a
unit, EXTRACT and YEAR..SECOND, TIMESTAMPADD/TIMESTAMPDIFF, the current time in its forms, UNIX_TIMESTAMP,
FROM_UNIXTIME and CONVERT_TZ. A TIMESTAMP_LTZ is an instant; functions that read a wall clock see it in the
session time zone (`local_time`), and those whose result depends on the zone get it from the binder (`zoned`)."""
from __future__ import annotations

import datetime as dt
import re
import time

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.core.errors import ExecutionError, ValidationError
from sqlstream.core.types import BIGINT, INT, STRING, FlinkType
from sqlstream.functions.arrow import full, null_mask, trunc_div
from sqlstream.functions.cast import cast_array, parse_default, parse_timestamp
from sqlstream.functions.catalog import scalar
from sqlstream.functions.inference import nullable, require, returns
from sqlstream.functions.java_datetime import PER_SECOND, add_months, format_local, parse_local
from sqlstream.functions.time_zones import from_local, to_local

def _date_format(e, args, n):
    """DATE_FORMAT(TIMESTAMP, pattern) formats with DateTimeFormatter; DATE_FORMAT(STRING, pattern) parses the
    string as a TIMESTAMP and formats with SimpleDateFormat, as Flink does."""
    v, fmt = full(args[0], n), args[1]
    if not fmt.is_valid:
        return pa.nulls(n, pa.string())
    simple = pa.types.is_string(v.type)
    if simple:  # read as SimpleDateFormat 'yyyy-MM-dd HH:mm:ss' does: a matching prefix, no fraction
        v = parse_local(v, "yyyy-MM-dd HH:mm:ss", lenient=True, unit="ms")
    return format_local(v, fmt.as_py(), simple=simple)


def _to_timestamp(e, args, n):
    s = full(args[0], n)
    fmt = args[1].as_py() if len(args) > 1 else None
    return parse_timestamp(s, e.type, fmt)


# The instants a TIMESTAMP_LTZ holds (years 0000 to 9999), in milliseconds since the epoch
MIN_EPOCH_MILLIS, MAX_EPOCH_MILLIS = -62_167_219_200_000, 253_402_300_799_999


def _to_timestamp_ltz(e, args, n):
    """TO_TIMESTAMP_LTZ(number, precision): the number counts units of 10^-precision seconds. As Flink: a
    DECIMAL is first truncated to a whole number, a DOUBLE is not (the count of nanoseconds is); NULL outside
    the years 0000 to 9999. Computed in the result's own unit: nanoseconds in an int64 end in 2262."""
    v = full(args[0], n)
    p = full(args[1], n) if len(args) > 1 else pa.array(np.full(n, 3, np.int32))
    valid = pc.and_(pc.is_valid(v), pc.is_valid(p))
    digits = np.asarray(pc.fill_null(p, 3).to_numpy(zero_copy_only=False), np.int64)
    out = e.type.to_arrow()
    unit_digits = {"s": 0, "ms": 3, "us": 6, "ns": 9}[out.unit]
    if pa.types.is_floating(v.type):
        count = np.asarray(pc.fill_null(pc.cast(v, pa.float64()), 0).to_numpy(zero_copy_only=False))
        nanos = np.trunc(count * np.power(10.0, 9 - digits))
        units = np.floor(nanos / 10.0 ** (9 - unit_digits))
        millis = nanos / 1e6  # compared in milliseconds, where a float64 still tells the last one of year 9999
    else:
        whole = pc.cast(pc.trunc(v) if pa.types.is_decimal(v.type) else v, pa.int64(), safe=False)
        count = np.asarray(pc.fill_null(whole, 0).to_numpy(zero_copy_only=False))
        nanos = count.astype(np.float64) * np.power(10.0, 9 - digits)
        up, down = np.maximum(unit_digits - digits, 0), np.maximum(digits - unit_digits, 0)
        with np.errstate(over="ignore"):  # a product that wraps is out of range, and masked below
            units = np.floor_divide(count * np.power(10, up, dtype=np.int64), np.power(10, down, dtype=np.int64))
        millis = np.floor_divide(units, 10 ** (unit_digits - 3))  # exact (floats blur the last microseconds)
    fits = np.abs(nanos / 10.0 ** (9 - unit_digits)) < 2.0 ** 62
    in_range = fits & (np.where(fits, millis, 0) >= MIN_EPOCH_MILLIS) & (np.where(fits, millis, 0) <= MAX_EPOCH_MILLIS)
    mask = ~(np.asarray(valid.to_numpy(zero_copy_only=False)) & in_range)
    return pa.array(np.where(in_range, units, 0).astype(np.int64), pa.int64(), mask=mask).cast(out)


def _to_date(e, args, n):
    """TO_DATE(s [, pattern]): with a pattern, parsed as SimpleDateFormat does (leniently: 29/02/2023 is March 1st)."""
    s = full(args[0], n)
    if len(args) < 2:
        return cast_array(s, FlinkType("?"), e.type, False)
    if not args[1].is_valid:
        return pa.nulls(n, pa.date32())
    return pc.cast(pc.floor_temporal(parse_local(s, args[1].as_py(), lenient=True, unit="ms"), unit="day"),
                   pa.date32())


def _ltz_to_local(e, args, n):
    return pc.cast(to_local(full(args[0], n), args[1].as_py()), e.type.to_arrow())


def _local_to_ltz(e, args, n):
    return pc.cast(from_local(full(args[0], n), args[1].as_py()), e.type.to_arrow())


_UNIT_ARROW = {"MILLISECOND": "millisecond", "SECOND": "second", "MINUTE": "minute", "HOUR": "hour",
               "DAY": "day", "WEEK": "week", "MONTH": "month", "QUARTER": "quarter", "YEAR": "year"}


def _floor_to(fn):
    """FLOOR/CEIL(x TO unit); for a TIMESTAMP_LTZ (a third argument names the session zone) on the wall clock
    there, shifted back by the offset of the original instant as Flink does (so across a clock change the
    result keeps the input's offset)."""
    def rounded(v, unit, **kw):
        r = fn(v, unit=unit, **kw)
        if fn is pc.ceil_temporal and kw.get("multiple") is None:  # a value on the boundary stays (Arrow moves
            # one of a month, quarter, year on); CEIL(.. TO DECADE) of a decade's first instant is the next, as Flink
            r = pc.if_else(pc.equal(pc.floor_temporal(v, unit=unit, **kw), v), v, r)
        return r

    def impl(e, args, n):
        v = full(args[0], n)
        name = args[1].as_py()
        if name not in _UNIT_ARROW and name != "DECADE":
            raise ExecutionError(f"FLOOR/CEIL(.. TO {name}) is not supported: use YEAR, QUARTER, MONTH, WEEK, DAY, "
                                 f"HOUR, MINUTE, SECOND, MILLISECOND or DECADE")
        unit = _UNIT_ARROW.get(name, "year")
        kw = {"week_starts_monday": False} if unit == "week" else {}  # Flink's weeks start on Sunday
        if name == "DECADE":  # years counted from 1970, a multiple of ten
            kw = {"multiple": 10}
        if len(args) < 3:
            return rounded(v, unit, **kw)
        local = to_local(v, args[2].as_py())
        offset = pc.subtract(pc.cast(local, pa.int64()), pc.cast(v, pa.int64()))
        moved = pc.cast(rounded(local, unit, **kw), pa.int64())
        return pc.cast(pc.subtract(moved, offset), v.type)
    return impl


_SUBSECOND_DIVISOR = {"MILLISECOND": 1_000_000, "MICROSECOND": 1_000, "NANOSECOND": 1}


def _extract_unit(unit: str, v: pa.Array) -> pa.Array:
    u = unit.upper()
    if pa.types.is_date(v.type) and u in ("HOUR", "MINUTE", "SECOND") + tuple(_SUBSECOND_DIVISOR):
        # as Flink's generated code, which reads a DATE's count of days as milliseconds (2024-01-31, day 19753,
        # has SECOND 19 and MILLISECOND 753)
        v = pc.cast(pc.cast(v, pa.int32()).cast(pa.int64()), pa.timestamp("ms"))
    elif pa.types.is_date(v.type) or pa.types.is_time(v.type):  # a DATE at midnight, a TIME on 1970-01-01
        v = _as_timestamp(v)
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
        # as Flink: Java's remainder of the epoch milliseconds (floored) plus the nanoseconds within the millisecond
        raw, per_second = _epoch_units(v)
        frac = np.zeros_like(raw)
        if per_second >= 1000:
            per_milli = per_second // 1000
            millis = np.floor_divide(raw, per_milli)
            frac = np.fmod(millis, 1000) * 1_000_000 + (raw - millis * per_milli) * (1_000_000 // per_milli)
        return pa.array(trunc_div(frac, np.int64(_SUBSECOND_DIVISOR[u])), pa.int64(), mask=null_mask(v))
    elif u in ("CENTURY", "MILLENNIUM", "DECADE"):
        years = np.asarray(pc.fill_null(pc.year(v), 1).to_numpy(zero_copy_only=False)).astype(np.int64)
        r = {"CENTURY": (years + 99) // 100, "MILLENNIUM": (years + 999) // 1000, "DECADE": years // 10}[u]
        return pa.array(r, pa.int64(), mask=null_mask(v))
    else:
        r = getattr(pc, u.lower())(v)
    return pc.cast(r, pa.int64())


def _as_timestamp(v: pa.Array) -> pa.Array:
    """A DATE as the TIMESTAMP of its midnight, a TIME as that of its time on 1970-01-01."""
    if pa.types.is_date(v.type):
        return pc.cast(v, pa.timestamp("s"))
    whole = pa.int32() if v.type.bit_width == 32 else pa.int64()
    return pc.cast(pc.cast(pc.cast(v, whole), pa.int64()), pa.timestamp(v.type.unit))


def _epoch_units(v: pa.Array) -> tuple[np.ndarray, int]:
    """(units since 1970-01-01 00:00, 0 where NULL; units per second) of TIMESTAMP / DATE / TIME values (the
    wall clock for a TIMESTAMP), in the type's own unit: nanoseconds in an int64 end in 2262."""
    if pa.types.is_date(v.type) or pa.types.is_time(v.type):
        v = _as_timestamp(v)
    raw = np.asarray(pc.fill_null(pc.cast(v, pa.int64()), 0).to_numpy(zero_copy_only=False)).astype(np.int64)
    return raw, PER_SECOND[v.type.unit]


def _epoch_seconds(v: pa.Array) -> pa.Array:
    """Whole seconds since the epoch, as Flink: its milliseconds (floored) divided truncating toward zero."""
    return pa.array(trunc_div(_epoch_millis(v), np.int64(1000)), pa.int64(), mask=null_mask(v))


def _extract(e, args, n):
    kind = e.args[1].type.name
    if kind in ("INTERVAL_DAY_TIME", "INTERVAL_YEAR_MONTH"):
        return _extract_interval(args[0].as_py(), full(args[1], n))
    return _extract_unit(args[0].as_py(), full(args[1], n))


# EXTRACT from an interval, as Flink's generated code: the field of a count of milliseconds or months, with
# Java's division and remainder (toward zero: negative intervals give negative fields)
_INTERVAL_FIELDS = {"DAY": (None, 86_400_000), "HOUR": (86_400_000, 3_600_000), "MINUTE": (3_600_000, 60_000),
                    "SECOND": (60_000, 1000), "MILLISECOND": (1000, 1), "YEAR": (None, 12), "MONTH": (12, 1)}


def _extract_interval(unit: str, v: pa.Array) -> pa.Array:
    raw = np.asarray(pc.fill_null(pc.cast(v, pa.int64()), 0).to_numpy(zero_copy_only=False))
    if unit == "QUARTER":  # (months % 12 - 1) / 3 + 1
        r = trunc_div(np.fmod(raw, 12) - 1, np.int64(3)) + 1
    else:
        modulus, divisor = _INTERVAL_FIELDS[unit]
        r = trunc_div(raw if modulus is None else np.fmod(raw, modulus), np.int64(divisor))
    return pa.array(r, pa.int64(), mask=null_mask(v))


def _unit_fn(unit):
    def impl(e, args, n):
        return _extract_unit(unit, full(args[0], n))
    return impl


_UNIT_MS = {"MILLISECOND": 1, "SECOND": 1000, "MINUTE": 60_000, "HOUR": 3_600_000, "DAY": 86_400_000,
            "WEEK": 7 * 86_400_000}


def _timestampadd(e, args, n):
    """TIMESTAMPADD(unit, k, x) for a TIMESTAMP, a DATE (whole days or months; the binder makes a DATE with a
    time unit a TIMESTAMP) or a TIME (wrapping around midnight)."""
    unit, k, ts = args[0].as_py(), full(args[1], n), full(args[2], n)
    if unit in ("MONTH", "YEAR", "QUARTER"):
        months = pc.multiply(pc.cast(k, pa.int64()), {"MONTH": 1, "QUARTER": 3, "YEAR": 12}[unit])
        if pa.types.is_time(ts.type):
            return ts
        return add_months(ts, months, 1, e.type, n)
    ms = pc.multiply(pc.cast(k, pa.int64()), _UNIT_MS[unit])
    if pa.types.is_date(ts.type):
        days = pc.cast(pc.divide(ms, 86_400_000), pa.int32())
        return pc.cast(pc.add(pc.cast(ts, pa.int32()), days), pa.date32())
    if pa.types.is_time(ts.type):
        of_day = pc.cast(pc.cast(pc.cast(ts, pa.time32("ms")), pa.int32()), pa.int64())
        wrapped = np.mod(np.asarray(pc.fill_null(pc.add(of_day, ms), 0).to_numpy(zero_copy_only=False)),
                         86_400_000)
        out = pa.array(wrapped.astype(np.int32), pa.int32(), mask=null_mask(pc.add(of_day, ms)))
        return pc.cast(out, pa.time32("ms")).cast(e.type.to_arrow())
    return pc.add(ts, pc.cast(ms, pa.duration("ms")).cast(pa.duration(ts.type.unit)))


def _timestampdiff(e, args, n):
    unit, a, b = args[0].as_py(), full(args[1], n), full(args[2], n)
    if unit in ("MONTH", "YEAR", "QUARTER"):
        per = {"MONTH": 1, "QUARTER": 3, "YEAR": 12}[unit]
        out = []
        for x, y in zip(map(_as_datetime, a.to_pylist()), map(_as_datetime, b.to_pylist())):
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
    diff = np.subtract(_epoch_millis(b), _epoch_millis(a))
    mask = pc.or_(pc.is_null(a), pc.is_null(b)).to_numpy(zero_copy_only=False)
    if unit in _SECONDS_SCALED:  # as Flink: whole seconds times the unit (an INT wraps)
        q = trunc_div(diff, np.int64(1000)) * np.int64(_SECONDS_SCALED[unit])
        return pa.array(q.astype(np.dtype(str(e.type.to_arrow()))), e.type.to_arrow(), mask=mask)
    q = trunc_div(diff, np.int64(_UNIT_MS[unit]))
    return pa.array(q.astype(np.int32), pa.int32(), mask=mask)


def _as_datetime(v):
    """A DATE as the TIMESTAMP of its midnight (other values as they are)."""
    return dt.datetime.combine(v, dt.time()) if type(v) is dt.date else v


_SECONDS_SCALED = {"MILLISECOND": 1000, "MICROSECOND": 1_000_000, "NANOSECOND": 1_000_000_000}


def _epoch_millis(v: pa.Array) -> np.ndarray:
    """Milliseconds since the epoch (floored, as Flink's TimestampData keeps them) of TIMESTAMP / DATE values;
    0 where NULL."""
    raw, per_second = _epoch_units(v)
    return raw * (1000 // per_second) if per_second < 1000 else np.floor_divide(raw, np.int64(per_second // 1000))


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
    s, src, dst = full(args[0], n), args[1], args[2]
    if isinstance(src, pa.Scalar) and isinstance(dst, pa.Scalar):
        if not src.is_valid or not dst.is_valid:
            return pa.nulls(n, pa.string())
        return _convert_tz_const(s, src.as_py(), dst.as_py())
    src, dst = full(src, n), full(dst, n)
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
    local = parse_default(s, "ms")
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
    s = full(args[0], n)
    fmt = args[1].as_py() if len(args) > 1 else "yyyy-MM-dd HH:mm:ss"
    local = parse_local(s, fmt, lenient=True, unit="ms")
    instants = pc.cast(from_local(local, zone.as_py(), repeated="latest"), pa.int64())
    secs = pa.array(np.floor_divide(np.asarray(pc.fill_null(instants, 0).to_numpy(zero_copy_only=False)), 1000))
    parsed = pc.if_else(pc.is_valid(instants), secs, pa.scalar(LONG_MIN, pa.int64()))
    return pc.if_else(pc.is_valid(s), parsed, pa.scalar(None, pa.int64()))


def _from_unixtime(e, args, n):
    """FROM_UNIXTIME(seconds [, pattern]): the wall clock in the session zone, formatted as SimpleDateFormat does."""
    *args, zone = args
    v = full(args[0], n)
    fmt = args[1].as_py() if len(args) > 1 else "yyyy-MM-dd HH:mm:ss"
    instants = pc.cast(pc.cast(v, pa.int64()), pa.timestamp("s", tz="UTC"))
    return format_local(to_local(instants, zone.as_py()), fmt, simple=True)


# ---- types ----


def ts_like_first(name: str, args: list[FlinkType]) -> FlinkType:
    """FLOOR/CEIL(x TO unit) and TIMESTAMPADD(unit, n, x): the type of x (the unit is not an argument)."""
    t = args[-1] if name == "TIMESTAMPADD" else args[0]
    require(name, args, t.is_temporal)
    if name == "TIMESTAMPADD":  # the count of units is a whole number
        require(name, args, len(args) >= 2 and (args[-2].is_integer or args[-2].name == "NULL"))
    return t.without_time_attr().with_nullable(nullable(args))


TS3 = FlinkType("TIMESTAMP", 3)
LTZ3 = FlinkType("TIMESTAMP_LTZ", 3)


def _current_watermark_type(name, args):
    require(name, args, len(args) == 1 and args[0].is_timestamp and args[0].time_attr == "rowtime")
    return FlinkType(args[0].name, 3, nullable=True)


def _now_type(t: FlinkType):
    return returns(t.with_nullable(False), (0, 0), keep_null=False)


_C, _I, _N = "CHARACTER", "INTEGER", "NUMERIC"
_DATE, _TIME0 = FlinkType("DATE"), FlinkType("TIME", 0)
def _field(name: str, args: list[FlinkType]) -> FlinkType:
    """YEAR(x) .. SECOND(x): EXTRACT of a date or time (Flink's message names the EXTRACT it becomes)."""
    if len(args) == 1 and args[0].name == "NULL":
        raise ValidationError("Illegal use of 'NULL': give the NULL a type, as CAST(NULL AS DATE)")
    if len(args) == 1 and not (args[0].is_temporal or args[0].is_interval):
        raise ValidationError(f"Cannot apply 'EXTRACT' to arguments of type 'EXTRACT(<INTERVAL {name}> FROM "
                              f"<{args[0].without_time_attr()}>)'. Supported form(s): "
                              f"'EXTRACT(<DATETIME_INTERVAL> FROM <DATETIME_INTERVAL>)'")
    return returns(BIGINT, (1, 1))(name, args)


_FIELD = _field

FUNCTIONS = (
    scalar("DATE_FORMAT", returns(STRING, (2, 2), keep_null=False,
                                  check=lambda a: (a[0].is_timestamp or a[0].is_string or a[0].name == "NULL")
                                  and (a[1].is_string or a[1].name == "NULL")),  # a DATE is refused, as in Flink
           _date_format, constant_args=(1,), local_time=True),
    scalar("TO_TIMESTAMP", returns(TS3, (1, 2), keep_null=False), _to_timestamp,
           signatures=((_C,), (_C, _C)), constant_args=(1,)),
    scalar("TO_TIMESTAMP_LTZ", returns(LTZ3, (1, 2), keep_null=False), _to_timestamp_ltz,
           signatures=((_N,), (_N, _I), (_C,), (_C, _C), (_C, _C, _C)), constant_args=(1, 2)),
    scalar("TO_DATE", returns(_DATE, (1, 2), keep_null=False), _to_date, signatures=((_C,), (_C, _C)),
           constant_args=(1,)),
    scalar("FLOOR_TO", ts_like_first, _floor_to(pc.floor_temporal), internal=True),
    scalar("CEIL_TO", ts_like_first, _floor_to(pc.ceil_temporal), internal=True),
    scalar("EXTRACT", returns(BIGINT, (2, 2)), _extract),
    *(scalar(unit, _FIELD, _unit_fn(unit), local_time=True)
      for unit in ("YEAR", "QUARTER", "MONTH", "WEEK", "DAYOFYEAR", "DAYOFMONTH", "DAYOFWEEK", "HOUR", "MINUTE",
                   "SECOND")),
    scalar("TIMESTAMPADD", ts_like_first, _timestampadd),
    scalar("TIMESTAMPDIFF", returns(INT, (2, 2)), _timestampdiff),  # BIGINT for NANOSECOND (the binder)
    scalar("UNIX_TIMESTAMP", returns(BIGINT, (0, 2)), _unix_timestamp, signatures=((), (_C,), (_C, _C)),
           constant_args=(1,), zoned=True),
    scalar("FROM_UNIXTIME", returns(STRING, (1, 2), keep_null=False), _from_unixtime,
           signatures=((_I,), (_I, _C)), constant_args=(1,), zoned=True),
    scalar("CURRENT_TIMESTAMP", _now_type(LTZ3), _now),
    scalar("NOW", _now_type(LTZ3), _now),
    scalar("LOCALTIMESTAMP", _now_type(TS3), _now, zoned=True),
    scalar("CURRENT_DATE", _now_type(_DATE), _now, zoned=True),
    scalar("CURRENT_TIME", _now_type(_TIME0), _now, zoned=True),
    scalar("LOCALTIME", _now_type(_TIME0), _now, zoned=True),
    scalar("PROCTIME", _now_type(FlinkType("TIMESTAMP_LTZ", 3, time_attr="proctime")), _now),
    scalar("CURRENT_ROW_TIMESTAMP", _now_type(LTZ3), _now),
    scalar("CURRENT_WATERMARK", _current_watermark_type, None),  # the Calc operator reads the watermark
    scalar("CONVERT_TZ", returns(STRING, (3, 3), keep_null=False), _convert_tz, signatures=((_C, _C, _C),)),
    scalar("LTZ_TO_LOCAL", None, _ltz_to_local, internal=True),
    scalar("LOCAL_TO_LTZ", None, _local_to_ltz, internal=True),
)
