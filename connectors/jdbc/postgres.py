"""Talking to PostgreSQL: connecting with retries, reading a table's columns and checking them against the DDL."""
from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import pyarrow as pa

from sqlstream.connectors.base import TableSchema
from sqlstream.connectors.jdbc.config import JdbcConfig
from sqlstream.core.errors import ConnectorError
from sqlstream.core.types import FlinkType

# Flink type -> the Postgres types (pg_type.typname) a column of that type may have
COMPATIBLE = {
    "BOOLEAN": ("bool",), "TINYINT": ("int2",), "SMALLINT": ("int2",), "INT": ("int4",),
    "BIGINT": ("int8",), "FLOAT": ("float4",), "DOUBLE": ("float8",), "DECIMAL": ("numeric",),
    "CHAR": ("bpchar", "varchar", "text"), "VARCHAR": ("varchar", "text", "bpchar"),
    "DATE": ("date",), "TIME": ("time",), "TIMESTAMP": ("timestamp",), "TIMESTAMP_LTZ": ("timestamptz",),
    "BINARY": ("bytea",), "VARBINARY": ("bytea",),
}


def backoff_s(attempt: int) -> float:
    """The pause before retry `attempt` (0-based): short first, one second at most."""
    return min(1.0, 0.1 * 2 ** attempt)


def connect(cfg: JdbcConfig, retries: int, retries_option: str):
    """A connection (autocommit off), trying 1 + `retries` times; then a ConnectorError naming the url and
    the option that set the number of retries."""
    import psycopg
    last = None
    for attempt in range(retries + 1):
        try:
            return psycopg.connect(**cfg.connect_kwargs())
        except psycopg.OperationalError as e:
            last = e
            if attempt < retries:
                time.sleep(backoff_s(attempt))
    reason = " ".join(str(last).split())
    option = f" ('{retries_option}' = '{retries}')" if retries_option else ""
    raise ConnectorError(f"Table '{cfg.table}': cannot connect to PostgreSQL at 'url' = '{cfg.shown_url}' "
                         f"after {retries + 1} attempt(s){option}: {reason}")


def qualified(name: str):
    """'schema.table' or 'table' as a quoted identifier."""
    from psycopg import sql
    return sql.Identifier(*name.split(".", 1))


@dataclass(frozen=True)
class Column:
    name: str
    typname: str  # pg_type.typname: int4, varchar, numeric ...
    formatted: str  # format_type(): 'numeric(10,2)', 'character varying(20)'


def table_oid(conn, cfg: JdbcConfig) -> int:
    """The database table's oid; a ConnectorError naming 'table-name' when there is no such table."""
    quoted = ".".join('"' + part.replace('"', '""') + '"' for part in cfg.table_name.split(".", 1))
    row = conn.execute("SELECT to_regclass(%s)::oid", (quoted,)).fetchone()
    conn.rollback()
    if row is None or row[0] is None:
        raise ConnectorError(f"Table '{cfg.table}': option 'table-name' = '{cfg.table_name}' names no table in "
                             f"PostgreSQL database '{cfg.database}' at {cfg.host}:{cfg.port} (the jdbc connector "
                             f"does not create tables: create it first)")
    return row[0]


def table_columns(conn, cfg: JdbcConfig) -> dict[str, Column]:
    """The database table's columns by name."""
    cols = conn.execute("SELECT a.attname, t.typname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
                        "JOIN pg_type t ON t.oid = a.atttypid WHERE a.attrelid = %s AND a.attnum > 0 "
                        "AND NOT a.attisdropped ORDER BY a.attnum", (table_oid(conn, cfg),)).fetchall()
    conn.rollback()
    return {name: Column(name, typname, formatted) for name, typname, formatted in cols}


def check_unique_key(conn, cfg: JdbcConfig, key: list[str]) -> None:
    """Upserts need a primary key or unique index on exactly the DDL's PRIMARY KEY columns (ON CONFLICT)."""
    sets = conn.execute("SELECT array_agg(a.attname::text) FROM pg_index i JOIN pg_attribute a ON "
                        "a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s AND "
                        "i.indisunique GROUP BY i.indexrelid", (table_oid(conn, cfg),)).fetchall()
    conn.rollback()
    if not any(set(cols) == set(key) for (cols,) in sets):
        raise ConnectorError(f"Table '{cfg.table}': PRIMARY KEY ({', '.join(key)}) is not a primary key or "
                             f"unique index of PostgreSQL table '{cfg.table_name}', so rows cannot be upserted "
                             f"by it; add one (ALTER TABLE {cfg.table_name} ADD PRIMARY KEY ({', '.join(key)}))")


def check_columns(conn, cfg: JdbcConfig, schema: TableSchema, names: list[str]) -> dict[str, Column]:
    """The database columns for `names`, each checked against its DDL type, so a mismatch fails when the job
    starts rather than at the first row it writes or looks up."""
    have = table_columns(conn, cfg)
    types = dict(zip(schema.all_names, schema.all_types))
    out = {}
    for name in names:
        col = have.get(name)
        if col is None:
            raise ConnectorError(f"Table '{cfg.table}': column '{name}' does not exist in PostgreSQL table "
                                 f"'{cfg.table_name}' (it has: {', '.join(have)})")
        if not compatible(types[name], col.typname):
            raise ConnectorError(f"Table '{cfg.table}': column '{name}' is {types[name]} in the DDL but "
                                 f"{col.formatted} in PostgreSQL table '{cfg.table_name}'; declare it as "
                                 f"{flink_type_for(col.typname)} or change the database column")
        out[name] = col
    return out


def compatible(t: FlinkType, typname: str) -> bool:
    return typname in COMPATIBLE.get(t.name, ())


def column_array(values, arrow_type: pa.DataType) -> pa.Array:
    """Database values as an Arrow column. A NUMERIC with more decimals than the DDL's DECIMAL(p, s) is rounded
    half up to s, and one too wide for p is NULL, as Flink converts a BigDecimal to DECIMAL(p, s)."""
    if pa.types.is_decimal(arrow_type):
        exponent = Decimal(1).scaleb(-arrow_type.scale)
        limit = Decimal(10) ** (arrow_type.precision - arrow_type.scale)
        values = [None if v is None or not v.is_finite() or abs(q := v.quantize(exponent, ROUND_HALF_UP)) >= limit
                  else q for v in values]
    return pa.array(values, arrow_type)


def flink_type_for(typname: str) -> str:
    """The DDL type that fits a Postgres column type, for the remedy of a mismatch."""
    return {"bool": "BOOLEAN", "int2": "SMALLINT", "int4": "INT", "int8": "BIGINT", "float4": "FLOAT",
            "float8": "DOUBLE", "numeric": "DECIMAL(p, s)", "bpchar": "CHAR(n)", "varchar": "STRING",
            "text": "STRING", "date": "DATE", "time": "TIME", "timestamp": "TIMESTAMP(6)",
            "timestamptz": "TIMESTAMP_LTZ(6)", "bytea": "BYTES"}.get(typname, f"a type that maps to {typname}")
