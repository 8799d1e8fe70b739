"""Arrow helpers the function implementations share: arguments arrive as arrays or scalars (a literal stays a
scalar), and Python fallbacks run once per distinct value rather than once per row where they can."""
from __future__ import annotations

import decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

DEC_CTX = decimal.Context(prec=60, rounding=decimal.ROUND_HALF_UP)


def full(v, n: int, t: pa.DataType | None = None) -> pa.Array:
    """An argument as an array of n values (a scalar repeated; a NULL scalar as n NULLs of type t)."""
    if isinstance(v, pa.Scalar):
        if not v.is_valid:
            return pa.nulls(n, t or v.type)
        return pa.repeat(v, n)  # keeps nanoseconds, which a Python datetime would drop
    if isinstance(v, pa.ChunkedArray):
        return v.combine_chunks()
    return v


def cast_to(v, target: pa.DataType):
    """An array or scalar cast to an Arrow type without overflow checks (Java's casts wrap)."""
    if v.type == target:
        return v
    if pa.types.is_struct(v.type) and pa.types.is_struct(target):
        return fields_by_position(v, target, lambda f, i: cast_to(f, target.field(i).type))
    if isinstance(v, pa.Scalar):
        return v.cast(target) if v.is_valid else pa.scalar(None, target)
    return pc.cast(v, target, safe=False)


def fields_by_position(v, target: pa.StructType, cast_field):
    """A ROW cast to another ROW type field by field in order, as Flink casts (Arrow matches fields by name)."""
    if isinstance(v, pa.Scalar):
        return fields_by_position(pa.array([v.as_py()], v.type), target, cast_field)[0]
    if isinstance(v, pa.ChunkedArray):
        v = v.combine_chunks()
    fields = [cast_field(v.field(i), i) for i in range(v.type.num_fields)]
    return pa.StructArray.from_arrays(fields, fields=list(target), mask=pc.is_null(v))


def rescale(v, rt) -> pa.Array:
    """A DECIMAL result rounded HALF_UP to the scale of the Flink type `rt` and cast to it."""
    target = rt.to_arrow()
    if v.type == target:
        return v
    if isinstance(v.type, pa.Decimal128Type) and v.type.scale > rt.scale:
        v = pc.round(v, ndigits=rt.scale, round_mode="half_towards_infinity")
    return pc.cast(v, target, safe=False)


def trunc_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Integer division truncating toward zero, as Java divides."""
    q = np.floor_divide(a, b)
    fix = (np.remainder(a, b) != 0) & ((a < 0) ^ (b < 0))
    return q + fix


def null_mask(v: pa.Array) -> np.ndarray:
    return np.asarray(pc.is_null(v).to_numpy(zero_copy_only=False))


def per_row(e, args, n, fn) -> pa.Array:
    """fn over each row's Python values."""
    cols = [full(a, n).to_pylist() for a in args]
    out = [fn(*vals) for vals in zip(*cols)]
    return pa.array(out, e.type.to_arrow())


def per_unique(e, args, n, fn) -> pa.Array:
    """fn once per distinct value of the first argument when the others are constants (strings repeat a lot in
    streams), else per row."""
    first = full(args[0], n)
    rest = [a.as_py() if isinstance(a, pa.Scalar) else None for a in args[1:]]
    if any(not isinstance(a, pa.Scalar) for a in args[1:]):
        return per_row(e, args, n, fn)
    enc = pc.dictionary_encode(first)
    uniq = [fn(x, *rest) for x in enc.dictionary.to_pylist()]
    return pa.array(uniq, e.type.to_arrow()).take(enc.indices)


def rows(e, args, n, fn) -> pa.Array:
    """fn over each row's Python values; one distinct value is computed once when all but the first are constant
    (and the first is text or an integer)."""
    if args and all(isinstance(a, pa.Scalar) for a in args[1:]) and not isinstance(args[0], pa.Scalar) and \
            (pa.types.is_string(args[0].type) or pa.types.is_integer(args[0].type)):
        first = full(args[0], n)
        enc = pc.dictionary_encode(first)
        rest = [a.as_py() for a in args[1:]]
        uniq = [fn(x, *rest) for x in enc.dictionary.to_pylist()]
        return pa.array(uniq, e.type.to_arrow()).take(enc.indices)
    cols = [full(a, n).to_pylist() for a in args]
    return pa.array([fn(*vals) for vals in zip(*cols)] if cols else [fn() for _ in range(n)], e.type.to_arrow())


def hashable(value):
    """A nested value as a dictionary key: an ARRAY or MAP as a tuple (of pairs), a ROW as the tuple of its
    fields; pa.array takes these back for the same types."""
    if isinstance(value, list):
        return tuple(hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(hashable(v) for v in value.values())
    if isinstance(value, tuple):
        return tuple(hashable(v) for v in value)
    return value


def char_offsets(s: pa.Array, byte_offsets: pa.Array) -> pa.Array:
    """Byte offsets into UTF-8 text (Arrow's find_substring) as character offsets (-1 stays -1)."""
    ascii_only = pc.fill_null(pc.string_is_ascii(s), True)
    if pc.all(ascii_only).as_py():
        return byte_offsets
    texts, out = s.to_pylist(), byte_offsets.to_pylist()
    for i in np.flatnonzero(~np.asarray(ascii_only.to_numpy(zero_copy_only=False))):
        if out[i] is not None and out[i] > 0:
            out[i] = len(texts[i].encode()[:out[i]].decode())
    return pa.array(out, byte_offsets.type)
