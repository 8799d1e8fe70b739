"""Reference: the regular join one row at a time, as runtime/operators/join.py, inner_join.py and outer_join.py
must behave (those column-wise operators are checked against this one on random inputs). INNER, LEFT, RIGHT,
FULL, SEMI, ANTI and NULL-aware ANTI (NOT IN) over insert-only or updating inputs, with Flink's changelog:
a row of the preserved side is emitted NULL-padded while it has no match; the first match retracts that
row (-D) and the last match to go restores it (+I). A joined row keeps its input row's kind (+U, -U) when an
inner join adds it or a side that is not preserved retracts it; SEMI passes left rows with their kinds and a right
row's kind to the left rows it lets in or out, ANTI emits -D / +I for those.

Both sides are kept in state per join key with, for each row, how many rows of the other side it matches.
Candidate pairs of a batch are checked against the extra join condition in one vectorized evaluation; the
bookkeeping per row is plain Python (rows are tuples).
"""
from __future__ import annotations

from collections import deque

import numpy as np
import pyarrow as pa

from sqlstream.plan.expr import Expr
from sqlstream.core.changelog import DELETE, INSERT, UPDATE_AFTER, data_columns, make_batch
from sqlstream.runtime.operator import Operator, OperatorContext
from sqlstream.runtime.state import StateTtl
from sqlstream.runtime.operators.join import check_pairs
from sqlstream.runtime.rows import batch_rows, columns, rows_table, table_rows


class JoinSide:
    """Rows of one input by join key: key -> list of [row tuple, number of matching rows on the other side,
    time written (ms, for state TTL)]; `written` lists entries oldest first so expired ones are found fast."""

    def __init__(self, names: list[str], types: list[pa.DataType]):
        self.names, self.types = names, types
        self.rows: dict[tuple, list[list]] = {}
        self.written: deque = deque()  # (time written, key, entry), kept only with a state TTL
        self.track = False

    def add(self, k, row: tuple, assoc: int, now: int) -> None:
        entry = [row, assoc, now]
        self.rows.setdefault(k, []).append(entry)
        if self.track:
            self.written.append((now, k, entry))

    def touch(self, k, entry: list, now: int) -> None:
        """An entry whose match count changed was written again: its TTL starts over (as Flink's OnCreateAndWrite)."""
        if entry[2] != now:
            entry[2] = now
            if self.track:
                self.written.append((now, k, entry))

    def expire(self, cutoff: int) -> None:
        while self.written and self.written[0][0] < cutoff:
            t, k, entry = self.written.popleft()
            if entry[2] != t:
                continue  # written again later; a newer item stands for it
            stored = self.rows.get(k)
            if stored is None:
                continue
            for i, e in enumerate(stored):
                if e is entry:
                    del stored[i]
                    break
            if not stored:
                del self.rows[k]

    def snapshot(self) -> pa.Table:
        entries = [e for es in self.rows.values() for e in es]
        return rows_table([e[0] for e in entries], self.types, {
            "$assoc": pa.array([e[1] for e in entries], pa.int64()),
            "$written": pa.array([e[2] for e in entries], pa.int64())})

    def size_bytes(self) -> int:
        return sum(len(es) for es in self.rows.values()) * 16 * max(1, len(self.types))


class _SideState:
    def __init__(self, op: "RowJoinOperator", side: int):
        self.op, self.side = op, side

    def snapshot(self) -> pa.Table:
        return self.op.sides[self.side].snapshot()

    def restore(self, table: pa.Table) -> None:
        s = self.op.sides[self.side]
        assoc = table.column("$assoc").to_pylist()
        written = table.column("$written").to_pylist() if "$written" in table.column_names else [0] * len(assoc)
        s.rows, s.written = {}, deque()
        entries = sorted(zip(written, range(len(assoc)), table_rows(table, len(s.types)), assoc))
        for w, _, row, a in entries:
            s.add(self.op._key(row, self.side), row, a, w)
        if self.side == 1:
            self.op.recount_right()

    def size_bytes(self) -> int:
        return self.op.sides[self.side].size_bytes()


class RowJoinOperator(Operator):
    name = "Join"

    def __init__(self, kind: str, left_keys: list[int], right_keys: list[int], condition: Expr | None,
                 left_types: list[pa.DataType], right_types: list[pa.DataType], names: list[str],
                 out_types: list[pa.DataType], null_aware: bool = False, nulls_equal: bool = False,
                 ttl_ms: int = 0, clock=None):
        self.kind = kind
        self.ttl = StateTtl(ttl_ms, clock)
        self.now = 0
        self.null_aware, self.nulls_equal = null_aware, nulls_equal
        self.right_count = self.right_null_count = 0
        self.keys = (left_keys, right_keys)
        self.condition = condition
        self.types = (left_types, right_types)
        self.names, self.out_types = names, out_types
        self.sides = (JoinSide(names[:len(left_types)], left_types), JoinSide(names[len(left_types):], right_types))
        self.preserved = (kind in ("LEFT", "FULL"), kind in ("RIGHT", "FULL"))
        for side in self.sides:
            side.track = ttl_ms > 0 and not null_aware
        self.semi_anti = kind in ("SEMI", "ANTI")

    def open(self, ctx: OperatorContext) -> None:
        ctx.register("left_rows", _SideState(self, 0))
        ctx.register("right_rows", _SideState(self, 1))

    @property
    def ttl_ms(self) -> int:
        return self.ttl.ttl_ms

    def _key(self, row: tuple, side: int) -> tuple | None:
        k = tuple(row[i] for i in self.keys[side])
        return None if not self.nulls_equal and any(v is None for v in k) else k

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        s, o = input, 1 - input
        cutoff = self.ttl.tick()
        self.now = now = self.ttl.now
        if cutoff is not None and not self.null_aware:  # NOT IN's counters need every right row
            for side in self.sides:
                side.expire(cutoff)
        cols = data_columns(batch)
        rows = batch_rows(cols, batch.num_rows)
        ops = batch.column(0).to_pylist()
        mine, other = self.sides[s], self.sides[o]
        # candidate pairs for the whole batch, then one vectorized check of the extra condition
        candidates: list[list] = []
        pairs: list[tuple] = []
        for row in rows:
            k = self._key(row, s)
            entries = other.rows.get(k, []) if k is not None else []
            candidates.append(entries)
            for e in entries:
                pairs.append((row, e[0]) if s == 0 else (e[0], row))
        ok = self._check(pairs)
        out_rows: list[tuple] = []
        out_ops: list[int] = []
        nulls = (tuple([None] * len(self.types[0])), tuple([None] * len(self.types[1])))
        pos = 0

        def emit(kind: int, mine_row: tuple, other_row: tuple, side: int) -> None:
            out_rows.append(mine_row + other_row if side == 0 else other_row + mine_row)
            out_ops.append(kind)
        for row, op, entries in zip(rows, ops, candidates):
            matched = [e for e, good in zip(entries, ok[pos:pos + len(entries)]) if good]
            pos += len(entries)
            k = self._key(row, s)
            if self.null_aware:
                self._null_aware_anti(s, row, op, k, matched, mine, out_rows, out_ops)
                continue
            if self.semi_anti:
                self._semi_anti(s, row, op, k, matched, mine, out_rows, out_ops)
                continue
            if op in (INSERT, UPDATE_AFTER):
                for e in matched:
                    if self.preserved[o] and e[1] == 0:
                        emit(DELETE, e[0], nulls[s], o)
                    e[1] += 1
                    other.touch(k, e, now)
                    emit(op if self.kind == "INNER" else INSERT, row, e[0], s)
                if not matched and self.preserved[s]:
                    emit(INSERT, row, nulls[o], s)
                mine.add(k, row, len(matched), now)
            else:
                _remove(mine.rows, k, row)
                for e in matched:
                    emit(DELETE if self.preserved[s] else op, row, e[0], s)
                    e[1] -= 1
                    other.touch(k, e, now)
                    if self.preserved[o] and e[1] == 0:
                        emit(INSERT, e[0], nulls[s], o)
                if not matched and self.preserved[s]:
                    emit(DELETE, row, nulls[o], s)
        if not out_rows:
            return []
        return [make_batch(np.array(out_ops, dtype=np.int8), columns(out_rows, self.out_types), self.names)]

    def _semi_anti(self, s, row, op, k, matched, mine, out_rows, out_ops) -> None:
        """SEMI emits a left row while it has a match, ANTI while it has none (left columns only)."""
        semi = self.kind == "SEMI"
        add = op in (INSERT, UPDATE_AFTER)
        if s == 0:
            if add:
                mine.add(k, row, len(matched), self.now)
                if bool(matched) == semi:
                    out_rows.append(row), out_ops.append(op)
            else:
                _remove(mine.rows, k, row)
                if bool(matched) == semi:
                    out_rows.append(row), out_ops.append(op)
            return
        if add:
            mine.add(k, row, 0, self.now)
        else:
            _remove(mine.rows, k, row)
        for e in matched:  # left rows whose match count crosses zero change their membership
            before = e[1]
            e[1] += 1 if add else -1
            if before == 0 and e[1] == 1:
                out_rows.append(e[0]), out_ops.append(op if semi else DELETE)
            elif before == 1 and e[1] == 0:
                out_rows.append(e[0]), out_ops.append(op if semi else INSERT)

    def _null_aware_anti(self, s, row, op, k, matched, mine, out_rows, out_ops) -> None:
        """NOT IN: a left row passes while the right side is empty, or, for a non-NULL key, while no right row
        has its key or a NULL key. Each left entry counts its keyed matches; the NULL cases come from counters."""
        add = op in (INSERT, UPDATE_AFTER)
        if s == 0:
            blocked = self.right_count if k is None else len(matched) + self.right_null_count
            if add:
                mine.add(k, row, len(matched), self.now)
            else:
                _remove(mine.rows, k, row)
            if blocked == 0:
                out_rows.append(row), out_ops.append(op)
            return
        delta = 1 if add else -1
        if add:
            mine.add(k, row, 0, self.now)
        else:
            _remove(mine.rows, k, row)
        old_count, old_nulls = self.right_count, self.right_null_count
        self.right_count += delta
        if k is None:
            self.right_null_count += delta

        def flip(e: list, before: int, after: int) -> None:
            if (before == 0) != (after == 0):
                out_rows.append(e[0]), out_ops.append(INSERT if after == 0 else DELETE)
        for e in matched:
            before = e[1] + old_nulls
            e[1] += delta
            flip(e, before, e[1] + old_nulls)
        left = self.sides[0].rows
        if k is None and (old_nulls == 0) != (self.right_null_count == 0):
            for key, entries in left.items():
                if key is not None:
                    for e in entries:
                        flip(e, e[1] + old_nulls, e[1] + self.right_null_count)
        if (old_count == 0) != (self.right_count == 0):
            for e in left.get(None, []):
                flip(e, old_count, self.right_count)

    def recount_right(self) -> None:
        """The NULL-aware counters, rebuilt from the right side's state after a restore."""
        rows = self.sides[1].rows
        self.right_count = sum(len(es) for es in rows.values())
        self.right_null_count = len(rows.get(None, []))

    def _check(self, pairs: list[tuple]) -> list[bool]:
        return check_pairs(self.condition, list(self.types[0]) + list(self.types[1]), pairs)

    def metrics(self) -> dict:
        return {"state_bytes": self.sides[0].size_bytes() + self.sides[1].size_bytes()}


def _remove(rows: dict, k, row: tuple) -> None:
    """Drops one stored copy of a retracted row, and its key once no row is left under it."""
    stored = rows.get(k, [])
    for i, e in enumerate(stored):
        if e[0] == row:
            del stored[i]
            break
    if not stored and k in rows:
        del rows[k]
