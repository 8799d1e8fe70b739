"""State behind one interface: operators declare named state here and every kind snapshots itself.

The kinds an operator declares (through its `OperatorContext`, which asks the `StateBackend`):

- `KeyedTable`: a row of named values per key (batch-shaped get / put / delete / scan), with
  table.exec.state.ttl applied once, by `expire`, and each key's key group kept, so that a snapshot can be
  taken or restored for a range of key groups (rescaling to another parallelism moves whole groups);
- `RowStore`: rows kept in a layout of the operator's own (waiting rows, sorted runs), read and written
  through a few calls by position, snapshotted as it is and checked against its declared schema on restore;
- `KeyedRows`: a `RowStore` whose rows each belong to a key (some of its columns), snapshotted with each row's
  key group so that, like a keyed table, it splits and merges by key group;
- `KeyedSnapshot`: state an operator keeps in structures of its own and writes as rows that each carry their
  key (rows waiting, rows in frames, per-key progress and accumulators): split by key group like a keyed table;
- `WindowBuffer` (`runtime/windows.py`): rows of unfired windows by window end, split by the key group of their
  key columns like keyed rows;
- `Counters`: an operator's scalar progress fields (watermark reached, arrival numbers, rows dropped), which
  carry their subtask's first key group and merge (maximum, or sum for counts) when rescaled.

The backend creates every table, so a backend that keeps state elsewhere (on disk) replaces these classes
with its own and no operator changes ('state.backend.type' names the backend: `state_backend_class`).
"""
from __future__ import annotations

import io
import time
from typing import Any, Callable, Protocol

import numpy as np
import pyarrow as pa

from sqlstream.core.errors import OptionError
from sqlstream.runtime.key_groups import DEFAULT_MAX_PARALLELISM, key_groups
from sqlstream.runtime.growing import Growing
from sqlstream.runtime.int_keys import key_index
from sqlstream.runtime.rows import take_rows
from sqlstream.runtime.sorted_runs import JoinSideRows, KeyIds
from sqlstream.runtime.windows import WindowBuffer

# a row store in more pieces than MANY_FRAGMENTS, of fewer than BIG_FRAGMENT rows on average, joins its newest
MANY_FRAGMENTS, BIG_FRAGMENT = 32, 16384


class Snapshottable(Protocol):
    def snapshot(self) -> pa.Table: ...

    def restore(self, table: pa.Table) -> None: ...

    def size_bytes(self) -> int: ...


class Counters:
    """A few integer fields of an operator, snapshotted as one row that carries the first key group of the
    operator's range (`$key_group`), so that counters split and merge by key group as keyed state does. Progress
    fields (watermark reached, arrival numbers, a mode decided once) merge by their maximum: every subtask sees
    the same watermarks, and arrival numbers only order a subtask's own rows. Counts (`sums`, such as rows
    dropped) add up, each old subtask's counted once: by the new subtask whose key groups hold its first one."""

    splits_by_key_group = True

    def __init__(self, owner, names: tuple[str, ...], sums: tuple[str, ...] = (), first_group: int = 0):
        self.owner, self.names, self.sums, self.first_group = owner, names, sums, first_group

    def snapshot(self, groups: range | None = None) -> pa.Table:
        first = groups.start if groups is not None else self.first_group
        cols = {n: pa.array([int(getattr(self.owner, n))], pa.int64()) for n in self.names}
        return pa.table({**cols, "$key_group": pa.array([first], pa.int64())})

    def restore(self, table: pa.Table, groups: range | None = None) -> None:
        """One snapshot, or several subtasks' concatenated (keeping the counts of the key groups `groups`)."""
        missing = [n for n in self.names if n not in table.column_names]
        if missing:
            raise ValueError(f"the snapshot of counters lacks field(s) {', '.join(missing)} (it was written by "
                             f"another version of the operator)")
        if table.num_rows == 0:
            return
        counted = np.ones(table.num_rows, bool)
        if groups is not None:
            if "$key_group" not in table.column_names:
                raise ValueError("its counters were written before they carried their key group, so they restore "
                                 "only at the parallelism they were taken at")
            first = np.asarray(table.column("$key_group").to_numpy(), np.int64)
            counted = (first >= groups.start) & (first < groups.stop)
        for n in self.names:
            values = np.asarray(table.column(n).to_numpy(zero_copy_only=False), np.int64)
            setattr(self.owner, n, int(values[counted].sum()) if n in self.sums else int(values.max()))

    def size_bytes(self) -> int:
        return 8 * len(self.names)

    @staticmethod
    def placed(blob: bytes, first: int) -> bytes:
        """A snapshot of counters as one subtask wrote it, carrying that subtask's first key group `first` if it
        was written before counters carried it (the OVER aggregation's `progress` of one row per subtask), so
        that a rescale counts it once."""
        table = pa.ipc.open_stream(blob).read_all()
        if "$key_group" in table.column_names:
            return blob
        return _ipc(table.append_column("$key_group", pa.array(np.full(table.num_rows, first), pa.int64())))


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


class KeyedState:
    """The key side of every keyed state kind: keys map to dense slots (`runtime.int_keys.key_index`: a hash
    table in numpy arrays for integer-stored key columns, else tuples in a dictionary), each live
    slot with its last write time; a key's key group (`runtime.key_groups`) is computed from its columns when
    a snapshot or a scan asks for a range of groups, so processing pays nothing for it. table.exec.state.ttl is applied here and nowhere else: `expire` drops the keys not written for
    `ttl_ms` of processing time. A snapshot is one Arrow table (key columns `k0..`, the kind's value columns,
    `$written`, `$key_group`), whole or for a range of key groups, and a restore takes several subtasks'
    snapshots and keeps a range of key groups: that is how keyed state moves to another parallelism.

    A kind keeps its values in slot-indexed columns and says how to grow, clear, write and read them
    (`_grow`, `_clear`, `_value_columns`, `_restore_values`)."""

    splits_by_key_group = True

    def __init__(self, key_types: list[pa.DataType], ttl_ms: int = 0, clock: Callable[[], int] | None = None,
                 max_parallelism: int = DEFAULT_MAX_PARALLELISM):
        self.key_types = list(key_types)
        self.ttl = StateTtl(ttl_ms, clock)
        self.max_parallelism = max_parallelism
        self._reset_keys()

    def _reset_keys(self) -> None:
        self.index = key_index(self.key_types)
        self.live = np.zeros(0, dtype=bool)
        self.written = np.zeros(0, dtype=np.int64)

    def __len__(self) -> int:
        return int(self.live.sum())

    def slots(self, keys: list[pa.Array], n: int) -> np.ndarray:
        """Each row's slot (a new key gets a free one, not yet live)."""
        slots, _ = self.index.lookup(keys, n)
        size = len(self.live)
        if len(self.index) > size:
            grow = max(len(self.index), 2 * size, 16)
            self._grow(grow)
            self.live = np.concatenate([self.live, np.zeros(grow - size, dtype=bool)])
            self.written = np.concatenate([self.written, np.zeros(grow - size, dtype=np.int64)])
        return slots

    def touch(self, slots: np.ndarray) -> None:
        """The keys of `slots` were written now (their TTL starts over)."""
        if self.ttl.enabled:
            self.written[slots] = self.ttl.now

    def drop(self, slots: np.ndarray) -> None:
        """Forget the keys of `slots`; their slots are reused."""
        self.live[slots] = False
        self._clear(slots)
        self.index.release(slots)

    def expire(self) -> int:
        """Read the clock for this batch and drop the keys not written within the TTL; how many were dropped."""
        cutoff = self.ttl.tick()
        if cutoff is None:
            return 0
        old = np.flatnonzero(self.live & (self.written < cutoff))
        if len(old):
            self.drop(old)
        return len(old)

    def live_slots(self, groups: range | None = None) -> np.ndarray:
        """The live slots (of the keys in the key groups `groups`, or all)."""
        return self._live(groups)[0] if groups is not None else np.flatnonzero(self.live)

    def _live(self, groups: range | None = None) -> tuple[np.ndarray, dict[str, pa.Array], np.ndarray]:
        """The live slots (of the key groups `groups`, or all), their key columns and key groups."""
        slots = np.flatnonzero(self.live)
        keys = self.key_columns(slots)
        group = key_groups(list(keys.values()), len(slots), self.max_parallelism)
        if groups is not None:
            inside = (group >= groups.start) & (group < groups.stop)
            slots, group = slots[inside], group[inside]
            keys = {n: k.filter(pa.array(inside)) for n, k in keys.items()}
        return slots, keys, group

    def key_columns(self, slots: np.ndarray) -> dict[str, pa.Array]:
        return {f"k{j}": col for j, col in enumerate(self.index.key_columns(slots, self.key_types))}

    def snapshot(self, groups: range | None = None) -> pa.Table:
        """The live keys of the key groups `groups` (all when None), with their write times and key groups."""
        slots, keys, group = self._live(groups)
        cols = {**keys, **self._value_columns(slots)}
        cols["$written"] = pa.array(self.written[slots], pa.int64())
        cols["$key_group"] = pa.array(group, pa.int64())
        return pa.table(cols)

    def restore(self, table: pa.Table, groups: range | None = None) -> None:
        """Replace the contents with a snapshot's keys (those of the key groups `groups` when given). The
        snapshot may be several subtasks' snapshots concatenated: that is how state is rescaled. A snapshot
        without write times (taken before they were kept) restores as written now."""
        live = self.live_slots()
        if len(live):
            self._clear(live)
        self._reset_keys()
        self._grow(0)
        missing = [c for c in [f"k{j}" for j in range(len(self.key_types))] + list(self._required())
                   if c not in table.column_names]
        if missing:
            raise ValueError(f"the snapshot of a keyed table lacks column(s) {', '.join(missing)} (it was written "
                             f"by another version of the operator)")
        table = table.replace_schema_metadata(None).combine_chunks()
        keys = [table.column(f"k{j}").combine_chunks() for j in range(len(self.key_types))]
        if groups is not None:
            group = np.asarray(table.column("$key_group"), dtype=np.int64) if "$key_group" in table.column_names \
                else key_groups(keys, table.num_rows, self.max_parallelism)
            inside = pa.array((group >= groups.start) & (group < groups.stop))
            table, keys = table.filter(inside), [k.filter(inside) for k in keys]
        if table.num_rows == 0:
            return
        slots = self.slots(keys, table.num_rows)
        self.live[slots] = True
        self._restore_values(slots, table)
        empty = slots[~self.live[slots]]
        if len(empty):
            self.drop(np.unique(empty))
        self.written[slots] = np.asarray(table.column("$written"), dtype=np.int64) \
            if "$written" in table.column_names else self.ttl.clock()

    def _required(self) -> tuple[str, ...]:
        """Columns a snapshot must have besides the keys."""
        return ("$written",)

    def _grow(self, size: int) -> None:
        """Make the value columns hold `size` slots (0: start empty)."""

    def _clear(self, slots: np.ndarray) -> None:
        """Forget the values of `slots`."""

    def _value_columns(self, slots: np.ndarray) -> dict[str, pa.Array]:
        return {}

    def _restore_values(self, slots: np.ndarray, table: pa.Table) -> None:
        """Take a snapshot's values into `slots` (row i into slots[i])."""

    def size_rows(self) -> int:
        return len(self)


class KeyedTable(KeyedState):
    """Keyed state: a row of named values per key, read and written a batch at a time as Arrow arrays
    (`get` / `put` / `delete` / `scan`); the batch-shaped calls are what a disk-backed backend would implement."""

    def __init__(self, key_types: list[pa.DataType], value_types: dict[str, pa.DataType], ttl_ms: int = 0,
                 clock: Callable[[], int] | None = None, max_parallelism: int = DEFAULT_MAX_PARALLELISM):
        self.value_types = dict(value_types)
        self.values: dict[str, np.ndarray] = {n: np.empty(0, dtype=object) for n in self.value_types}
        super().__init__(key_types, ttl_ms, clock, max_parallelism)

    def get(self, keys: list[pa.Array], n: int) -> tuple[dict[str, pa.Array], np.ndarray]:
        """The values of each row's key (NULL where absent) and a mask of the rows whose key is present."""
        slots = self.slots(keys, n)
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
        slots = self.slots(keys, n)
        self._set(slots, values)
        self.live[slots] = True
        self.written[slots] = self.ttl.now if self.ttl.enabled else 0

    def delete(self, keys: list[pa.Array], n: int) -> None:
        slots = self.slots(keys, n)
        self.drop(np.unique(slots))

    def scan(self, groups: range | None = None) -> pa.Table:
        """Every live key (of the key groups `groups`, or all) and its values: key columns `k0..`, then the
        value columns."""
        slots = self.live_slots(groups)
        cols = {**self.key_columns(slots), **self._value_columns(slots)}
        return pa.table(cols) if cols else pa.table({"$n": pa.array(np.ones(len(slots), np.int8))})

    def _required(self) -> tuple[str, ...]:
        return (*self.value_types, "$written")

    def _grow(self, size: int) -> None:
        for name in self.value_types:
            old = self.values[name] if size else np.empty(0, dtype=object)
            self.values[name] = np.concatenate([old, np.empty(max(size - len(old), 0), dtype=object)])

    def _clear(self, slots: np.ndarray) -> None:
        for name in self.values:
            self.values[name][slots] = None

    def _value_columns(self, slots: np.ndarray) -> dict[str, pa.Array]:
        return {name: pa.array(self.values[name][slots].tolist(), t) for name, t in self.value_types.items()}

    def _restore_values(self, slots: np.ndarray, table: pa.Table) -> None:
        self._set(slots, {n: table.column(n).combine_chunks() for n in self.value_types})

    def _set(self, slots: np.ndarray, values: dict[str, pa.Array]) -> None:
        for name in self.value_types:
            self.values[name][slots] = values[name].to_pylist()

    def size_bytes(self) -> int:
        return 32 * len(self) * (1 + len(self.key_types) + len(self.value_types))


class KeyedAccumulators(KeyedState):
    """A GROUP BY's state: per key, its row count and one accumulator per aggregate call (`Accumulator`,
    vectorized over the slots as group ids). The operator runs the accumulators over the slots and marks a
    key live while its count is not 0; a snapshot holds each key's `count` and the accumulators' `state`
    columns `a<j>_<state name>`, and an accumulator whose columns a snapshot lacks (it kept nothing) starts
    empty."""

    def __init__(self, key_types: list[pa.DataType], accumulators: list, ttl_ms: int = 0,
                 clock: Callable[[], int] | None = None, max_parallelism: int = DEFAULT_MAX_PARALLELISM):
        self.accumulators = list(accumulators)
        self.count = np.zeros(0, dtype=np.int64)
        super().__init__(key_types, ttl_ms, clock, max_parallelism)

    def _required(self) -> tuple[str, ...]:
        return ("count",)

    def _grow(self, size: int) -> None:
        if size == 0:
            self.count = np.zeros(0, dtype=np.int64)
        elif size > len(self.count):
            self.count = np.concatenate([self.count, np.zeros(size - len(self.count), dtype=np.int64)])
        for acc in self.accumulators:
            acc.grow(size)

    def _clear(self, slots: np.ndarray) -> None:
        self.count[slots] = 0
        for acc in self.accumulators:
            acc.clear(slots)

    def _value_columns(self, slots: np.ndarray) -> dict[str, pa.Array]:
        cols = {"count": pa.array(self.count[slots], pa.int64())}
        for j, acc in enumerate(self.accumulators):
            for name, arr in zip(acc.state_names, acc.state(slots)):
                cols[f"a{j}_{name}"] = arr
        return cols

    def _restore_values(self, slots: np.ndarray, table: pa.Table) -> None:
        self.count[slots] = np.asarray(table.column("count").to_numpy(zero_copy_only=False), dtype=np.int64)
        for j, acc in enumerate(self.accumulators):
            names = [f"a{j}_{name}" for name in acc.state_names]
            if names[0] in table.column_names:
                acc.merge([table.column(c).combine_chunks() if c in table.column_names else None for c in names],
                          slots)
        self.live[slots] = self.count[slots] != 0

    def size_bytes(self) -> int:
        return self.count.nbytes + sum(acc.size_bytes() for acc in self.accumulators) + 100 * len(self)


class RowStore:
    """Rows an operator keeps in a layout of its own (waiting rows, sorted runs, a join side), kept in memory.

    The calls below are the whole interface operators use, so a backend that keeps rows elsewhere (on disk)
    gives its own class with the same calls and no operator changes. Rows have positions 0..len-1 in the order
    they were appended; each row has the columns of the declared `schema` and per-row values in numpy arrays
    (`arrays`: name -> dtype; arrival numbers, matched flags). Reads: `rows(positions)`, `column(name)`,
    `array(name)` (read-only: write through `set`), `len`, `fragments()`. Writes: `append`, `set`, `keep`,
    `merge_fragments`, `many_fragments`, `merge_newest_fragments`, `replace`. A snapshot holds the rows whose `live` array is set (all rows without one), the arrays as
    `$name`; `transient` arrays (ids only meaningful in this process) are not written and come back as `fill`
    on restore, and `take_restored()` tells the operator once to rebuild what it derives from the rows. A
    snapshot of another layout (an operator of another version) is refused on restore, naming the difference.

    A backend that only moves where the rows live subclasses this and overrides `_stored`, `_store_rows`
    and `_append_rows` (the snapshot layout and its checks stay the same)."""

    def __init__(self, schema: pa.Schema, arrays: dict[str, Any] | None = None, live: str | None = None,
                 transient: tuple[str, ...] = (), fill: int = -1):
        self.schema, self.live, self.transient, self.fill = schema, live, transient, fill
        self.dtypes = {n: np.dtype(t) for n, t in (arrays or {}).items()}
        self._arrays = {n: Growing(np.zeros(0, t)) for n, t in self.dtypes.items()}
        self._n = 0
        self._restored = False
        self._store_rows(schema.empty_table())

    # ---- where the rows live (memory here) --------------------------------------------------------------
    def _stored(self) -> pa.Table:
        """All rows, as an Arrow table of the schema."""
        return self._table

    def _store_rows(self, table: pa.Table) -> None:
        """Replace all rows with `table`."""
        self._table = table

    def _append_rows(self, table: pa.Table) -> None:
        """Add `table`'s rows after the others."""
        self._table = pa.concat_tables([self._table, table]) if self._table.num_rows else table

    # ---- the interface operators use ------------------------------------------------------------------------
    def __len__(self) -> int:
        return self._n

    def rows(self, positions: np.ndarray | None = None) -> pa.Table:
        """All rows, or the rows at `positions` (in that order)."""
        table = self._stored()
        return table if positions is None else take_rows(table, positions)

    def column(self, name: str) -> pa.ChunkedArray:
        """One column of all rows."""
        return self._stored().column(name)

    def fragments(self) -> int:
        """How many pieces the rows are kept in (appends since the last `keep` / `replace`): an operator that
        appends often calls `keep` on all rows when this grows, to store them as one piece."""
        table = self._stored()
        return table.column(0).num_chunks if table.num_columns else 1

    def array(self, name: str) -> np.ndarray:
        """A per-row array, read-only (write it with `set`)."""
        view = self._arrays[name].values
        view.flags.writeable = False
        return view

    def set(self, name: str, positions: np.ndarray, values: Any) -> None:
        """Write per-row values of `name` at `positions`."""
        self._arrays[name].values[positions] = values

    def append(self, table: pa.Table, **arrays: np.ndarray) -> int:
        """Add rows (with their per-row arrays); the position of the first."""
        base = self._n
        self._append_rows(table)
        for name, dtype in self.dtypes.items():
            self._arrays[name].append(np.asarray(arrays[name], dtype))
        self._n += table.num_rows
        return base

    def merge_fragments(self, first: int) -> None:
        """Store the pieces from the `first` on as one (positions do not change): fewer pieces to take rows from,
        without copying the older ones."""
        table = self._stored()
        batches = table.to_batches()
        if len(batches) - first < 2:
            return
        merged = pa.Table.from_batches(batches[first:], table.schema).combine_chunks()
        self._store_rows(pa.Table.from_batches(batches[:first] + merged.to_batches(), table.schema))

    def many_fragments(self) -> bool:
        """Whether the rows are in more pieces than is cheap: taking rows, measuring the store and listing its
        pieces cost per piece, so an operator that appends every batch checks this after it appends and then
        calls `merge_newest_fragments`; else small batches (one row each, from a low-latency source) would make
        each batch cost more than the one before. Pieces of BIG_FRAGMENT rows or more on average cost little per
        row, however many."""
        pieces = self.fragments()
        return pieces > MANY_FRAGMENTS and pieces > len(self) // BIG_FRAGMENT

    def merge_newest_fragments(self) -> None:
        """Joins the newest pieces: at least half of them, and each older piece no larger than the pieces joined
        so far, so that a row is copied a few times in all rather than once per join."""
        sizes = [b.num_rows for b in self._stored().to_batches()]
        if len(sizes) < 2:
            return
        first, total = len(sizes) - 1, sizes[-1]
        while first > 0 and (len(sizes) - first < len(sizes) // 2 or sizes[first - 1] <= total):
            first -= 1
            total += sizes[first]
        self.merge_fragments(first)

    def keep(self, positions: np.ndarray) -> None:
        """Keep only the rows at `positions`, in the order given (they are renumbered 0..)."""
        positions = np.asarray(positions, np.int64)
        self._store_rows(take_rows(self._stored(), positions).combine_chunks())
        self._arrays = {n: Growing(a.values[positions]) for n, a in self._arrays.items()}
        self._n = len(positions)

    def replace(self, table: pa.Table, **arrays: np.ndarray) -> None:
        """Replace all rows (and their per-row arrays)."""
        self._store_rows(table)
        self._arrays = {n: Growing(np.array(arrays[n], t)) for n, t in self.dtypes.items()}
        self._n = table.num_rows

    def take_restored(self) -> bool:
        """Whether a restore brought rows the operator has not yet rebuilt its own structures from (asked once)."""
        restored, self._restored = self._restored, False
        return restored

    # ---- snapshots ------------------------------------------------------------------------------------------
    def snapshot(self) -> pa.Table:
        """The rows and per-row arrays as a table. Without a `live` array the per-row columns are views of the
        buffers `set` writes into (not copied per checkpoint): the table holds until the next write, and
        `StateBackend.snapshot` writes it out as IPC at once, on the operator's thread (in a subtask's process or
        a Ray actor too), before the operator goes on."""
        rows = np.flatnonzero(self._arrays[self.live].values) if self.live else None
        table = self.rows(rows)
        for name, values in self._arrays.items():
            values = values.values
            if name not in self.transient:
                table = table.append_column(f"${name}", pa.array(values if rows is None else values[rows]))
        return table

    def _layout(self) -> pa.Schema:
        return pa.schema(list(self.schema) + [pa.field(f"${n}", pa.from_numpy_dtype(t))
                                              for n, t in self.dtypes.items() if n not in self.transient])

    @staticmethod
    def _check(table: pa.Table, layout: pa.Schema, shown: pa.Schema | None = None) -> None:
        """Refuse a snapshot whose columns are not `layout` (naming those of `shown`, or of the layout)."""
        if table.schema.names != layout.names or table.schema.types != layout.types:
            raise ValueError(f"the snapshot's rows have columns ({_columns_text(table.schema)}) where the operator "
                             f"keeps ({_columns_text(shown or layout)}): it was written by another version of the "
                             f"operator")

    def restore(self, table: pa.Table) -> None:
        table = table.replace_schema_metadata(None)
        self._check(table, self._layout())
        n = table.num_rows
        self._store_rows(table.select(self.schema.names).cast(self.schema).combine_chunks())
        self._arrays = {name: Growing(np.full(n, self.fill, t) if name in self.transient
                                      else np.array(table.column(f"${name}").to_numpy(zero_copy_only=False), t))
                        for name, t in self.dtypes.items()}
        self._n = n
        self._restored = True

    def size_bytes(self) -> int:
        return self._stored().nbytes + sum(a.values.nbytes for a in self._arrays.values())

    def size_rows(self) -> int:
        return int(self._arrays[self.live].values.sum()) if self.live else self._n


class KeyedRows(RowStore):
    """Rows in the operator's layout that each belong to a key (the `keys` columns of the schema: a partition's
    waiting rows, the rows its partial matches hold). A snapshot adds each row's key group (`$key_group`),
    whole or for a range of key groups, and a restore takes several subtasks' snapshots and keeps the rows of a
    range: rescaling moves a key's rows whole, in their order. Whatever the operator derives from its rows
    (positions, arrival numbers) it rebuilds when `restored` is set. As in a row store, a `live` array leaves
    the rows it does not set out of snapshots."""

    splits_by_key_group = True

    def __init__(self, schema: pa.Schema, keys: list[str], arrays: dict[str, Any] | None = None,
                 max_parallelism: int = DEFAULT_MAX_PARALLELISM, live: str | None = None,
                 transient: tuple[str, ...] = ()):
        self.keys, self.max_parallelism = list(keys), max_parallelism
        super().__init__(schema, arrays, live, transient)

    def snapshot(self, groups: range | None = None) -> pa.Table:
        table = super().snapshot()
        keys = [table.column(k).combine_chunks() for k in self.keys]
        group = key_groups(keys, table.num_rows, self.max_parallelism)
        table = table.append_column("$key_group", pa.array(group, pa.int64()))
        if groups is not None:
            table = table.filter(pa.array((group >= groups.start) & (group < groups.stop)))
        return table

    def _layout(self) -> pa.Schema:
        return super()._layout().append(pa.field("$key_group", pa.int64()))

    def restore(self, table: pa.Table, groups: range | None = None) -> None:
        """A snapshot without key groups (of the rows kept before they were keyed) gets them from its keys."""
        if "$key_group" not in table.column_names:
            self._check(table.replace_schema_metadata(None), super()._layout(), self._layout())
            group = key_groups([table.column(k).combine_chunks() for k in self.keys], table.num_rows,
                               self.max_parallelism)
            table = table.append_column("$key_group", pa.array(group, pa.int64()))
        if groups is not None and "$key_group" in table.column_names:
            group = np.asarray(table.column("$key_group").to_numpy(), np.int64)
            table = table.filter(pa.array((group >= groups.start) & (group < groups.stop)))
        super().restore(table)


class KeyedSnapshot:
    """State whose every row carries its key in the columns `key_columns` (the operator writes the rows,
    `owner.snapshot_table()`, and reads them back, `owner.restore_tables(tables)`, in layouts of its own): a
    snapshot is taken whole or for a range of key groups, and restored from one or several subtasks' snapshots
    keeping the rows of a range, so the operator's state rescales as a keyed table's does."""

    splits_by_key_group = True

    def __init__(self, owner, key_columns: list[str], max_parallelism: int = DEFAULT_MAX_PARALLELISM):
        self.owner, self.key_columns, self.max_parallelism = owner, list(key_columns), max_parallelism

    def _in(self, table: pa.Table, groups: range | None) -> pa.Table:
        if groups is None or table.num_rows == 0:
            return table
        g = key_groups([table.column(c).combine_chunks() for c in self.key_columns], table.num_rows,
                       self.max_parallelism)
        return table.filter(pa.array((g >= groups.start) & (g < groups.stop)))

    def snapshot(self, groups: range | None = None) -> pa.Table:
        return self._in(self.owner.snapshot_table(), groups)

    def restore(self, table: pa.Table) -> None:
        self.owner.restore_tables([table])

    def restore_parts(self, tables: list[pa.Table], groups: range | None) -> None:
        """Several subtasks' snapshots, keeping the rows of the key groups `groups`."""
        self.owner.restore_tables([self._in(t, groups) for t in tables])

    def size_bytes(self) -> int:
        return self.owner.state_size_bytes()


def _columns_text(schema: pa.Schema) -> str:
    return ", ".join(f"{n} {t}" for n, t in zip(schema.names, schema.types))


class StateBackend:
    """In-memory state: name -> table object; snapshots are Arrow IPC bytes per table."""

    def __init__(self, operator_uid: str = "", key_groups: range | None = None,
                 max_parallelism: int = DEFAULT_MAX_PARALLELISM) -> None:
        """key_groups: the key groups the operator's subtask owns (all of them outside parallel subtasks);
        max_parallelism: the job's number of key groups ('pipeline.max-parallelism', `max_parallelism_of`), which
        every kind declared here computes its keys' key groups with, as routing to subtasks does."""
        self.uid = operator_uid
        self.max_parallelism = max_parallelism
        self.key_groups = key_groups if key_groups is not None else range(0, max_parallelism)
        self.tables: dict[str, Snapshottable] = {}

    def register(self, name: str, table: Any) -> Any:
        if name in self.tables:
            raise ValueError(f"state table {name!r} registered twice in operator {self.uid}")
        self.tables[name] = table
        return table

    def keyed_table(self, name: str, key_types: list[pa.DataType], value_types: dict[str, pa.DataType],
                    ttl_ms: int = 0, clock: Callable[[], int] | None = None) -> KeyedTable:
        """Declare a keyed state table; the backend decides where it lives (memory here)."""
        return self.register(name, KeyedTable(key_types, value_types, ttl_ms, clock, self.max_parallelism))

    def keyed_accumulators(self, name: str, key_types: list[pa.DataType], accumulators: list, ttl_ms: int = 0,
                           clock: Callable[[], int] | None = None) -> KeyedAccumulators:
        """Declare a GROUP BY's state: a row count and accumulators per key."""
        return self.register(name, KeyedAccumulators(key_types, accumulators, ttl_ms, clock, self.max_parallelism))

    def join_side_rows(self, name: str, names: list[str], types: list[pa.DataType], key_positions: list[int],
                       key_ids: KeyIds, keep_null_keys: bool = False, clock: Callable[[], int] | None = None,
                       on_restore: Callable[[], None] | None = None) -> JoinSideRows:
        """Declare a regular join side's rows (sorted runs by key id)."""
        return self.register(name, JoinSideRows(names, types, key_positions, key_ids, keep_null_keys, clock,
                                                on_restore, self.max_parallelism))

    def row_store(self, name: str, schema: pa.Schema, arrays: dict[str, Any] | None = None,
                  live: str | None = None, transient: tuple[str, ...] = ()) -> RowStore:
        """Declare rows kept in the operator's own layout."""
        return self.register(name, RowStore(schema, arrays, live, transient))

    def keyed_rows(self, name: str, schema: pa.Schema, keys: list[str], arrays: dict[str, Any] | None = None,
                   live: str | None = None, transient: tuple[str, ...] = ()) -> KeyedRows:
        """Declare rows kept in the operator's layout that split by the key group of their `keys` columns."""
        return self.register(name, KeyedRows(schema, keys, arrays, self.max_parallelism, live, transient))

    def keyed_snapshot(self, name: str, owner: Any, key_columns: list[str]) -> KeyedSnapshot:
        """Declare state an operator writes as rows carrying their key (`KeyedSnapshot`)."""
        return self.register(name, KeyedSnapshot(owner, key_columns, self.max_parallelism))

    def window_buffer(self, name: str, keys: list[str] | None = None,
                      on_restore: Callable[[], None] | None = None) -> WindowBuffer:
        """Declare the rows of unfired windows, by window end (split by the key group of their `keys` columns
        when given)."""
        return self.register(name, WindowBuffer(keys, self.max_parallelism, on_restore))

    def counters(self, name: str, owner: Any, fields: tuple[str, ...], sums: tuple[str, ...] = ()) -> Counters:
        """Declare an operator's scalar progress fields (attributes of `owner`; `sums`: those that count)."""
        return self.register(name, Counters(owner, fields, sums, self.key_groups.start))

    def snapshot(self, groups: range | None = None) -> dict[str, bytes]:
        """Each table as Arrow IPC bytes; with `groups`, only the keys of those key groups (every table must
        then be keyed)."""
        out = {}
        for name, t in self.tables.items():
            if groups is not None and not _splits(t):
                raise ValueError(f"state table {name!r} of operator {self.uid} is not keyed, so it cannot be "
                                 f"split by key group")
            out[name] = _ipc(t.snapshot(groups) if groups is not None else t.snapshot())
        return out

    def restore(self, blobs: dict[str, bytes] | list[dict[str, bytes]], groups: range | None = None) -> None:
        """Restore from one snapshot, or from several subtasks' snapshots of keyed tables keeping the keys of
        the key groups `groups` (rescaling)."""
        parts = blobs if isinstance(blobs, list) else [blobs]
        names = {name for part in parts for name in part}
        for name in names:
            if name not in self.tables:
                raise ValueError(f"operator {self.uid} has no state table {name!r}")
        for name in [n for n in self.tables if n in names]:  # in the order declared
            tables = [pa.ipc.open_stream(part[name]).read_all() for part in parts if name in part]
            table = self.tables[name]
            if groups is None and len(tables) == 1:
                table.restore(tables[0])
            elif hasattr(table, "restore_parts"):  # a kind that merges the parts itself
                table.restore_parts(tables, groups)
            elif _splits(table):  # an empty part may lack the columns of rows it never had
                tables = [t for t in tables if t.num_rows] or tables[:1]
                table.restore(pa.concat_tables([t.replace_schema_metadata(None) for t in tables]), groups)
            else:
                raise ValueError(f"state table {name!r} of operator {self.uid} is not keyed, so it cannot be "
                                 f"restored from several subtasks' snapshots")

    def size_bytes(self) -> int:
        return sum(t.size_bytes() for t in self.tables.values())

    def size_rows(self) -> int | None:
        """Rows (keys, buffered records) held, counted by the tables that can tell (`size_rows()`); None when
        none of them can."""
        counted = [t.size_rows() for t in self.tables.values() if hasattr(t, "size_rows")]
        return sum(counted) if counted else None


BACKEND_OPTION = "state.backend.type"


def state_backend_class(config: dict) -> type[StateBackend]:
    """The state backend the job's configuration names: 'hashmap' (Flink's default, state in memory) or the
    module path of a `StateBackend` subclass (`package.module.ClassName`, as Flink takes a factory's class name),
    e.g. one that keeps state on disk."""
    name = str(config.get(BACKEND_OPTION, "hashmap")).strip()
    if name.lower() == "hashmap":
        return StateBackend
    module, _, attr = name.rpartition(".")
    found = None
    if module:
        import importlib
        try:
            found = getattr(importlib.import_module(module), attr, None)
        except ImportError:
            found = None
    if not (isinstance(found, type) and issubclass(found, StateBackend)):
        raise OptionError(f"'{BACKEND_OPTION}' = '{name}' is not a state backend sqlstream has: use 'hashmap' "
                          f"(state in memory) or the module path of a StateBackend subclass "
                          f"(package.module.ClassName)")
    return found


def _splits(table: Any) -> bool:
    """Whether a state table's snapshot splits by key group (and restores from several subtasks' snapshots)."""
    return getattr(table, "splits_by_key_group", False)


def _ipc(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as w:
        w.write_table(table)
    return sink.getvalue()
