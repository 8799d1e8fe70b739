"""Lookup join (processing-time temporal join): each input row joins the lookup table's rows with equal keys as
the table is when the row arrives. A file-backed table is read once, when the job starts, into a hash index."""
from __future__ import annotations

import pyarrow as pa

from connectors import registry
from connectors.base import TableSchema
from planner import logical as L
from runtime.changelog import data_columns, make_batch
from runtime.operator import Operator
from runtime.rows import batch_rows, columns
from runtime.operators.join import check_pairs


def load_table(node: L.LookupJoin) -> list[tuple]:
    """Every row of the lookup table, read through its connector."""
    schema = TableSchema([f.name for f in node.columns], [f.type for f in node.columns])
    source = registry.create_source(node.connector, node.table, node.options, schema)
    rows: list[tuple] = []
    for split in source.splits():
        reader = source.reader(split)
        try:
            while not reader.finished:
                batch = reader.poll(65536)
                if batch is not None and batch.num_rows:
                    rows += batch_rows(batch.columns, batch.num_rows)
        finally:
            reader.close()
    return rows


class LookupJoinOperator(Operator):
    name = "LookupJoin"

    def __init__(self, node: L.LookupJoin, names: list[str]):
        self.kind, self.condition, self.names = node.kind, node.condition, names
        self.left_keys, self.right_keys = node.left_keys, node.right_keys
        self.left_types = [f.type.to_arrow() for f in node.input.fields]
        self.right_types = [f.type.to_arrow() for f in node.columns]
        self.index: dict[tuple, list[tuple]] = {}
        for row in load_table(node):
            key = tuple(row[i] for i in self.right_keys)
            if None not in key:
                self.index.setdefault(key, []).append(row)

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        cols = data_columns(batch)
        rows = batch_rows(cols, batch.num_rows)
        ops = batch.column(0).to_pylist()
        pairs, owners = [], []
        for i, row in enumerate(rows):
            for match in self.index.get(tuple(row[k] for k in self.left_keys), ()):
                pairs.append((row, match))
                owners.append(i)
        ok = check_pairs(self.condition, self.left_types + self.right_types, pairs)
        joined: list[list[tuple]] = [[] for _ in rows]
        for good, (left, right), i in zip(ok, pairs, owners):
            if good:
                joined[i].append(left + right)
        pad = tuple([None] * len(self.right_types))
        out_rows, out_ops = [], []
        for i, row in enumerate(rows):
            found = joined[i] or ([row + pad] if self.kind == "LEFT" else [])
            out_rows += found
            out_ops += [ops[i]] * len(found)
        if not out_rows:
            return []
        out = columns(out_rows, self.left_types + self.right_types)
        return [make_batch(pa.array(out_ops, pa.int8()), out, self.names)]
