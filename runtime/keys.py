"""Key index: key column values -> dense int64 group ids, with Python work only per distinct key of a batch."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def _codes(col: pa.Array) -> tuple[np.ndarray, list]:
    """Per-row codes into this batch's distinct values (NULL is a value of its own)."""
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    enc = pc.dictionary_encode(col, null_encoding="encode")
    return enc.indices.to_numpy(zero_copy_only=False).astype(np.int64), enc.dictionary.to_pylist()


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
        combined = None
        dicts = []
        for col in cols:
            codes, values = _codes(col)
            dicts.append(values)
            if combined is None:
                combined = codes
            else:
                combined = combined * (len(values) + 1) + codes
                if len(dicts) > 1 and combined.max(initial=0) > 2 ** 40:
                    _, combined = np.unique(combined, return_inverse=True)
        uniq, first, inverse = np.unique(combined, return_index=True, return_inverse=True)
        code_cols = [_codes(c)[0] for c in cols] if len(cols) > 1 else None
        gid_of_unique = np.empty(len(uniq), dtype=np.int64)
        is_new = np.zeros(len(uniq), dtype=bool)
        for j, row in enumerate(first):
            if code_cols is None:
                key = (dicts[0][combined[row]],)
            else:
                key = tuple(d[cc[row]] for d, cc in zip(dicts, code_cols))
            gid = self.ids.get(key)
            if gid is None:
                gid = self._add(key)
                is_new[j] = True
            gid_of_unique[j] = gid
        return gid_of_unique[inverse], is_new[inverse]

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
