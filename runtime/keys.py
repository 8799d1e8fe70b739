"""Key index: key column values -> dense int64 group ids, with Python work only per distinct key of a batch."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def _codes(col: pa.Array) -> tuple[np.ndarray, int]:
    """Per-row codes into this batch's distinct values (NULL is a value of its own), and how many there are."""
    enc = pc.dictionary_encode(col, null_encoding="encode")
    return enc.indices.to_numpy(zero_copy_only=False).astype(np.int64), len(enc.dictionary)


class KeyIndex:
    """Assigns stable ids to key tuples; ids are dense and never reused while the key lives."""

    def __init__(self) -> None:
        self.ids: dict[tuple, int] = {}
        self.keys: list[tuple] = []
        self.free: list[int] = []

    def __len__(self) -> int:
        return len(self.keys)

    def lookup(self, cols: list[pa.Array], n: int) -> tuple[np.ndarray, np.ndarray]:
        """(group id per row, mask of rows whose key was not seen before)."""
        if not cols:
            if () not in self.ids:
                self._add(())
            return np.full(n, self.ids[()], dtype=np.int64), np.zeros(n, dtype=bool)
        cols = [c.combine_chunks() if isinstance(c, pa.ChunkedArray) else c for c in cols]
        combined = None
        for col in cols:
            codes, distinct = _codes(col)
            if combined is None:
                combined = codes
            else:
                combined = combined * (distinct + 1) + codes
                if combined.max(initial=0) > 2 ** 40:
                    _, combined = np.unique(combined, return_inverse=True)
        uniq, first, inverse = np.unique(combined, return_index=True, return_inverse=True)
        picks = pa.array(first)  # one row per distinct key: its values become the key tuple
        keys = list(zip(*[c.take(picks).to_pylist() for c in cols]))
        get = self.ids.get
        gid_of_unique = np.array([get(k, -1) for k in keys], dtype=np.int64)
        is_new = gid_of_unique < 0
        fresh = np.flatnonzero(is_new)
        if len(fresh):
            gid_of_unique[fresh] = self._add_all([keys[j] for j in fresh.tolist()])
        return gid_of_unique[inverse], is_new[inverse]

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

    def release(self, gids: np.ndarray) -> None:
        for g in gids.tolist():
            key = self.keys[g]
            if key is not None and self.ids.get(key) == g:
                del self.ids[key]
                self.keys[g] = None
                self.free.append(g)


def equal_pairs(sorted_ids: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every (i, p) with ids[i] == sorted_ids[p], for ids probing a sorted array; pairs grouped by i, p
    ascending within each i. The hash-join step of the column-wise joins."""
    if len(ids) > 64 and len(sorted_ids) > 4096:  # binary search for ascending needles walks memory in order
        order = np.argsort(ids)
        needles = ids[order]
        lo, counts = np.empty(len(ids), dtype=np.intp), np.empty(len(ids), dtype=np.intp)
        lo[order] = np.searchsorted(sorted_ids, needles, "left")
        counts[order] = np.searchsorted(sorted_ids, needles, "right") - lo[order]
    else:
        lo = np.searchsorted(sorted_ids, ids, "left")
        counts = np.searchsorted(sorted_ids, ids, "right") - lo
    probe = np.repeat(np.arange(len(ids)), counts)
    within = np.arange(len(probe)) - np.repeat(np.cumsum(counts) - counts, counts)
    return probe, np.repeat(lo, counts) + within


def non_null_keys(keys: list[pa.Array], n: int) -> np.ndarray:
    """Rows whose key columns are all non-NULL (a NULL key joins nothing)."""
    valid = np.ones(n, dtype=bool)
    for k in keys:
        if k.null_count:
            valid &= np.asarray(pc.is_valid(k))
    return valid
