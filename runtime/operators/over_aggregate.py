"""OVER aggregation on rowtime (ROWS/RANGE .. PRECEDING AND CURRENT ROW), as Flink's rowtime over functions:
rows wait until the watermark passes them and are then processed per partition in (timestamp, arrival)
order. Late rows are dropped: with an unbounded frame a row at or behind the watermark; with a bounded frame a
row not after the last processed timestamp of its partition (a RANGE partition's state, including that
timestamp, is dropped once the watermark passes 1.5 frames after its newest row, as Flink's cleanup timer
does). RANGE frames give rows with the same timestamp (peers) the same result."""
from __future__ import annotations

import decimal
from collections import deque

import numpy as np
import pyarrow as pa

from planner.logical import AggCall
from runtime.changelog import INSERT, data_columns, make_batch, row_watermarks
from runtime.operator import Operator
from runtime.rows import batch_rows, columns, pop_ready, rows_table, table_rows
from runtime.operators.window_aggregate import MIN_WM, rowtime_ms
from runtime.state import StateBackend
from sqlstream.types import FlinkType

_CTX = decimal.Context(prec=60, rounding=decimal.ROUND_HALF_UP)


def aggregate(call: AggCall, values: list) -> object:
    """One aggregate over the argument values of a frame, with Flink's result semantics."""
    if call.fn == "COUNT":
        return len(values) if not call.args else sum(v is not None for v in values)
    if call.fn.startswith("UDAF:"):  # values are argument tuples
        from runtime.aggregates import python_aggregate_for
        return python_aggregate_for(call).over_rows(values)
    vals = [v for v in values if v is not None]
    if call.fn in ("SUM", "SUM0"):
        return sum(vals) if vals else (0 if call.fn == "SUM0" else None)
    if call.fn == "MIN":
        return min(vals) if vals else None
    if call.fn == "MAX":
        return max(vals) if vals else None
    if call.fn == "AVG":
        if not vals:
            return None
        total, n = sum(vals), len(vals)
        t: FlinkType = call.type
        if t.is_integer:
            q = abs(total) // n
            return q if total >= 0 else -q
        if t.is_decimal:
            return _CTX.divide(decimal.Decimal(total), decimal.Decimal(n)).quantize(
                decimal.Decimal(1).scaleb(-t.scale), context=_CTX)
        return total / n
    if call.fn in ("FIRST_VALUE", "LAST_VALUE"):
        return (vals[0] if call.fn == "FIRST_VALUE" else vals[-1]) if vals else None
    raise ValueError(f"OVER aggregate {call.fn} is not supported")


class OverState:
    def __init__(self, op: "OverAggregateOperator"):
        self.op = op

    def snapshot(self) -> pa.Table:
        """Rows waiting for the watermark and rows still inside a frame; a partition's last processed
        timestamp is the newest of its frame rows."""
        op = self.op
        n_in = len(op.types) - len(op.aggs)
        entries = [(1, t, seq, row) for buf in op.pending.values() for t, seq, row in buf]
        entries += [(0, t, -1, row) for hist in op.history.values() for t, row in hist]
        table = rows_table([e[3] for e in entries], op.types[:n_in], {
            "$pending": pa.array([e[0] == 1 for e in entries], pa.bool_()),
            "$ts": pa.array([e[1] for e in entries], pa.int64()),
            "$seq": pa.array([e[2] for e in entries], pa.int64()),
            "$cleanup": pa.array([op.cleanup_at.get(tuple(e[3][p] for p in op.partition)) for e in entries],
                                 pa.int64())})
        return table.replace_schema_metadata({"seq": str(op.seq), "late": str(op.late_dropped)})

    def restore(self, table: pa.Table) -> None:
        op = self.op
        n_in = len(op.types) - len(op.aggs)
        op.pending, op.history, op.last_ts, op.cleanup_at = {}, {}, {}, {}
        for row, pend, t, seq, due in zip(table_rows(table, n_in), table.column("$pending").to_pylist(),
                                          table.column("$ts").to_pylist(), table.column("$seq").to_pylist(),
                                          table.column("$cleanup").to_pylist()):
            key = tuple(row[p] for p in op.partition)
            if due is not None:
                op.cleanup_at[key] = due
            if pend:
                op.pending.setdefault(key, []).append((t, seq, row))
            else:
                op.history.setdefault(key, deque()).append((t, row))
                op.last_ts[key] = max(op.last_ts.get(key, MIN_WM), t)
        meta = table.schema.metadata or {}
        op.seq = int(meta.get(b"seq", b"0"))
        op.late_dropped = int(meta.get(b"late", b"0"))

    def size_bytes(self) -> int:
        return sum(len(b) for b in self.op.pending.values()) * 64


class OverAggregateOperator(Operator):
    name = "OverAggregate"

    def __init__(self, partition: list[int], time_index: int, frame: str, preceding: int | None,
                 aggs: list[AggCall], names: list[str], types: list[pa.DataType]):
        self.partition, self.time_index, self.frame, self.preceding = partition, time_index, frame, preceding
        self.aggs, self.names, self.types = aggs, names, types
        self.pending: dict[tuple, list[tuple]] = {}   # key -> [(ts, seq, row)] waiting for the watermark
        self.last_ts: dict[tuple, int] = {}           # key -> last processed timestamp
        self.history: dict[tuple, deque] = {}         # key -> processed (ts, row) inside the frame
        self.cleanup_at: dict[tuple, int] = {}        # key -> watermark at which RANGE state is dropped
        self.deferred: list[tuple] = []                # outputs produced while advancing one partition
        self.seq = 0
        self.late_dropped = 0

    def open(self, state: StateBackend) -> None:
        state.register("over", OverState(self))

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        cols = data_columns(batch)
        ts, valid = rowtime_ms(cols[self.time_index])
        wm = row_watermarks(batch)
        if wm is None:
            wm = np.full(batch.num_rows, MIN_WM, dtype=np.int64)
        rows = batch_rows(cols, batch.num_rows)
        for i, row in enumerate(rows):
            key = tuple(row[p] for p in self.partition)
            t, w = int(ts[i]), int(wm[i])
            # what the watermark before this row had already done to this partition (timers fire in order)
            self.deferred += self._advance(key, w)
            # unbounded frames judge lateness by the watermark, bounded ones by the partition's progress
            limit = w if self.preceding is None else self.last_ts.get(key, MIN_WM)
            if not valid[i] or t <= limit:
                self.late_dropped += 1
                continue
            self.pending.setdefault(key, []).append((t, self.seq, row))
            self.seq += 1
            if self.frame == "RANGE" and self.preceding is not None:
                # Flink's cleanup timer: the partition's state is dropped once the watermark passes it
                due = self.cleanup_at.get(key)
                if due is None or due < t + self.preceding + 1:
                    self.cleanup_at[key] = t + int(self.preceding * 1.5) + 1
        return []

    def _advance(self, key: tuple, wm: int) -> list[tuple]:
        ready = pop_ready(self.pending, key, wm)
        out = self._process(key, ready) if ready else []
        due = self.cleanup_at.get(key)
        if due is not None and due <= wm and key not in self.pending:
            del self.cleanup_at[key]
            self.history.pop(key, None)
            self.last_ts.pop(key, None)
        return out

    def on_watermark(self, wm: int) -> list[pa.RecordBatch]:
        out_rows, self.deferred = self.deferred, []  # (ts, seq, output row), emitted in timer order
        for key in set(self.pending) | set(self.cleanup_at):
            out_rows += self._advance(key, wm)
        if not out_rows:
            return []
        out_rows = [r for _, _, r in sorted(out_rows, key=lambda e: (e[0], e[1]))]
        return [make_batch(INSERT, columns(out_rows, self.types), self.names)]

    def _process(self, key: tuple, ready: list[tuple]) -> list[tuple]:
        hist = self.history.setdefault(key, deque())
        out = []
        i = 0
        while i < len(ready):
            t = ready[i][0]
            peers = [e for e in ready[i:] if e[0] == t]
            i += len(peers)
            if self.frame == "RANGE":
                for e in peers:
                    hist.append((t, e[2]))
                if self.preceding is not None:
                    while hist and hist[0][0] < t - self.preceding:
                        hist.popleft()
                frame = [r for _, r in hist]
                values = self._aggregates(frame)
                out += [(e[0], e[1], e[2] + values) for e in peers]
            else:
                for e in peers:
                    hist.append((t, e[2]))
                    if self.preceding is not None:
                        while len(hist) > self.preceding + 1:
                            hist.popleft()
                    out.append((e[0], e[1], e[2] + self._aggregates([r for _, r in hist])))
            self.last_ts[key] = t
        return out

    def _aggregates(self, frame: list[tuple]) -> tuple:
        return tuple(aggregate(a, [tuple(r[i] for i in a.args) for r in frame] if a.fn.startswith("UDAF:") else
                               [r[a.args[0]] for r in frame] if a.args else frame) for a in self.aggs)

    def metrics(self) -> dict:
        return {"late_records_dropped": self.late_dropped}
