"""Flink's PARSE_URL, PRINTF and INET_ATON/INET_NTOA, as Flink computes them with java.net.URL and
java.util.Formatter (Locale.US).

Each works on the distinct values of a column where it has one input, else row by row.
"""
from __future__ import annotations

import datetime as dt
import decimal
import re

from sqlstream.core.errors import ExecutionError
from sqlstream.core.types import BIGINT, STRING
from sqlstream.functions.arrow import rows
from sqlstream.functions.catalog import scalar
from sqlstream.functions.inference import first_is_string, returns, strings

INTEGER_BITS = {"TINYINT": 8, "SMALLINT": 16, "INT": 32, "INTEGER": 32, "BIGINT": 64}
URL_PROTOCOLS = {"http", "https", "ftp", "file", "jar", "mailto", "netdoc"}  # java.net.URL's handlers


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


def _printf_type(name, args):
    return returns(STRING, (1, 99), check=first_is_string)(name, args).with_nullable(args[0].nullable)


FUNCTIONS = (
    scalar("PARSE_URL", returns(STRING, (2, 3), check=strings), lambda e, a, n: rows(e, a, n, parse_url)),
    scalar("PRINTF", _printf_type, lambda e, a, n: rows(e, a, n, lambda *v: printf(*v, bits=tuple(
        INTEGER_BITS.get(x.type.name, 64) for x in e.args[1:])))),
    scalar("INET_ATON", returns(BIGINT.with_nullable(True), (1, 1), keep_null=False, check=strings),
           lambda e, a, n: rows(e, a, n, inet_aton)),
    scalar("INET_NTOA", returns(STRING.with_nullable(True), (1, 1), keep_null=False,
                                check=lambda a: a[0].is_integer or a[0].name == "NULL"),
           lambda e, a, n: rows(e, a, n, inet_ntoa)),
)
