"""Flink's ARRAY_* and MAP_* functions over Arrow list and map columns.

A NULL array or map gives NULL. Element equality is Java's Objects.equals: NULL elements equal each other.
Reordering functions (reverse, slice, max/min, map keys/values) work on the offsets with numpy; the set-like
ones (distinct, union, except, intersect, sort, remove, position) go row by row over Python lists.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.core.errors import ExecutionError


def _full(v, n: int, t: pa.DataType | None = None) -> pa.Array:
    if isinstance(v, pa.Scalar):
        return pa.nulls(n, t or v.type) if not v.is_valid else pa.repeat(v, n)
    return v.combine_chunks() if isinstance(v, pa.ChunkedArray) else v


def _lists(v, n: int, t: pa.DataType) -> pa.ListArray:
    arr = _full(v, n, t)
    if pa.types.is_null(arr.type):
        arr = pa.nulls(n, t)
    return arr.cast(t) if arr.type != t else arr


def _offsets(lists: pa.ListArray) -> np.ndarray:
    return np.asarray(lists.offsets, dtype=np.int64)


def _rebuild(lists: pa.ListArray, starts: np.ndarray, stops: np.ndarray, step: int = 1) -> pa.Array:
    """Lists holding values[starts[i]:stops[i]] (reversed with step -1), NULL where `lists` is NULL."""
    lengths = np.maximum(stops - starts, 0)
    new_offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
    total = int(new_offsets[-1])
    within = np.arange(total, dtype=np.int64) - np.repeat(new_offsets[:-1].astype(np.int64), lengths)
    base = np.repeat(starts if step == 1 else stops - 1, lengths)
    idx = base + within * step
    values = lists.values.take(pa.array(idx, pa.int64())) if total else lists.values.slice(0, 0)
    mask = pc.is_null(lists)
    return pa.ListArray.from_arrays(pa.array(new_offsets, pa.int32()), values, type=lists.type, mask=mask)


def _row_fn(fn):
    """A function of Python lists/values per row; a NULL first argument gives NULL."""
    def impl(e, args, n):
        cols = [_full(a, n).to_pylist() for a in args]
        out = [None if vals[0] is None else fn(*vals) for vals in zip(*cols)]
        return pa.array(out, e.type.to_arrow())
    return impl


def _distinct(items: list) -> list:
    seen, out = set(), []
    for x in items:
        key = _hashable(x)
        if key not in seen:
            seen.add(key)
            out.append(x)
    return out


def _hashable(x):
    if isinstance(x, list):
        return tuple(_hashable(v) for v in x)
    if isinstance(x, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in x.items()))
    return x


def array_reverse(e, args, n):
    lists = _lists(args[0], n, e.type.to_arrow())
    off = _offsets(lists)
    return _rebuild(lists, off[:-1], off[1:], step=-1)


def array_slice(e, args, n):
    """ARRAY_SLICE(array, start [, end]): 1-based and inclusive; negative positions count from the end."""
    lists = _lists(args[0], n, e.type.to_arrow())
    off = _offsets(lists)
    size = off[1:] - off[:-1]
    start = _full(args[1], n, pa.int64()).cast(pa.int64())
    end = _full(args[2], n, pa.int64()).cast(pa.int64()) if len(args) > 2 else pa.array(size)
    s = np.asarray(start.fill_null(0))
    t = np.asarray(end.fill_null(0))
    s = np.where(s < 0, s + size + 1, s)
    t = np.where(t < 0, t + size + 1, t)
    s = np.maximum(s, 1)
    t = np.where(t == 0, 1, np.minimum(t, size))
    t = np.where(t < s, s - 1, t)
    out = _rebuild(lists, np.minimum(off[:-1] + s - 1, off[1:]), np.minimum(off[:-1] + t, off[1:]))
    missing = pc.or_(pc.is_null(start), pc.is_null(end))
    return pc.if_else(missing, pa.scalar(None, out.type), out)


def _min_max(which: str):
    def impl(e, args, n):
        lists = _lists(args[0], n, e.args[0].type.to_arrow())
        parents = pc.list_parent_indices(lists)
        values = pc.list_flatten(lists)
        table = pa.table({"row": parents, "v": values}).group_by("row").aggregate([("v", which)])
        out = pa.nulls(n, e.type.to_arrow())
        if table.num_rows:
            at = np.full(n, -1, dtype=np.int64)
            at[np.asarray(table.column("row"))] = np.arange(table.num_rows)
            found = at >= 0
            picked = table.column(f"v_{which}").combine_chunks().take(pa.array(np.where(found, at, 0)))
            out = pc.if_else(pa.array(found), picked.cast(e.type.to_arrow()), pa.scalar(None, e.type.to_arrow()))
        return out
    return impl


def map_keys(e, args, n):
    maps = _full(args[0], n)
    return pa.ListArray.from_arrays(maps.offsets, maps.keys, type=e.type.to_arrow(), mask=pc.is_null(maps))


def map_values(e, args, n):
    maps = _full(args[0], n)
    return pa.ListArray.from_arrays(maps.offsets, maps.items, type=e.type.to_arrow(), mask=pc.is_null(maps))


def map_entries(e, args, n):
    maps = _full(args[0], n)
    t = e.type.to_arrow()
    entries = pa.StructArray.from_arrays([maps.keys, maps.items], fields=list(t.value_type))
    return pa.ListArray.from_arrays(maps.offsets, entries, type=t, mask=pc.is_null(maps))


def _position(items: list, needle) -> int | None:
    if needle is None:
        return None
    return next((i + 1 for i, x in enumerate(items) if x == needle), 0)


def _sort(items: list, ascending=True, nulls_first=None) -> list | None:
    if ascending is None:
        return None
    nulls_first = ascending if nulls_first is None else nulls_first
    values = sorted((x for x in items if x is not None), reverse=not ascending)
    nulls = [None] * (len(items) - len(values))
    return nulls + values if nulls_first else values + nulls


def _map_from_arrays(keys: list, values: list):
    if values is None:
        return None
    if len(keys) != len(values):
        raise ExecutionError(f"MAP_FROM_ARRAYS needs arrays of the same length, got {len(keys)} keys and "
                         f"{len(values)} values")
    return _map_items(dict(zip(keys, values)))


def _map_union(first, *rest):
    out = dict(first)
    for m in rest:
        if m is None:
            return None
        out.update(dict(m))
    return _map_items(out)


def _map_items(d: dict) -> list:
    return list(d.items())


FUNCTIONS = {
    "ARRAY_REVERSE": array_reverse, "ARRAY_SLICE": array_slice,
    "ARRAY_MAX": _min_max("max"), "ARRAY_MIN": _min_max("min"),
    "ARRAY_APPEND": _row_fn(lambda a, x: a + [x]), "ARRAY_PREPEND": _row_fn(lambda a, x: [x] + a),
    "ARRAY_CONCAT": _row_fn(lambda *arrays: None if None in arrays else [x for a in arrays for x in a]),
    "ARRAY_DISTINCT": _row_fn(_distinct),
    "ARRAY_POSITION": _row_fn(_position),
    "ARRAY_REMOVE": _row_fn(lambda a, x: [v for v in a if v != x]),
    "ARRAY_SORT": _row_fn(_sort),
    "ARRAY_UNION": _row_fn(lambda a, b: None if b is None else _distinct(a + b)),
    "ARRAY_EXCEPT": _row_fn(lambda a, b: None if b is None else
                            [x for x in _distinct(a) if _hashable(x) not in {_hashable(y) for y in b}]),
    "ARRAY_INTERSECT": _row_fn(lambda a, b: None if b is None else
                               [x for x in _distinct(a) if _hashable(x) in {_hashable(y) for y in b}]),
    "MAP_KEYS": map_keys, "MAP_VALUES": map_values, "MAP_ENTRIES": map_entries,
    "MAP_FROM_ARRAYS": _row_fn(_map_from_arrays), "MAP_UNION": _row_fn(_map_union),
}
