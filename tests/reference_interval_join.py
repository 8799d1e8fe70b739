"""Reference: the interval join one row at a time, as runtime/operators/interval_join.py must behave (that
column-wise operator is checked against this one on random inputs). Flink's RowTimeIntervalJoin: rows match
when their keys are equal and
right.rowtime - left.rowtime lies in [lower, upper] (plus any other condition).

A row joins the other side's kept rows on arrival (+I for each match). It is kept while the other side can
still bring a match: a left row at t until the watermark passes t + upper, a right row at t until it passes
t - lower. When a row of an outer side leaves unmatched, it is emitted NULL-padded, so the result is
append-only (no retractions, unlike a regular outer join). A row whose interval the watermark has already
passed when it arrives is joined with what is kept and, if outer and unmatched, padded at once.
"""
from __future__ import annotations

import heapq

import numpy as np
import pyarrow as pa

from sqlstream.plan.expr import Expr
from sqlstream.core.changelog import INSERT, data_columns, make_batch, row_watermarks
from sqlstream.runtime.operator import Operator, OperatorContext
from sqlstream.runtime.rows import batch_rows, columns, rows_table, table_rows
from sqlstream.runtime.operators.join import check_pairs
from sqlstream.runtime.event_time import MIN_WM, rowtime_ms


class _Kept:
    """One side's kept rows by key: key -> list of [time ms, arrival seq, row, matched]."""

    def __init__(self, types: list[pa.DataType], keys: list[int]):
        self.types, self.keys = types, keys
        self.rows: dict[tuple, list[list]] = {}

    def snapshot(self) -> pa.Table:
        entries = [e for es in self.rows.values() for e in es]
        return rows_table([e[2] for e in entries], self.types, {
            "$time": pa.array([e[0] for e in entries], pa.int64()),
            "$seq": pa.array([e[1] for e in entries], pa.int64()),
            "$matched": pa.array([e[3] for e in entries], pa.bool_())})

    def restore(self, table: pa.Table) -> None:
        self.rows = {}
        for t, seq, row, m in zip(table.column("$time").to_pylist(), table.column("$seq").to_pylist(),
                                  table_rows(table, len(self.types)), table.column("$matched").to_pylist()):
            self.rows.setdefault(tuple(row[i] for i in self.keys), []).append([t, seq, row, m])

    def size_bytes(self) -> int:
        return sum(len(es) for es in self.rows.values()) * 16 * (len(self.types) + 3)


class IntervalJoinOperator(Operator):
    name = "IntervalJoin"

    def __init__(self, kind: str, left_keys: list[int], right_keys: list[int], left_time: int, right_time: int,
                 lower: int, upper: int, condition: Expr | None, left_types: list[pa.DataType],
                 right_types: list[pa.DataType], names: list[str]):
        self.kind, self.condition, self.names = kind, condition, names
        self.keys = (left_keys, right_keys)
        self.times = (left_time, right_time)
        self.lower, self.upper = lower, upper
        self.types = (left_types, right_types)
        self.kept = (_Kept(left_types, left_keys), _Kept(right_types, right_keys))
        self.outer = (kind in ("LEFT", "FULL"), kind in ("RIGHT", "FULL"))
        self.wm = MIN_WM
        self.seq = 0
        self.expiry: list[tuple] = []  # heap of (closes_at, side, seq, key, entry)
        self.input_watermarks = [MIN_WM, MIN_WM]

    def open(self, ctx: OperatorContext) -> None:
        ctx.register("left_rows", _KeptState(self, 0))
        ctx.register("right_rows", _KeptState(self, 1))

    def _closes_at(self, side: int, t: int) -> int:
        """The watermark after which no row of the other side can match a row of `side` at time t."""
        return t + self.upper if side == 0 else t - self.lower

    def _pad(self, side: int, row: tuple) -> tuple:
        nulls = tuple([None] * len(self.types[1 - side]))
        return row + nulls if side == 0 else nulls + row

    def _keep(self, side: int, key: tuple, entry: list) -> None:
        self.kept[side].rows.setdefault(key, []).append(entry)
        heapq.heappush(self.expiry, (self._closes_at(side, entry[0]), side, entry[1], key, entry))

    def _advance(self, wm: int, out: list[tuple]) -> None:
        """Watermark `wm`: rows whose interval it has passed leave (outer ones unmatched are padded), in the
        order they close, so the output is the same however the watermark advanced."""
        if wm <= self.wm:
            return
        self.wm = wm
        while self.expiry and self.expiry[0][0] < wm:
            _, side, _, key, entry = heapq.heappop(self.expiry)
            rows = self.kept[side].rows
            rows[key].remove(entry)
            if not rows[key]:
                del rows[key]
            if self.outer[side] and not entry[3]:
                out.append(self._pad(side, entry[2]))

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        s, o = input, 1 - input
        cols = data_columns(batch)
        rows = batch_rows(cols, batch.num_rows)
        times, valid = rowtime_ms(cols[self.times[s]])
        # the watermark in force before each row: this input's (carried per row) and the other's
        row_wm = row_watermarks(batch)
        other_wm = self.input_watermarks[o]
        before = np.minimum(row_wm, other_wm) if row_wm is not None else np.full(len(rows), self.wm)
        keys = [tuple(row[k] for k in self.keys[s]) for row in rows]
        # candidate pairs: kept rows of the other side still open when each row arrives
        other = self.kept[o].rows
        pairs, owners = [], []
        lower, upper = self.lower, self.upper
        for i, row in enumerate(rows):
            if None in keys[i] or not valid[i]:
                continue
            t, now = int(times[i]), max(self.wm, int(before[i]))
            # the other side's rows within the interval of this one, and still kept when it arrives
            lo, hi = (t + lower, t + upper) if s == 0 else (t - upper, t - lower)
            for e in other.get(keys[i], ()):
                if lo <= e[0] <= hi and now <= self._closes_at(o, e[0]):
                    pairs.append((row, e[2]) if s == 0 else (e[2], row))
                    owners.append((i, e))
        ok = check_pairs(self.condition, self.types[0] + self.types[1], pairs)
        joined: list[list[tuple]] = [[] for _ in rows]
        for good, pair, (i, e) in zip(ok, pairs, owners):
            if good:
                joined[i].append(pair[0] + pair[1])
                e[3] = True
        out: list[tuple] = []
        for i, row in enumerate(rows):
            self._advance(int(before[i]), out)
            out += joined[i]
            if not valid[i] or None in keys[i]:
                if self.outer[s]:
                    out.append(self._pad(s, row))
                continue
            t = int(times[i])
            if self.wm < self._closes_at(s, t):
                self.seq += 1
                self._keep(s, keys[i], [t, self.seq, row, bool(joined[i])])
            elif self.outer[s] and not joined[i]:
                out.append(self._pad(s, row))
        return self._emit(out)

    def on_watermark(self, wm: int) -> list[pa.RecordBatch]:
        out: list[tuple] = []
        self._advance(wm, out)
        return self._emit(out)

    def _emit(self, out: list[tuple]) -> list[pa.RecordBatch]:
        if not out:
            return []
        cols = columns(out, self.types[0] + self.types[1])
        return [make_batch(pa.array(np.full(len(out), INSERT, dtype=np.int8)), cols, self.names)]

    def metrics(self) -> dict:
        return {"state_bytes": self.kept[0].size_bytes() + self.kept[1].size_bytes()}


class _KeptState:
    """A side's kept rows as a state table; a restore also rebuilds the expiry heap."""

    def __init__(self, op: IntervalJoinOperator, side: int):
        self.op, self.side = op, side

    def snapshot(self) -> pa.Table:
        t = self.op.kept[self.side].snapshot()
        return t.append_column("$wm", pa.array([self.op.wm] * t.num_rows, pa.int64()))

    def restore(self, table: pa.Table) -> None:
        op, kept = self.op, self.op.kept[self.side]
        if table.num_rows:
            op.wm = max(op.wm, table.column("$wm")[0].as_py())
        kept.restore(table.drop_columns(["$wm"]))
        op.expiry = [e for e in op.expiry if e[1] != self.side]
        for key, entries in kept.rows.items():
            for entry in entries:
                op.expiry.append((op._closes_at(self.side, entry[0]), self.side, entry[1], key, entry))
                op.seq = max(op.seq, entry[1])
        heapq.heapify(op.expiry)

    def size_bytes(self) -> int:
        return self.op.kept[self.side].size_bytes()
