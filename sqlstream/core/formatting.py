"""Values printed as Flink prints them: DOUBLE as Java's Double.toString, TIMESTAMP as 'yyyy-MM-dd HH:mm:ss'.

Used by CAST(.. AS STRING), the text formats and the print sink, so every place prints a value the same way."""
from __future__ import annotations

import decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def format_double(v: pa.Array) -> pa.Array:
    """Java's Double.toString for the common range (7.0 not 7; 1.0E10 for large magnitudes)."""
    s = pc.cast(v, pa.string())
    s = pc.if_else(pc.fill_null(pc.is_nan(v), False), "NaN", s)  # Arrow writes 'nan'
    needs_dot = pc.invert(pc.match_substring_regex(s, r"[.eEnN]"))
    s = pc.if_else(pc.fill_null(needs_dot, False), pc.binary_join_element_wise(s, ".0", ""), s)
    vals = v.to_numpy(zero_copy_only=False)
    with np.errstate(invalid="ignore"):
        odd = np.abs(vals) >= 1e7
        odd |= (np.abs(vals) < 1e-3) & (vals != 0)
    if np.any(odd & ~np.isnan(vals)):
        py = s.to_pylist()
        for i in np.flatnonzero(odd):
            x = vals[i]
            if x != x or np.isinf(x):
                py[i] = "NaN" if x != x else ("Infinity" if x > 0 else "-Infinity")
                continue
            m, ex = f"{x:.17e}".split("e")
            r = repr(float(x))
            mant = decimal.Decimal(r).normalize()
            digits = mant.as_tuple()
            exp_ = len(digits.digits) + digits.exponent - 1
            coef = (mant.scaleb(-exp_)).normalize()
            cs = format(coef, "f")
            if "." not in cs:
                cs += ".0"
            py[i] = f"{cs}E{exp_}"
        s = pa.array(py, pa.string())
    return s


def format_timestamp(v: pa.Array, precision: int | None = None) -> pa.Array:
    """'yyyy-MM-dd HH:mm:ss[.fff]' as Flink prints TIMESTAMP values: with `precision`, exactly that many
    fraction digits (CAST(TIMESTAMP(p) AS STRING)); without, as many as the Arrow unit holds."""
    if v.type.tz is not None:
        v = pc.cast(pc.cast(v, pa.int64()), pa.timestamp(v.type.unit))
    if precision is None:
        return pc.cast(v, pa.string())  # 'yyyy-MM-dd HH:mm:ss.SSS' for milliseconds, ~20x faster than strftime
    text = pc.cast(v, pa.string())  # the unit's fraction digits (not through nanoseconds: they end in 2262)
    unit_digits = {"s": 0, "ms": 3, "us": 6, "ns": 9}[v.type.unit]
    if precision > unit_digits:
        pad = ("." if unit_digits == 0 else "") + "0" * (precision - unit_digits)
        text = pc.binary_join_element_wise(text, pa.scalar(pad), "")
    return pc.utf8_slice_codeunits(text, 0, 20 + precision if precision else 19)


def format_interval(v: pa.Array, year_month: bool) -> pa.Array:
    """Intervals as Flink prints them (CAST to STRING, the SQL client), whatever their fields: '+d hh:mm:ss.SSS'
    (days to milliseconds) or '+y-mm' (years and months), the sign before the magnitude ('-0 00:00:03.000')."""
    raw = pc.cast(v, pa.int64())
    sign = pc.if_else(pc.less(raw, 0), "-", "+")
    size = pc.abs(raw)

    def part(divisor: int, modulus: int | None, width: int = 2) -> pa.Array:
        n = pc.divide(size, divisor)
        text = pc.cast(n if modulus is None else pc.subtract(n, pc.multiply(pc.divide(n, modulus), modulus)),
                       pa.string())
        return pc.utf8_lpad(text, width, "0") if width > 1 else text
    if year_month:
        return pc.binary_join_element_wise(sign, part(12, None, 1), "-", part(1, 12), "")
    return pc.binary_join_element_wise(sign, part(86_400_000, None, 1), " ", part(3_600_000, 24), ":",
                                       part(60_000, 60), ":", part(1000, 60), ".", part(1, 1000, 3), "")


def epoch_ms_text(ms: int) -> str:
    """A watermark or event time (epoch ms, a TIMESTAMP's wall time read as UTC) as 'yyyy-MM-dd HH:mm:ss.SSS'."""
    import datetime
    when = datetime.datetime(1970, 1, 1) + datetime.timedelta(milliseconds=int(ms))
    return when.strftime("%Y-%m-%d %H:%M:%S.") + f"{when.microsecond // 1000:03d}"
