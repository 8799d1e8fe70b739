"""Lookup join (processing-time temporal join): each input row joins the lookup table's rows with equal keys as
the table is when the row arrives. A file-backed table is read once, when the job starts, into a hash index; a
connector that looks rows up (jdbc) is asked once per input batch for the batch's distinct keys."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.connectors import registry
from sqlstream.connectors.base import TableSchema
from sqlstream.plan import logical as L
from sqlstream.core.changelog import data_columns, make_batch
from sqlstream.runtime.expressions import evaluate
from sqlstream.runtime.operator import Operator
from sqlstream.runtime.rows import batch_rows


def load_table(node: L.LookupJoin) -> pa.Table:
    """The whole lookup table, read through its connector."""
    schema = TableSchema([f.name for f in node.columns], [f.type for f in node.columns])
    source = registry.create_source(node.connector, node.table, node.options, schema)
    batches: list[pa.RecordBatch] = []
    for split in source.splits():
        reader = source.reader(split)
        try:
            while not reader.finished:
                batch = reader.poll(65536)
                if batch is not None and batch.num_rows:
                    batches.append(batch)
        finally:
            reader.close()
    return pa.Table.from_batches(batches, schema.arrow()) if batches else schema.arrow().empty_table()


class LookupJoinOperator(Operator):
    """Keys are looked up in a hash index of row numbers; the joined rows are then gathered column-wise
    (`take`) and the extra condition is evaluated once per batch."""

    name = "LookupJoin"

    def __init__(self, node: L.LookupJoin, names: list[str]):
        self.kind, self.condition, self.names = node.kind, node.condition, names
        self.left_keys, self.right_keys = node.left_keys, node.right_keys
        self.generated = self.source = None
        spec = registry.load(node.connector)
        if spec.lookup is not None:
            schema = TableSchema([f.name for f in node.columns], [f.type for f in node.columns])
            self.source = spec.lookup(node.table, node.options, schema,
                                      [node.columns[k].name for k in node.right_keys])
            self.right_types = [f.type.to_arrow() for f in node.columns]
            return
        if node.connector == "faker":  # rows are made for the keys looked up, not read
            from sqlstream.connectors.faker import FakerLookup
            self.generated = FakerLookup(node.table, node.options, TableSchema(
                [f.name for f in node.columns], [f.type for f in node.columns]))
            return
        table = load_table(node).combine_chunks()
        self.right = [table.column(i).combine_chunks() if table.num_rows else pa.array([], t)
                      for i, t in enumerate(table.schema.types)]
        self.index: dict[tuple, list[int]] = {}
        for j, key in enumerate(batch_rows([self.right[k] for k in node.right_keys], table.num_rows)):
            if None not in key:
                self.index.setdefault(key, []).append(j)

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        left = data_columns(batch)
        if self.source is not None:
            return self._looked_up(batch, left)
        if self.generated is not None:
            self.right = self.generated.rows(batch.num_rows)
            for lk, rk in zip(self.left_keys, self.right_keys):
                self.right[rk] = left[lk].cast(self.right[rk].type)
            valid = np.ones(batch.num_rows, bool)
            for lk in self.left_keys:
                valid &= np.asarray(left[lk].is_valid().to_numpy(zero_copy_only=False), dtype=bool)
            return self._joined(batch, left, np.flatnonzero(valid), np.flatnonzero(valid))
        left_idx, right_idx = [], []
        for i, key in enumerate(batch_rows([left[k] for k in self.left_keys], batch.num_rows)):
            for j in self.index.get(key, ()):
                left_idx.append(i)
                right_idx.append(j)
        li, ri = np.array(left_idx, dtype=np.int64), np.array(right_idx, dtype=np.int64)
        return self._joined(batch, left, li, ri)

    def _looked_up(self, batch: pa.RecordBatch, left: list[pa.Array]) -> list[pa.RecordBatch]:
        """Ask the connector for the batch's distinct non-NULL keys, then pair each row with its key's rows."""
        keys = [left[k] for k in self.left_keys]
        if len(keys) == 1:
            encoded = pc.dictionary_encode(keys[0])  # one hash pass: distinct keys and each row's; NULL stays NULL
            distinct = encoded.dictionary
            slots = np.asarray(pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False), dtype=np.int64)
        else:
            at: dict[tuple, int] = {}
            slots = np.array([-1 if None in k else at.setdefault(k, len(at))
                              for k in batch_rows(keys, batch.num_rows)], dtype=np.int64)
            firsts = np.unique(slots[slots >= 0], return_index=True)[1]
            order = np.flatnonzero(slots >= 0)[firsts]
            distinct = None
            keys = [k.take(pa.array(order)) for k in keys]
        n_keys = len(distinct) if distinct is not None else len(keys[0])
        if n_keys == 0:  # only NULL keys: nothing to look up
            self.right = [pa.array([], t) for t in self.right_types]
            return self._joined(batch, left, np.array([], np.int64), np.array([], np.int64))
        right, owner = self.source.lookup([distinct] if distinct is not None else keys)
        self.right = right
        by_key = np.argsort(owner, kind="stable") if len(owner) > 1 and (np.diff(owner) < 0).any() else None
        counts = np.bincount(owner, minlength=n_keys)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
        per_row = np.where(slots >= 0, counts[np.maximum(slots, 0)], 0)
        li = np.repeat(np.arange(batch.num_rows, dtype=np.int64), per_row)
        first = np.repeat(starts[np.maximum(slots, 0)], per_row)
        within = np.arange(len(li), dtype=np.int64) - np.repeat(np.cumsum(per_row) - per_row, per_row)
        ri = first + within
        return self._joined(batch, left, li, ri if by_key is None else by_key[ri])

    def metrics(self) -> dict:
        """The lookup cache's counters under Flink's names (CacheMetricGroup), when the connector keeps one."""
        return self.source.metrics() if self.source is not None else {}

    def close(self) -> list[pa.RecordBatch]:
        if self.source is not None:
            self.source.close()
        return []

    def _joined(self, batch: pa.RecordBatch, left: list[pa.Array], li: np.ndarray, ri: np.ndarray):
        """Left rows li joined with right rows ri; then the extra condition and, for LEFT, the unmatched rows."""
        cols = [c.take(li) for c in left] + [c.take(ri) for c in self.right]
        if self.condition is not None and len(li):
            ok = np.asarray(pc.fill_null(evaluate(self.condition, cols, len(li)), False)
                            .to_numpy(zero_copy_only=False), dtype=bool)
            li, ri = li[ok], ri[ok]
            cols = [c.filter(pa.array(ok)) for c in cols]
        if self.kind == "LEFT":  # rows without a match, NULL-padded, in their place
            unmatched = np.flatnonzero(np.bincount(li, minlength=batch.num_rows) == 0)
            cols = [pa.concat_arrays([c, lc.take(unmatched)]) for c, lc in zip(cols, left)] + \
                [pa.concat_arrays([c, pa.nulls(len(unmatched), c.type)]) for c in cols[len(left):]]
            order = np.argsort(np.concatenate([li, unmatched]), kind="stable")
            li = np.concatenate([li, unmatched])[order]
            cols = [c.take(order) for c in cols]
        if not len(li):
            return []
        return [make_batch(batch.column(0).take(li), cols, self.names)]
