"""How a source's per-row watermarks combine over its splits: one place for parallelism 1's watermark assigner
and for the merge of source subtasks' parts at a higher parallelism.

Rows come in parts (a batch of one split, or one source subtask's share of a round). Within a part a row's
watermark candidate is the maximum of the WATERMARK expression over the part's rows before it (`part_prefix`);
`SplitWatermarks` turns those candidates into the watermark in force before each row, given the parts before it
in logical order (each split's maximum so far, the minimum over the active splits, never below what was already
in force), and then counts the part. Because the candidates and a part's maximum are all a merge needs, a source
subtask can compute them where it reads and a downstream subtask re-derives parallelism 1's per-row watermarks.
"""
from __future__ import annotations

import numpy as np

from sqlstream.runtime.event_time import MAX_WM, MIN_WM


def part_prefix(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Each row's maximum over the values before it in its part (MIN_WM for the first row), and the part's
    maximum (MIN_WM when empty)."""
    if not len(values):
        return np.asarray(values, dtype=np.int64), MIN_WM
    running = np.maximum.accumulate(np.asarray(values, dtype=np.int64))
    prefix = np.empty_like(running)
    prefix[0] = MIN_WM
    prefix[1:] = running[:-1]
    return prefix, int(running[-1])


class SplitWatermarks:
    """The watermark of one source: per split the maximum seen, combined as the minimum over active splits.

    No splits (`splits` empty) means one split: the watermark is the maximum over all rows so far."""

    def __init__(self) -> None:
        self.current = MIN_WM       # the combined watermark in force
        self.splits: list[int] = []  # per split; empty = one global split
        self.idle: list[bool] = []

    def set_splits(self, n: int) -> None:
        if n > 1 and not self.splits:
            self.splits = [MIN_WM] * n
            self.idle = [False] * n

    def combined(self) -> int:
        active = [w for w, idle in zip(self.splits, self.idle) if not idle]
        return min(active) if active else self.current

    def row_watermarks(self, split: int, prefix: np.ndarray) -> np.ndarray:
        """The watermark in force before each row of a part of `split` (rows given by their `part_prefix`)."""
        if not self.splits:
            return np.maximum(prefix, self.current)
        others = [w for i, (w, idle) in enumerate(zip(self.splits, self.idle)) if i != split and not idle]
        floor = min(others) if others else MAX_WM
        return np.maximum(np.minimum(np.maximum(prefix, self.splits[split]), floor), self.current)

    def add_part(self, split: int, part_max: int) -> None:
        """Count a part of `split` with this maximum (after its rows' watermarks were taken)."""
        if not self.splits:
            self.current = max(self.current, part_max)
            return
        self.splits[split] = max(self.splits[split], part_max)
        self.idle[split] = False
        self.current = max(self.current, self.combined())
