"""Flink's ARRAY_* and MAP_* functions over Arrow list and map columns.

A NULL array or map gives NULL. Element equality is Java's Objects.equals: NULL elements equal each other.
Reordering functions (reverse, slice, max/min, map keys/values) work on the offsets with numpy; the set-like
ones (distinct, union, except, intersect, sort, remove, position) go row by row over Python lists. The value
constructors ARRAY[..] and MAP[..], element access `a[i]` / `m[k]` and CARDINALITY live here too.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.core.errors import ExecutionError, ValidationError
from sqlstream.core.types import BOOLEAN, INT, STRING, FlinkType, common_type
from sqlstream.functions.arrow import cast_to, full, per_row
from sqlstream.functions.catalog import scalar
from sqlstream.functions.inference import common_of, nullable, require, returns


def _lists(v, n: int, t: pa.DataType) -> pa.ListArray:
    arr = full(v, n, t)
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
        cols = [full(a, n).to_pylist() for a in args]
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
    start = full(args[1], n, pa.int64()).cast(pa.int64())
    end = full(args[2], n, pa.int64()).cast(pa.int64()) if len(args) > 2 else pa.array(size)
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
    maps = full(args[0], n)
    return pa.ListArray.from_arrays(maps.offsets, maps.keys, type=e.type.to_arrow(), mask=pc.is_null(maps))


def map_values(e, args, n):
    maps = full(args[0], n)
    return pa.ListArray.from_arrays(maps.offsets, maps.items, type=e.type.to_arrow(), mask=pc.is_null(maps))


def map_entries(e, args, n):
    maps = full(args[0], n)
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


def null_map_key(fn: str) -> ExecutionError:
    """A NULL key, which Flink keeps in a MAP and an Arrow map cannot hold."""
    return ExecutionError(f"{fn} was given a NULL map key, which sqlstream's maps cannot hold (Flink's can): give "
                          f"the key a value, as COALESCE(key, ..), or leave such rows out")


def _map_from_arrays(keys: list, values: list):
    if values is None:
        return None
    if None in keys:
        raise null_map_key("MAP_FROM_ARRAYS")
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


def _array_to_string(e, args, n):
    """ARRAY_JOIN(array, delimiter [, null replacement]): NULL elements are skipped unless replaced."""
    def f(arr, sep, repl=None):
        if arr is None or sep is None:
            return None
        items = [repl if x is None else x for x in arr]
        return sep.join(str(x) for x in items if x is not None)
    return per_row(e, args, n, f)


def _cardinality(e, args, n):
    values = full(args[0], n)
    if pa.types.is_map(values.type):  # a map is a list of entries
        values = pa.ListArray.from_arrays(values.offsets, values.keys, mask=pc.is_null(values))
    return pc.cast(pc.list_value_length(values), pa.int32())


def _array_contains(e, args, n):
    """True when the array holds the value; a NULL value looks for a NULL element; NULL for a NULL array."""
    lists = full(args[0], n)
    needle = full(args[1], n)
    flat = pc.list_flatten(lists)
    parents = pc.list_parent_indices(lists)
    wanted = needle.take(parents)
    hit = pc.fill_null(pc.equal(flat, wanted.cast(flat.type) if wanted.type != flat.type else wanted), False)
    hit = pc.or_(hit, pc.and_(pc.is_null(flat), pc.is_null(wanted)))
    out = np.zeros(n, dtype=bool)
    out[np.asarray(parents.filter(hit).to_numpy(zero_copy_only=False), dtype=np.int64)] = True
    return pa.array(out, mask=np.asarray(pc.is_null(lists).to_numpy(zero_copy_only=False), dtype=bool))


def _interleave(arrays: list[pa.Array], n: int) -> pa.Array:
    """Row-major values of k columns: row 0's k values, then row 1's, ..."""
    k = len(arrays)
    order = (np.arange(k)[None, :] * n + np.arange(n)[:, None]).ravel()
    return pa.concat_arrays(arrays).take(pa.array(order))


def _array_value(e, args, n):
    t = e.type.children[0].to_arrow()
    values = _interleave([full(cast_to(a, t), n, t) for a in args], n)
    offsets = pa.array(np.arange(0, n * len(args) + 1, len(args), dtype=np.int32))
    return pa.ListArray.from_arrays(offsets, values, type=e.type.to_arrow())


def _row_value(e, args, n):
    fields = [full(cast_to(a, t.to_arrow()), n, t.to_arrow()) for a, t in zip(args, e.type.children)]
    return pa.StructArray.from_arrays(fields, fields=list(e.type.to_arrow()))


def _map_value(e, args, n):
    kt, vt = e.type.children[0].to_arrow(), e.type.children[1].to_arrow()
    keys = _interleave([full(cast_to(a, kt), n, kt) for a in args[0::2]], n)
    items = _interleave([full(cast_to(a, vt), n, vt) for a in args[1::2]], n)
    pairs = len(args) // 2
    counts = np.full(n, pairs, dtype=np.int32)
    if keys.null_count:  # Arrow maps have no NULL keys; a lookup by NULL is NULL anyway (Flink keeps the entry)
        valid = np.asarray(keys.is_valid().to_numpy(zero_copy_only=False))
        counts = valid.reshape(n, pairs).sum(axis=1).astype(np.int32)
        keys, items = keys.filter(pa.array(valid)), items.filter(pa.array(valid))
    offsets = pa.array(np.concatenate([[0], np.cumsum(counts)]).astype(np.int32))
    return pa.MapArray.from_arrays(offsets, keys, items, type=e.type.to_arrow())


def _element(e, args, n):
    """`arr[i]` (1-based) and `map[key]`: NULL where the index is out of range or the key is absent. ELEMENT(arr):
    the one element of an array, NULL for an empty one, an error for more than one, as Flink."""
    container = full(args[0], n)
    if len(args) == 1:
        lengths = pc.fill_null(pc.list_value_length(container), 0)
        if pc.any(pc.greater(lengths, 1)).as_py():
            raise ExecutionError("Array has more than one element.")
        starts = pa.array(np.asarray(container.offsets)[:-1].astype(np.int64))
        return container.values.take(pc.if_else(pc.equal(lengths, 1), starts, pa.scalar(None, pa.int64())))
    if pa.types.is_map(container.type):
        if isinstance(args[1], pa.Scalar):
            if not args[1].is_valid:
                return pa.nulls(n, container.type.item_type)
            return pc.map_lookup(container, args[1].cast(container.type.key_type), "first")
        keys = full(args[1], n).to_pylist()
        out = [None if m is None or k is None else next((v for mk, v in m if mk == k), None)
               for m, k in zip(container.to_pylist(), keys)]
        return pa.array(out, container.type.item_type)
    idx = pc.cast(full(args[1], n, pa.int64()), pa.int64())
    lengths = pc.list_value_length(container)
    ok = pc.fill_null(pc.and_(pc.greater_equal(idx, 1), pc.less_equal(idx, lengths)), False)
    starts = pa.array(np.asarray(container.offsets)[:-1].astype(np.int64))
    pos = pc.if_else(ok, pc.subtract(pc.add(starts, idx), 1), pa.scalar(None, pa.int64()))
    return container.values.take(pos)



def _field(e, args, n):
    """A field of a ROW (struct) column; NULL where the row itself is NULL."""
    rows = full(args[0], n)
    return pc.struct_field(rows, [rows.type.get_field_index(args[1].as_py())])

# ---- types ----
def array_value(name: str, args: list[FlinkType]) -> FlinkType:
    """ARRAY[a, b, ..]: the elements' common type."""
    require(name, args, len(args) > 0)
    return FlinkType("ARRAY", children=(common_of(name, args),), nullable=False)


def row_value(name: str, args: list[FlinkType]) -> FlinkType:
    """ROW(a, b, ..): a ROW of the arguments' types, its fields named as Flink names them (EXPR$0, ..)."""
    require(name, args, len(args) > 0 and all(a.name != "NULL" for a in args))
    return FlinkType("ROW", children=tuple(a.without_time_attr() for a in args),
                     field_names=tuple(f"EXPR${i}" for i in range(len(args))), nullable=False)


def map_value(name: str, args: list[FlinkType]) -> FlinkType:
    """MAP[k1, v1, k2, v2, ..]: the common type of the keys and of the values."""
    require(name, args, len(args) >= 2 and len(args) % 2 == 0)
    return FlinkType("MAP", children=(common_of(name, args[0::2]), common_of(name, args[1::2])), nullable=False)


def array_arg(name: str, args: list[FlinkType], arity: tuple[int, int]) -> FlinkType:
    require(name, args, arity[0] <= len(args) <= arity[1] and args[0].name in ("ARRAY", "NULL"))
    if args[0].name == "NULL":  # Flink cannot type the call: Illegal use of 'NULL'
        raise ValidationError(f"Illegal use of 'NULL' in {name}(..): give the NULL a type, as "
                              f"CAST(NULL AS ARRAY<INT>)")
    return args[0]


def element_arg(name: str, args: list[FlinkType]) -> FlinkType:
    """ARRAY_APPEND/ARRAY_PREPEND: an array and an element of a type its elements share a type with."""
    a = array_arg(name, args, (2, 2))
    common = common_type(a.children[0], args[1])
    if a.name == "ARRAY" and (common is None or common.name != a.children[0].name):  # cast implicitly, not wider
        sig = ", ".join(str(t.without_time_attr()) for t in args)
        raise ValidationError(f"Invalid function call: {name}({sig}): the element's type must be the array's "
                              f"element type ({a.children[0]})")
    return a.without_time_attr()


def same_array(arity: tuple[int, int], more_arrays: bool = False):
    """An ARRAY like the first argument (NULL when it is)."""
    def typer(name: str, args: list[FlinkType]) -> FlinkType:
        a = array_arg(name, args, arity)
        if more_arrays:
            require(name, args, all(x.name in ("ARRAY", "NULL") for x in args[1:]))
        return a.without_time_attr().with_nullable(a.nullable or more_arrays and nullable(args))
    return typer


def _slice_type(name: str, args: list[FlinkType]) -> FlinkType:
    """ARRAY_SLICE(array, start[, end]): integer positions (Flink: Invalid input arguments)."""
    if any(not (t.is_integer or t.name == "NULL") for t in args[1:]):
        sig = ", ".join(str(t.without_time_attr()) for t in args)
        raise ValidationError(f"Invalid function call: {name}({sig}): its positions are integers")
    return same_array((2, 3))(name, args)


def array_element(name: str, args: list[FlinkType]) -> FlinkType:
    a = array_arg(name, args, (1, 1))
    return a.children[0].with_nullable(True) if a.name == "ARRAY" else a


def map_arg(name: str, args: list[FlinkType], arity: tuple[int, int]) -> FlinkType:
    require(name, args, arity[0] <= len(args) <= arity[1] and args[0].name == "MAP")
    return args[0]


def map_part(part: str):
    def typer(name: str, args: list[FlinkType]) -> FlinkType:
        m = map_arg(name, args, (1, 1))
        k, v = m.children
        if part == "keys":
            child = k
        elif part == "values":
            child = v
        else:
            child = FlinkType("ROW", children=(k, v), field_names=("key", "value"))
        return FlinkType("ARRAY", children=(child,), nullable=m.nullable)
    return typer


def _element_type(name: str, args: list[FlinkType]) -> FlinkType:
    require(name, args, len(args) == 1 and args[0].name == "ARRAY")
    return args[0].children[0].with_nullable(True)


def map_from_arrays(name: str, args: list[FlinkType]) -> FlinkType:
    require(name, args, len(args) == 2 and all(a.name == "ARRAY" for a in args))
    return FlinkType("MAP", children=(args[0].children[0], args[1].children[0]), nullable=nullable(args))


def map_union(name: str, args: list[FlinkType]) -> FlinkType:
    m = map_arg(name, args, (1, 99))
    require(name, args, all(a.name == "MAP" for a in args))
    return m.with_nullable(nullable(args))


def _array_to_string_type(name, args):
    require(name, args, 2 <= len(args) <= 3 and args[0].name in ("ARRAY", "NULL")
            and all(x.is_string or x.name == "NULL" for x in args[1:]))
    return STRING.with_nullable(nullable(args))


FUNCTIONS = (
    scalar("ARRAY", array_value, _array_value),
    scalar("MAP", map_value, _map_value),
    scalar("ROW", row_value, _row_value),
    scalar("ELEMENT", _element_type, _element),  # also arr[i] / map[key], typed by the binder
    scalar("FIELD", None, _field),  # row.field, typed by the binder
    scalar("CARDINALITY", returns(INT, (1, 1), check=lambda a: a[0].name in ("ARRAY", "MAP", "MULTISET")),
           _cardinality),
    scalar("ARRAY_CONTAINS", lambda n, a: array_arg(n, a, (2, 2)) and BOOLEAN.with_nullable(a[0].nullable),
           _array_contains),
    scalar("ARRAY_TO_STRING", _array_to_string_type, _array_to_string),
    scalar("ARRAY_REVERSE", same_array((1, 1)), array_reverse),
    scalar("ARRAY_SLICE", _slice_type, array_slice),
    scalar("ARRAY_MAX", array_element, _min_max("max")),
    scalar("ARRAY_MIN", array_element, _min_max("min")),
    scalar("ARRAY_APPEND", element_arg, _row_fn(lambda a, x: a + [x])),
    scalar("ARRAY_PREPEND", element_arg, _row_fn(lambda a, x: [x] + a)),
    scalar("ARRAY_CONCAT", same_array((1, 99), more_arrays=True),
           _row_fn(lambda *arrays: None if None in arrays else [x for a in arrays for x in a])),
    scalar("ARRAY_DISTINCT", same_array((1, 1)), _row_fn(_distinct)),
    scalar("ARRAY_POSITION", lambda n, a: array_arg(n, a, (2, 2)) and INT.with_nullable(nullable(a)),
           _row_fn(_position)),
    scalar("ARRAY_REMOVE", same_array((2, 2)), _row_fn(lambda a, x: [v for v in a if v != x])),
    scalar("ARRAY_SORT", same_array((1, 3)), _row_fn(_sort)),
    scalar("ARRAY_UNION", same_array((2, 2), more_arrays=True),
           _row_fn(lambda a, b: None if b is None else _distinct(a + b))),
    scalar("ARRAY_EXCEPT", same_array((2, 2), more_arrays=True), _row_fn(
        lambda a, b: None if b is None else [x for x in _distinct(a) if _hashable(x) not in {_hashable(y) for y in b}])),
    scalar("ARRAY_INTERSECT", same_array((2, 2), more_arrays=True), _row_fn(
        lambda a, b: None if b is None else [x for x in _distinct(a) if _hashable(x) in {_hashable(y) for y in b}])),
    scalar("MAP_KEYS", map_part("keys"), map_keys),
    scalar("MAP_VALUES", map_part("values"), map_values),
    scalar("MAP_ENTRIES", map_part("entries"), map_entries),
    scalar("MAP_FROM_ARRAYS", map_from_arrays, _row_fn(_map_from_arrays)),
    scalar("MAP_UNION", map_union, _row_fn(_map_union)),
)
