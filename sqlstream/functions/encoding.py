"""Encodings and digests of text: MD5 and the SHA family, Base64, HEX/BIN, URL encoding, ENCODE/DECODE to a
character set, UNHEX and HASH_CODE (Java's String.hashCode), each computed once per distinct value."""
from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.core.errors import ExecutionError
from sqlstream.core.types import INT, STRING, FlinkType
from sqlstream.functions.arrow import full, per_unique, rows
from sqlstream.functions.catalog import scalar
from sqlstream.functions.inference import returns, string_fn, strings

def _url_encode(e, args, n):
    """As java.net.URLEncoder (UTF-8): letters, digits and . - * _ kept, space as +, the rest %XX."""
    from urllib.parse import quote_plus
    return per_unique(e, args, n, lambda x: None if x is None else quote_plus(x, safe="*").replace("~", "%7E"))


def _url_decode(e, args, n):
    from urllib.parse import unquote_plus

    def f(x):
        if x is None or re.search(r"%(?![0-9A-Fa-f]{2})", x):  # a broken escape fails in Java's URLDecoder
            return None
        try:
            return unquote_plus(x, errors="strict")
        except UnicodeDecodeError:
            return None
    return per_unique(e, args, n, f)


def _hash(name):
    import hashlib

    def impl(e, args, n):
        return per_unique(e, args, n, lambda x: None if x is None else
                           getattr(hashlib, name)(_utf8(x)).hexdigest())
    return impl


def _utf8(x: str | bytes) -> bytes:
    """A text's UTF-8 bytes, or a BYTES value itself: digests and Base64 take both, as in Flink."""
    return x if isinstance(x, bytes) else x.encode()


def _sha2(e, args, n):
    bits = args[1].as_py() if isinstance(args[1], pa.Scalar) else None
    algo = {224: "sha224", 256: "sha256", 384: "sha384", 512: "sha512"}.get(bits)
    if algo is None:  # an unsupported or non-constant length gives NULL, as in Flink
        return pa.nulls(n, pa.string())
    return _hash(algo)(e, args[:1], n)


def _to_base64(e, args, n):
    import base64
    return per_unique(e, args, n, lambda x: None if x is None else base64.b64encode(_utf8(x)).decode())


def _from_base64(e, args, n):
    import base64
    import binascii

    def f(x):
        if x is None:
            return None
        try:
            return base64.b64decode(x).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            return None
    return per_unique(e, args, n, f)


def _hex_bin(base: str):
    def impl(e, args, n):
        v = full(args[0], n)
        if pa.types.is_string(v.type) or pa.types.is_large_string(v.type):
            if base == "b":
                raise ExecutionError("BIN takes an integer")
            return per_unique(e, [v], n, lambda x: None if x is None else x.encode().hex().upper())
        mask = (1 << 64) - 1  # Java's Long.toHexString / toBinaryString of the two's complement
        return per_unique(e, [pc.cast(v, pa.int64())], n,
                           lambda x: None if x is None else format(x & mask, "X" if base == "x" else "b"))
    return impl


def _hash_code(e, args, n):
    return per_unique(e, args, n, lambda x: None if x is None else abs(_java_hash(x)))


def _java_hash(s: str) -> int:
    h = 0
    for ch in s:
        h = (31 * h + ord(ch)) & 0xFFFFFFFF
    return h - (1 << 32) if h >= 1 << 31 else h




# ---- ENCODE, DECODE, UNHEX --------------------------------------------------------------
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


_C, _I = "CHARACTER", "INTEGER"
_TEXT = (("STRING",),)  # Calcite's STRING family: text or BYTES
_TEXT1 = string_fn((1, 1))
_TEXT_ONLY = string_fn((1, 1), strings)  # takes the STRING family's forms, but text only
_BYTES = FlinkType("VARBINARY", 2147483647)


def _digest_type(hex_digits: int):
    """A digest's hex text, CHAR of its length as in Flink (MD5: CHAR(32))."""
    return returns(FlinkType("CHAR", hex_digits), (1, 1))

FUNCTIONS = (
    scalar("MD5", _digest_type(32), _hash("md5"), signatures=_TEXT),
    scalar("SHA1", _digest_type(40), _hash("sha1"), signatures=_TEXT),
    scalar("SHA224", _digest_type(56), _hash("sha224"), signatures=_TEXT),
    scalar("SHA256", _digest_type(64), _hash("sha256"), signatures=_TEXT),
    scalar("SHA384", _digest_type(96), _hash("sha384"), signatures=_TEXT),
    scalar("SHA512", _digest_type(128), _hash("sha512"), signatures=_TEXT),
    scalar("SHA2", returns(FlinkType("VARCHAR", 128), (2, 2)), _sha2),
    scalar("TO_BASE64", _TEXT1, _to_base64, signatures=_TEXT),
    scalar("FROM_BASE64", _TEXT_ONLY, _from_base64, signatures=_TEXT),
    scalar("HEX", returns(STRING, (1, 1)), _hex_bin("x"), signatures=((_I,), (_C,))),
    scalar("BIN", returns(STRING, (1, 1)), _hex_bin("b"), signatures=(("INTEGER",),)),
    scalar("URL_ENCODE", returns(STRING, (1, 1), keep_null=False, check=strings), _url_encode, signatures=_TEXT),
    scalar("URL_DECODE", returns(STRING, (1, 1), keep_null=False, check=strings), _url_decode, signatures=_TEXT),
    scalar("ENCODE", returns(_BYTES, (2, 2), check=strings), lambda e, a, n: rows(e, a, n, encode)),
    scalar("DECODE", returns(STRING, (2, 2), check=lambda a: a[0].name in ("BINARY", "VARBINARY", "NULL")
                             and strings(a[1:])), lambda e, a, n: rows(e, a, n, decode)),
    scalar("UNHEX", returns(_BYTES.with_nullable(True), (1, 1), keep_null=False, check=strings),
           lambda e, a, n: rows(e, a, n, unhex)),
    # Flink also hashes BOOLEAN, NUMERIC, TIMESTAMP and TIME values; sqlstream text only
    scalar("HASH_CODE", returns(INT, (1, 1)), _hash_code, signatures=((_C,),)),
)
