"""Top-N over an insert-only input, with rows kept as Arrow: each partition holds its best N entries as
(sort key, arrival, row number in a row store), partitions are key ids and a single numeric sort key is a
number, so the per-row step touches only small Python values. Output rows are gathered from the store with one
`take`; a position whose row changes to an identical one emits nothing, as in the row-tuple operator.

Same changelog as RankOperator: -U/+U for a position that changes hands, +I for a new one; or, when the row
number is not read downstream, -D for the row pushed out of the top N, then +I for the one that entered."""
from __future__ import annotations

import bisect

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.core.changelog import DELETE, INSERT, UPDATE_AFTER, UPDATE_BEFORE, data_columns, make_batch
from sqlstream.runtime.operator import OperatorContext
from sqlstream.runtime.operators.rank import RankOperator
from sqlstream.runtime.rows import batch_rows, rows_equal


class _StoreState:
    def __init__(self, op: "AppendRankOperator"):
        self.op = op

    def snapshot(self) -> pa.Table:
        op = self.op
        entries = [e for part in op.parts.values() for e in part]
        rows = op.store.take(pa.array([e[2] for e in entries], pa.int64())) if entries else op.store.slice(0, 0)
        cols = {f"c{i}": rows.column(i) for i in range(rows.num_columns)}
        cols["$seq"] = pa.array([e[1] for e in entries], pa.int64())
        return pa.table(cols).replace_schema_metadata({"seq": str(op.seq)})

    def restore(self, table: pa.Table) -> None:
        op = self.op
        data = pa.table({n: table.column(f"c{i}") for i, n in enumerate(op.names[:len(op.types)])})
        op.store, op.parts = data.combine_chunks(), {}
        gids, skeys = op._partition_ids(data.columns, data.num_rows), op._sort_keys(data.columns, data.num_rows)
        for i, (g, k, seq) in enumerate(zip(gids.tolist(), skeys, table.column("$seq").to_pylist())):
            bisect.insort(op.parts.setdefault(g, []), (k, seq, i))
        op.live = data.num_rows
        op.seq = int((table.schema.metadata or {}).get(b"seq", b"0"))

    def size_bytes(self) -> int:
        return self.op.store.nbytes


class AppendRankOperator(RankOperator):
    """RankOperator for insert-only input."""

    def __init__(self, partition, order, limit, names, types, with_rank: bool = True):
        super().__init__(partition, order, limit, names, types, append_only=True, with_rank=with_rank)
        self.parts: dict[int, list[tuple]] = {}  # partition id -> best entries (sort key, arrival, store row)
        self.store = pa.table({n: pa.array([], t) for n, t in zip(names[:len(types)], types)})
        self.live = 0

    def open(self, ctx: OperatorContext) -> None:
        ctx.register("ranked_rows", _StoreState(self))

    def _sort_keys(self, cols: list[pa.Array], n: int) -> list:
        """Sort key per row: a number for one numeric ORDER BY column, else the base operator's tuples."""
        if self._skey == self._numeric_key:
            i, desc = self.order[0]
            col = cols[i]
            v = np.asarray(pc.fill_null(col, 0).to_numpy(zero_copy_only=False))
            v = (-v if desc else v).tolist()
            for j in np.flatnonzero(np.asarray(pc.is_null(col).to_numpy(zero_copy_only=False))).tolist():
                v[j] = np.inf if desc else -np.inf
            return v
        used = {i for i, _ in self.order}
        rows = batch_rows([cols[i] if i in used else pa.nulls(n) for i in range(len(cols))], n)
        return [self._skey(r) for r in rows]

    def _partition_ids(self, cols: list[pa.Array], n: int) -> np.ndarray:
        gids, _ = self.floor_index.lookup([cols[i] for i in self.partition], n)
        grow = len(self.floor_index) - len(self.floor)
        if grow > 0:
            self.floor = np.concatenate([self.floor, np.zeros(grow, self.floor_dtype)])
            self.has_floor = np.concatenate([self.has_floor, np.zeros(grow, bool)])
        return gids

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        if batch.num_rows == 0:
            return []
        cols = data_columns(batch)
        n = batch.num_rows
        gids = self._partition_ids(cols, n)
        if self.floor_col is not None:  # rows no better than a full partition's N-th row change nothing
            col = cols[self.floor_col]
            values = np.asarray(pc.fill_null(col, 0), dtype=self.floor_dtype)
            hopeless = self.has_floor[gids] & np.asarray(pc.is_valid(col))
            with np.errstate(invalid="ignore"):
                hopeless &= (values <= self.floor[gids]) if self.order[0][1] else (values >= self.floor[gids])
            if hopeless.any():
                keep = np.flatnonzero(~hopeless)
                if len(keep) == 0:
                    return []
                take = pa.array(keep)
                cols, gids, n = [c.take(take) for c in cols], gids[keep], len(keep)
        skeys = self._sort_keys(cols, n)
        base = self.store.num_rows
        self.store = pa.concat_tables([self.store, pa.Table.from_arrays(cols, names=self.store.column_names)])
        limit, parts, seq = self.limit, self.parts, self.seq
        out_ops, out_refs, out_rank = [], [], []
        for i, (g, k) in enumerate(zip(gids.tolist(), skeys)):
            part = parts.get(g)
            if part is None:
                part = parts[g] = []
            entry = (k, seq, base + i)
            seq += 1
            pos = bisect.bisect_right(part, entry)
            if pos >= limit:
                continue
            old = [e[2] for e in part[pos:]]
            part.insert(pos, entry)
            if not self.with_rank:
                if len(part) > limit:
                    out_ops.append(DELETE)
                    out_refs.append(part[limit][2])
                    out_rank.append(limit)
                    del part[limit:]
                else:
                    self.live += 1
                out_ops.append(INSERT)
                out_refs.append(entry[2])
                out_rank.append(pos + 1)
                continue
            if len(part) > limit:
                del part[limit:]
            else:
                self.live += 1
            for j in range(len(part) - pos):
                r = pos + j + 1
                if j < len(old):
                    out_ops += (UPDATE_BEFORE, UPDATE_AFTER)
                    out_refs += (old[j], part[pos + j][2])
                    out_rank += (r, r)
                else:
                    out_ops.append(INSERT)
                    out_refs.append(part[pos + j][2])
                    out_rank.append(r)
        self.seq = seq
        if self.floor_col is not None:
            desc = self.order[0][1]
            for g in np.unique(gids).tolist():
                part = parts.get(g)
                if part is not None and len(part) >= limit:
                    k = part[limit - 1][0]
                    if k == k and k not in (np.inf, -np.inf):
                        self.floor[g], self.has_floor[g] = (-k if desc else k), True
        out = self._output(out_ops, out_refs, out_rank) if out_ops else []
        self._compact()
        return out

    def _output(self, ops: list, refs: list, ranks: list) -> list[pa.RecordBatch]:
        ops_a = np.array(ops, dtype=np.int8)
        rows = self.store.take(pa.array(refs, pa.int64()))
        ub = np.flatnonzero(ops_a == UPDATE_BEFORE)
        if len(ub):  # a position that passes to an identical row does not change
            same = rows_equal([c.take(pa.array(ub)) for c in rows.columns],
                              [c.take(pa.array(ub + 1)) for c in rows.columns])
            if same.any():
                keep = np.ones(len(ops_a), dtype=bool)
                keep[ub[same]] = keep[ub[same] + 1] = False
                idx = pa.array(np.flatnonzero(keep))
                rows, ops_a = rows.take(idx), ops_a[keep]
                ranks = np.asarray(ranks)[keep]
                if not len(ops_a):
                    return []
        arrays = [c.combine_chunks() for c in rows.columns] + [pa.array(ranks, pa.int64())]
        return [make_batch(ops_a, arrays, self.names)]

    def _compact(self) -> None:
        """Drops store rows no partition holds any more, once they outnumber the held ones."""
        if self.store.num_rows <= 4 * self.live + 65536:
            return
        entries = [(g, e) for g, part in self.parts.items() for e in part]
        refs = np.array([e[2] for _, e in entries], dtype=np.int64)
        order = np.argsort(refs, kind="stable")
        self.store = self.store.take(pa.array(refs[order])).combine_chunks()
        new_ref = np.empty(len(refs), dtype=np.int64)
        new_ref[order] = np.arange(len(refs))
        parts: dict[int, list] = {}
        for (g, e), r in zip(entries, new_ref.tolist()):
            parts.setdefault(g, []).append((e[0], e[1], r))
        self.parts = parts
        self.live = len(refs)
