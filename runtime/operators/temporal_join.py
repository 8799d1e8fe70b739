"""Event-time temporal join, as Flink's TemporalRowTimeJoinOperator.

Left rows wait in state until the watermark (the minimum of both inputs) reaches their time; then, in time
order, each joins the version of its key's right row with the largest time at or before the left row's time.
A version that is a deletion (-D), or no version at all, is no match (-U is skipped: the right side is read
as the upsert stream of a versioned table): INNER drops the row, LEFT pads it
with NULLs. Right versions are kept per key and time (a later row with the same time replaces the earlier one);
versions older than the one valid at the watermark are dropped when that key's left rows are emitted. Left
rows are never late: one behind the watermark is emitted at the next watermark advance.
"""
from __future__ import annotations

import bisect

import numpy as np
import pyarrow as pa

from sqlstream.plan.expr import Expr
from sqlstream.core.changelog import INSERT, UPDATE_AFTER, UPDATE_BEFORE, data_columns, make_batch
from sqlstream.runtime.operator import Operator, OperatorContext
from sqlstream.runtime.rows import batch_rows, columns, rows_table, table_rows
from sqlstream.runtime.operators.join import check_pairs
from sqlstream.runtime.event_time import rowtime_ms


class _LeftBuffer:
    """Left rows waiting for the watermark: (time ms, row), in arrival order."""

    def __init__(self, types: list[pa.DataType]):
        self.types = types
        self.rows: list[tuple[int, tuple]] = []

    def snapshot(self) -> pa.Table:
        return rows_table([r for _, r in self.rows], self.types, {"$time": pa.array([t for t, _ in self.rows],
                                                                                 pa.int64())})

    def restore(self, table: pa.Table) -> None:
        self.rows = list(zip(table.column("$time").to_pylist(), table_rows(table, len(self.types))))

    def size_bytes(self) -> int:
        return len(self.rows) * 16 * max(1, len(self.types))


class _Versions:
    """Right rows by key: key -> (sorted times, {time: (accumulate?, row)})."""

    def __init__(self, types: list[pa.DataType], keys: list[int]):
        self.types, self.keys = types, keys
        self.by_key: dict[tuple, tuple[list[int], dict[int, tuple[bool, tuple]]]] = {}

    def put(self, key: tuple, time: int, accumulate: bool, row: tuple) -> None:
        times, rows = self.by_key.setdefault(key, ([], {}))
        if time not in rows:
            bisect.insort(times, time)
        rows[time] = (accumulate, row)

    def valid_at(self, key: tuple, time: int) -> tuple | None:
        """The row of the version valid at `time`, or None (no version, or a retraction)."""
        entry = self.by_key.get(key)
        if entry is None:
            return None
        times, rows = entry
        i = bisect.bisect_right(times, time)
        if i == 0:
            return None
        accumulate, row = rows[times[i - 1]]
        return row if accumulate else None

    def expire(self, key: tuple, watermark: int) -> None:
        """Drop versions older than the one valid at the watermark (no left row can need them any more)."""
        entry = self.by_key.get(key)
        if entry is None:
            return
        times, rows = entry
        keep_from = max(0, bisect.bisect_right(times, watermark) - 1)
        for t in times[:keep_from]:
            del rows[t]
        del times[:keep_from]

    def snapshot(self) -> pa.Table:
        flat = [(t, acc, row) for times, rows in self.by_key.values() for t in times for acc, row in [rows[t]]]
        return rows_table([r for _, _, r in flat], self.types, {
            "$time": pa.array([t for t, _, _ in flat], pa.int64()),
            "$accumulate": pa.array([a for _, a, _ in flat], pa.bool_())})

    def restore(self, table: pa.Table) -> None:
        self.by_key = {}
        for t, acc, row in zip(table.column("$time").to_pylist(), table.column("$accumulate").to_pylist(),
                               table_rows(table, len(self.types))):
            self.put(tuple(row[i] for i in self.keys), t, acc, row)

    def size_bytes(self) -> int:
        return sum(len(times) for times, _ in self.by_key.values()) * 16 * max(1, len(self.types))


class TemporalJoinOperator(Operator):
    name = "TemporalJoin"

    def __init__(self, kind: str, left_keys: list[int], right_keys: list[int], left_time: int, right_time: int,
                 condition: Expr | None, left_types: list[pa.DataType], right_types: list[pa.DataType],
                 names: list[str]):
        self.kind, self.condition, self.names = kind, condition, names
        self.left_keys, self.right_keys = left_keys, right_keys
        self.left_time, self.right_time = left_time, right_time
        self.left_types, self.right_types = left_types, right_types
        self.left = _LeftBuffer(left_types)
        self.right = _Versions(right_types, right_keys)

    def open(self, ctx: OperatorContext) -> None:
        ctx.register("left_rows", self.left)
        ctx.register("right_versions", self.right)

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        cols = data_columns(batch)
        rows = batch_rows(cols, batch.num_rows)
        times, valid = rowtime_ms(cols[self.left_time if input == 0 else self.right_time])
        if input == 0:
            self.left.rows.extend((int(t), r) for t, ok, r in zip(times, valid, rows) if ok)
            return []
        ops = batch.column(0).to_numpy(zero_copy_only=False)
        for t, ok, op, row in zip(times, valid, ops, rows):
            key = tuple(row[i] for i in self.right_keys)
            if op == UPDATE_BEFORE:
                continue  # a versioned table is an upsert stream: the +U that follows is the new version
            if ok and None not in key:
                self.right.put(key, int(t), op in (INSERT, UPDATE_AFTER), row)
        return []

    def on_watermark(self, wm: int) -> list[pa.RecordBatch]:
        ready = sorted(((t, r) for t, r in self.left.rows if t <= wm), key=lambda e: e[0])  # stable: ties keep
        # arrival order. Time order (Flink: arrival order within one watermark step) does not depend on how
        # far each watermark step reaches, so the output is the same for any batch size.
        if not ready:
            return []
        self.left.rows = [(t, r) for t, r in self.left.rows if t > wm]
        matches = []
        for t, row in ready:
            key = tuple(row[i] for i in self.left_keys)
            matches.append(None if None in key else self.right.valid_at(key, t))
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
        return {"state_bytes": self.left.size_bytes() + self.right.size_bytes()}
