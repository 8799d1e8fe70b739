"""The jdbc scan source: a bounded read of a PostgreSQL table, one split per `scan.partition.*` range.

With `scan.partition.column` the rows with that column between the lower and upper bound are read in
`scan.partition.num` ranges of (nearly) equal width, as Flink's JDBC source splits them; rows outside the bounds
or with a NULL there are not read (as in Flink). A split's position is the number of rows it returned; rows are
read in a fixed order (the table's primary key, else its physical row order) so a restored split resumes after
them."""
from __future__ import annotations

import pyarrow as pa

from sqlstream.connectors.base import Source, SplitReader, TableSchema, rows_batch
from sqlstream.connectors.jdbc import postgres
from sqlstream.connectors.jdbc.config import JdbcConfig

CONNECT_RETRIES = 3


def partition_ranges(lower: int, upper: int, num: int) -> list[tuple[int, int]]:
    """[lower, upper] cut into `num` inclusive ranges, the first ones one wider when it does not divide evenly
    (Flink's JdbcNumericBetweenParametersProvider)."""
    count = upper - lower + 1
    num = min(num, count)
    size, big = count // num, count % num
    out, start = [], lower
    for i in range(num):
        end = start + size - 1 + (1 if i < big else 0)
        out.append((start, end))
        start = end + 1
    return out


class JdbcSource(Source):
    bounded = True

    def __init__(self, cfg: JdbcConfig, schema: TableSchema):
        self.cfg, self.schema = cfg, schema

    def splits(self) -> list[str]:
        """Checks the table's columns once, as the job starts; one split per partition range."""
        conn = postgres.connect(self.cfg, CONNECT_RETRIES, "")
        try:
            postgres.check_columns(conn, self.cfg, self.schema, self.schema.all_names)
            if self.cfg.partition_column is not None:
                postgres.check_columns(conn, self.cfg, self.schema, [self.cfg.partition_column])
        finally:
            conn.close()
        if self.cfg.partition_column is None:
            return ["all"]
        return [f"{lo}..{hi}" for lo, hi in
                partition_ranges(self.cfg.partition_lower, self.cfg.partition_upper, self.cfg.partition_num)]

    def reader(self, split: str, position=None) -> SplitReader:
        bounds = None if split == "all" else tuple(int(b) for b in split.split(".."))
        return JdbcSplitReader(self.cfg, self.schema, bounds, int(position or 0))


class JdbcSplitReader(SplitReader):
    """Opens its connection on the first poll and streams rows through a server-side cursor,
    `scan.fetch-size` at a time."""

    def __init__(self, cfg: JdbcConfig, schema: TableSchema, bounds: tuple[int, int] | None, skip: int):
        self.cfg, self.schema, self.bounds, self.returned = cfg, schema, bounds, skip
        self.types = [t.to_arrow() for t in schema.types]
        self.conn = self.cursor = None

    def _open(self) -> None:
        from psycopg import sql
        self.conn = postgres.connect(self.cfg, CONNECT_RETRIES, "")
        key = [r[0] for r in self.conn.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND "
            "a.attnum = ANY(i.indkey) WHERE i.indrelid = %s AND i.indisprimary",
            (postgres.table_oid(self.conn, self.cfg),)).fetchall()]
        order = sql.SQL(", ").join(map(sql.Identifier, key)) if key else sql.SQL("ctid")
        cols = sql.SQL(", ").join(map(sql.Identifier, self.schema.names)) if self.schema.names else sql.SQL("1")
        query = sql.SQL("SELECT {} FROM {}").format(cols, postgres.qualified(self.cfg.table_name))
        params: list = []
        if self.bounds is not None:
            query += sql.SQL(" WHERE {} BETWEEN %s AND %s").format(sql.Identifier(self.cfg.partition_column))
            params += list(self.bounds)
        query += sql.SQL(" ORDER BY {} OFFSET %s").format(order)
        params.append(self.returned)
        self.cursor = self.conn.cursor(name="sqlstream_scan")
        self.cursor.itersize = self.cfg.fetch_size
        self.cursor.execute(query, params)

    def poll(self, max_rows: int) -> pa.RecordBatch | None:
        if self.finished:
            return None
        if self.cursor is None:
            self._open()
        rows = self.cursor.fetchmany(min(max_rows, self.cfg.fetch_size))
        if len(rows) < min(max_rows, self.cfg.fetch_size):
            self.finished = True
            self.close()
        if not rows:
            return None
        self.returned += len(rows)
        columns = list(zip(*rows)) if self.schema.names else []
        return rows_batch([postgres.column_array(c, t) for c, t in zip(columns, self.types)], self.schema.names,
                          len(rows))

    def position(self):
        return self.returned

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = self.cursor = None
