"""INNER equi-join of two insert-only inputs, column-wise. Its output is insert-only and its state only grows,
so no per-row bookkeeping is needed: each side keeps its rows as Arrow segments, each with its rows' key ids
sorted (a sorted run). A batch is matched against the other side's runs with binary search, the pairs are
gathered with `take`, and the extra condition is evaluated once per batch. Runs are merged as they grow (as in
an LSM tree), so a probe searches O(log n) runs and appending stays cheap.

Pairs come out in the order of the per-row join (probe row, then the other side's rows in arrival order), so
results never depend on the batch size. The state tables have the per-row join's layout (c0..cN, $assoc).
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from planner.expr import Expr
from runtime.changelog import INSERT, data_columns, make_batch
from runtime.expressions import evaluate
from runtime.keys import KeyIndex
from runtime.operator import Operator
from runtime.state import StateBackend


class _Run:
    """Rows start .. start+len of one side: their columns, and their key ids sorted with the row positions."""

    def __init__(self, start: int, table: pa.Table, gids: np.ndarray):
        self.start, self.table, self.gids = start, table, gids
        self.order = np.argsort(gids, kind="stable")
        self.sorted = gids[self.order]

    def __len__(self) -> int:
        return self.table.num_rows

    def probe(self, gids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(probe row, row position in this run) for every equal key id."""
        lo = np.searchsorted(self.sorted, gids, "left")
        counts = np.searchsorted(self.sorted, gids, "right") - lo
        total = int(counts.sum())
        if total == 0:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        probe = np.repeat(np.arange(len(gids)), counts)
        starts = np.cumsum(counts) - counts
        within = np.arange(total) - np.repeat(starts, counts)
        return probe, self.order[np.repeat(lo, counts) + within]


def _merged(a: _Run, b: _Run) -> _Run:
    table = pa.concat_tables([a.table, b.table]).combine_chunks()
    return _Run(a.start, table, np.concatenate([a.gids, b.gids]))


class _Side:
    def __init__(self, names: list[str], types: list[pa.DataType]):
        self.names, self.types = names, types
        self.runs: list[_Run] = []
        self.rows = 0

    def append(self, table: pa.Table, gids: np.ndarray) -> None:
        self.runs.append(_Run(self.rows, table, gids))
        self.rows += table.num_rows
        while len(self.runs) > 1 and len(self.runs[-2]) <= 2 * len(self.runs[-1]):
            b = self.runs.pop()
            self.runs[-1] = _merged(self.runs[-1], b)

    def snapshot(self) -> pa.Table:
        tables = [r.table for r in self.runs]
        if tables:
            t = pa.concat_tables(tables)
        else:
            t = pa.table({n: pa.array([], ty) for n, ty in zip(self.names, self.types)})
        cols = {f"c{i}": t.column(i) for i in range(t.num_columns)}
        cols["$assoc"] = pa.array(np.zeros(t.num_rows, dtype=np.int64))
        return pa.table(cols)

    def size_bytes(self) -> int:
        return sum(r.table.nbytes + r.gids.nbytes * 3 for r in self.runs)


class _SideState:
    def __init__(self, op: "AppendJoinOperator", side: int):
        self.op, self.side = op, side

    def snapshot(self) -> pa.Table:
        return self.op.sides[self.side].snapshot()

    def restore(self, table: pa.Table) -> None:
        s = self.op.sides[self.side]
        s.runs, s.rows = [], 0
        n = len(s.types)
        data = pa.table({name: table.column(f"c{i}") for i, name in enumerate(s.names[:n])}).combine_chunks()
        if data.num_rows:
            gids, valid = self.op._key_ids(data.columns, self.side, data.num_rows)
            s.append(data.filter(pa.array(valid)), gids[valid])

    def size_bytes(self) -> int:
        return self.op.sides[self.side].size_bytes()


class AppendJoinOperator(Operator):
    name = "Join"

    def __init__(self, left_keys: list[int], right_keys: list[int], condition: Expr | None,
                 left_types: list[pa.DataType], right_types: list[pa.DataType], names: list[str],
                 nulls_equal: bool = False):
        self.keys = (left_keys, right_keys)
        self.condition = condition
        self.names = names
        self.nulls_equal = nulls_equal
        self.index = KeyIndex()  # shared: equal keys on both sides get the same id
        n_left = len(left_types)
        self.sides = (_Side(names[:n_left], left_types), _Side(names[n_left:], right_types))

    def open(self, state: StateBackend) -> None:
        state.register("left_rows", _SideState(self, 0))
        state.register("right_rows", _SideState(self, 1))

    def _key_ids(self, cols: list, side: int, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Key id per row, and which rows can match (a NULL key matches nothing unless NULLs are equal)."""
        keys = [cols[i] for i in self.keys[side]]
        gids, _ = self.index.lookup(keys, n)
        valid = np.ones(n, dtype=bool)
        if not self.nulls_equal:
            for k in keys:
                if k.null_count:
                    valid &= np.asarray(pc.is_valid(k))
        return gids, valid

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        s, o = input, 1 - input
        cols = data_columns(batch)
        n = batch.num_rows
        gids, valid = self._key_ids(cols, s, n)
        mine = pa.Table.from_arrays(cols, names=self.sides[s].names)
        if not valid.all():
            mine, gids = mine.filter(pa.array(valid)), gids[valid]
        out = self._matches(mine, gids, s, o)
        self.sides[s].append(mine, gids)
        return out

    def _matches(self, mine: pa.Table, gids: np.ndarray, s: int, o: int) -> list[pa.RecordBatch]:
        probes, rows, parts = [], [], []
        for run in self.sides[o].runs:
            probe, pos = run.probe(gids)
            if len(probe):
                probes.append(probe)
                rows.append(run.start + pos)
                parts.append(run.table.take(pa.array(pos)))
        if not probes:
            return []
        probe, row = np.concatenate(probes), np.concatenate(rows)
        order = np.lexsort((row, probe))  # per probe row, the other side's rows in arrival order
        other = (parts[0] if len(parts) == 1 else pa.concat_tables(parts)).take(pa.array(order))
        mine_rows = mine.take(pa.array(probe[order]))
        left, right = (mine_rows, other) if s == 0 else (other, mine_rows)
        out_cols = [c.combine_chunks() for c in left.columns + right.columns]
        if self.condition is not None:
            keep = evaluate(self.condition, out_cols, len(order))
            keep = pc.fill_null(keep, False)
            if not pc.all(keep).as_py():
                out_cols = [pc.filter(c, keep) for c in out_cols]
        if not len(out_cols[0]):
            return []
        return [make_batch(INSERT, out_cols, self.names)]

    def metrics(self) -> dict:
        return {"state_bytes": self.sides[0].size_bytes() + self.sides[1].size_bytes()}
