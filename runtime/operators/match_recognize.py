"""MATCH_RECOGNIZE as Flink's CepOperator runs it in event time: rows wait until the watermark passes them, then
run through the pattern's automaton in (partition, rowtime, ORDER BY, arrival) order; a row at or behind the
watermark is late and dropped. Matches are emitted as insert-only rows of the partition keys and MEASURES.

The rows a watermark releases are matched together (`runtime/match_wavefront.py`): every row starts a candidate
match and all partial matches advance a row per step, their DEFINE conditions evaluated as columns. A partition
whose first running start waits for more rows keeps its rows from that start on (`held`) with the partial
matches and the finished matches it holds back (in their start rows' `partials`), which the next release continues. Ordered by a
processing-time attribute, each batch's rows are matched as they arrive. Both kinds of rows are keyed by the
partition, so the state splits by key group when the job is rescaled.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.core.changelog import INSERT, data_columns, make_batch, row_watermarks
from sqlstream.core.errors import SqlStreamError
from sqlstream.plan.expr import refs
from sqlstream.runtime.event_time import MIN_WM, rowtime_ms
from sqlstream.runtime.expressions import evaluate
from sqlstream.runtime.match_wavefront import Branches, CompiledPattern, Matching, Rows, emit
from sqlstream.runtime.nfa import Automaton, SkipError
from sqlstream.runtime.operator import Operator, OperatorContext
from sqlstream.runtime.rows import rows_equal

RUNNING, FINISHED = 0, 1


class MatchRecognizeOperator(Operator):
    drops_late_rows = True
    name = "MatchRecognize"

    def __init__(self, node, names: list[str], types: list[pa.DataType], out_types: list[pa.DataType]):
        self.partition, self.time_index, self.order = node.partition, node.time_index, node.order
        self.proctime = node.proctime
        self.variables = [t.var for t in node.pattern]
        self.pattern = CompiledPattern(Automaton(node.pattern), self.variables)
        self.skip, self.within = node.skip, node.within
        self.types = types
        self.matching = Matching(self.pattern, node.defines, types, node.time_index, node.within)
        self.measures, self.measure_slots = node.measures, node.measure_slots
        self.names, self.out_types = names, out_types
        # the only columns a match reads: the rest are not kept while rows wait
        read = set(self.partition) | {node.time_index} | {i for i, _ in node.order}
        for cond, slots in node.defines.values():
            read |= {i for i in refs(cond) if i < len(types)} | {s.column for s in slots if s.column is not None}
        read |= {s.column for s in node.measure_slots if s.column is not None}
        self.kept = sorted(read)
        self.seq = 0  # arrival order within a partition
        self.late_dropped = 0  # a metric, not state (it starts from 0 after a restore)

    def open(self, ctx: OperatorContext) -> None:
        rows = [pa.field(f"c{i}", self.types[i]) for i in self.kept]
        keys = [f"c{p}" for p in self.partition]
        arrays = {"ts": np.int64, "seq": np.int64}
        k = len(self.variables)
        partial = pa.struct([pa.field("kind", pa.int8()), pa.field("length", pa.int64()),
                             pa.field("state", pa.int64())] + [pa.field(f"first{i}", pa.int64()) for i in range(k)]
                            + [pa.field(f"end{i}", pa.int64()) for i in range(k)])
        self.waiting = ctx.keyed_rows("waiting", pa.schema(rows), keys, arrays)
        # a partition's rows from its first running start on, each with the partial and finished matches it
        # starts (in the order of Flink's partial matches)
        self.held = ctx.keyed_rows("held", pa.schema(rows + [pa.field("partials", pa.list_(partial))]), keys,
                                   arrays)

    def _restored(self) -> None:
        """Arrival numbers go on from the restored rows' (several subtasks' rows may have been merged: a
        partition's rows come from one of them, so their order is kept)."""
        seqs = [s for s in (self.waiting.array("seq"), self.held.array("seq")) if len(s)]
        self.seq = int(max(s.max() for s in seqs)) + 1 if seqs else 0

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        if self.waiting.take_restored() | self.held.take_restored():
            self._restored()
        cols = data_columns(batch)
        n = batch.num_rows
        ts, valid = rowtime_ms(cols[self.time_index])
        seq = self.seq + np.arange(n, dtype=np.int64)
        self.seq += n
        table = pa.Table.from_arrays([cols[i] for i in self.kept], schema=self.waiting.schema)
        if self.proctime:  # each row is matched when it arrives; WITHIN counts wall-clock time
            return self._match(table, ts, seq, None)
        wm = row_watermarks(batch)
        if wm is None:
            wm = np.full(n, MIN_WM, dtype=np.int64)
        late = ~valid | (ts <= wm)
        if late.any():
            self.late_dropped += int(late.sum())
            if self.late_rows is not None:
                self.late_rows.add(cols, late, ts, wm)
            keep = np.flatnonzero(~late)
            table, ts, seq = table.take(pa.array(keep, pa.int64())), ts[keep], seq[keep]
        if len(ts):
            self.waiting.append(table, ts=ts, seq=seq)
        return []

    def on_watermark(self, wm: int) -> list[pa.RecordBatch]:
        if self.proctime:
            return []
        if self.waiting.take_restored() | self.held.take_restored():
            self._restored()
        ts = self.waiting.array("ts")
        ready = ts <= wm
        if not ready.any() and not (self.within and len(self.held)):
            return []
        take = np.flatnonzero(ready)
        table = self.waiting.rows(take)
        released, seq = ts[take], self.waiting.array("seq")[take]
        self.waiting.keep(np.flatnonzero(~ready))
        return self._match(table, released, seq, wm)

    def _match(self, table: pa.Table, ts: np.ndarray, seq: np.ndarray, wm: int | None) -> list[pa.RecordBatch]:
        """Matches the held rows followed by the new ones; `wm` ends partial matches older than WITHIN."""
        held = self.held
        n_held = len(held)
        if n_held:
            table = pa.concat_tables([held.rows().select(table.column_names), table])
            ts = np.concatenate([held.array("ts"), ts])
            seq = np.concatenate([held.array("seq"), seq])
        n = len(ts)
        if n == 0:
            return []
        gen = np.ones(n, np.int8)
        gen[:n_held] = 0
        perm = self._processing_order(table, ts, seq, gen)
        taken = table.take(pa.array(perm, pa.int64())).combine_chunks()
        cols: list = [None] * len(self.types)
        for i in self.kept:
            cols[i] = taken.column(f"c{i}").chunk(0) if taken.num_rows else pa.array([], self.types[i])
        ts, seq = ts[perm], seq[perm]
        inv = np.empty(n, np.int64)
        inv[perm] = np.arange(n)
        segment_start, segment_end = self._segments(cols, n)
        rows = Rows(cols, ts, segment_end)
        k = len(self.variables)
        running, finished = self._carried(inv)
        fresh = Branches.starting(inv[n_held:], self.pattern.start, k)
        branches = Branches.concat([running, fresh], k)
        branches = branches.take(np.argsort(branches.start, kind="stable"))
        matched, waiting = self.matching.run(rows, branches)
        if self.within and wm is not None and len(waiting):
            waiting = waiting.take(wm - ts[waiting.start] < self.within)
        matched = Branches.concat([finished, matched], k)
        matched = matched.take(np.argsort(matched.start, kind="stable"))
        try:
            emitted, holding = emit(matched, waiting, segment_start, segment_end, self.skip, self.pattern.var_index,
                                    lambda i: self._describe(rows, matched, i))
        except SkipError as e:
            raise SqlStreamError(f"MATCH_RECOGNIZE: {e}") from None
        self._hold(rows, seq, holding, waiting, matched, emitted)
        if not len(emitted):
            return []
        out = matched.take(emitted)
        last = out.start + out.length - 1
        out = out.take(np.lexsort((last, ts[last])))
        return [self._output(rows, out)]

    def _processing_order(self, table: pa.Table, ts: np.ndarray, seq: np.ndarray, gen: np.ndarray) -> np.ndarray:
        keys, names = [], []
        for p in self.partition:
            keys.append(table.column(f"c{p}"))
            names.append((f"p{p}", "ascending"))
        keys += [pa.array(gen), pa.array(ts if not self.proctime else seq)]
        names += [("gen", "ascending"), ("ts", "ascending")]
        if not self.proctime:
            for j, (i, desc) in enumerate(self.order):
                col = table.column(f"c{i}")
                # NULLs first ascending, last descending, as Flink's comparator orders them
                keys += [pc.is_valid(col) if not desc else pc.is_null(col), col]
                names += [(f"n{j}", "ascending"), (f"o{j}", "descending" if desc else "ascending")]
            keys.append(pa.array(seq))
            names.append(("seq", "ascending"))
        order = pa.table(keys, names=[nm for nm, _ in names])
        return np.asarray(pc.sort_indices(order, sort_keys=names))

    def _segments(self, cols: list[pa.Array], n: int) -> tuple[np.ndarray, np.ndarray]:
        """Per row, where its partition's rows begin and end (rows sorted by partition)."""
        change = np.ones(n, bool)
        if self.partition and n > 1:
            keys = [cols[p] for p in self.partition]
            change[1:] = ~rows_equal([c.slice(1) for c in keys], [c.slice(0, n - 1) for c in keys])
        elif n > 1:
            change[1:] = False
        starts = np.flatnonzero(change)
        ends = np.append(starts[1:], n)
        counts = np.diff(np.append(starts, n))
        return np.repeat(starts, counts), np.repeat(ends, counts)

    def _carried(self, inv: np.ndarray) -> tuple[Branches, Branches]:
        """The held partial and finished matches, their starts moved to the rows' new positions."""
        k = len(self.variables)
        lists = self.held.column("partials").combine_chunks() if len(self.held) else None
        if lists is None or not len(lists.values):
            return Branches.empty(k), Branches.empty(k)
        start = np.asarray(pc.list_parent_indices(lists).to_numpy(), np.int64)
        p = lists.flatten()

        def field(name):
            return np.asarray(p.field(name).to_numpy(), np.int64)
        b = Branches(inv[start], field("length"), field("state"),
                     np.stack([field(f"first{i}") for i in range(k)], axis=1).reshape(-1, k),
                     np.stack([field(f"end{i}") for i in range(k)], axis=1).reshape(-1, k))
        kind = field("kind")
        return b.take(kind == RUNNING), b.take(kind == FINISHED)

    def _hold(self, rows: Rows, seq: np.ndarray, holding: np.ndarray, waiting: Branches, matched: Branches,
              emitted: np.ndarray) -> None:
        """Keeps each partition's rows from its first running start on, with what they carry."""
        n = rows.n
        edge = np.zeros(n + 1, np.int64)
        np.add.at(edge, holding, 1)
        np.add.at(edge, rows.segment_end[holding], -1)
        keep = np.cumsum(edge[:n]) > 0
        idx = np.flatnonzero(keep)
        new_pos = np.cumsum(keep) - 1
        pending = np.ones(len(matched), bool)
        pending[emitted] = False
        parts = [(RUNNING, waiting.take(keep[waiting.start])),
                 (FINISHED, matched.take(pending & keep[matched.start]))]
        k = len(self.variables)
        kind = np.concatenate([np.full(len(b), c, np.int8) for c, b in parts])
        b = Branches.concat([b for _, b in parts], k)
        start = new_pos[b.start]
        order = np.argsort(start, kind="stable")  # a start's partial matches keep their order
        fields = {"kind": kind, "length": b.length, "state": b.state}
        fields.update({f"first{i}": b.first[:, i] for i in range(k)})
        fields.update({f"end{i}": b.end[:, i] for i in range(k)})
        partial_type = self.held.schema.field("partials").type
        values = pa.StructArray.from_arrays([pa.array(v[order], partial_type.value_type.field(name).type)
                                             for name, v in fields.items()],
                                            fields=list(partial_type.value_type))
        offsets = np.concatenate([[0], np.cumsum(np.bincount(start, minlength=len(idx)))]).astype(np.int32)
        partials = pa.ListArray.from_arrays(pa.array(offsets), values, type=partial_type)
        self.held.replace(pa.table([rows.cols[i].take(pa.array(idx, pa.int64())) for i in self.kept] + [partials],
                                   schema=self.held.schema), ts=rows.ts[idx], seq=seq[idx])

    def _output(self, rows: Rows, m: Branches) -> pa.RecordBatch:
        n = len(m)
        slots = self.matching.measure_slots(rows, self.measure_slots, m)
        # measures read slots only; the input columns before them are never read, so NULLs stand in for them
        cols = [pa.nulls(n, t) for t in self.types] + slots
        keys = [rows.gather(p, m.start) for p in self.partition]
        values = [evaluate(e, cols, n) for e in self.measures]
        out = [c.cast(t) if c.type != t else c for c, t in zip(keys + values, self.out_types)]
        return make_batch(INSERT, out, self.names)

    def _describe(self, rows: Rows, matched: Branches, i: int) -> str:
        start, length = int(matched.start[i]), int(matched.length[i])
        values = list(zip(*[c.slice(start, length).to_pylist() if c is not None else [None] * length
                            for c in rows.cols]))
        out: dict[str, list] = {}
        for j, var in enumerate(self.variables):
            f, e = int(matched.first[i, j]), int(matched.end[i, j])
            if f >= 0:
                out[var] = values[f:e]
        return str(out)

    def metrics(self) -> dict:
        return {"late_records_dropped": self.late_dropped}
