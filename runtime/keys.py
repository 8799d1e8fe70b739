"""Key index: key column values -> dense int64 group ids, with Python work only per distinct key of a batch."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.functions.arrow import hashable


def codable(col: pa.Array) -> pa.Array:
    """`col`, or for ARRAY, MAP and ROW values (which Arrow's hash kernels do not take) their text: equal
    exactly where the values are."""
    if not pa.types.is_nested(col.type):
        return col
    return pa.array([None if v is None else repr(v) for v in col.to_pylist()], pa.string())


def _key_values(col: pa.Array) -> list:
    values = col.to_pylist()
    return [hashable(v) for v in values] if pa.types.is_nested(col.type) else values


def _codes(col: pa.Array) -> tuple[np.ndarray, int]:
    """Per-row codes into this batch's distinct values (NULL is a value of its own), and how many there are."""
    enc = pc.dictionary_encode(codable(col), null_encoding="encode")
    return enc.indices.to_numpy(zero_copy_only=False).astype(np.int64), len(enc.dictionary)


def _int64_safe(t: pa.DataType) -> bool:
    return pa.types.is_signed_integer(t) or t in (pa.uint8(), pa.uint16(), pa.uint32())


class KeyIndex:
    """Assigns stable ids to key tuples; ids are dense and never reused while the key lives."""

    def __init__(self) -> None:
        self.ids: dict[tuple, int] = {}
        self.keys: list[tuple] = []
        self.free: list[int] = []
        self._ints: tuple[np.ndarray, np.ndarray] | None = None  # sorted integer keys (one column), their ids

    def __len__(self) -> int:
        return len(self.keys)

    def lookup(self, cols: list[pa.Array], n: int) -> tuple[np.ndarray, np.ndarray]:
        """(group id per row, mask of rows whose key was not seen before)."""
        if not cols:
            if () not in self.ids:
                self._add(())
            return np.full(n, self.ids[()], dtype=np.int64), np.zeros(n, dtype=bool)
        cols = [c.combine_chunks() if isinstance(c, pa.ChunkedArray) else c for c in cols]
        if len(cols) == 1 and not pa.types.is_dictionary(cols[0].type) and not pa.types.is_nested(cols[0].type):
            # one column: its dictionary is the batch's distinct keys, in the order of their first rows
            enc = pc.dictionary_encode(cols[0], null_encoding="encode")
            codes = enc.indices.to_numpy(zero_copy_only=False).astype(np.int64)
            values = enc.dictionary
            if _int64_safe(values.type) and values.null_count == 0:
                gid_of_unique, is_new = self._int_ids(np.asarray(values.to_numpy(), dtype=np.int64))
            else:
                gid_of_unique, is_new = self._ids([(v,) for v in values.to_pylist()])
            return gid_of_unique[codes], is_new[codes]
        combined = None
        for col in cols:
            codes, distinct = _codes(col)
            if combined is None:
                combined = codes
            else:
                combined = combined * (distinct + 1) + codes
                if combined.max(initial=0) > 2 ** 40:
                    _, combined = np.unique(combined, return_inverse=True)
        # the distinct keys in the order of their first rows (a hash table, not a sort of every row)
        inverse = np.asarray(pc.dictionary_encode(pa.array(combined)).indices.to_numpy(zero_copy_only=False),
                             np.int64)
        seen = np.maximum.accumulate(inverse)
        first = np.flatnonzero(np.r_[True, inverse[1:] > seen[:-1]]) if n else np.zeros(0, np.int64)
        picks = pa.array(first)  # one row per distinct key: its values become the key tuple
        gid_of_unique, is_new = self._ids(list(zip(*[_key_values(c.take(picks)) for c in cols])))
        return gid_of_unique[inverse], is_new[inverse]

    def _ids(self, keys: list[tuple]) -> tuple[np.ndarray, np.ndarray]:
        """Ids of distinct keys, new ones added in the order given; and which were new."""
        get = self.ids.get
        gids = np.array([get(k, -1) for k in keys], dtype=np.int64)
        is_new = gids < 0
        fresh = np.flatnonzero(is_new)
        if len(fresh):
            gids[fresh] = self._add_all([keys[j] for j in fresh.tolist()])
            self._ints = None
        return gids, is_new

    def _int_ids(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """`_ids` for distinct integers, found in a sorted array of the integer keys instead of one dictionary
        look-up each."""
        if self._ints is None:
            known = [(k[0], g) for k, g in self.ids.items() if len(k) == 1 and type(k[0]) is int]
            self._ints = (np.array([k for k, _ in known], np.int64), np.array([g for _, g in known], np.int64))
            order = np.argsort(self._ints[0])
            self._ints = (self._ints[0][order], self._ints[1][order])
        sorted_keys, sorted_ids = self._ints
        pos = np.searchsorted(sorted_keys, values)
        found = pos < len(sorted_keys)
        found[found] = sorted_keys[pos[found]] == values[found]
        gids = np.full(len(values), -1, np.int64)
        gids[found] = sorted_ids[pos[found]]
        fresh = np.flatnonzero(~found)
        if len(fresh):
            new_keys = values[fresh]
            new_ids = np.array(self._add_all([(k,) for k in new_keys.tolist()]), np.int64)
            gids[fresh] = new_ids
            order = np.argsort(new_keys)
            at = np.searchsorted(sorted_keys, new_keys[order])
            self._ints = (np.insert(sorted_keys, at, new_keys[order]), np.insert(sorted_ids, at, new_ids[order]))
        return gids, ~found

    def _add_all(self, keys: list[tuple]) -> list[int]:
        """Ids for keys not in the index, distinct from one another: freed ids first, then new ones."""
        reused = [self._add(k) for k in keys[:len(self.free)]]
        rest = keys[len(reused):]
        start = len(self.keys)
        self.keys += rest
        self.ids.update(zip(rest, range(start, start + len(rest))))
        return reused + list(range(start, start + len(rest)))

    def _add(self, key: tuple) -> int:
        if self.free:
            gid = self.free.pop()
            self.keys[gid] = key
        else:
            gid = len(self.keys)
            self.keys.append(key)
        self.ids[key] = gid
        return gid

    def key_columns(self, ids: np.ndarray, types: list[pa.DataType]) -> list[pa.Array]:
        """The key columns of `ids`, as arrays of the key `types`."""
        keys = [self.keys[g] for g in ids.tolist()]
        return [pa.array([k[j] for k in keys], t) for j, t in enumerate(types)]

    def release(self, gids: np.ndarray) -> None:
        freed = []
        for g in gids.tolist():
            key = self.keys[g]
            if key is not None and self.ids.get(key) == g:
                del self.ids[key]
                self.keys[g] = None
                self.free.append(g)
                freed.append(g)
        if self._ints is not None and freed:
            keep = ~np.isin(self._ints[1], freed)
            self._ints = (self._ints[0][keep], self._ints[1][keep])


def equal_pairs(sorted_ids: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every (i, p) with ids[i] == sorted_ids[p], for ids probing a sorted array; pairs grouped by i, p
    ascending within each i. The hash-join step of the column-wise joins."""
    if len(ids) > 64 and len(sorted_ids) > 4096:  # binary search for ascending needles walks memory in order
        order = np.argsort(ids)
        lo, counts = np.empty(len(ids), dtype=np.intp), np.empty(len(ids), dtype=np.intp)
        lo[order], counts[order] = _ranges(sorted_ids, ids[order])
    else:
        lo, counts = _ranges(sorted_ids, ids)
    return _expand(lo, counts)


def ascending_pairs(sorted_ids: np.ndarray, needles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`equal_pairs` for needles already in ascending order (a batch probing several runs sorts its keys once)."""
    return _expand(*_ranges(sorted_ids, needles))


def _ranges(sorted_ids: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per id, where its equal values start in `sorted_ids` and how many there are (the end searched only for
    ids that are there at all)."""
    lo = np.searchsorted(sorted_ids, ids, "left")
    found = np.flatnonzero(sorted_ids.take(lo, mode="clip") == ids) if len(sorted_ids) else lo[:0]
    counts = np.zeros(len(ids), dtype=np.intp)
    counts[found] = np.searchsorted(sorted_ids, ids[found], "right") - lo[found]
    return lo, counts


def _expand(lo: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(i, p) pairs for p in [lo[i], lo[i] + counts[i])."""
    if counts.max(initial=0) <= 1:  # every key at most once on the other side (a key of a unique side)
        probe = np.flatnonzero(counts)
        return probe, lo[probe]
    probe = np.repeat(np.arange(len(lo)), counts)
    within = np.arange(len(probe)) - np.repeat(np.cumsum(counts) - counts, counts)
    return probe, np.repeat(lo, counts) + within


def non_null_keys(keys: list[pa.Array], n: int) -> np.ndarray:
    """Rows whose key columns are all non-NULL (a NULL key joins nothing)."""
    valid = np.ones(n, dtype=bool)
    for k in keys:
        if k.null_count:
            valid &= np.asarray(pc.is_valid(k))
    return valid


def one_key(keys: list[pa.Array], n: int) -> tuple | None:
    """The key all `n` rows share (none NULL), else None (also without rows)."""
    if not n:
        return None
    found = []
    for k in keys:
        if k.null_count:
            return None
        first = k[0]
        if not pc.all(pc.equal(k, first)).as_py():
            return None
        found.append(first.as_py())
    return tuple(found)
