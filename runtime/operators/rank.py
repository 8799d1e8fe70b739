"""Top-N and deduplication (ROW_NUMBER() <= N per partition): keeps each partition's rows sorted and emits
Flink's changelog per rank position (-U old / +U new for a position that changes hands, +I for a new
position, -D for a position that empties) when the row number is read downstream; when it is not, per row,
as Flink's Top-N without row number: -D for each row that leaves the top N, then +I for each that enters.
Ties keep arrival order, except in keep-last deduplication, where the newer row wins a tie (entries carry
the negated arrival number)."""
from __future__ import annotations

import bisect
import functools
import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.core.changelog import DELETE, INSERT, UPDATE_AFTER, UPDATE_BEFORE, data_columns, make_batch
from sqlstream.runtime.keys import KeyIndex
from sqlstream.runtime.operator import Operator, OperatorContext
from sqlstream.runtime.rows import batch_rows, columns, rows_table, table_rows


@functools.total_ordering
class _Desc:
    __slots__ = ("v",)

    def __init__(self, v):
        self.v = v

    def __eq__(self, other):
        return self.v == other.v

    def __lt__(self, other):
        return self.v > other.v


class RankState:
    def __init__(self, op: "RankOperator"):
        self.op = op

    def snapshot(self) -> pa.Table:
        entries = [e for rows in self.op.partitions.values() for e in rows]
        table = rows_table([e[2] for e in entries], self.op.types, {"$seq": pa.array([e[1] for e in entries],
                                                                                       pa.int64())})
        return table.replace_schema_metadata({"seq": str(self.op.seq)})

    def restore(self, table: pa.Table) -> None:
        op = self.op
        op.partitions = {}
        for row, seq in zip(table_rows(table, len(op.types)), table.column("$seq").to_pylist()):
            bisect.insort(op.partitions.setdefault(op._pkey(row), []), (op._skey(row), seq, row))
        op.seq = int((table.schema.metadata or {}).get(b"seq", b"0"))

    def size_bytes(self) -> int:
        return sum(len(r) for r in self.op.partitions.values()) * 16 * max(1, len(self.op.types))


class RankOperator(Operator):
    name = "Rank"

    def __init__(self, partition: list[int], order: list[tuple[int, bool]], limit: int, names: list[str],
                 types: list[pa.DataType], append_only: bool = False, newest_wins_ties: bool = False,
                 with_rank: bool = True):
        self.partition, self.order, self.limit = partition, order, limit
        self.with_rank = with_rank
        self.tie_sign = -1 if newest_wins_ties else 1
        self.append_only = append_only
        self.names, self.types = names, types  # input types; output adds the rank (BIGINT)
        self.partitions: dict[tuple, list[tuple]] = {}
        self.seq = 0
        # insert-only input ordered by one numeric column: per partition, the value a row must beat to enter
        # a full top N (NaN while the partition is not full), to skip rows that would change nothing
        col = order[0][0] if len(order) == 1 else None
        self.floor_col = col if append_only and col is not None and newest_wins_ties is False and (
            pa.types.is_integer(types[col]) or pa.types.is_floating(types[col])) else None
        if col is not None and (pa.types.is_integer(types[col]) or pa.types.is_floating(types[col])):
            self._skey = self._numeric_key  # one number per row instead of a tuple of wrappers
        self.floor_index = KeyIndex()
        self.part_index = KeyIndex()
        self.floor_dtype = np.int64 if col is not None and pa.types.is_integer(types[col]) else np.float64
        self.floor = np.zeros(0, self.floor_dtype)
        self.has_floor = np.zeros(0, bool)

    def open(self, ctx: OperatorContext) -> None:
        ctx.register("ranked_rows", RankState(self))

    def _pkey(self, row: tuple) -> tuple:
        return tuple(row[i] for i in self.partition)

    def _skey(self, row: tuple) -> tuple:
        key = []
        for i, desc in self.order:
            v = row[i]
            # Flink: NULLS FIRST for ASC, NULLS LAST for DESC
            key.append((0, None) if v is None and not desc else ((2, None) if v is None else (1, _Desc(v) if desc else v)))
        return tuple(key)

    def _numeric_key(self, row: tuple):
        """The sort key of a single numeric ORDER BY column: the value (negated for DESC), NULLs first for
        ASC and last for DESC as in Flink."""
        i, desc = self.order[0]
        v = row[i]
        if v is None:
            return math.inf if desc else -math.inf
        return -v if desc else v

    def _skip_hopeless(self, batch: pa.RecordBatch) -> tuple[pa.RecordBatch, np.ndarray]:
        """Drops rows no better than the N-th row of their (full) partition: they would never enter the top N.
        Also returns the partitions the remaining rows touch."""
        cols = data_columns(batch)
        gids, _ = self.floor_index.lookup([cols[i] for i in self.partition], batch.num_rows)
        grow = len(self.floor_index) - len(self.floor)
        if grow > 0:
            self.floor = np.concatenate([self.floor, np.zeros(grow, self.floor_dtype)])
            self.has_floor = np.concatenate([self.has_floor, np.zeros(grow, bool)])
        col = cols[self.floor_col]
        values = np.asarray(pc.fill_null(col, 0), dtype=self.floor_dtype)
        floor = self.floor[gids]
        hopeless = self.has_floor[gids] & np.asarray(pc.is_valid(col))  # NULLs and NaN always go the long way
        with np.errstate(invalid="ignore"):
            hopeless &= (values <= floor) if self.order[0][1] else (values >= floor)
        touched = np.unique(gids[~hopeless])
        return (batch if not hopeless.any() else batch.filter(pa.array(~hopeless))), touched

    def _note_floors(self, touched: np.ndarray) -> None:
        n, col = self.limit, self.floor_col
        for gid in touched.tolist():
            part = self.partitions.get(self.floor_index.keys[gid])
            if part is None or len(part) < n:
                continue
            v = part[n - 1][2][col]
            if v is not None and v == v:  # not NULL or NaN
                self.floor[gid], self.has_floor[gid] = v, True

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        floors = self.floor_col is not None and batch.num_rows > 0
        if floors:
            batch, touched = self._skip_hopeless(batch)
        out = self._on_batch(batch)
        if floors:
            self._note_floors(touched)
        return out

    def _sort_keys(self, cols: list[pa.Array], rows: list[tuple]) -> list:
        """Each row's sort key: for one numeric ORDER BY column computed over the column (the same numbers as
        `_numeric_key`), else per row."""
        if self._skey != self._numeric_key:
            return [self._skey(r) for r in rows]
        i, desc = self.order[0]
        col = cols[i]
        v = np.asarray(pc.fill_null(col, 0).to_numpy(zero_copy_only=False))
        keys = (-v if desc else v).tolist()
        if col.null_count:
            for j in np.flatnonzero(np.asarray(pc.is_null(col).to_numpy(zero_copy_only=False))).tolist():
                keys[j] = math.inf if desc else -math.inf
        return keys

    def _on_batch(self, batch: pa.RecordBatch) -> list[pa.RecordBatch]:
        """Row by row in arrival order, each step touching only its partition's sorted entries: a row that
        lands (or leaves) below the top N changes the entries and emits nothing; a retraction finds its entry
        by binary search on its sort key."""
        n = batch.num_rows
        if n == 0:
            return []
        cols = data_columns(batch)
        rows = batch_rows(cols, n)
        gids, _ = self.part_index.lookup([cols[i] for i in self.partition], n)
        pkeys = self.part_index.keys
        skeys = self._sort_keys(cols, rows)
        out_rows, out_ops, out_rank = [], [], []
        limit, parts, tie, seq = self.limit, self.partitions, self.tie_sign, self.seq
        append_only, with_rank = self.append_only, self.with_rank
        adds = (INSERT, UPDATE_AFTER)
        for op, row, g, skey in zip(batch.column(0).to_pylist(), rows, gids.tolist(), skeys):
            pk = pkeys[g]
            part = parts.get(pk)
            if op in adds:
                entry = (skey, tie * seq, row)
                seq += 1
                if part is None:
                    part = parts[pk] = []
                pos = bisect.bisect_right(part, entry)
                if pos >= limit:
                    if not append_only:
                        part.insert(pos, entry)
                    continue
                before = part[:limit]
                part.insert(pos, entry)
                if append_only and len(part) > limit:
                    del part[limit:]  # an insert-only input never brings a lower row back into the top N
            else:
                if part is None:
                    continue
                pos = None
                for j in range(bisect.bisect_left(part, (skey,)), len(part)):
                    e = part[j]
                    if e[0] != skey:
                        break
                    if e[2] == row:
                        pos = j
                        break
                if pos is None:
                    continue
                if pos >= limit:
                    del part[pos]
                    continue
                before = part[:limit]
                del part[pos]
            after = part[:limit]
            if not with_rank:
                kept = {e[1] for e in after}
                for k, e in enumerate(before):
                    if e[1] not in kept:
                        out_rows.append(e[2]), out_ops.append(DELETE), out_rank.append(k + 1)
                was = {e[1] for e in before}
                for k, e in enumerate(after):
                    if e[1] not in was:
                        out_rows.append(e[2]), out_ops.append(INSERT), out_rank.append(k + 1)
            else:
                for k in range(pos, max(len(before), len(after))):
                    old = before[k][2] if k < len(before) else None
                    new = after[k][2] if k < len(after) else None
                    if old is not None and new is not None:
                        if old != new:
                            out_rows += (old, new)
                            out_ops += (UPDATE_BEFORE, UPDATE_AFTER)
                            out_rank += (k + 1, k + 1)
                    elif new is not None:
                        out_rows.append(new), out_ops.append(INSERT), out_rank.append(k + 1)
                    elif old is not None:
                        out_rows.append(old), out_ops.append(DELETE), out_rank.append(k + 1)
            if not part:
                del parts[pk]
        self.seq = seq
        if not out_rows:
            return []
        arrays = columns(out_rows, self.types)
        arrays.append(pa.array(out_rank, pa.int64()))
        return [make_batch(np.array(out_ops, dtype=np.int8), arrays, self.names)]

    def _on_batch_rows(self, batch: pa.RecordBatch) -> list[pa.RecordBatch]:
        """The reference: each row against a copy of its partition's top N, a retraction found by scanning."""
        cols = data_columns(batch)
        rows = batch_rows(cols, batch.num_rows)
        out_rows, out_ops, out_rank = [], [], []
        n = self.limit

        def emit(op, row, rank):
            out_rows.append(row), out_ops.append(op), out_rank.append(rank)
        for op, row in zip(batch.column(0).to_pylist(), rows):
            part = self.partitions.setdefault(self._pkey(row), [])
            before = part[:n]
            if op in (INSERT, UPDATE_AFTER):
                entry = (self._skey(row), self.tie_sign * self.seq, row)
                self.seq += 1
                pos = bisect.bisect_right(part, entry)
                part.insert(pos, entry)
                if self.append_only and len(part) > n:
                    del part[n:]  # an insert-only input never brings a lower row back into the top N
                if pos >= n:
                    continue
            else:
                skey = self._skey(row)
                pos = next((i for i, e in enumerate(part) if e[0] == skey and e[2] == row), None)
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
                del self.partitions[self._pkey(row)]
        if not out_rows:
            return []
        arrays = columns(out_rows, self.types)
        arrays.append(pa.array(out_rank, pa.int64()))
        return [make_batch(np.array(out_ops, dtype=np.int8), arrays, self.names)]
