"""JSON functions: JSON_VALUE, JSON_QUERY, JSON_EXISTS read a path of a JSON text; JSON_OBJECT, JSON_ARRAY,
JSON_STRING, JSON_QUOTE, JSON_UNQUOTE and IS JSON write and check JSON text as Flink does with Jackson."""
from __future__ import annotations

import datetime as dt
import decimal
import json
import re

import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.core.errors import ExecutionError
from sqlstream.core.types import BOOLEAN, STRING
from sqlstream.functions.arrow import full, rows
from sqlstream.functions.catalog import scalar
from sqlstream.functions.inference import returns, string_fn, strings
from sqlstream.functions.text import java_double

_MISSING = object()
_PATH_STEP = re.compile(r"""\.([A-Za-z_$][\w$]*)|\.\*|\[(\d+)\]|\[\*\]|\[\s*'([^']*)'\s*\]|\[\s*"([^"]*)"\s*\]""")


class JsonPathError(Exception):
    """The document is not JSON, or a strict path does not match it: the call's ON ERROR behavior decides."""


def _json_doc(text):
    """A JSON text with numbers as Decimals (they keep the digits they were written with) and ints."""
    try:
        return json.loads(text, parse_float=decimal.Decimal)
    except ValueError as e:
        raise JsonPathError(f"Invalid JSON text: {e}") from None


def _json_path(text, path):
    """The value at a JSON path (`$`, `.key`, `['key']`, `[i]`, and the wildcards `.*` and `[*]`, which make the
    result the list of what they match) of a JSON text; _MISSING where a lax path leads nowhere. A malformed
    document or a strict path that leads nowhere raises JsonPathError."""
    if text is None or path is None:
        return _MISSING
    mode, _, rest = path.strip().partition(" ")
    strict = mode.lower() == "strict"
    if mode.lower() not in ("strict", "lax"):
        rest = path.strip()
    rest = rest.strip()
    if not rest.startswith("$"):
        raise JsonPathError(f"Illegal jsonpath spec: {path}")
    steps, pos = [], 1
    while pos < len(rest):
        m = _PATH_STEP.match(rest, pos)
        if m is None:
            raise JsonPathError(f"Illegal jsonpath spec: {path}")
        steps.append(m)
        pos = m.end()
    current, many = [_json_doc(text)], False
    for m in steps:
        key = m.group(1) or m.group(3) or m.group(4)
        found = []
        for obj in current:
            if key is not None:
                if isinstance(obj, dict) and key in obj:
                    found.append(obj[key])
            elif m.group(2) is not None:
                if isinstance(obj, list) and int(m.group(2)) < len(obj):
                    found.append(obj[int(m.group(2))])
            elif isinstance(obj, dict):
                found.extend(obj.values())
            elif isinstance(obj, list):
                found.extend(obj)
        many = many or key is None and m.group(2) is None
        if not found and not many:
            if strict:
                raise JsonPathError(f"No results for path: {path}")
            return _MISSING
        current = found
    return current if many else current[0]


def _json_result(text, path):
    """The value at `path` for JSON_VALUE and JSON_QUERY, which treat a path that leads nowhere and one that leads
    to a JSON null alike: an error, taken by the ON ERROR behavior."""
    obj = _json_path(text, path)
    if obj is _MISSING or obj is None:
        raise JsonPathError(f"No results for path: {path}")
    return obj


def _json_text(obj) -> str:
    """Compact JSON with object keys sorted, as Flink writes JSON_QUERY's result."""
    if isinstance(obj, dict):
        return "{" + ",".join(f"{json.dumps(k, ensure_ascii=False)}:{_json_text(v)}" for k, v in sorted(obj.items())) + "}"
    if isinstance(obj, list):
        return "[" + ",".join(_json_text(v) for v in obj) + "]"
    if obj is None or isinstance(obj, bool):
        return json.dumps(obj)
    if isinstance(obj, str):
        return json.dumps(obj, ensure_ascii=False)
    return str(obj)


# JSON_VALUE's RETURNING types: the Java class the JSON value must already be, as Flink's generated code casts it
_RETURNING = {"INT": (int, "java.lang.Integer"), "DOUBLE": (decimal.Decimal, "java.math.BigDecimal"),
              "BOOLEAN": (bool, "java.lang.Boolean")}
JSON_VALUE_RETURNING = ("CHAR", "VARCHAR", "STRING", *_RETURNING)
_JAVA_CLASS = {bool: "java.lang.Boolean", int: "java.lang.Integer", decimal.Decimal: "java.math.BigDecimal",
               str: "java.lang.String"}


def _json_scalar(obj, to):
    """A JSON scalar as JSON_VALUE's RETURNING type; a value of another kind fails the job, as Flink's cast does."""
    if to.is_string:
        return ("true" if obj else "false") if isinstance(obj, bool) else str(obj)
    kind, java = _RETURNING[to.name]
    if type(obj) is not kind or kind is int and not -2 ** 31 <= obj < 2 ** 31:
        raise ExecutionError(f"JSON_VALUE: class {_JAVA_CLASS.get(type(obj), 'java.lang.Long')} cannot be cast to "
                             f"class {java} (the value {_json_text(obj)} RETURNING {to.name})")
    return float(obj) if kind is decimal.Decimal else obj


def _behavior(args) -> dict:
    """The wrapper, ON EMPTY and ON ERROR words of a call (the binder's third argument; None where not given)."""
    words = args[2].as_py() if len(args) > 2 else None
    return dict(zip(("wrapper", "empty", "error"), words or (None, None, None)))


def _json_call(e, args, n, one):
    """`one(doc, path)` once per distinct document (when the path is a constant), with the call's ON ERROR behavior
    where it raises JsonPathError: NULL, the DEFAULT, ERROR (the job fails), or a fixed value (EMPTY ARRAY, TRUE,
    ..)."""
    on_error = _behavior(args).get("error") or "NULL"
    docs = full(args[0], n)
    if isinstance(args[1], pa.Scalar):
        enc = pc.dictionary_encode(docs)
        pairs, indices = [(d, args[1].as_py()) for d in enc.dictionary.to_pylist()], enc.indices
    else:
        pairs, indices = list(zip(docs.to_pylist(), full(args[1], n).to_pylist())), None
    values, errors = [], []
    for doc, path in pairs:
        try:
            values.append(one(doc, path))
            errors.append(None)
        except JsonPathError as ex:
            values.append(None)
            errors.append(ex)
    out = pa.array(values, e.type.to_arrow())
    failed = pa.array([x is not None for x in errors], pa.bool_())
    if indices is not None:
        out, failed = out.take(indices), pc.fill_null(failed.take(indices), False)
    if not any(x is not None for x in errors) or on_error == "NULL":
        return out
    if on_error == "ERROR":
        raise ExecutionError(f"{e.fn}: {next(x for x in errors if x is not None)} (ERROR ON ERROR)")
    if on_error == "DEFAULT":
        fallback = full(args[4], n, e.type.to_arrow())
    else:
        fixed = _FIXED[on_error]
        fallback = pa.scalar([] if fixed == "[]" and e.type.name == "ARRAY" else fixed, e.type.to_arrow())
    return pc.if_else(failed, fallback, out)


_FIXED = {"NULL": None, "EMPTY ARRAY": "[]", "EMPTY OBJECT": "{}", "TRUE": True, "FALSE": False, "UNKNOWN": None}


def _json_value(e, args, n):
    """JSON_VALUE as Flink 2.3 runs it: a path that leads nowhere or to a JSON null, an object or array, and a
    malformed document take the ON ERROR behavior (ON EMPTY never applies)."""
    def one(doc, path):
        if doc is None:
            return None
        obj = _json_result(doc, path)
        if isinstance(obj, (dict, list)):
            raise JsonPathError(f"The value at {path} is not a scalar: {_json_text(obj)}")
        return _json_scalar(obj, e.type)
    return _json_call(e, args, n, one)


def _json_query(e, args, n):
    """JSON_QUERY: the object or array at the path as compact JSON (a wrapper makes any value one: WITH ARRAY
    WRAPPER always, WITH CONDITIONAL unless it is an array already); a scalar without a wrapper, a path that
    leads nowhere or to a JSON null and a malformed document take the ON ERROR behavior. RETURNING ARRAY<STRING>
    gives the array's elements as JSON texts."""
    wrapper = _behavior(args).get("wrapper") or "WITHOUT"

    def one(doc, path):
        if doc is None:
            return None
        obj = _json_result(doc, path)
        if wrapper == "UNCONDITIONAL" or wrapper == "CONDITIONAL" and not isinstance(obj, list):
            obj = [obj]
        if not isinstance(obj, (dict, list)):
            raise JsonPathError(f"The value at {path} is not an object or array: {_json_text(obj)}")
        if e.type.name == "ARRAY":
            return [_json_text(x) for x in obj] if isinstance(obj, list) else None
        return _json_text(obj)
    return _json_call(e, args, n, one)


def _json_exists(e, args, n):
    """JSON_EXISTS: whether the path leads to a value other than a JSON null; a malformed document or a strict
    path that leads nowhere takes the ON ERROR behavior (FALSE unless told)."""
    def one(doc, path):
        if doc is None:
            return None
        obj = _json_path(doc, path)
        return obj is not _MISSING and obj is not None
    wrapper, empty, error = _behavior(args).values()
    behavior = pa.scalar([wrapper, empty, error or "FALSE"], pa.list_(pa.string()))
    return _json_call(e, [args[0], args[1], behavior, *args[3:]], n, one)


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
    scalar("JSON_VALUE", string_fn((2, 2)), _json_value, signatures=((_C, _C),)),  # RETURNING: the binder's
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
