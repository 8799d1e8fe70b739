"""The rows of a VALUES clause (and the one row of a SELECT without FROM): a bounded source of row numbers.

The planner turns each VALUES column into an expression over the row number (`CASE "$row" WHEN 0 THEN ..`), so
the values themselves are typed, cast and evaluated like any other expression; this source only counts rows.
"""
from __future__ import annotations

from typing import Any

import pyarrow as pa

from sqlstream.connectors.base import Source, SplitReader, TableSchema, rows_batch

NAME = "<values>"  # not a connector users name in a WITH clause: the planner's own
ROW = "$row"


class ValuesSource(Source):
    bounded = True

    def __init__(self, count: int, schema: TableSchema):
        self.count, self.schema = count, schema

    def reader(self, split: str, position: Any = None) -> SplitReader:
        return ValuesReader(self.count, self.schema, int(position or 0))


class ValuesReader(SplitReader):
    def __init__(self, count: int, schema: TableSchema, start: int):
        self.count, self.schema, self.next = count, schema, start
        self.finished = start >= count

    def poll(self, max_rows: int) -> pa.RecordBatch | None:
        if self.finished:
            return None
        end = min(self.count, self.next + max(1, max_rows))
        cols = [pa.array(range(self.next, end), pa.int64()) for n in self.schema.names if n == ROW]
        batch = rows_batch(cols, [ROW] * len(cols), end - self.next)
        self.next = end
        self.finished = end >= self.count
        return batch

    def position(self) -> Any:
        return self.next


def create_source(table: str, options: dict, schema: TableSchema) -> Source:
    return ValuesSource(int(options["rows"]), schema)
