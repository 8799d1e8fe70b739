"""Flink's JSON value conversions, one document at a time, for the documents the vectorized decoder cannot take
as they are: a value of another JSON type than its column's (numbers truncated into integers, numeric strings
parsed, any value into STRING as its text), dates and times outside the plain pattern, documents that are not
one JSON object."""
from __future__ import annotations

import base64
import decimal
import json
import re

from sqlstream.core.types import FlinkType

INT_RANGE = {"TINYINT": 8, "SMALLINT": 16, "INT": 32, "BIGINT": 64}
JAVA_INT = re.compile(r"[+-]?\d+")
JAVA_DOUBLE = re.compile(r"[+-]?(NaN|Infinity|((\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)[fFdD]?)")
# Double.parseDouble's hexadecimal form: 0x1.8p3 is 12.0
JAVA_HEX_DOUBLE = re.compile(r"[+-]?0[xX]([0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?\d+[fFdD]?")
JAVA_DECIMAL = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")  # new BigDecimal(text)
# java.time's ISO_LOCAL_DATE: a year of 4 digits, or more with a sign; then HH:mm:ss and an optional fraction
DATE = r"(?P<y>[+-]\d{4,9}|\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})"
TIME = r"(?P<h>\d{2}):(?P<mi>\d{2}):(?P<s>\d{2})(?:\.(?P<f>\d{1,9}))?"
TIMESTAMP_SQL = re.compile(DATE + " " + TIME)
# ISO_LOCAL_DATE_TIME: the seconds are optional and the 'T' of either case
ISO_TIME = r"(?P<h>\d{2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.(?P<f>\d{1,9}))?)?"
TIMESTAMP_ISO = re.compile(DATE + "[Tt]" + ISO_TIME)
TIMESTAMP_LTZ_SQL = re.compile(DATE + " " + TIME + "Z")
TIMESTAMP_LTZ_ISO = re.compile(DATE + "[Tt]" + ISO_TIME + "Z")
DATE_ONLY = re.compile(DATE)
TIME_ONLY = re.compile(TIME)
MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


class Malformed(Exception):
    """The document is not one JSON object: skipped under ignore-parse-errors, else the job fails."""


class FieldError(Exception):
    """A value that does not convert: NULL under ignore-parse-errors, else the job fails."""


class Number(str):
    """A JSON number as written (Flink keeps '4.50' as the text of a STRING column)."""

    is_float = False


class Float(Number):
    is_float = True


def _no_constant(name: str):
    raise ValueError(f"non-standard token {name}")


DECODER = json.JSONDecoder(parse_int=Number, parse_float=Float, parse_constant=_no_constant)
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def parse_document(text: str) -> dict:
    doc = parse_root(text)
    if not isinstance(doc, dict):
        raise Malformed("not a JSON object")
    return doc


def parse_root(text: str):
    """The first JSON value of the text (Jackson's readTree leaves what follows it unread)."""
    try:
        doc, _ = DECODER.raw_decode(text, len(text) - len(text.lstrip(" \t\r\n")))
    except ValueError as e:
        raise Malformed(str(e)) from None
    if "\\u" in text:
        doc = _without_lone_surrogates(doc)
    return doc


def _without_lone_surrogates(v):
    """A \\uD83D escape without its pair is one UTF-16 unit in Java; here it is one U+FFFD, as Java writes it
    out in UTF-8."""
    if isinstance(v, str) and not isinstance(v, Number):
        return LONE_SURROGATE.sub("\ufffd", v)
    if isinstance(v, dict):
        return {_without_lone_surrogates(k): _without_lone_surrogates(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_without_lone_surrogates(x) for x in v]
    return v


def to_text(v) -> str:
    """A JSON value as Jackson writes it back: compact, numbers as written."""
    if isinstance(v, Number):
        return str.__str__(v)
    if isinstance(v, dict):
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + to_text(x) for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ",".join(to_text(x) for x in v) + "]"
    return json.dumps(v, ensure_ascii=False)


def _scalar_text(v) -> str:
    """Jackson's getText() of a value that is not a string, for Java's parse methods."""
    if isinstance(v, (dict, list)):
        raise FieldError("a JSON object or array is not a scalar")
    return to_text(v) if not isinstance(v, str) or isinstance(v, Number) else v


def _java_trim(s: str) -> str:
    return s.strip("".join(chr(c) for c in range(33)))


def _integer(v, name: str) -> int:
    if isinstance(v, Number):
        if v.is_float and name in ("TINYINT", "SMALLINT"):  # Short.parseShort of the number's text
            raise FieldError(f"For input string: \"{str.__str__(v)}\"")
        if v.is_float:
            d = decimal.Decimal(str.__str__(v))
            if not d.is_finite():
                raise FieldError(f"{v} is no {name}")
            n = int(d)  # truncated toward zero, as Jackson's getIntValue/getLongValue
        else:
            n = int(str.__str__(v))
    else:
        s = _java_trim(_scalar_text(v))
        if isinstance(v, bool) or not JAVA_INT.fullmatch(s):
            raise FieldError(f"For input string: \"{s}\"")
        n = int(s)
    bits = INT_RANGE[name]
    if not -(1 << (bits - 1)) <= n < (1 << (bits - 1)):
        raise FieldError(f"{v} is out of range of {name}")
    return n


def _double(v) -> float:
    if isinstance(v, Number):
        return float(str.__str__(v))
    s = _java_trim(_scalar_text(v))
    if not isinstance(v, bool) and JAVA_HEX_DOUBLE.fullmatch(s):
        return float.fromhex(s.rstrip("fFdD"))
    if isinstance(v, bool) or not JAVA_DOUBLE.fullmatch(s):
        raise FieldError(f"For input string: \"{s}\"")
    s = s.rstrip("fFdD") if s[-1:] in "fFdD" and not s.endswith("Infinity") else s
    return float(s.replace("Infinity", "inf"))


def _boolean(v) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, (dict, list)):  # Boolean.parseBoolean of a container's text, which is empty
        return False
    return _java_trim(_scalar_text(v)).lower() == "true"


def _days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 in the proleptic Gregorian calendar, for any year (also 0 and before)."""
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _leap(y: int) -> bool:
    return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)


def _date_days(m: re.Match, clamp: bool) -> int:
    y, mo, d = int(m.group("y")), int(m.group("mo")), int(m.group("d"))
    if not 1 <= mo <= 12 or not 1 <= d <= 31:
        raise FieldError(f"Text '{m.string}' could not be parsed")
    last = 29 if mo == 2 and _leap(y) else MONTH_DAYS[mo - 1]
    if d > last:
        if not clamp:
            raise FieldError(f"Text '{m.string}' could not be parsed: Invalid date")
        d = last
    return _days_from_civil(y, mo, d)


def _time_nanos(m: re.Match) -> int:
    h, mi, s = int(m.group("h")), int(m.group("mi")), int(m.group("s") or 0)
    if h > 23 or mi > 59 or s > 59:
        raise FieldError(f"Text '{m.string}' could not be parsed")
    frac = (m.group("f") or "").ljust(9, "0")
    return ((h * 60 + mi) * 60 + s) * 1_000_000_000 + int(frac or 0)


def _pattern(t: FlinkType, standard: str) -> re.Pattern:
    ltz = t.name == "TIMESTAMP_LTZ"
    if standard == "ISO-8601":
        return TIMESTAMP_LTZ_ISO if ltz else TIMESTAMP_ISO
    return TIMESTAMP_LTZ_SQL if ltz else TIMESTAMP_SQL


def convert(v, t: FlinkType, standard: str = "SQL", ignore: bool = False, require: bool = False):
    """One JSON value (None for JSON null) into the Arrow-ready Python value of type `t`, as Flink converts it;
    TIMESTAMP as an int in the column's Arrow unit, DATE as days, TIME in the column's unit. With `ignore`
    (ignore-parse-errors) a field of a ROW or an element of an ARRAY or MAP that does not convert is NULL; with
    `require` (fail-on-missing-field) a ROW's field missing from its object does not convert."""
    if v is None:
        return None
    n = t.name
    if n in INT_RANGE:
        return _integer(v, n)
    if n in ("FLOAT", "DOUBLE"):
        return _double(v)
    if n == "BOOLEAN":
        return _boolean(v)
    if t.is_string:
        return v if isinstance(v, str) and not isinstance(v, Number) else to_text(v)
    if n == "DECIMAL":
        text = _java_trim(_scalar_text(v))
        if not JAVA_DECIMAL.fullmatch(text):
            raise FieldError(f"{v} is no DECIMAL")
        d = decimal.Decimal(text)
        d = d.quantize(decimal.Decimal(1).scaleb(-t.scale), rounding=decimal.ROUND_HALF_UP)
        return d if len(d.as_tuple().digits) <= t.precision or d == 0 else None  # too wide: NULL, as Flink
    if n in ("TIMESTAMP", "TIMESTAMP_LTZ"):
        m = _pattern(t, standard).fullmatch(_scalar_text(v))
        if not m:
            raise FieldError(f"Text '{_scalar_text(v)}' could not be parsed")
        day = 86_400_000_000_000
        if m.group("h") == "24" and m.group("mi") == m.group("s") == "00" and not (m.group("f") or "").strip("0"):
            nanos = (_date_days(m, clamp=True) + 1) * day  # java.time's SMART resolving: 24:00:00 ends the day
        else:
            nanos = _date_days(m, clamp=True) * day + _time_nanos(m)
        unit = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}[t.to_arrow().unit]
        if not -(1 << 63) <= nanos // unit < 1 << 63:  # a TIMESTAMP(7..9) counts nanoseconds in an int64
            raise FieldError(f"Text '{_scalar_text(v)}' is out of the range of {t.with_nullable(True)} "
                             f"(1677-09-21 to 2262-04-11 with nanoseconds)")
        return nanos // unit
    if n == "DATE":
        m = DATE_ONLY.fullmatch(_scalar_text(v))
        if not m:
            raise FieldError(f"Text '{_scalar_text(v)}' could not be parsed")
        return _date_days(m, clamp=False)
    if n == "TIME":
        m = TIME_ONLY.fullmatch(_scalar_text(v))
        if not m:
            raise FieldError(f"Text '{_scalar_text(v)}' could not be parsed")
        return _time_nanos(m) // {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}[t.to_arrow().unit]
    if n in ("BINARY", "VARBINARY"):
        try:
            return base64.b64decode(_scalar_text(v), validate=True)
        except ValueError:
            raise FieldError(f"{v} is no base64 text") from None
    if n == "ROW":
        if not isinstance(v, dict):
            raise FieldError(f"{to_text(v)} is no JSON object")
        missing = next((f for f in t.field_names if f not in v), None) if require else None
        if missing is not None:
            raise FieldError(f"Could not find field with name '{missing}'.")
        return {f: _nested(v.get(f), c, standard, ignore, require) for f, c in zip(t.field_names, t.children)}
    if n == "ARRAY":
        if not isinstance(v, list):
            raise FieldError(f"{to_text(v)} is no JSON array")
        return [_nested(x, t.children[0], standard, ignore, require) for x in v]
    if n == "MAP":
        if not isinstance(v, dict):
            raise FieldError(f"{to_text(v)} is no JSON object")
        return [(convert(k, t.children[0], standard), _nested(x, t.children[1], standard, ignore, require))
                for k, x in v.items()]
    raise FieldError(f"JSON format does not support type {t}")


def _nested(v, t: FlinkType, standard: str, ignore: bool, require: bool = False):
    try:
        return convert(v, t, standard, ignore, require)
    except (FieldError, ValueError, ArithmeticError):
        if not ignore:
            raise
        return None
