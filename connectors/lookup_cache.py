"""Flink's partial lookup cache, kept in columns: the cached rows are one Arrow table, the cached keys one Arrow
array, so a batch's keys are found with one vectorized `index_in` and their rows gathered with one `take`.

Keys are one array per lookup: a single key column as it is, a composite key encoded by `encode_keys`."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def encode_keys(columns: list[pa.Array]) -> pa.Array:
    """One array of keys: the column itself for one key column; for several, each value's text prefixed by its
    length, joined, so that no two different key tuples give the same string."""
    if len(columns) == 1:
        return columns[0]
    parts = []
    for c in columns:
        text = c if pa.types.is_string(c.type) else pc.cast(c, pa.string())
        parts += [pc.cast(pc.utf8_length(text), pa.string()), text]
    return pc.binary_join_element_wise(*parts, ":")


class PartialCache:
    """key -> rows (none: looked up and not found). With `max_rows` the least recently used keys are evicted
    first; `expire_after_write_ms` / `expire_after_access_ms` of 0 never expire."""

    def __init__(self, schema: pa.Schema, key_type: pa.DataType, max_rows: int | None, expire_after_write_ms: int,
                 expire_after_access_ms: int):
        self.max_rows = max_rows
        self.after_write, self.after_access = expire_after_write_ms / 1000, expire_after_access_ms / 1000
        self.rows = schema.empty_table()
        self.keys = pa.array([], key_type)
        self.start = np.zeros(0, np.int64)  # each key's first row in self.rows; its rows are consecutive
        self.count = np.zeros(0, np.int64)
        self.written = np.zeros(0, np.float64)
        self.accessed = np.zeros(0, np.float64)
        self.alive = np.zeros(0, bool)
        self.hits = self.misses = 0

    def __len__(self) -> int:
        return int(self.alive.sum())

    def find(self, keys: pa.Array, now: float) -> np.ndarray:
        """For each of the distinct `keys`, its cache entry, or -1 when it is not cached or has expired."""
        if not len(self.keys):
            self.misses += len(keys)
            return np.full(len(keys), -1, np.int64)
        slot = np.asarray(pc.fill_null(pc.index_in(keys, value_set=self.keys), -1).to_numpy(zero_copy_only=False),
                          dtype=np.int64)
        found = slot >= 0
        if self.after_write or self.after_access:
            s = slot[found]
            expired = np.zeros(len(s), bool)
            if self.after_write:
                expired |= now - self.written[s] >= self.after_write
            if self.after_access:
                expired |= now - self.accessed[s] >= self.after_access
            self.alive[s[expired]] = False
            slot[np.flatnonzero(found)[expired]] = -1
            found = slot >= 0
        self.accessed[slot[found]] = now
        hits = int(found.sum())
        self.hits += hits
        self.misses += len(keys) - hits
        return slot

    def rows_of(self, slot: np.ndarray) -> tuple[list[pa.Array], np.ndarray]:
        """The rows of the entries `slot` (all >= 0), and for each row the position in `slot` it belongs to."""
        return gather(self.rows, self.start[slot], self.count[slot])

    def add(self, keys: pa.Array, rows: pa.Table, row_keys: pa.Array, now: float) -> None:
        """Cache `keys` (distinct, not cached) with their `rows` (whose keys are `row_keys`)."""
        if not self.alive.all():
            self._keep(self.alive)
        order = np.asarray(pc.sort_indices(pc.index_in(row_keys, value_set=keys)).to_numpy(), dtype=np.int64)
        owner = np.asarray(pc.index_in(row_keys, value_set=keys).to_numpy(zero_copy_only=False),
                           dtype=np.int64)[order]
        count = np.bincount(owner, minlength=len(keys)).astype(np.int64)
        start = len(self.rows) + np.concatenate([[0], np.cumsum(count)[:-1]]).astype(np.int64)
        self.rows = pa.concat_tables([self.rows, rows.take(pa.array(order))]).combine_chunks()
        self.keys = pa.concat_arrays([self.keys, keys])
        self.start = np.concatenate([self.start, start])
        self.count = np.concatenate([self.count, count])
        self.written = np.concatenate([self.written, np.full(len(keys), now)])
        self.accessed = np.concatenate([self.accessed, np.full(len(keys), now)])
        self.alive = np.concatenate([self.alive, np.ones(len(keys), bool)])
        if self.max_rows is not None and len(self.keys) > self.max_rows:
            keep = np.zeros(len(self.keys), bool)
            keep[np.argsort(-self.accessed, kind="stable")[:self.max_rows]] = True
            self._keep(keep)

    def _keep(self, keep: np.ndarray) -> None:
        """Drop the entries not kept, and their rows."""
        idx = np.flatnonzero(keep)
        columns, _ = gather(self.rows, self.start[idx], self.count[idx])
        self.rows = pa.Table.from_arrays(columns, schema=self.rows.schema)
        self.count = self.count[idx]
        self.start = np.concatenate([[0], np.cumsum(self.count)[:-1]]).astype(np.int64)
        self.keys = self.keys.take(pa.array(idx))
        self.written, self.accessed = self.written[idx], self.accessed[idx]
        self.alive = np.ones(len(idx), bool)


def gather(rows: pa.Table, start: np.ndarray, count: np.ndarray) -> tuple[list[pa.Array], np.ndarray]:
    """Rows start[i] .. start[i] + count[i] - 1 for each i, in that order, and the i of each row."""
    owner = np.repeat(np.arange(len(start), dtype=np.int64), count)
    within = np.arange(len(owner), dtype=np.int64) - np.repeat(np.cumsum(count) - count, count)
    positions = pa.array(np.repeat(start, count) + within)
    return [c.take(positions).combine_chunks() for c in rows.columns], owner
