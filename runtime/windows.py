"""Vectorized window assignment: for each row, the windows (start, end) it belongs to, in milliseconds."""
from __future__ import annotations

import numpy as np
import pyarrow as pa

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


class WindowBuffer:
    """Rows of unfired windows, kept per window end (ms) as Arrow tables."""

    def __init__(self) -> None:
        self.by_end: dict[int, list[pa.Table]] = {}

    def add(self, table: pa.Table, ends: np.ndarray) -> None:
        if table.num_rows == 0:
            return
        order = np.argsort(ends, kind="stable")
        sorted_ends = ends[order]
        table = table.take(pa.array(order))
        bounds = np.flatnonzero(np.r_[True, sorted_ends[1:] != sorted_ends[:-1], True])
        for a, b in zip(bounds[:-1], bounds[1:]):
            self.by_end.setdefault(int(sorted_ends[a]), []).append(table.slice(a, b - a))

    def add_open(self, table: pa.Table, ends: np.ndarray, wm: int) -> int:
        """Keeps the rows whose window is still open at watermark wm, their window end in `$we`; returns how
        many rows were late (their window had closed)."""
        open_ = ends - 1 > wm
        late = len(ends) - int(open_.sum())
        if late:
            table, ends = table.filter(pa.array(open_)), ends[open_]
        self.add(table.append_column("$we", pa.array(ends)), ends)
        return late

    def closed(self, wm: int) -> list[int]:
        """Ends of the held windows that watermark wm closes (end - 1 <= wm), oldest first."""
        return sorted(e for e in self.by_end if e - 1 <= wm)

    def pop_window(self, end: int) -> pa.Table | None:
        tables = self.by_end.pop(end, None)
        return pa.concat_tables(tables).combine_chunks() if tables else None

    def pop_until(self, wm: int) -> tuple[list[int], list[pa.Table]]:
        ends = self.closed(wm)
        return ends, [t for e in ends for t in self.by_end.pop(e)]

    def snapshot(self) -> pa.Table:
        tables = [t for ts in self.by_end.values() for t in ts]
        return pa.concat_tables(tables) if tables else pa.table({"$we": pa.array([], pa.int64())})

    def restore(self, table: pa.Table) -> None:
        self.by_end.clear()
        if table.num_rows:
            self.add(table.replace_schema_metadata(None), table.column("$we").to_numpy())

    def size_bytes(self) -> int:
        return sum(t.nbytes for ts in self.by_end.values() for t in ts)

    def size_rows(self) -> int:
        return sum(t.num_rows for ts in self.by_end.values() for t in ts)
