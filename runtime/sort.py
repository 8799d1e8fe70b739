"""Stable argsort of integer keys, through one vectorized sort of (key, position) pairs packed in an int64.

numpy's stable argsort of int64 is a timsort, several times slower than its vectorized np.sort of values; every
packed value is distinct, so sorting them orders equal keys by position, which is what a stable sort gives.
(Merging two sorted runs is another matter: timsort finds the runs and merges them in linear time.)
"""
from __future__ import annotations

import numpy as np


def stable_argsort(keys: np.ndarray) -> np.ndarray:
    """np.argsort(keys, kind="stable") for integer keys, faster where (key range) x (count) fits in an int64."""
    return sorted_order(keys)[0]


def sorted_order(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(np.argsort(keys, kind="stable"), the keys in that order)."""
    n = len(keys)
    low = int(keys.min()) if n and keys.dtype.kind in "iu" else 0
    if n < 2 or keys.dtype.kind not in "iu" or (int(keys.max()) - low + 1) * n >= 1 << 62:
        order = np.argsort(keys, kind="stable")
        return order, keys[order]
    # from the lowest key up (an unsigned 64-bit key may not fit an int64 until its lowest is taken off)
    packed = (keys - keys.min()).astype(np.int64) if keys.dtype == np.uint64 else keys.astype(np.int64) - low
    packed *= n
    packed += np.arange(n, dtype=np.int64)
    packed.sort()
    order, offsets = np.divmod(packed, n)[::-1]
    if keys.dtype == np.uint64:
        return order, offsets.astype(np.uint64) + keys.dtype.type(low)
    offsets += low
    return order, offsets.astype(keys.dtype, copy=False)


def distinct_runs(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows in value order, where each distinct value's run starts in that order, each row's distinct-value
    index) -- np.unique's work by numpy's fastest sort: equal values need no order among themselves."""
    order = np.argsort(values)
    ordered = values[order]
    starts = np.empty(len(values), bool)
    starts[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=starts[1:])
    inverse = np.empty(len(values), np.int64)
    inverse[order] = np.cumsum(starts) - 1
    return order, starts, inverse
