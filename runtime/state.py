"""State behind one interface: operators keep named tables here so checkpoints snapshot them uniformly."""
from __future__ import annotations

import io
import time
from typing import Any, Callable, Protocol

import numpy as np
import pyarrow as pa

from sqlstream.runtime.keys import KeyIndex


class Snapshottable(Protocol):
    def snapshot(self) -> pa.Table: ...

    def restore(self, table: pa.Table) -> None: ...

    def size_bytes(self) -> int: ...


class Counters:
    """A few integer fields of an operator, snapshotted as a one-row table."""

    def __init__(self, owner, names: tuple[str, ...]):
        self.owner, self.names = owner, names

    def snapshot(self) -> pa.Table:
        return pa.table({n: pa.array([int(getattr(self.owner, n))], pa.int64()) for n in self.names})

    def restore(self, table: pa.Table) -> None:
        for n in self.names:
            setattr(self.owner, n, int(table.column(n)[0].as_py()))

    def size_bytes(self) -> int:
        return 8 * len(self.names)


def wall_clock_ms() -> int:
    return int(time.time() * 1000)


class StateTtl:
    """table.exec.state.ttl as Flink applies it: state not written (or read, where the operator says so) for
    `ttl_ms` of processing time is gone. One clock reading per batch, so a batch sees one consistent cut."""

    def __init__(self, ttl_ms: int = 0, clock: Callable[[], int] | None = None):
        self.ttl_ms = ttl_ms
        self.clock = clock or wall_clock_ms
        self.now = 0

    @property
    def enabled(self) -> bool:
        return self.ttl_ms > 0

    def tick(self) -> int | None:
        """Read the clock for a batch; the time before which state has expired (None: state never expires)."""
        self.now = self.clock()
        return self.now - self.ttl_ms if self.ttl_ms > 0 else None


class KeyedTable:
    """Keyed state: a row of named values per key, read and written a batch at a time as Arrow arrays.

    Keys map to dense slots (`runtime.keys.KeyIndex`); each value column is slot-indexed. With a TTL, a key
    not written for `ttl_ms` of processing time is dropped by `expire` (called by the operator once per batch).
    The table snapshots itself as one Arrow table (key columns `k0..`, the value columns, `$written`), so an
    operator that keeps its state here writes no snapshot code; the batch-shaped calls are what a disk-backed
    backend would implement.
    """

    def __init__(self, key_types: list[pa.DataType], value_types: dict[str, pa.DataType], ttl_ms: int = 0,
                 clock: Callable[[], int] | None = None):
        self.key_types, self.value_types = list(key_types), dict(value_types)
        self.ttl = StateTtl(ttl_ms, clock)
        self.index = KeyIndex()
        self.values: dict[str, np.ndarray] = {n: np.empty(0, dtype=object) for n in self.value_types}
        self.live = np.zeros(0, dtype=bool)
        self.written = np.zeros(0, dtype=np.int64)

    def __len__(self) -> int:
        return int(self.live.sum())

    def _slots(self, keys: list[pa.Array], n: int) -> np.ndarray:
        slots, _ = self.index.lookup(keys, n)
        size = len(self.live)
        if len(self.index.keys) > size:
            grow = max(len(self.index.keys), 2 * size, 16)
            for name in self.values:
                self.values[name] = np.concatenate([self.values[name], np.empty(grow - size, dtype=object)])
            self.live = np.concatenate([self.live, np.zeros(grow - size, dtype=bool)])
            self.written = np.concatenate([self.written, np.zeros(grow - size, dtype=np.int64)])
        return slots

    def get(self, keys: list[pa.Array], n: int) -> tuple[dict[str, pa.Array], np.ndarray]:
        """The values of each row's key (NULL where absent) and a mask of the rows whose key is present."""
        slots = self._slots(keys, n)
        found = self.live[slots]
        out = {}
        for name, t in self.value_types.items():
            vals = self.values[name][slots]
            vals[~found] = None
            out[name] = pa.array(vals.tolist(), t)
        return out, found

    def put(self, keys: list[pa.Array], values: dict[str, pa.Array]) -> None:
        """Write each row's values under its key (a later row of the batch wins for a repeated key)."""
        n = len(next(iter(values.values()))) if values else (len(keys[0]) if keys else 1)
        slots = self._slots(keys, n)
        for name in self.value_types:
            self.values[name][slots] = values[name].to_pylist()
        self.live[slots] = True
        self.written[slots] = self.ttl.now if self.ttl.enabled else 0

    def delete(self, keys: list[pa.Array], n: int) -> None:
        slots = self._slots(keys, n)
        self._drop(np.unique(slots))

    def _drop(self, slots: np.ndarray) -> None:
        self.live[slots] = False
        for name in self.values:
            self.values[name][slots] = None
        self.index.release(slots)

    def expire(self) -> int:
        """Read the clock for this batch and drop the keys not written within the TTL; how many were dropped."""
        cutoff = self.ttl.tick()
        if cutoff is None:
            return 0
        old = np.flatnonzero(self.live & (self.written < cutoff))
        if len(old):
            self._drop(old)
        return len(old)

    def scan(self) -> pa.Table:
        """Every live key and its values: key columns `k0..`, then the value columns."""
        slots = np.flatnonzero(self.live)
        keys = [self.index.keys[s] for s in slots.tolist()]
        cols = {f"k{j}": pa.array([k[j] for k in keys], t) for j, t in enumerate(self.key_types)}
        for name, t in self.value_types.items():
            cols[name] = pa.array(self.values[name][slots].tolist(), t)
        return pa.table(cols) if cols else pa.table({"$n": pa.array(np.ones(len(slots), np.int8))})

    def snapshot(self) -> pa.Table:
        table = self.scan()
        return table.append_column("$written", pa.array(self.written[np.flatnonzero(self.live)], pa.int64()))

    def restore(self, table: pa.Table) -> None:
        self.__init__(self.key_types, self.value_types, self.ttl.ttl_ms, self.ttl.clock)
        if table.num_rows == 0:
            return
        table = table.replace_schema_metadata(None).combine_chunks()
        keys = [table.column(f"k{j}").combine_chunks() for j in range(len(self.key_types))]
        self.put(keys, {n: table.column(n).combine_chunks() for n in self.value_types})
        self.written[self._slots(keys, table.num_rows)] = np.asarray(table.column("$written"), dtype=np.int64)

    def size_bytes(self) -> int:
        return 32 * len(self) * (1 + len(self.key_types) + len(self.value_types))

    def size_rows(self) -> int:
        return len(self)


class StateBackend:
    """In-memory state: name -> table object; snapshots are Arrow IPC bytes per table."""

    def __init__(self, operator_uid: str = "") -> None:
        self.uid = operator_uid
        self.tables: dict[str, Snapshottable] = {}

    def register(self, name: str, table: Any) -> Any:
        if name in self.tables:
            raise ValueError(f"state table {name!r} registered twice in operator {self.uid}")
        self.tables[name] = table
        return table

    def keyed_table(self, name: str, key_types: list[pa.DataType], value_types: dict[str, pa.DataType],
                    ttl_ms: int = 0, clock: Callable[[], int] | None = None) -> KeyedTable:
        """Declare a keyed state table; the backend decides where it lives (memory here)."""
        return self.register(name, KeyedTable(key_types, value_types, ttl_ms, clock))

    def snapshot(self) -> dict[str, bytes]:
        out = {}
        for name, t in self.tables.items():
            sink = io.BytesIO()
            tbl = t.snapshot()
            with pa.ipc.new_stream(sink, tbl.schema) as w:
                w.write_table(tbl)
            out[name] = sink.getvalue()
        return out

    def restore(self, blobs: dict[str, bytes]) -> None:
        for name, data in blobs.items():
            if name not in self.tables:
                raise ValueError(f"operator {self.uid} has no state table {name!r}")
            self.tables[name].restore(pa.ipc.open_stream(data).read_all())

    def size_bytes(self) -> int:
        return sum(t.size_bytes() for t in self.tables.values())

    def size_rows(self) -> int | None:
        """Rows (keys, buffered records) held, counted by the tables that can tell (`size_rows()`); None when
        none of them can."""
        counted = [t.size_rows() for t in self.tables.values() if hasattr(t, "size_rows")]
        return sum(counted) if counted else None
