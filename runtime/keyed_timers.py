"""Timers per key, as a keyed process function registers them: state that splits by key group.

An operator that declares them (`ctx.keyed_timers(key_types)`) registers event-time and processing-time timers
for keys, a batch at a time. The runtime fires them as it fires any operator's timers (`take_due` gives each
due timestamp once, in order, and the runtime calls `on_timer(timestamp, domain)`); in `on_timer` the operator
takes the keys whose timer it is (`fired`). A snapshot holds each timer's key columns `k0..`, its domain and
timestamp, and its key group, so a restore at another parallelism keeps the timers of the keys it owns.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from sqlstream.runtime.key_groups import DEFAULT_MAX_PARALLELISM, key_groups

EVENT_TIME = "event-time"
PROCESSING_TIME = "processing-time"


class KeyedTimers:
    """Pending timers by (domain, timestamp), each a set of keys (tuples of the key columns' values)."""

    splits_by_key_group = True

    def __init__(self, key_types: list[pa.DataType], max_parallelism: int = DEFAULT_MAX_PARALLELISM):
        self.key_types, self.max_parallelism = list(key_types), max_parallelism
        self.pending: dict[str, dict[int, dict[tuple, None]]] = {EVENT_TIME: {}, PROCESSING_TIME: {}}
        self.due: dict[tuple[str, int], list[tuple]] = {}

    def _rows(self, keys: list[pa.Array], timestamps) -> list[tuple[tuple, int]]:
        values = [k.to_pylist() for k in keys]
        return list(zip(zip(*values), np.asarray(timestamps, np.int64).tolist()))

    def register(self, domain: str, keys: list[pa.Array], timestamps) -> None:
        """A timer at each row's timestamp for the row's key (registering one twice keeps one)."""
        timers = self.pending[domain]
        for key, ts in self._rows(keys, timestamps):
            timers.setdefault(ts, {})[key] = None

    def delete(self, domain: str, keys: list[pa.Array], timestamps) -> None:
        timers = self.pending[domain]
        for key, ts in self._rows(keys, timestamps):
            at = timers.get(ts)
            if at is not None:
                at.pop(key, None)
                if not at:
                    del timers[ts]

    def take_due(self, domain: str, upto: int) -> list[int]:
        """The timestamps of `domain` at or before `upto` that have timers, oldest first; their keys wait for
        `fired`."""
        timers = self.pending[domain]
        due = sorted(t for t in timers if t <= upto)
        for t in due:
            self.due[domain, t] = list(timers.pop(t))
        return due

    def fired(self, timestamp: int, domain: str) -> list[pa.Array]:
        """The key columns of the keys whose timer at `timestamp` fires now (in the order they registered)."""
        keys = self.due.pop((domain, timestamp), [])
        return [pa.array([k[j] for k in keys], t) for j, t in enumerate(self.key_types)]

    def snapshot(self, groups: range | None = None) -> pa.Table:
        rows = [(key, d, t) for d in (EVENT_TIME, PROCESSING_TIME) for t, keys in sorted(self.pending[d].items())
                for key in keys]
        cols = {f"k{j}": pa.array([r[0][j] for r in rows], t) for j, t in enumerate(self.key_types)}
        group = key_groups(list(cols.values()), len(rows), self.max_parallelism) if rows else np.zeros(0, np.int64)
        table = pa.table({**cols, "domain": pa.array([r[1] for r in rows], pa.string()),
                          "timestamp": pa.array([r[2] for r in rows], pa.int64()),
                          "$key_group": pa.array(group, pa.int64())})
        if groups is not None:
            table = table.filter(pa.array((group >= groups.start) & (group < groups.stop)))
        return table

    def restore(self, table: pa.Table, groups: range | None = None) -> None:
        """Replace the timers with a snapshot's (several subtasks' concatenated; those of `groups` when given)."""
        if groups is not None and table.num_rows:
            group = np.asarray(table.column("$key_group"), np.int64)
            table = table.filter(pa.array((group >= groups.start) & (group < groups.stop)))
        self.pending = {EVENT_TIME: {}, PROCESSING_TIME: {}}
        self.due = {}
        keys = [table.column(f"k{j}").combine_chunks() for j in range(len(self.key_types))]
        domains = table.column("domain").to_pylist()
        for (key, ts), d in zip(self._rows(keys, table.column("timestamp").to_numpy()), domains):
            self.pending[d].setdefault(ts, {})[key] = None

    def size_bytes(self) -> int:
        return 16 * self.size_rows()

    def size_rows(self) -> int:
        return sum(len(keys) for timers in self.pending.values() for keys in timers.values())
