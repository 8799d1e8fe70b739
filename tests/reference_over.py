"""The row-at-a-time OVER aggregation, the oracle of the column-wise operator (sqlstream.runtime.operators.
over_aggregate), which it preceded; its checkpoints are what that operator restores from this layout.

OVER aggregation on rowtime (ROWS/RANGE .. PRECEDING AND CURRENT ROW), as Flink's rowtime over functions:
rows wait until the watermark passes them and are then processed per partition in (timestamp, arrival)
order. Late rows are dropped: with an unbounded frame a row at or behind the watermark; with a bounded frame a
row not after the last processed timestamp of its partition (a RANGE partition's state, including that
timestamp, is dropped once the watermark passes 1.5 frames after its newest row, as Flink's cleanup timer
does). RANGE frames give rows with the same timestamp (peers) the same result.

Ordered by a processing-time attribute, each row is processed when it arrives, in arrival order (as Flink's
proctime over functions, which never wait): frames count rows, and a RANGE frame's interval is measured on the
wall clock. LAG(x [, k [, default]]) is the value k rows before the current one in the partition (its frame's
k-th row from the end, as Flink's LAG accumulator sees its input)."""
from __future__ import annotations

import decimal
import json
import operator
from collections import deque

import numpy as np
import pyarrow as pa

from sqlstream.plan.logical import AggCall
from sqlstream.runtime.accumulators import evaluate_groups, uses_group_values
from sqlstream.runtime.aggregates import VARIANCES, variance
from sqlstream.core.changelog import INSERT, data_columns, make_batch, row_watermarks
from sqlstream.runtime.operator import Operator, OperatorContext
from sqlstream.runtime.rows import batch_rows, columns, pop_ready, rows_table, table_rows
from sqlstream.runtime.event_time import MIN_WM, rowtime_ms
from sqlstream.core.errors import ExecutionError
from sqlstream.core.types import FlinkType

_CTX = decimal.Context(prec=60, rounding=decimal.ROUND_HALF_UP)


def aggregate(call: AggCall, values: list, arg_types: list[pa.DataType] = ()) -> object:
    """One aggregate over the argument values of a frame, with Flink's result semantics."""
    if call.fn == "COUNT":
        if call.distinct:
            return len({v for v in values if v is not None})
        return len(values) if not call.args else sum(v is not None for v in values)
    if uses_group_values(call) or call.fn == "LISTAGG":  # values are argument tuples; the frame is one group
        args = [pa.array([v[i] for v in values], t) for i, t in enumerate(arg_types)]
        return evaluate_groups(call, args, np.zeros(len(values), np.int64), 1)[0].as_py()
    vals = [v for v in values if v is not None]
    if call.distinct:  # the frame's distinct values, as Flink's distinct view of the frame's rows
        vals = list(dict.fromkeys(vals))
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
    if call.fn == "LAG":  # values are argument tuples (value, offset, default)
        offset = values[-1][1] if len(call.args) > 1 else 1
        default = values[-1][2] if len(call.args) > 2 else None
        return values[-1 - offset][0] if len(values) > offset else default
    if call.fn in ("FIRST_VALUE", "LAST_VALUE"):
        return (vals[0] if call.fn == "FIRST_VALUE" else vals[-1]) if vals else None
    if call.fn in VARIANCES:
        integer = all(isinstance(v, int) for v in vals)
        arrow = pa.int64() if integer else pa.float64()
        total = pa.array([sum(vals) if vals else None], arrow)
        squares = pa.array([sum(v * v for v in vals) if vals else None], arrow)
        return variance(call, total, pa.array([len(vals)]), squares, integer_arithmetic=True)[0].as_py()
    raise ExecutionError(f"OVER aggregate {call.fn} is not supported")


class OverState:
    def __init__(self, op: "ReferenceOverOperator"):
        self.op = op

    def snapshot(self) -> pa.Table:
        """Rows waiting for the watermark and rows still inside a frame; a partition's last processed
        timestamp is the newest of its frame rows."""
        op = self.op
        n_in = len(op.types) - len(op.aggs)
        entries = [(1, t, seq, row) for buf in op.pending.values() for t, seq, row in buf]
        entries += [(0, t, -1, row) for hist in op.history.values() for t, row in hist]
        # unbounded frames keep accumulators, not rows: one entry per partition (its last row) carries them
        entries += [(2, op.last_ts[k], -1, op.last_row[k]) for k in op.running]
        accs = [json.dumps(op.running[tuple(e[3][p] for p in op.partition)]) if e[0] == 2 else None
                for e in entries]
        table = rows_table([e[3] for e in entries], op.types[:n_in], {
            "$acc": pa.array(accs, pa.string()),
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
        op.running, op.last_row = {}, {}
        accs = table.column("$acc").to_pylist() if "$acc" in table.column_names else [None] * table.num_rows
        for row, pend, t, seq, due, acc in zip(table_rows(table, n_in), table.column("$pending").to_pylist(),
                                               table.column("$ts").to_pylist(), table.column("$seq").to_pylist(),
                                               table.column("$cleanup").to_pylist(), accs):
            key = tuple(row[p] for p in op.partition)
            if due is not None:
                op.cleanup_at[key] = due
            if acc is not None:
                op.running[key], op.last_row[key] = json.loads(acc), row
                op.last_ts[key] = max(op.last_ts.get(key, MIN_WM), t)
            elif pend:
                op.pending.setdefault(key, []).append((t, seq, row))
            else:
                op.history.setdefault(key, deque()).append((t, row))
                op.last_ts[key] = max(op.last_ts.get(key, MIN_WM), t)
        op.pending_min = {k: min(e[0] for e in buf) for k, buf in op.pending.items()}
        op.released = {}
        meta = table.schema.metadata or {}
        op.seq = int(meta.get(b"seq", b"0"))
        op.late_dropped = int(meta.get(b"late", b"0"))

    def size_bytes(self) -> int:
        return sum(len(b) for b in self.op.pending.values()) * 64


class ReferenceOverOperator(Operator):
    """Each row's frame aggregated on its own (`fast` False), or a watermark's release per partition at once
    for numeric aggregates (`fast`, the operator's earlier form)."""

    drops_late_rows = True
    name = "OverAggregate"

    def __init__(self, partition: list[int], time_index: int, frame: str, preceding: int | None,
                 aggs: list[AggCall], names: list[str], types: list[pa.DataType], rowtime: bool = True):
        self.partition, self.time_index, self.frame, self.preceding = partition, time_index, frame, preceding
        self.rowtime = rowtime
        self.aggs, self.names, self.types = aggs, names, types
        self.pending: dict[tuple, list[tuple]] = {}   # key -> [(ts, seq, row)] waiting for the watermark
        self.last_ts: dict[tuple, int] = {}           # key -> last processed timestamp
        self.history: dict[tuple, deque] = {}         # key -> processed (ts, row) inside the frame
        self.cleanup_at: dict[tuple, int] = {}        # key -> watermark at which RANGE state is dropped
        self.deferred: list[tuple] = []                # outputs produced while advancing one partition
        # COUNT/SUM/AVG/MIN/MAX over integer or floating arguments are computed for a whole release at once;
        # unbounded frames then keep per-partition accumulators (running) instead of every row
        self.fast = all(a.fn in ("COUNT", "SUM", "SUM0", "AVG", "MIN", "MAX") + VARIANCES and not a.distinct and all(
            pa.types.is_integer(types[i]) or pa.types.is_floating(types[i]) for i in a.args) for a in aggs)
        self.running: dict[tuple, list] = {}  # key -> per aggregate [rows, non-null, sum, min, max, sum of squares]
        self.last_row: dict[tuple, tuple] = {}
        self.pending_min: dict[tuple, int] = {}        # key -> earliest pending timestamp
        self.released: dict[tuple, list] = {}          # key -> released rows not yet computed (fast path)
        self.seq = 0
        self.late_dropped = 0

    def open(self, ctx: OperatorContext) -> None:
        ctx.register("over", OverState(self))

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        if not self.rowtime:
            return self._on_arrival(batch)
        cols = data_columns(batch)
        ts, valid = rowtime_ms(cols[self.time_index])
        wm = row_watermarks(batch)
        if wm is None:
            wm = np.full(batch.num_rows, MIN_WM, dtype=np.int64)
        rows = batch_rows(cols, batch.num_rows)
        late = np.zeros(batch.num_rows, dtype=bool)
        for i, row in enumerate(rows):
            key = tuple(row[p] for p in self.partition)
            t, w = int(ts[i]), int(wm[i])
            # what the watermark before this row had already done to this partition (timers fire in order)
            self.deferred += self._advance(key, w)
            # unbounded frames judge lateness by the watermark, bounded ones by the partition's progress
            limit = w if self.preceding is None else self.last_ts.get(key, MIN_WM)
            if not valid[i] or t <= limit:
                self.late_dropped += 1
                late[i] = True
                continue
            self.pending.setdefault(key, []).append((t, self.seq, row))
            first = self.pending_min.get(key)
            if first is None or t < first:
                self.pending_min[key] = t
            self.seq += 1
            if self.frame == "RANGE" and self.preceding is not None:
                # Flink's cleanup timer: the partition's state is dropped once the watermark passes it
                due = self.cleanup_at.get(key)
                if due is None or due < t + self.preceding + 1:
                    self.cleanup_at[key] = t + int(self.preceding * 1.5) + 1
        if self.late_rows is not None:
            self.late_rows.add(cols, late, ts, wm)
        return []

    def _on_arrival(self, batch: pa.RecordBatch) -> list[pa.RecordBatch]:
        """Processing time: every row at once, its frame in arrival order (RANGE intervals on the wall clock)."""
        import time
        now = int(time.time() * 1000)
        by_key: dict[tuple, list[tuple]] = {}
        for row in batch_rows(data_columns(batch), batch.num_rows):
            t = now if self.frame == "RANGE" and self.preceding is not None else self.seq
            by_key.setdefault(tuple(row[p] for p in self.partition), []).append((t, self.seq, row))
            self.seq += 1
        out = [r for key, ready in by_key.items() for r in self._process(key, ready)]
        if not out:
            return []
        out.sort(key=operator.itemgetter(1))
        return [make_batch(INSERT, columns([r for _, _, r in out], self.types), self.names)]

    def _advance(self, key: tuple, wm: int) -> list[tuple]:
        first = self.pending_min.get(key)
        ready = pop_ready(self.pending, key, wm) if first is not None and first <= wm else []
        if ready:
            rest = self.pending.get(key)
            if rest:
                self.pending_min[key] = min(e[0] for e in rest)
            else:
                del self.pending_min[key]
        out = []
        if ready and self.fast:  # computed together with the partition's other releases at the watermark
            self.released.setdefault(key, []).extend(ready)
            self.last_ts[key] = ready[-1][0]
        elif ready:
            out = self._process(key, ready)
        due = self.cleanup_at.get(key)
        if due is not None and due <= wm and key not in self.pending:
            out += self._flush(key)
            del self.cleanup_at[key]
            self.history.pop(key, None)
            self.last_ts.pop(key, None)
        return out

    def on_watermark(self, wm: int) -> list[pa.RecordBatch]:
        out_rows, self.deferred = self.deferred, []  # (ts, seq, output row), emitted in timer order
        for key in set(self.pending) | set(self.cleanup_at):
            out_rows += self._advance(key, wm)
        for key in list(self.released):
            out_rows += self._flush(key)
        if not out_rows:
            return []
        out_rows.sort(key=operator.itemgetter(0, 1))
        out_rows = [r for _, _, r in out_rows]
        return [make_batch(INSERT, columns(out_rows, self.types), self.names)]

    def _process(self, key: tuple, ready: list[tuple]) -> list[tuple]:
        if self.fast:
            return self._process_batch(key, ready)
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

    def _flush(self, key: tuple) -> list[tuple]:
        rows = self.released.pop(key, None)
        return self._process_batch(key, rows) if rows else []

    def _process_batch(self, key: tuple, ready: list[tuple]) -> list[tuple]:
        """The rows a watermark released in one partition, in (timestamp, arrival) order, all at once: each
        row's frame is a [lo, hi] range over the partition's kept rows followed by these, reduced with
        numpy's reduceat (so a frame's value depends only on its rows, not on how releases were split)."""
        m = len(ready)
        t_new = np.fromiter((e[0] for e in ready), np.int64, m)
        rows_new = [e[2] for e in ready]
        last_peer = np.searchsorted(t_new, t_new, side="right") - 1  # RANGE: peers share the last peer's frame
        if self.preceding is None:
            hi = last_peer if self.frame == "RANGE" else np.arange(m)
            seeds = self.running.get(key) or [[0, 0, 0, None, None, 0] for _ in self.aggs]
            values, seeds = self._running(rows_new, hi, seeds)
            self.running[key], self.last_row[key] = seeds, rows_new[-1]
        else:
            hist = self.history.setdefault(key, deque())
            h = len(hist)
            rows_all = [r for _, r in hist] + rows_new
            t_all = np.concatenate([np.fromiter((t for t, _ in hist), np.int64, h), t_new])
            if self.frame == "RANGE":
                hi = h + last_peer
                lo = np.searchsorted(t_all, t_new - self.preceding, side="left")
            else:
                hi = h + np.arange(m)
                lo = np.maximum(hi - self.preceding, 0)
            values = self._windows(rows_all, lo, hi)
            hist.extend(zip(t_new.tolist(), rows_new))
            if self.frame == "RANGE":
                while hist and hist[0][0] < t_new[-1] - self.preceding:
                    hist.popleft()
            else:
                while len(hist) > self.preceding + 1:
                    hist.popleft()
        self.last_ts[key] = int(t_new[-1])
        return [(e[0], e[1], e[2] + tuple(v[k] for v in values)) for k, e in enumerate(ready)]

    def _arg(self, a: AggCall, rows: list[tuple]) -> tuple[np.ndarray, np.ndarray]:
        if not a.args:
            return np.ones(len(rows), dtype=np.int64), np.ones(len(rows), dtype=bool)
        raw = [r[a.args[0]] for r in rows]
        valid = np.fromiter((v is not None for v in raw), bool, len(raw))
        floating = pa.types.is_floating(self.types[a.args[0]])
        vals = np.array([v if v is not None else 0 for v in raw], dtype=np.float64 if floating else np.int64)
        return vals, valid

    def _finish(self, a: AggCall, rows: np.ndarray, nn: np.ndarray, total: np.ndarray, mn: np.ndarray,
                mx: np.ndarray, squares: np.ndarray) -> list:
        """Per frame, the aggregate's value with Flink's semantics from its count, sum, extrema and sum of
        squares."""
        if a.fn in VARIANCES:
            valid = nn > 0
            return variance(a, pa.array(total, mask=~valid), pa.array(nn), pa.array(squares, mask=~valid),
                            integer_arithmetic=True).to_pylist()
        if a.fn == "COUNT":
            return (nn if a.args else rows).tolist()
        if a.fn in ("MIN", "MAX"):
            v = (mn if a.fn == "MIN" else mx).tolist()
        elif a.fn in ("SUM", "SUM0"):
            v = total.tolist()
            if a.fn == "SUM0":
                return v
        elif a.type.is_integer:  # AVG of an integer type truncates toward zero
            q = np.abs(total) // np.maximum(nn, 1)
            v = np.where(total >= 0, q, -q).tolist()
        else:
            with np.errstate(invalid="ignore", divide="ignore"):
                v = (total / np.maximum(nn, 1)).tolist()
        return [x if c else None for x, c in zip(v, nn.tolist())]

    def _windows(self, rows: list[tuple], lo: np.ndarray, hi: np.ndarray) -> list[list]:
        bounds = np.empty(2 * len(lo), dtype=np.int64)
        bounds[0::2], bounds[1::2] = lo, hi + 1
        out = []
        for a in self.aggs:
            vals, valid = self._arg(a, rows)
            big = np.iinfo(np.int64) if vals.dtype == np.int64 else None
            hi_fill = big.max if big is not None else np.inf
            lo_fill = big.min if big is not None else -np.inf

            def pad(x, fill):  # reduceat needs every end bound to be an index
                return np.append(x, fill)
            nn = np.add.reduceat(pad(valid.astype(np.int64), 0), bounds)[0::2]
            total = np.add.reduceat(pad(np.where(valid, vals, 0), 0), bounds)[0::2]
            mn = np.minimum.reduceat(pad(np.where(valid, vals, hi_fill), hi_fill), bounds)[0::2]
            mx = np.maximum.reduceat(pad(np.where(valid, vals, lo_fill), lo_fill), bounds)[0::2]
            squares = np.add.reduceat(pad(np.where(valid, vals * vals, 0), 0), bounds)[0::2]
            out.append(self._finish(a, hi - lo + 1, nn, total, mn, mx, squares))
        return out

    def _running(self, rows: list[tuple], hi: np.ndarray, seeds: list) -> tuple[list[list], list]:
        """Unbounded frames: accumulations over the new rows seeded with the partition's accumulators."""
        out, new_seeds = [], []
        for a, seed in zip(self.aggs, seeds):
            vals, valid = self._arg(a, rows)
            s_rows, s_nn, s_sum, s_min, s_max = seed[:5]
            s_sq = seed[5] if len(seed) > 5 else 0
            nn = s_nn + np.cumsum(valid.astype(np.int64))
            total = np.cumsum(np.concatenate([[s_sum], np.where(valid, vals, 0)]).astype(vals.dtype))[1:]
            squares = np.cumsum(np.concatenate([[s_sq], np.where(valid, vals * vals, 0)]).astype(vals.dtype))[1:]
            if vals.dtype == np.int64:
                fill_hi, fill_lo = np.iinfo(np.int64).max, np.iinfo(np.int64).min
            else:
                fill_hi, fill_lo = np.inf, -np.inf
            mn = np.minimum.accumulate(np.concatenate([[fill_hi if s_min is None else s_min],
                                                       np.where(valid, vals, fill_hi)]).astype(vals.dtype))[1:]
            mx = np.maximum.accumulate(np.concatenate([[fill_lo if s_max is None else s_max],
                                                       np.where(valid, vals, fill_lo)]).astype(vals.dtype))[1:]
            count = s_rows + np.arange(1, len(rows) + 1)
            out.append(self._finish(a, count[hi], nn[hi], total[hi], mn[hi], mx[hi], squares[hi]))
            last = len(rows) - 1
            new_seeds.append([int(count[last]), int(nn[last]), total[last].item(),
                              mn[last].item() if nn[last] else None, mx[last].item() if nn[last] else None,
                              squares[last].item()])
        return out, new_seeds

    def _aggregates(self, frame: list[tuple]) -> tuple:
        return tuple(aggregate(a, [tuple(r[i] for i in a.args) for r in frame] if a.fn.startswith("UDAF:") or
                               a.fn == "LAG" or uses_group_values(a) or a.fn == "LISTAGG" else
                               [r[a.args[0]] for r in frame] if a.args else frame,
                               [self.types[i] for i in a.args]) for a in self.aggs)

    def metrics(self) -> dict:
        return {"late_records_dropped": self.late_dropped}
