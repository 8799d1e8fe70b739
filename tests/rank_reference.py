"""The row-at-a-time Top-N that the column-wise Top-N operators are tested against: each row in arrival order
against a copy of its partition's top N, rows as Python tuples, a retraction found by scanning its partition.
Its changelog is Flink's (the golden cases pin it): per rank position (-U old / +U new, +I for a new position, -D
for one that empties) when the row number is read, else per row (-D for each row that leaves the top N, then +I
for each that enters)."""
from __future__ import annotations

import bisect
import math

import numpy as np
import pyarrow as pa

from sqlstream.core.changelog import DELETE, INSERT, UPDATE_AFTER, UPDATE_BEFORE, data_columns, make_batch
from sqlstream.runtime.operators.rank import order_key
from sqlstream.runtime.rows import batch_rows, columns


class RankReference:
    """Same constructor as RankOperator; `on_batch` only (no state to snapshot)."""

    def __init__(self, partition: list[int], order: list[tuple[int, bool]], limit: int, names: list[str],
                 types: list[pa.DataType], append_only: bool = False, newest_wins_ties: bool = False,
                 with_rank: bool = True):
        self.partition, self.order, self.limit = partition, order, limit
        self.names, self.types = names, types
        self.append_only, self.with_rank = append_only, with_rank
        self.tie_sign = -1 if newest_wins_ties else 1
        self.partitions: dict[tuple, list[tuple]] = {}
        self.seq = 0

    def open(self, ctx) -> None:
        pass

    @property
    def _numeric(self) -> bool:
        t = self.types[self.order[0][0]]
        return pa.types.is_integer(t) or pa.types.is_floating(t)

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        cols = data_columns(batch)
        rows = batch_rows(cols, batch.num_rows)
        out_rows, out_ops, out_rank = [], [], []
        n = self.limit
        numeric = len(self.order) == 1 and self._numeric

        def skey(row):
            if numeric:
                i, desc = self.order[0]
                v = row[i]
                return (math.inf if desc else -math.inf) if v is None else (-v if desc else v)
            return order_key(self.order, row)

        def emit(op, row, rank):
            out_rows.append(row), out_ops.append(op), out_rank.append(rank)
        for op, row in zip(batch.column(0).to_pylist(), rows):
            pkey = tuple(row[i] for i in self.partition)
            part = self.partitions.setdefault(pkey, [])
            before = part[:n]
            if op in (INSERT, UPDATE_AFTER):
                entry = (skey(row), self.tie_sign * self.seq, row)
                self.seq += 1
                pos = bisect.bisect_right(part, entry)
                part.insert(pos, entry)
                if self.append_only and len(part) > n:
                    del part[n:]  # an insert-only input never brings a lower row back into the top N
                if pos >= n:
                    continue
            else:
                k = skey(row)
                pos = next((i for i, e in enumerate(part) if e[0] == k and e[2] == row), None)
                if pos is None:
                    continue
                del part[pos]
                if pos >= n:
                    continue
            after = part[:n]
            if not self.with_rank:
                kept = {e[1] for e in after}
                for k, e in enumerate(before):
                    if e[1] not in kept:
                        emit(DELETE, e[2], k + 1)
                was = {e[1] for e in before}
                for k, e in enumerate(after):
                    if e[1] not in was:
                        emit(INSERT, e[2], k + 1)
            for k in range(pos, max(len(before), len(after)) if self.with_rank else 0):
                old = before[k][2] if k < len(before) else None
                new = after[k][2] if k < len(after) else None
                if old is not None and new is not None:
                    if old != new:
                        emit(UPDATE_BEFORE, old, k + 1)
                        emit(UPDATE_AFTER, new, k + 1)
                elif new is not None:
                    emit(INSERT, new, k + 1)
                elif old is not None:
                    emit(DELETE, old, k + 1)
            if not part:
                del self.partitions[pkey]
        if not out_rows:
            return []
        arrays = columns(out_rows, self.types)
        arrays.append(pa.array(out_rank, pa.int64()))
        return [make_batch(np.array(out_ops, dtype=np.int8), arrays, self.names)]
