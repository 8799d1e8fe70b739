"""The N smallest values of every prefix of a sequence, for many sequences at once, column-wise: how a Top-N's
list changes while a batch of insert-only rows arrives, without a step per row."""
from __future__ import annotations

import numpy as np


def prefix_smallest(values: np.ndarray, n: int, sentinel: int) -> np.ndarray:
    """Row t of the result holds the n smallest of values[:t + 1] in ascending order; where there are fewer,
    the row ends with larger values that are not among them (`sentinel`, which exceeds every value, or values
    of an earlier sequence, see below).

    Several sequences are concatenated in one call when every value of a sequence is smaller than every value
    of the sequences before it: each then starts afresh, and an entry of its rows that is not one of its own
    values is an empty place.

    A cascade of running minima: stage p keeps the running minimum of its input, which is the p-th smallest of
    the prefix, and passes on, at each step, the larger of its previous minimum and its input (what it did not
    keep), so the next stage sees every value but the p-1 smallest."""
    out = np.empty((len(values), n), np.int64)
    passed = np.asarray(values, np.int64)
    for p in range(n):
        kept = np.minimum.accumulate(passed)
        out[:, p] = kept
        if p + 1 < n:
            previous = np.empty_like(kept)
            previous[0] = sentinel
            previous[1:] = kept[:-1]
            passed = np.maximum(previous, passed)
    return out
