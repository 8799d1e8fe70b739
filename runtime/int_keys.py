"""Key index for keys of integer (and date/time) columns: dense ids from a hash table in numpy arrays, looked up
and extended a batch at a time, so a batch of many new keys costs no Python per key (KeyIndex keeps a tuple
and a dictionary entry per key)."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.runtime.key_groups import FEW
from sqlstream.runtime.keys import KeyIndex

_MIX = np.uint64(0x9E3779B97F4A7C15)


def integer_view(t: pa.DataType) -> pa.DataType | None:
    """The integer type a column of type `t` is stored as, when its values are integers that fit int64."""
    if pa.types.is_integer(t):
        return None if t == pa.uint64() else t
    if pa.types.is_date32(t) or pa.types.is_time32(t):
        return pa.int32()
    if pa.types.is_timestamp(t) or pa.types.is_date64(t) or pa.types.is_time64(t) or pa.types.is_duration(t):
        return pa.int64()
    return None


def as_int64(col: pa.Array, view: pa.DataType) -> np.ndarray:
    """The values of an integer-stored column as int64 (NULL as 0)."""
    ints = col if col.type == view or pa.types.is_integer(col.type) else col.view(view)
    if ints.null_count:
        ints = pc.fill_null(ints, 0)
    return np.asarray(ints.to_numpy(zero_copy_only=False)).astype(np.int64, copy=False)


def takes(types: list[pa.DataType]) -> bool:
    """Whether keys of these column types can be kept in an IntKeyIndex."""
    return len(types) <= 62 and all(integer_view(t) is not None for t in types)


_EMPTY, _GONE = -1, -2  # a slot never used; a slot whose key was released (probing goes on past it)


class IntKeyIndex:
    """Key columns -> dense ids, for columns whose types all have an `integer_view`; a released id is given to
    a later new key. The key of an id is kept as one int64 per column plus a NULL mask, the table maps slots to
    ids (linear probing, at most half full counting released slots, which a rebuild clears)."""

    def __init__(self, types: list[pa.DataType]) -> None:
        self.views = [integer_view(t) for t in types]
        if not takes(types):
            raise ValueError("IntKeyIndex takes up to 62 integer, date and time key columns")
        self.width = len(types) + 1  # the key columns and the NULL mask
        self.keys = np.zeros((self.width, 0), np.int64)  # id -> its key
        self.size = 0  # ids given out, released ones included
        self.slots = np.full(1024, _EMPTY, np.int64)  # slot -> id
        self.used = 0  # slots not empty
        self.released = np.zeros(0, bool)  # per id: released (free for a new key)
        self.free: list[int] = []

    def __len__(self) -> int:
        return self.size

    def lookup(self, cols: list[pa.Array], n: int) -> tuple[np.ndarray, np.ndarray]:
        """(id per row, mask of rows whose key was not seen before)."""
        cols = [c.combine_chunks() if isinstance(c, pa.ChunkedArray) else c for c in cols]
        key = np.empty((self.width, n), np.int64)
        nulls = np.zeros(n, np.int64)
        for j, (col, view) in enumerate(zip(cols, self.views)):
            key[j] = as_int64(col, view)
            if col.null_count:
                nulls |= np.asarray(pc.is_null(col)).astype(np.int64) << j
        key[-1] = nulls
        h = self._hash(key)
        ids = self._find(key, h)
        new = ids < 0
        if new.any():
            rows = np.flatnonzero(new)
            first, inverse = _distinct_hashes(h[rows])
            distinct = key[:, rows[first]]
            if not (distinct[:, inverse] == key[:, rows]).all():  # two keys of one hash: sort the keys
                distinct, _, inverse = _distinct_columns(key[:, rows])
            fresh = self._new_ids(distinct.shape[1])
            self._add(distinct, fresh)
            ids[rows] = fresh[inverse]
        return ids, new

    def _hash(self, key: np.ndarray) -> np.ndarray:
        h = np.zeros(key.shape[1], np.uint64)
        for row in key.view(np.uint64):
            h ^= row
            h *= _MIX
            h ^= h >> np.uint64(29)
        return h ^ (h >> np.uint64(32))

    def _find(self, key: np.ndarray, h: np.ndarray) -> np.ndarray:
        if key.shape[1] <= FEW:
            return self._find_few(key, h)
        mask = np.uint64(len(self.slots) - 1)
        pos = (h & mask).astype(np.int64)
        found = np.full(key.shape[1], -1, np.int64)
        todo = np.arange(key.shape[1])
        while len(todo):
            ids = self.slots[pos[todo]]
            filled = ids >= 0
            same = filled.copy()
            at = np.flatnonzero(filled)
            for j in range(self.width):
                same[at] &= self.keys[j, ids[at]] == key[j, todo[at]]
                at = at[same[at]]
            found[todo[same]] = ids[same]
            todo = todo[(ids != _EMPTY) & ~same]
            pos[todo] = (pos[todo] + 1) & int(mask)
        return found

    def _find_few(self, key: np.ndarray, h: np.ndarray) -> np.ndarray:
        """_find for a few keys (a small batch): each probed in Python, without a round of array operations per
        probe, which cost more than the probes themselves."""
        mask = len(self.slots) - 1
        slots, keys = self.slots, self.keys
        found = []
        for k, p in zip(key.T.tolist(), (h & np.uint64(mask)).tolist()):
            while True:
                i = int(slots[p])
                if i == _EMPTY:
                    found.append(-1)
                    break
                if i >= 0 and keys[:, i].tolist() == k:
                    found.append(i)
                    break
                p = (p + 1) & mask
        return np.array(found, np.int64)

    def _new_ids(self, count: int) -> np.ndarray:
        """Ids for `count` new keys: released ones first."""
        reused = [self.free.pop() for _ in range(min(count, len(self.free)))]
        return np.r_[np.array(reused, np.int64), self.size + np.arange(count - len(reused), dtype=np.int64)]

    def _add(self, distinct: np.ndarray, ids: np.ndarray) -> None:
        """New keys (distinct, none known) with their ids."""
        end = max(self.size, int(ids.max()) + 1) if len(ids) else self.size
        if end > self.keys.shape[1]:
            grown = np.zeros((self.width, max(end, 2 * self.keys.shape[1], 1024)), np.int64)
            grown[:, :self.size] = self.keys[:, :self.size]
            self.keys = grown
            self.released = np.r_[self.released, np.zeros(grown.shape[1] - len(self.released), bool)]
        self.keys[:, ids] = distinct
        self.released[ids] = False
        self.size = end
        self.used += len(ids)
        if 2 * self.used > len(self.slots):
            live = self.size - len(self.free)
            capacity = 1024
            while 4 * live > capacity:
                capacity *= 2
            self._rebuild(capacity)
            return
        self._place(ids)

    def release(self, ids: np.ndarray) -> None:
        """Forget the keys of `ids` (each once, released ones skipped); their ids go to later new keys."""
        ids = np.unique(ids)
        ids = ids[~self.released[ids]]
        if not len(ids):
            return
        mask = len(self.slots) - 1
        pos = (self._hash(self.keys[:, ids]) & np.uint64(mask)).astype(np.int64)
        todo = np.arange(len(ids))
        while len(todo):
            hit = self.slots[pos[todo]] == ids[todo]
            self.slots[pos[todo[hit]]] = _GONE
            todo = todo[~hit]
            pos[todo] = (pos[todo] + 1) & mask
        self.released[ids] = True
        self.free += ids.tolist()

    def key_columns(self, ids: np.ndarray, types: list[pa.DataType]) -> list[pa.Array]:
        """The key columns of `ids`, as arrays of the key `types`."""
        out = []
        nulls = self.keys[-1, ids]
        for j, (t, view) in enumerate(zip(types, self.views)):
            values = pa.array(self.keys[j, ids], pa.int64(), mask=(nulls >> j) & 1 == 1).cast(view)
            out.append(values if view == t else values.view(t))
        return out

    def _rebuild(self, capacity: int) -> None:
        """Places every id in a new table of `capacity` slots. In an empty table, linear probing puts the ids,
        taken in the order of their first slot, each at the later of its first slot and the slot after the one
        before: a running maximum instead of probing rounds. Those past the end wrap around, by probing."""
        self.slots = np.full(capacity, _EMPTY, np.int64)
        live = np.flatnonzero(~self.released[:self.size])
        self.used = len(live)
        home = (self._hash(self.keys[:, live]) & np.uint64(capacity - 1)).astype(np.int64)
        order = np.argsort(home)
        ids, home = live[order], home[order]
        steps = np.arange(len(ids))
        at = np.maximum.accumulate(home - steps) + steps
        inside = at < capacity
        self.slots[at[inside]] = ids[inside]
        if not inside.all():
            self._place(ids[~inside])

    def _place(self, ids: np.ndarray) -> None:
        """Puts ids (of distinct keys not in the table) in free slots: each goes to the first free slot from its
        hash on; of ids that meet at a free slot, one takes it per round."""
        mask = len(self.slots) - 1
        pos = (self._hash(self.keys[:, ids]) & np.uint64(mask)).astype(np.int64)
        while len(ids):
            free = self.slots[pos] < 0
            self.slots[pos[free]] = ids[free]
            left = self.slots[pos] != ids
            ids, pos = ids[left], (pos[left] + 1) & mask


def _distinct_hashes(h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the first row of each distinct hash, in the order of those rows; index of each row's distinct hash), by
    Arrow's hash table rather than a sort (a dictionary for a few rows)."""
    if len(h) <= FEW:
        at: dict[int, int] = {}
        inverse = [at.setdefault(v, len(at)) for v in h.tolist()]
        first = dict(zip(inverse[::-1], range(len(h) - 1, -1, -1)))
        return np.array(sorted(first.values()), np.int64), np.array(inverse, np.int64)
    inverse = np.asarray(pc.dictionary_encode(pa.array(h)).indices.to_numpy(zero_copy_only=False), np.int64)
    seen = np.maximum.accumulate(inverse) if len(h) else inverse
    return np.flatnonzero(np.r_[True, inverse[1:] > seen[:-1]]) if len(h) else inverse, inverse


def _distinct_columns(key: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct columns of a (width, n) array: (distinct, first column of each, index of each column's
    distinct column)."""
    order = np.lexsort(key[::-1])
    ordered = key[:, order]
    starts = np.r_[True, (ordered[:, 1:] != ordered[:, :-1]).any(axis=0)] if key.shape[1] else np.zeros(0, bool)
    group = np.cumsum(starts) - 1
    inverse = np.empty(key.shape[1], np.int64)
    inverse[order] = group
    heads = np.flatnonzero(starts)
    first = np.minimum.reduceat(order, heads) if len(heads) else np.zeros(0, np.int64)
    return ordered[:, heads], first, inverse


def key_index(types: list[pa.DataType]) -> IntKeyIndex | KeyIndex:
    """The index for keys of these column types: integer-stored columns in the hash table, others as tuples."""
    return IntKeyIndex(types) if takes(types) else KeyIndex()
