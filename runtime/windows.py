"""Vectorized window assignment: for each row, the windows (start, end) it belongs to, in milliseconds."""
from __future__ import annotations

from typing import Callable

import numpy as np
import pyarrow as pa

from sqlstream.plan.logical import WindowSpec
from sqlstream.runtime.key_groups import DEFAULT_MAX_PARALLELISM, key_groups


def assign(spec: WindowSpec, ts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row index, window start, window end) for every (row, window) pair; rows may repeat (HOP, CUMULATE).

    Window starts are aligned to `offset` modulo the slide (HOP) or the size (TUMBLE, CUMULATE), as Flink's
    window start with offset."""
    n = len(ts)
    rows = np.arange(n)
    if spec.kind == "TUMBLE":
        start = ts - np.mod(ts - spec.align, spec.size)
        return rows, start, start + spec.size
    if spec.kind == "HOP":
        # the windows whose start lies in (ts - size, ts]: ceil(size / slide) candidates, of which the oldest
        # holds the row only when the size is not a multiple of the slide (and none when slide > size)
        k = -(-spec.size // spec.slide)
        last = ts - np.mod(ts - spec.align, spec.slide)
        starts = last[:, None] - spec.slide * np.arange(k)[None, :]
        keep = starts + spec.size > ts[:, None]
        return np.repeat(rows, k).reshape(n, k)[keep], starts[keep], starts[keep] + spec.size
    if spec.kind == "CUMULATE":
        k = spec.size // spec.step
        start = ts - np.mod(ts - spec.align, spec.size)
        ends = start[:, None] + spec.step * np.arange(1, k + 1)[None, :]
        keep = ends > ts[:, None]
        r = np.repeat(rows, k).reshape(n, k)[keep]
        s = np.repeat(start, k).reshape(n, k)[keep]
        return r, s, ends[keep]
    raise ValueError(f"window kind {spec.kind} is not assigned per row")


def window_properties(spec: WindowSpec, start: np.ndarray, end: np.ndarray) -> list[pa.Array]:
    """window_start, window_end and window_time of windows with UTC bounds (ms): the bounds on the session zone's
    wall clock (a TIMESTAMP_LTZ time attribute's windows, as Flink), window_time the UTC instant before the end."""
    start, end = np.asarray(start, dtype=np.int64), np.asarray(end, dtype=np.int64)
    ms = pa.timestamp("ms")
    return [pa.array(start + spec.zone_offset).cast(ms), pa.array(end + spec.zone_offset).cast(ms),
            pa.array(end - 1).cast(ms)]


class WindowBuffer:
    """Rows of unfired windows, kept per window end (ms) as Arrow tables (the end in their column `$we`).

    With `keys` (the columns holding each row's key, those its operator's input is hashed on), a snapshot adds
    each row's key group (`$key_group`, computed when the snapshot is taken, so buffering pays nothing for it),
    whole or for a range of key groups, and a restore takes several subtasks' snapshots and keeps the rows of a
    range: rescaling moves a key's rows whole, as for keyed rows. A snapshot without key groups (taken before
    they were kept) gets them from its keys. `on_restore` is called after a restore, for an operator that
    derives something from the rows or reconciles parts kept in different layouts."""

    def __init__(self, keys: list[str] | None = None, max_parallelism: int = DEFAULT_MAX_PARALLELISM,
                 on_restore: Callable[[], None] | None = None) -> None:
        self.by_end: dict[int, list[pa.Table]] = {}
        self.keys, self.max_parallelism, self.on_restore = keys, max_parallelism, on_restore
        # per window end: its list of tables as last measured, how many of them were measured, their bytes
        self._measured: dict[int, tuple[list[pa.Table], int, int]] = {}

    @property
    def splits_by_key_group(self) -> bool:
        return self.keys is not None

    def add(self, table: pa.Table, ends: np.ndarray) -> None:
        if table.num_rows == 0:
            return
        if len(ends) < 2 or (ends[1:] >= ends[:-1]).all():  # already in order (a fired window's results)
            sorted_ends = ends
        else:
            order = np.argsort(ends, kind="stable")
            sorted_ends = ends[order]
            table = table.take(pa.array(order))
        bounds = np.flatnonzero(np.r_[True, sorted_ends[1:] != sorted_ends[:-1], True])
        for a, b in zip(bounds[:-1], bounds[1:]):
            self.by_end.setdefault(int(sorted_ends[a]), []).append(table.slice(a, b - a))

    def add_open(self, table: pa.Table, ends: np.ndarray, wm: "int | np.ndarray") -> int:
        """Keeps the rows whose window is still open at watermark wm (one, or each row's), their window end in
        `$we`; returns how many rows were late (their window had closed)."""
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
        self._measured.pop(end, None)
        return pa.concat_tables(tables).combine_chunks() if tables else None

    def discard(self, end: int) -> None:
        self.by_end.pop(end, None)
        self._measured.pop(end, None)

    def pop_until(self, wm: int) -> tuple[list[int], list[pa.Table]]:
        ends = self.closed(wm)
        for e in ends:
            self._measured.pop(e, None)
        return ends, [t for e in ends for t in self.by_end.pop(e)]

    def snapshot(self, groups: range | None = None) -> pa.Table:
        tables = [t for ts in self.by_end.values() for t in ts]
        table = pa.concat_tables(tables) if tables else pa.table({"$we": pa.array([], pa.int64())})
        if self.keys is None or not tables:
            return table
        group = self._groups(table)
        table = table.append_column("$key_group", pa.array(group, pa.int64()))
        return table if groups is None else table.filter(pa.array((group >= groups.start) & (group < groups.stop)))

    def _groups(self, table: pa.Table) -> np.ndarray:
        if "$key_group" in table.column_names:
            return np.asarray(table.column("$key_group").to_numpy(), np.int64)
        return key_groups([table.column(k).combine_chunks() for k in self.keys], table.num_rows, self.max_parallelism)

    def restore(self, table: pa.Table, groups: range | None = None) -> None:
        self.restore_parts([table], groups)

    def restore_parts(self, tables: list[pa.Table], groups: range | None) -> None:
        """One or several subtasks' snapshots (keeping the rows of the key groups `groups` when given); parts
        of different layouts are kept apart, for the operator's `on_restore` to reconcile."""
        if self.keys is None and (groups is not None or len(tables) > 1):
            raise ValueError("its buffered rows are not keyed, so they cannot be split by key group")
        self.by_end.clear()
        self._measured.clear()
        for table in tables:
            if not table.num_rows:
                continue
            table = table.replace_schema_metadata(None)
            if groups is not None:
                group = self._groups(table)
                table = table.filter(pa.array((group >= groups.start) & (group < groups.stop)))
            if "$key_group" in table.column_names:
                table = table.drop_columns(["$key_group"])
            if table.num_rows:
                self.add(table, table.column("$we").to_numpy())
        if self.on_restore is not None:
            self.on_restore()

    def size_bytes(self) -> int:
        """Bytes of the held rows. A window's tables are only ever appended to its list (or the list replaced),
        so each table is measured once: a slice's nbytes walks its buffers, and a window open for long holds
        thousands of them."""
        total = 0
        for end, tables in self.by_end.items():
            seen = self._measured.get(end)
            counted, size = (seen[1], seen[2]) if seen is not None and seen[0] is tables and seen[1] <= len(tables) \
                else (0, 0)
            size += sum(t.nbytes for t in tables[counted:])
            self._measured[end] = (tables, len(tables), size)
            total += size
        if len(self._measured) > len(self.by_end):  # ends dropped other than by a pop
            self._measured = {e: m for e, m in self._measured.items() if e in self.by_end}
        return total

    def size_rows(self) -> int:
        return sum(t.num_rows for ts in self.by_end.values() for t in ts)
