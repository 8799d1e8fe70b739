"""JSON functions: JSON_VALUE, JSON_QUERY, JSON_EXISTS read a path of a JSON text; JSON_OBJECT, JSON_ARRAY,
JSON_STRING, JSON_QUOTE, JSON_UNQUOTE and IS JSON write and check JSON text as Flink does with Jackson."""
from __future__ import annotations

import datetime as dt
import decimal
import json
import re

import pyarrow as pa

from sqlstream.core.errors import ExecutionError
from sqlstream.core.types import BOOLEAN, STRING
from sqlstream.functions.arrow import full, per_unique, rows
from sqlstream.functions.catalog import scalar
from sqlstream.functions.inference import returns, string_fn, strings
from sqlstream.functions.text import java_double

_MISSING = object()


def _json_path(text, path):
    """The value at a JSON path (`$`, `.key`, `[i]`) of a JSON text, _MISSING if the text does not parse or the
    path leads nowhere; numbers are Decimals so they keep the digits they were written with."""
    import decimal
    import json
    if text is None or path is None:
        return _MISSING
    try:
        obj = json.loads(text, parse_float=decimal.Decimal)
    except ValueError:
        return _MISSING
    for key, idx in re.findall(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]", path):
        try:
            obj = obj[key] if key else obj[int(idx)]
        except (KeyError, IndexError, TypeError):
            return _MISSING
    return obj


def _json_text(obj) -> str:
    """Compact JSON with object keys sorted, as Flink writes JSON_QUERY's result."""
    import json
    if isinstance(obj, dict):
        return "{" + ",".join(f"{json.dumps(k, ensure_ascii=False)}:{_json_text(v)}" for k, v in sorted(obj.items())) + "}"
    if isinstance(obj, list):
        return "[" + ",".join(_json_text(v) for v in obj) + "]"
    if obj is None or isinstance(obj, bool):
        return json.dumps(obj)
    if isinstance(obj, str):
        return json.dumps(obj, ensure_ascii=False)
    return str(obj)


def _json_value(e, args, n):
    def f(x, path):
        obj = _json_path(x, path)
        if obj is _MISSING or obj is None or isinstance(obj, (dict, list)):
            return None
        return ("true" if obj else "false") if isinstance(obj, bool) else str(obj)
    return per_unique(e, args, n, f)


def _json_query(e, args, n):
    """JSON_QUERY(doc, path): the object or array at the path as JSON text; NULL for scalars, misses and
    malformed documents (Flink's default WITHOUT ARRAY WRAPPER, NULL ON EMPTY, NULL ON ERROR)."""
    def f(x, path):
        obj = _json_path(x, path)
        return _json_text(obj) if isinstance(obj, (dict, list)) else None
    return per_unique(e, args, n, f)


def _json_exists(e, args, n):
    return per_unique(e, args, n, lambda x, path: None if x is None else _json_path(x, path) is not _MISSING)


# ---- JSON_OBJECT, JSON_ARRAY, JSON_STRING, JSON_QUOTE, JSON_UNQUOTE, IS JSON ----
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
    if isinstance(v, (dt.datetime, dt.time)):  # as Java's ISO_LOCAL_DATE_TIME: the fraction's digits as needed
        text = v.isoformat()
        return json.dumps(text.rstrip("0").rstrip(".") if "." in text else text)
    if isinstance(v, dt.date):
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
        cols = [full(a, n).to_pylist() for a in args[2:]]
        if not cols:
            return pa.array([builder(absent, raw)] * n, pa.string())
        return pa.array([builder(absent, raw, *vals) for vals in zip(*cols)], pa.string())
    return impl


_C = "CHARACTER"

FUNCTIONS = (
    scalar("JSON_VALUE", string_fn((2, 2)), _json_value, signatures=((_C, _C),)),
    scalar("JSON_QUERY", string_fn((2, 2)), _json_query, signatures=((_C, _C),)),
    scalar("JSON_EXISTS", returns(BOOLEAN, (2, 2)), _json_exists, signatures=((_C, _C),)),
    scalar("JSON_OBJECT", returns(STRING.with_nullable(False), keep_null=False), _json_build(json_object)),
    scalar("JSON_ARRAY", returns(STRING.with_nullable(False), keep_null=False), _json_build(json_array)),
    scalar("JSON_STRING", returns(STRING, (1, 1)),
           lambda e, a, n: rows(e, a, n, lambda v: None if v is None else json_text(v))),
    scalar("JSON_QUOTE", returns(STRING, (1, 1), check=strings), lambda e, a, n: rows(e, a, n, json_quote)),
    scalar("JSON_UNQUOTE", returns(STRING, (1, 1), check=strings), lambda e, a, n: rows(e, a, n, json_unquote)),
    scalar("IS_JSON", returns(BOOLEAN.with_nullable(False), (2, 2), keep_null=False),
           lambda e, a, n: rows(e, a, n, is_json)),
)
