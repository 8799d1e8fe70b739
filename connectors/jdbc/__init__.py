"""The jdbc connector (PostgreSQL): a sink that appends or upserts, a lookup source with a cache, and a bounded
scan split by `scan.partition.*`. psycopg is imported only when a jdbc table is used."""
from __future__ import annotations

from sqlstream.connectors.base import Sink, Source, TableSchema
from sqlstream.connectors.jdbc.config import OPTIONS, parse
from sqlstream.core.errors import ConnectorError

__all__ = ["OPTIONS", "create_sink", "create_source", "create_lookup"]


def _require_driver() -> None:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise ConnectorError("The jdbc connector needs the PostgreSQL driver psycopg 3: "
                             "pip install 'sqlstream[jdbc]'") from None


def create_sink(table: str, options: dict, schema: TableSchema) -> Sink:
    from sqlstream.connectors.jdbc.sink import JdbcSink
    cfg = parse(table, options)
    _require_driver()
    return JdbcSink(cfg, schema)


def create_source(table: str, options: dict, schema: TableSchema) -> Source:
    from sqlstream.connectors.jdbc.scan import JdbcSource
    cfg = parse(table, options)
    _require_driver()
    return JdbcSource(cfg, schema)


def create_lookup(table: str, options: dict, schema: TableSchema, keys: list[str]):
    from sqlstream.connectors.jdbc.lookup import JdbcLookup
    cfg = parse(table, options)
    _require_driver()
    return JdbcLookup(cfg, schema, keys)
