"""Vectorized window assignment: for each row, the windows (start, end) it belongs to, in milliseconds."""
from __future__ import annotations

import numpy as np

from sqlstream.plan.logical import WindowSpec


def assign(spec: WindowSpec, ts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row index, window start, window end) for every (row, window) pair; rows may repeat (HOP, CUMULATE).

    Window starts are aligned to `offset` modulo the slide (HOP) or the size (TUMBLE, CUMULATE), as Flink's
    window start with offset."""
    n = len(ts)
    rows = np.arange(n)
    if spec.kind == "TUMBLE":
        start = ts - np.mod(ts - spec.offset, spec.size)
        return rows, start, start + spec.size
    if spec.kind == "HOP":
        # the windows whose start lies in (ts - size, ts]: ceil(size / slide) candidates, of which the oldest
        # holds the row only when the size is not a multiple of the slide (and none when slide > size)
        k = -(-spec.size // spec.slide)
        last = ts - np.mod(ts - spec.offset, spec.slide)
        starts = last[:, None] - spec.slide * np.arange(k)[None, :]
        keep = starts + spec.size > ts[:, None]
        return np.repeat(rows, k).reshape(n, k)[keep], starts[keep], starts[keep] + spec.size
    if spec.kind == "CUMULATE":
        k = spec.size // spec.step
        start = ts - np.mod(ts - spec.offset, spec.size)
        ends = start[:, None] + spec.step * np.arange(1, k + 1)[None, :]
        keep = ends > ts[:, None]
        r = np.repeat(rows, k).reshape(n, k)[keep]
        s = np.repeat(start, k).reshape(n, k)[keep]
        return r, s, ends[keep]
    raise ValueError(f"window kind {spec.kind} is not assigned per row")
