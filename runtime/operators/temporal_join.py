"""Event-time temporal join, as Flink's TemporalRowTimeJoinOperator.

Left rows wait in state until the watermark (the minimum of both inputs) reaches their time; then, in time
order, each joins the version of its key's right row with the largest time at or before the left row's time.
A version that is a deletion (-D), or no version at all, is no match (-U is skipped: the right side is read
as the upsert stream of a versioned table): INNER drops the row, LEFT pads it with NULLs. Right versions are
kept per key and time (a later row with the same time replaces the earlier one) in a row store, indexed by key
and time; versions older than the one valid at the watermark are dropped when that key's
left rows are emitted. Left rows wait in a row store; they are never late: one behind the watermark is emitted
at the next watermark advance.
"""
from __future__ import annotations

import bisect

import numpy as np
import pyarrow as pa

from sqlstream.plan.expr import Expr
from sqlstream.core.changelog import INSERT, UPDATE_AFTER, UPDATE_BEFORE, data_columns, make_batch
from sqlstream.runtime.operator import Operator, OperatorContext
from sqlstream.runtime.rows import batch_rows, columns, table_rows
from sqlstream.runtime.operators.join import check_pairs
from sqlstream.runtime.event_time import rowtime_ms
from sqlstream.runtime.state import RowStore


class _Versions:
    """Right versions in a row store (rows, `time`, `accumulate`, `live`), with an index of this process: key ->
    (sorted times, store positions), rebuilt from the store after a restore."""

    def __init__(self, store: RowStore, keys: list[int]):
        self.store, self.keys = store, keys
        self.by_key: dict[tuple, tuple[list[int], list[int]]] = {}

    def add(self, table: pa.Table, keys: list[tuple], times: list[int], accumulate: list[bool]) -> None:
        """Add versions (a later one with the same key and time replaces the earlier)."""
        self._index_restored()
        base = self.store.append(table, time=np.array(times, np.int64), accumulate=np.array(accumulate, bool),
                                 live=np.ones(len(times), bool))
        replaced = []
        for j, (key, t) in enumerate(zip(keys, times)):
            entry_times, positions = self.by_key.setdefault(key, ([], []))
            i = bisect.bisect_left(entry_times, t)
            if i < len(entry_times) and entry_times[i] == t:
                replaced.append(positions[i])
                positions[i] = base + j
            else:
                entry_times.insert(i, t)
                positions.insert(i, base + j)
        self.store.set("live", np.array(replaced, np.int64), False)
        if len(self.store) > 2 * int(self.store.array("live").sum()) + 65536:
            self._compact()

    def valid_at(self, key: tuple, time: int) -> int | None:
        """The store position of the version valid at `time`, or None (no version, or a retraction)."""
        entry = self.by_key.get(key)
        if entry is None:
            return None
        i = bisect.bisect_right(entry[0], time)
        if i == 0:
            return None
        position = entry[1][i - 1]
        return position if self.store.array("accumulate")[position] else None

    def expire(self, key: tuple, watermark: int) -> None:
        """Drop versions older than the one valid at the watermark (no left row can need them any more)."""
        entry = self.by_key.get(key)
        if entry is None:
            return
        times, positions = entry
        keep_from = max(0, bisect.bisect_right(times, watermark) - 1)
        self.store.set("live", np.array(positions[:keep_from], np.int64), False)
        del times[:keep_from], positions[:keep_from]

    def rows(self, positions: list[int], types: list[pa.DataType]) -> list[tuple]:
        return table_rows(self.store.rows(np.array(positions, np.int64)), len(types))

    def _compact(self) -> None:
        live = self.store.array("live")
        moved = np.cumsum(live) - 1
        self.store.keep(np.flatnonzero(live))
        for _, positions in self.by_key.values():
            positions[:] = moved[positions].tolist()

    def _index_restored(self) -> None:
        if not self.store.take_restored():
            return
        table, times = self.store.rows(), self.store.array("time")
        order = np.lexsort((times,))
        keys = batch_rows([table.column(k) for k in self.keys], table.num_rows)
        self.by_key = {}
        for p in order.tolist():
            entry = self.by_key.setdefault(keys[p], ([], []))
            entry[0].append(int(times[p]))
            entry[1].append(p)


class TemporalJoinOperator(Operator):
    name = "TemporalJoin"

    def __init__(self, kind: str, left_keys: list[int], right_keys: list[int], left_time: int, right_time: int,
                 condition: Expr | None, left_types: list[pa.DataType], right_types: list[pa.DataType],
                 names: list[str]):
        self.kind, self.condition, self.names = kind, condition, names
        self.left_keys, self.right_keys = left_keys, right_keys
        self.left_time, self.right_time = left_time, right_time
        self.left_types, self.right_types = left_types, right_types
        self.left = self.right = None  # declared in open

    def open(self, ctx: OperatorContext) -> None:
        self.left = ctx.keyed_rows("left_rows", pa.schema(
            [(f"c{i}", t) for i, t in enumerate(self.left_types)] + [("$time", pa.int64())]),
            [f"c{i}" for i in self.left_keys])
        versions = ctx.keyed_rows("right_versions", pa.schema([(f"c{i}", t) for i, t in enumerate(self.right_types)]),
                                  [f"c{i}" for i in self.right_keys], {"time": np.int64, "accumulate": bool,
                                                                      "live": bool}, live="live")
        self.right = _Versions(versions, self.right_keys)

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        cols = data_columns(batch)
        rows = batch_rows(cols, batch.num_rows)
        times, valid = rowtime_ms(cols[self.left_time if input == 0 else self.right_time])
        if input == 0:
            keep = pa.array(np.flatnonzero(valid))
            self.left.append(pa.table({**{f"c{i}": c.take(keep) for i, c in enumerate(cols)},
                                       "$time": pa.array(times[valid], pa.int64())}))
            return []
        ops = batch.column(0).to_numpy(zero_copy_only=False)
        taken, keys, version_times, accumulate = [], [], [], []
        for r, (t, ok, op, row) in enumerate(zip(times, valid, ops, rows)):
            key = tuple(row[i] for i in self.right_keys)
            if op == UPDATE_BEFORE:
                continue  # a versioned table is an upsert stream: the +U that follows is the new version
            if ok and None not in key:
                taken.append(r), keys.append(key), version_times.append(int(t))
                accumulate.append(op in (INSERT, UPDATE_AFTER))
        if taken:
            at = pa.array(taken, pa.int64())
            self.right.add(pa.table({f"c{i}": c.take(at) for i, c in enumerate(cols)}), keys, version_times,
                           accumulate)
        return []

    def on_watermark(self, wm: int) -> list[pa.RecordBatch]:
        waiting = self.left.rows()
        due = np.asarray(waiting.column("$time")) <= wm
        if not due.any():
            return []
        # in time order, ties in arrival order (a stable sort). Time order (Flink: arrival order within one
        # watermark step) does not depend on how far each watermark step reaches, so the output is the same for
        # any batch size.
        ready_rows = waiting.filter(pa.array(due))
        ready_rows = ready_rows.take(pa.array(np.argsort(np.asarray(ready_rows.column("$time")), kind="stable")))
        self.left.keep(np.flatnonzero(~due))
        n_left = len(self.left_types)
        ready = list(zip(ready_rows.column("$time").to_pylist(), table_rows(ready_rows, n_left)))
        self.right._index_restored()
        positions = []
        for t, row in ready:
            key = tuple(row[i] for i in self.left_keys)
            positions.append(None if None in key else self.right.valid_at(key, t))
        found = self.right.rows([p for p in positions if p is not None], self.right_types)
        matches = iter(found)
        matches = [None if p is None else next(matches) for p in positions]
        ok = self._check([(row, m) for (_, row), m in zip(ready, matches) if m is not None])
        pad = tuple([None] * len(self.right_types))
        out, checked = [], iter(ok)
        for (_, row), m in zip(ready, matches):
            if m is not None and next(checked):
                out.append(row + m)
            elif self.kind == "LEFT":
                out.append(row + pad)
        for key in {tuple(row[i] for i in self.left_keys) for _, row in ready}:
            self.right.expire(key, wm)
        if not out:
            return []
        cols = columns(out, self.left_types + self.right_types)
        return [make_batch(pa.array(np.full(len(out), INSERT, dtype=np.int8)), cols, self.names)]

    def _check(self, pairs: list[tuple[tuple, tuple]]) -> list[bool]:
        return check_pairs(self.condition, self.left_types + self.right_types, pairs)

    def metrics(self) -> dict:
        return {"state_bytes": self.left.size_bytes() + self.right.store.size_bytes()}
