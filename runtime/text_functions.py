"""Flink's PARSE_URL, PRINTF, INET_ATON/INET_NTOA and the JSON text functions (JSON_OBJECT, JSON_ARRAY,
JSON_STRING, JSON_QUOTE, JSON_UNQUOTE, IS JSON), as Flink computes them with java.net.URL, java.util.Formatter
(Locale.US) and Jackson.

Each works on the distinct values of a column where it has one input, else row by row.
"""
from __future__ import annotations

import datetime as dt
import decimal
import json
import re

import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.core.errors import ExecutionError

INTEGER_BITS = {"TINYINT": 8, "SMALLINT": 16, "INT": 32, "INTEGER": 32, "BIGINT": 64}
URL_PROTOCOLS = {"http", "https", "ftp", "file", "jar", "mailto", "netdoc"}  # java.net.URL's handlers


def _full(v, n: int) -> pa.Array:
    if isinstance(v, pa.Scalar):
        return pa.repeat(v, n) if v.is_valid else pa.nulls(n, v.type)
    return v.combine_chunks() if isinstance(v, pa.ChunkedArray) else v


def _rows(e, args, n, fn) -> pa.Array:
    """fn over each row's Python values; one distinct value is computed once when all but the first are constant."""
    if args and all(isinstance(a, pa.Scalar) for a in args[1:]) and not isinstance(args[0], pa.Scalar) and \
            (pa.types.is_string(args[0].type) or pa.types.is_integer(args[0].type)):
        first = _full(args[0], n)
        enc = pc.dictionary_encode(first)
        rest = [a.as_py() for a in args[1:]]
        uniq = [fn(x, *rest) for x in enc.dictionary.to_pylist()]
        out = pa.array(uniq, e.type.to_arrow()).take(enc.indices)
        return out
    cols = [_full(a, n).to_pylist() for a in args]
    return pa.array([fn(*vals) for vals in zip(*cols)] if cols else [fn() for _ in range(n)], e.type.to_arrow())


# ---- PARSE_URL ------------------------------------------------------------------------------------
_URL = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*):(?://(?P<authority>[^/?#]*))?(?P<path>[^?#]*)"
                  r"(?:\?(?P<query>[^#]*))?(?:#(?P<ref>.*))?", re.S)


def parse_url(url, part, key=None):
    """PARSE_URL(url, part [, key]): a part of the URL as java.net.URL names it; NULL for a malformed URL."""
    if url is None or part is None:
        return None
    m = _URL.fullmatch(url)
    if m is None or m.group("scheme").lower() not in URL_PROTOCOLS:
        return None
    authority, query = m.group("authority"), m.group("query")
    userinfo, _, hostport = (authority or "").rpartition("@")
    host = hostport
    if hostport.startswith("["):
        host = hostport[:hostport.find("]") + 1]
    elif ":" in hostport:
        host = hostport[:hostport.rfind(":")]
    path = m.group("path")
    parts = {"HOST": host, "PATH": path, "QUERY": query, "REF": m.group("ref"),
             "PROTOCOL": m.group("scheme").lower(), "AUTHORITY": authority,
             "FILE": path + ("?" + query if query is not None else ""),
             "USERINFO": userinfo if "@" in (authority or "") else None}
    if key is not None:
        if part != "QUERY" or query is None:
            return None
        found = re.search(r"(&|^)" + re.escape(key) + r"=([^&]*)", query)
        return found.group(2) if found else None
    return parts.get(part)


# ---- PRINTF ---------------------------------------------------------------------------------------
_SPEC = re.compile(r"%(?:(\d+)\$)?([-#+ 0,(]*)(\d+)?(?:\.(\d+))?([a-zA-Z%])")


def java_text(v) -> str:
    """String.valueOf of a SQL value, as Java shows it."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return java_double(v)
    if isinstance(v, dt.datetime):
        return v.isoformat()
    return str(v)


def java_double(x: float) -> str:
    """Double.toString: plain between 1e-3 and 1e7, else computerized scientific notation."""
    if x != x:
        return "NaN"
    if x in (float("inf"), float("-inf")):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "-0.0" if str(x).startswith("-") else "0.0"
    if 1e-3 <= abs(x) < 1e7:
        return repr(x)
    _, digits, exponent = decimal.Decimal(repr(x)).as_tuple()
    digits = "".join(map(str, digits)).rstrip("0") or "0"
    power = len(decimal.Decimal(repr(abs(x))).as_tuple().digits) + exponent - 1
    return f"{'-' if x < 0 else ''}{digits[0]}.{digits[1:] or '0'}E{power}"


def printf(fmt, *values, bits: tuple = ()):
    """PRINTF(format, args..): java.util.Formatter with Locale.US; `bits` is each integer argument's width
    (%x and %o of a negative number show its two's complement)."""
    if fmt is None:
        return None
    out, pos, auto = [], 0, 0
    for m in _SPEC.finditer(fmt):
        out.append(fmt[pos:m.start()])
        pos = m.end()
        index, flags, width, precision, conv = m.groups()
        if conv == "%":
            out.append("%")
            continue
        if conv == "n":
            out.append("\n")
            continue
        if index:
            i = int(index) - 1
        else:
            i, auto = auto, auto + 1
        if i >= len(values):
            raise ExecutionError(f"PRINTF: format specifier '{m.group(0)}' has no argument "
                                 f"(MissingFormatArgumentException)")
        out.append(_format_one(values[i], flags, width, precision, conv, bits[i] if i < len(bits) else 64))
    out.append(fmt[pos:])
    return "".join(out)


def _format_one(v, flags: str, width: str | None, precision: str | None, conv: str, bits: int = 64) -> str:
    upper = conv.isupper()
    c = conv.lower()
    if c == "b":
        text = "false" if v is None or v is False else "true"
    elif v is None or c in ("s", "h"):
        text = java_text(v) if c != "h" else (format(hash(v) & 0xFFFFFFFF, "x") if v is not None else "null")
        if precision is not None:
            text = text[:int(precision)]
    elif c == "c":
        text = chr(v) if isinstance(v, int) else str(v)
    elif c in ("d", "o", "x"):
        if not isinstance(v, int) or isinstance(v, bool):
            raise ExecutionError(f"PRINTF: %{conv} needs an integer, got {java_text(v)} "
                                 f"(IllegalFormatConversionException)")
        if c != "d" and v < 0:
            v += 1 << bits
        spec = flags.replace("(", "").replace(",", "").replace("0", "").replace("-", "")
        text = ("%" + spec + c) % v if c != "d" or "," not in flags else format(v, ",")
        if "(" in flags and v < 0:
            text = "(" + text.lstrip("-") + ")"
    elif c in ("e", "f", "g", "a"):
        if isinstance(v, (int, float, decimal.Decimal)) and not isinstance(v, bool):
            p = 6 if precision is None else int(precision)
            d = decimal.Decimal(java_double(v)) if isinstance(v, float) else decimal.Decimal(v)
            if c == "a":
                text = float(v).hex()
            elif c == "e":
                text = _scientific(d, p)
            else:
                q = d.quantize(decimal.Decimal(1).scaleb(-p), rounding=decimal.ROUND_HALF_UP)
                text = format(q, ("," if "," in flags else "") + f".{p}f") if c == "f" else format(d, f".{p}g")
            if "+" in flags and not text.startswith("-"):
                text = "+" + text
            elif " " in flags and not text.startswith("-"):
                text = " " + text
        else:
            raise ExecutionError(f"PRINTF: %{conv} needs a number, got {java_text(v)} "
                                 f"(IllegalFormatConversionException)")
    else:
        raise ExecutionError(f"PRINTF: conversion '%{conv}' is not supported")
    if upper:
        text = text.upper()
    if width is not None and len(text) < int(width):
        pad = int(width) - len(text)
        if "-" in flags:
            text = text + " " * pad
        elif "0" in flags and v is not None and c in ("d", "o", "x", "e", "f", "g"):
            sign = text[0] if text[:1] in "+- " and text else ""
            text = sign + "0" * pad + text[len(sign):]
        else:
            text = " " * pad + text
    return text


def _scientific(d: decimal.Decimal, p: int) -> str:
    """%e: one digit, p decimals (HALF_UP), a signed exponent of at least two digits."""
    if d == 0:
        return f"{0:.{p}f}e+00"
    exp10 = d.adjusted()
    mant = d.scaleb(-exp10).quantize(decimal.Decimal(1).scaleb(-p), rounding=decimal.ROUND_HALF_UP)
    if abs(mant) >= 10:
        exp10 += 1
        mant = d.scaleb(-exp10).quantize(decimal.Decimal(1).scaleb(-p), rounding=decimal.ROUND_HALF_UP)
    return f"{mant:.{p}f}e{'-' if exp10 < 0 else '+'}{abs(exp10):02d}"


# ---- INET_ATON / INET_NTOA ------------------------------------------------------------------------
def inet_aton(text):
    if text is None:
        return None
    parts = text.split(".")
    if len(parts) != 4 or not all(p.isdigit() and len(p) <= 3 and int(p) <= 255 for p in parts):
        return None
    a, b, c, d = (int(p) for p in parts)
    return (a << 24) | (b << 16) | (c << 8) | d


def inet_ntoa(value):
    if value is None or not 0 <= value <= 0xFFFFFFFF:
        return None
    return ".".join(str((value >> s) & 255) for s in (24, 16, 8, 0))


# ---- JSON -----------------------------------------------------------------------------------------
class RawJson(str):
    """Text that is JSON already (a nested JSON_OBJECT/JSON_ARRAY): inserted as is."""


def json_text(v) -> str:
    """A SQL value as Jackson writes it into a JSON document."""
    if isinstance(v, RawJson):
        return str(v)
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):  # Jackson writes BigDecimal.valueOf(v): 1.0E+10, -0.00012, 12345678
        if v != v or v in (float("inf"), float("-inf")):
            return json.dumps(java_double(v))
        return str(decimal.Decimal(java_double(v)))
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, (list, tuple)) and not (v and isinstance(v[0], tuple) and len(v[0]) == 2):
        return "[" + ",".join(json_text(x) for x in v) + "]"
    if isinstance(v, list):  # a MAP as key/value pairs
        return "{" + ",".join(f"{json.dumps(str(k), ensure_ascii=False)}:{json_text(x)}" for k, x in v) + "}"
    if isinstance(v, dict):
        return "{" + ",".join(f"{json.dumps(str(k), ensure_ascii=False)}:{json_text(x)}" for k, x in v.items()) + "}"
    if isinstance(v, dt.datetime):
        return json.dumps(v.isoformat())
    if isinstance(v, (dt.date, dt.time)):
        return json.dumps(v.isoformat())
    if isinstance(v, bytes):
        import base64
        return json.dumps(base64.b64encode(v).decode())
    return json.dumps(str(v), ensure_ascii=False)


def json_object(absent_on_null: bool, raw: list[bool], *pairs):
    items = []
    for j in range(0, len(pairs), 2):
        key, value = pairs[j], pairs[j + 1]
        if key is None:
            raise ExecutionError("JSON_OBJECT: a key is NULL")
        if value is None and absent_on_null:
            continue
        value = RawJson(value) if raw[j // 2] and value is not None else value
        items.append(f"{json.dumps(key, ensure_ascii=False)}:{json_text(value)}")
    return "{" + ",".join(items) + "}"


def json_array(absent_on_null: bool, raw: list[bool], *values):
    items = [json_text(RawJson(v) if r and v is not None else v)
             for v, r in zip(values, raw) if not (v is None and absent_on_null)]
    return "[" + ",".join(items) + "]"


def _strict_loads(text: str):
    def bad(name):
        raise ValueError(name)
    return json.loads(text, parse_constant=bad)


def is_json(text, kind: str = "VALUE") -> bool:
    if text is None:
        return False
    try:
        v = _strict_loads(text)
    except (ValueError, RecursionError):
        return False
    if kind == "OBJECT":
        return isinstance(v, dict)
    if kind == "ARRAY":
        return isinstance(v, list)
    if kind == "SCALAR":
        return not isinstance(v, (dict, list))
    return True


def json_quote(text):
    """A JSON string literal as Flink writes it: non-ASCII as \\uXXXX and '/' escaped."""
    return None if text is None else json.dumps(text, ensure_ascii=True).replace("/", "\\/")


def json_unquote(text):
    if text is None:
        return None
    if len(text) >= 2 and text[0] == text[-1] == '"':
        try:
            v = _strict_loads(text)
        except ValueError:
            raise ExecutionError(f"JSON_UNQUOTE: '{text}' is not a valid JSON string literal") from None
        if isinstance(v, str):
            return v
    return text


def _json_build(builder):
    def impl(e, args, n):
        absent = args[0].as_py() == "ABSENT"
        raw = args[1].as_py()
        cols = [_full(a, n).to_pylist() for a in args[2:]]
        if not cols:
            return pa.array([builder(absent, raw)] * n, pa.string())
        return pa.array([builder(absent, raw, *vals) for vals in zip(*cols)], pa.string())
    return impl


# ---- bytes and regular expressions --------------------------------------------------------------
CHARSETS = {"US-ASCII": "ascii", "ISO-8859-1": "latin-1", "UTF-8": "utf-8", "UTF-16BE": "utf-16-be",
            "UTF-16LE": "utf-16-le", "UTF-16": "utf-16"}


def _charset(name: str) -> str:
    codec = CHARSETS.get(name.upper())
    if codec is None:
        raise ExecutionError(f"Unsupported character set '{name}': use one of {', '.join(CHARSETS)}")
    return codec


def encode(text, charset):
    if text is None or charset is None:
        return None
    codec = _charset(charset)
    if codec == "utf-16":  # Java writes a byte order mark and big-endian units
        return b"\xfe\xff" + text.encode("utf-16-be", errors="replace")
    return text.encode(codec, errors="replace")


def decode(data, charset):
    if data is None or charset is None:
        return None
    codec = _charset(charset)
    if codec == "utf-16" and not data.startswith((b"\xfe\xff", b"\xff\xfe")):
        codec = "utf-16-be"  # Java reads UTF-16 without a byte order mark as big-endian
    return data.decode(codec, errors="replace")


def unhex(text):
    """UNHEX: pairs of hex digits as bytes (of an odd length, the first digit is dropped and a zero byte leads);
    NULL for a non-hex digit."""
    if text is None:
        return None
    try:
        return b"\x00" + bytes.fromhex(text[1:]) if len(text) % 2 else bytes.fromhex(text)
    except ValueError:
        return None


def regexp_extract_all(text, pattern, group=1):
    if None in (text, pattern, group):
        return None
    try:
        rx = re.compile(pattern)
    except re.error as ex:
        raise ExecutionError(f"REGEXP_EXTRACT_ALL: invalid regular expression {pattern!r}: {ex}") from None
    if not 0 <= group <= rx.groups:
        raise ExecutionError(f"REGEXP_EXTRACT_ALL: group {group} is beyond the {rx.groups} group(s) of "
                             f"{pattern!r}")
    return [m.group(group) for m in rx.finditer(text)]


FUNCTIONS = {
    "ENCODE": lambda e, a, n: _rows(e, a, n, encode), "DECODE": lambda e, a, n: _rows(e, a, n, decode),
    "UNHEX": lambda e, a, n: _rows(e, a, n, unhex),
    "REGEXP_EXTRACT_ALL": lambda e, a, n: _rows(e, a, n, regexp_extract_all),
    "PARSE_URL": lambda e, a, n: _rows(e, a, n, parse_url),
    "PRINTF": lambda e, a, n: _rows(e, a, n, lambda *v: printf(*v, bits=tuple(
        INTEGER_BITS.get(x.type.name, 64) for x in e.args[1:]))),
    "INET_ATON": lambda e, a, n: _rows(e, a, n, inet_aton),
    "INET_NTOA": lambda e, a, n: _rows(e, a, n, inet_ntoa),
    "JSON_OBJECT": _json_build(json_object), "JSON_ARRAY": _json_build(json_array),
    "JSON_STRING": lambda e, a, n: _rows(e, a, n, lambda v: None if v is None else json_text(v)),
    "JSON_QUOTE": lambda e, a, n: _rows(e, a, n, json_quote),
    "JSON_UNQUOTE": lambda e, a, n: _rows(e, a, n, json_unquote),
    "IS_JSON": lambda e, a, n: _rows(e, a, n, is_json),
}
