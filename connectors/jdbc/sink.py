"""The jdbc sink: insert-only input is appended with COPY; updating input (a table with a PRIMARY KEY) is
upserted (INSERT .. ON CONFLICT (key) DO UPDATE) for +I/+U and deleted by key for -U/-D, as Flink's JDBC sink
does; within a buffer only the last change of each key is written.

Rows are buffered and flushed when `sink.buffer-flush.max-rows` are buffered, every `sink.buffer-flush.interval`
and at every checkpoint, each flush one database transaction. Delivery is at-least-once: after a restore the
rows since the last checkpoint are written again, and because upserts and deletes by key are idempotent the
table ends as if each change had been applied once (an append-only table without a key can get duplicates)."""
from __future__ import annotations

import io
import time

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from sqlstream.connectors.base import Sink, SinkWriter, TableSchema
from sqlstream.connectors.jdbc import postgres
from sqlstream.connectors.jdbc.config import JdbcConfig
from sqlstream.core.errors import ConnectorError

STAGE = "_sqlstream_stage"


class JdbcSink(Sink):
    def __init__(self, cfg: JdbcConfig, schema: TableSchema):
        self.cfg, self.schema = cfg, schema
        self.accepts_updates = bool(schema.primary_key)

    def writer(self, job: str = "job") -> JdbcSinkWriter:
        return JdbcSinkWriter(self.cfg, self.schema)


class JdbcSinkWriter(SinkWriter):
    """Connects and checks the table's columns (and its unique key for upserts) when created, before any row."""

    def __init__(self, cfg: JdbcConfig, schema: TableSchema):
        self.cfg, self.names, self.key = cfg, list(schema.names), list(schema.primary_key)
        self.conn = postgres.connect(cfg, cfg.sink_max_retries, "sink.max-retries")
        self.columns = postgres.check_columns(self.conn, cfg, schema, self.names)
        if self.key:
            postgres.check_unique_key(self.conn, cfg, self.key)
        self.statements = _Statements(cfg, self.names, self.key, self.columns)
        self._prepare_connection()
        self.pending: list[pa.RecordBatch] = []
        self.pending_rows = 0
        self.last_flush = time.monotonic()

    def _prepare_connection(self) -> None:
        if self.key:
            self.conn.execute(self.statements.create_stage)
            self.conn.commit()

    def write(self, batch: pa.RecordBatch) -> None:
        ops = batch.column(0)
        at = {n: i for i, n in enumerate(batch.schema.names)}
        rows = pa.RecordBatch.from_arrays([ops] + [batch.column(at[n]) for n in self.names],
                                          names=["_op"] + self.names)
        if not self.key:
            rows = rows.filter(pc.equal(ops, 0))
        if rows.num_rows:
            self.pending.append(rows)
            self.pending_rows += rows.num_rows
        if self.cfg.flush_max_rows and self.pending_rows >= self.cfg.flush_max_rows:
            self.flush()
        else:
            self._flush_if_due()

    def _flush_if_due(self) -> None:
        if self.cfg.flush_interval_ms and self.pending and \
                (time.monotonic() - self.last_flush) * 1000 >= self.cfg.flush_interval_ms:
            self.flush()

    def outage(self) -> str | None:
        self._flush_if_due()
        return None

    def flush(self) -> None:
        """Write the buffered rows in one transaction, retrying `sink.max-retries` times on a lost connection."""
        self.last_flush = time.monotonic()
        if not self.pending:
            return
        import psycopg
        rows = pa.Table.from_batches(self.pending)
        if self.key:
            rows = last_per_key(rows, self.key)
        for attempt in range(self.cfg.sink_max_retries + 1):
            try:
                self._apply(rows)
                self.conn.commit()
                break
            except psycopg.OperationalError as e:
                if attempt == self.cfg.sink_max_retries:
                    raise ConnectorError(
                        f"Table '{self.cfg.table}': writing to PostgreSQL at 'url' = '{self.cfg.shown_url}' failed "
                        f"{attempt + 1} time(s) ('sink.max-retries' = '{self.cfg.sink_max_retries}'): "
                        f"{' '.join(str(e).split())}") from None
                time.sleep(postgres.backoff_s(attempt))
                self._reconnect()
            except psycopg.Error as e:
                raise ConnectorError(f"Table '{self.cfg.table}': PostgreSQL rejected rows for table "
                                     f"'{self.cfg.table_name}': {' '.join(str(e).split())}") from None
        self.pending, self.pending_rows = [], 0

    def _reconnect(self) -> None:
        try:
            self.conn.close()
        except Exception:
            pass
        self.conn = postgres.connect(self.cfg, self.cfg.sink_max_retries, "sink.max-retries")
        self._prepare_connection()

    def _apply(self, rows: pa.Table) -> None:
        s = self.statements
        if not self.key:
            _copy(self.conn, s.copy_target, rows.drop(["_op"]))
            return
        removes = pc.is_in(rows.column("_op"), pa.array([1, 3], pa.int8()))  # -U/-D; a +U after -U wins
        deletes = rows.filter(removes)
        upserts = rows.filter(pc.invert(removes)).drop(["_op"])
        if deletes.num_rows:
            self.conn.execute(s.delete, [deletes.column(k).to_pylist() for k in self.key])
        if upserts.num_rows:
            _copy(self.conn, s.copy_stage, upserts)
            self.conn.execute(s.upsert)
            self.conn.execute(s.clear_stage)

    def prepare_commit(self, checkpoint_id: int):
        self.flush()
        return None

    def end_input(self) -> None:
        self.flush()

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self.conn.close()

    def cancel(self) -> None:
        self.conn.close()


class _Statements:
    """The SQL of one sink table, composed once with quoted identifiers."""

    def __init__(self, cfg: JdbcConfig, names: list[str], key: list[str], columns: dict):
        from psycopg import sql
        target, stage = postgres.qualified(cfg.table_name), sql.Identifier(STAGE)
        cols = sql.SQL(", ").join(map(sql.Identifier, names))
        self.copy_target = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(target, cols)
        self.copy_stage = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(stage, cols)
        self.create_stage = sql.SQL("CREATE TEMP TABLE IF NOT EXISTS {} AS SELECT {} FROM {} WITH NO DATA").format(
            stage, cols, target)
        self.clear_stage = sql.SQL("TRUNCATE {}").format(stage)
        rest = [n for n in names if n not in key]
        action = sql.SQL("DO UPDATE SET {}").format(sql.SQL(", ").join(
            sql.SQL("{} = EXCLUDED.{}").format(sql.Identifier(n), sql.Identifier(n)) for n in rest)) \
            if rest else sql.SQL("DO NOTHING")
        self.upsert = sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} ON CONFLICT ({}) {}").format(
            target, cols, cols, stage, sql.SQL(", ").join(map(sql.Identifier, key)), action)
        keys = sql.SQL(", ").join(map(sql.Identifier, key))
        arrays = sql.SQL(", ").join(sql.SQL("%s::{}[]").format(sql.SQL(columns[k].formatted)) for k in key)
        match = sql.SQL(" AND ").join(sql.SQL("t.{} = d.{}").format(sql.Identifier(k), sql.Identifier(k))
                                      for k in key)
        self.delete = sql.SQL("DELETE FROM {} AS t USING unnest({}) AS d({}) WHERE {}").format(
            target, arrays, keys, match)


def last_per_key(rows: pa.Table, key: list[str]) -> pa.Table:
    """The last change of each key in the buffer: only it decides what the table holds after the flush."""
    numbered = rows.append_column("__row", pa.array(np.arange(rows.num_rows, dtype=np.int64)))
    last = numbered.group_by(key, use_threads=False).aggregate([("__row", "max")]).column("__row_max")
    return rows.take(np.sort(last.to_numpy()))


def _copy(conn, statement, table: pa.Table) -> None:
    """COPY the table's rows in CSV: an unquoted empty field is NULL, a quoted one an empty string."""
    cols = []
    for col in table.columns:
        if pa.types.is_binary(col.type) or pa.types.is_large_binary(col.type):
            col = pa.array([None if v is None else "\\x" + v.hex() for v in col.to_pylist()], pa.string())
        cols.append(col)
    buf = io.BytesIO()
    pacsv.write_csv(pa.Table.from_arrays(cols, names=table.column_names), buf,
                    pacsv.WriteOptions(include_header=False))
    with conn.cursor().copy(statement) as copy:
        copy.write(buf.getvalue())
