"""Lookups into a PostgreSQL table for lookup joins: one query per input batch for the batch's distinct keys
that are not cached (`WHERE key = ANY(array)`, or a join with the unnested key arrays for a composite key)."""
from __future__ import annotations

import time

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.connectors.base import TableSchema
from sqlstream.connectors.jdbc import postgres
from sqlstream.connectors.jdbc.config import JdbcConfig
from sqlstream.connectors.lookup_cache import PartialCache, encode_keys
from sqlstream.core.errors import ConnectorError


class JdbcLookup:
    """Connects and checks the table's columns when created (the job's start); `lookup` retries
    `lookup.max-retries` times on a lost connection, then fails naming the option."""

    def __init__(self, cfg: JdbcConfig, schema: TableSchema, keys: list[str]):
        from psycopg import sql
        self.cfg, self.schema, self.keys = cfg, schema, keys
        self.types = [t.to_arrow() for t in schema.types]
        self.conn = postgres.connect(cfg, cfg.lookup_max_retries, "lookup.max-retries")
        columns = postgres.check_columns(self.conn, cfg, schema, schema.names)
        self.key_at = [schema.names.index(k) for k in keys]
        cols = sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(n)) for n in schema.names)
        table = postgres.qualified(cfg.table_name)
        if len(keys) == 1:
            self.query = sql.SQL("SELECT {} FROM {} AS t WHERE t.{} = ANY(%s::{}[])").format(
                cols, table, sql.Identifier(keys[0]), sql.SQL(columns[keys[0]].formatted))
        else:
            arrays = sql.SQL(", ").join(sql.SQL("%s::{}[]").format(sql.SQL(columns[k].formatted)) for k in keys)
            names = sql.SQL(", ").join(map(sql.Identifier, keys))
            match = sql.SQL(" AND ").join(sql.SQL("t.{} = k.{}").format(sql.Identifier(k), sql.Identifier(k))
                                          for k in keys)
            self.query = sql.SQL("SELECT {} FROM {} AS t JOIN unnest({}) AS k({}) ON {}").format(
                cols, table, arrays, names, match)
        self.loads = self.load_failures = 0
        self.arrow = pa.schema([pa.field(n, t) for n, t in zip(schema.names, self.types)])
        self.cache = PartialCache(self.arrow, encode_keys([pa.array([], self.types[i]) for i in self.key_at]).type,
                                  cfg.cache_max_rows, cfg.cache_expire_after_write_ms,
                                  cfg.cache_expire_after_access_ms) if cfg.lookup_cache else None

    def lookup(self, keys: list[pa.Array]) -> tuple[list[pa.Array], np.ndarray]:
        """The rows whose key equals one of the distinct, non-NULL `keys` (one array per key column), as the
        table's columns, and for each row the index of its key in `keys`."""
        keys = [k if k.type == self.types[i] else k.cast(self.types[i]) for k, i in zip(keys, self.key_at)]
        encoded = encode_keys(keys)
        if self.cache is None:
            rows = self._query(keys)
            owner = pc.index_in(encode_keys([rows.column(i).combine_chunks() for i in self.key_at]),
                                value_set=encoded)
            return [c.combine_chunks() for c in rows.columns], np.asarray(owner.to_numpy(zero_copy_only=False),
                                                                         dtype=np.int64)
        now = time.monotonic()
        slot = self.cache.find(encoded, now)
        missing = np.flatnonzero(slot < 0)
        if not len(missing):
            return self.cache.rows_of(slot)
        present = np.flatnonzero(slot >= 0)
        cached, cached_owner = self.cache.rows_of(slot[present])
        asked = pa.array(missing)
        rows = self._query([k.take(asked) for k in keys])
        row_keys = encode_keys([rows.column(i).combine_chunks() for i in self.key_at])
        new_keys = encoded.take(asked)
        fetched_owner = np.asarray(pc.index_in(row_keys, value_set=encoded).to_numpy(zero_copy_only=False),
                                   dtype=np.int64)
        if not self.cfg.cache_missing_key:
            new_keys = new_keys.filter(pc.is_in(new_keys, value_set=row_keys))
        self.cache.add(new_keys, rows, row_keys, now)
        columns = [pa.concat_arrays([c, f.combine_chunks()]) for c, f in zip(cached, rows.columns)]
        return columns, np.concatenate([present[cached_owner], fetched_owner])

    def _query(self, keys: list[pa.Array]) -> pa.Table:
        """The table's rows with one of the keys asked."""
        import psycopg
        params = [k.to_pylist() for k in keys]
        for attempt in range(self.cfg.lookup_max_retries + 1):
            try:
                rows = self.conn.execute(self.query, params).fetchall()
                self.conn.rollback()
                self.loads += 1
                break
            except psycopg.OperationalError as e:
                self.load_failures += 1
                if attempt == self.cfg.lookup_max_retries:
                    raise ConnectorError(
                        f"Table '{self.cfg.table}': looking up rows in PostgreSQL at 'url' = '{self.cfg.shown_url}' "
                        f"failed {attempt + 1} time(s) ('lookup.max-retries' = '{self.cfg.lookup_max_retries}'): "
                        f"{' '.join(str(e).split())}") from None
                time.sleep(postgres.backoff_s(attempt))
                try:
                    self.conn.close()
                except Exception:
                    pass
                self.conn = postgres.connect(self.cfg, self.cfg.lookup_max_retries, "lookup.max-retries")
        columns = list(zip(*rows)) if rows else [()] * len(self.types)
        return pa.Table.from_arrays([postgres.column_array(c, t) for c, t in zip(columns, self.types)],
                                    schema=self.arrow)

    def metrics(self) -> dict:
        out = {"loadCount": self.loads, "numLoadFailures": self.load_failures}
        if self.cache is not None:
            out.update(hitCount=self.cache.hits, missCount=self.cache.misses, numCachedRecords=len(self.cache.rows))
        return out

    def close(self) -> None:
        self.conn.close()
