"""The avro format: one schemaless Avro binary datum per message, with the writer schema derived from the
table's columns exactly as Flink derives it (AvroSchemaConverter): a record of the columns, nullable types as
the union ["null", T], TIMESTAMP(p <= 3) as long timestamp-millis, TIMESTAMP(p <= 6) as timestamp-micros,
DATE as int date, TIME as int time-millis, DECIMAL as bytes decimal, MAP keys as strings.

A batch of datums is decoded column-wise at once (avro_columns) when the schema is one it covers and no datum is
unusual; otherwise each datum is decoded by fastavro (C), which also names a malformed message, and columns are
then built at once with Arrow. Top-level temporal columns travel as plain long/int (the same bytes on the wire)
and are cast column-wise.
"""
from __future__ import annotations

import io
from typing import Callable

import pyarrow as pa

from sqlstream.connectors.base import TableSchema, rows_batch
from sqlstream.connectors.formats.avro_columns import columnar_reader
from sqlstream.core.errors import FormatError, OptionError
from sqlstream.core.types import FlinkType

RECORD = "org.apache.flink.avro.generated.record"
ENCODINGS = ("binary",)


def _fastavro():
    try:
        import fastavro
    except ImportError as e:  # pragma: no cover - a declared dependency
        raise OptionError("the avro format needs the fastavro package") from e
    return fastavro


def _temporal(t: FlinkType) -> tuple[str, str | None, pa.DataType] | None:
    """(avro primitive, logical type, arrow type the primitive holds) of a temporal type."""
    n = t.name
    if n in ("TIMESTAMP", "TIMESTAMP_LTZ"):
        p = t.precision if t.precision is not None else 6
        if p > 6:
            raise OptionError(f"Avro does not support {n} with precision {p}; it supports precision up to 6")
        local = "local-" if n == "TIMESTAMP_LTZ" else ""
        unit = "millis" if p <= 3 else "micros"
        return "long", f"{local}timestamp-{unit}", pa.timestamp("ms" if p <= 3 else "us", "UTC" if local else None)
    if n == "DATE":
        return "int", "date", pa.date32()
    if n == "TIME":
        p = t.precision or 0
        return ("int", "time-millis", pa.time32("ms")) if p <= 3 else ("long", "time-micros", pa.time64("us"))
    return None


def _primitive(t: FlinkType) -> tuple[str, pa.DataType]:
    """(avro primitive, arrow type its values hold) of a top-level temporal column."""
    prim, _, held = _temporal(t)
    return prim, held


def avro_type(t: FlinkType, row_name: str, logical: bool = True):
    """The Avro schema of a Flink type; `logical=False` leaves temporal types as their primitive."""
    n = t.name
    tmp = _temporal(t)
    if tmp is not None:
        prim, lt, _ = tmp
        s = {"type": prim, "logicalType": lt} if logical else prim
    elif n == "BOOLEAN":
        s = "boolean"
    elif n in ("TINYINT", "SMALLINT", "INT", "INTEGER"):
        s = "int"
    elif n == "BIGINT":
        s = "long"
    elif n == "FLOAT":
        s = "float"
    elif n == "DOUBLE":
        s = "double"
    elif n in ("CHAR", "VARCHAR"):
        s = "string"
    elif n in ("BINARY", "VARBINARY"):
        s = "bytes"
    elif n == "DECIMAL":
        s = {"type": "bytes", "logicalType": "decimal", "precision": t.precision, "scale": t.scale}
    elif n == "ROW":
        s = {"type": "record", "name": row_name,
             "fields": [{"name": f, "type": avro_type(c, f"{row_name}_{f}")}
                        for f, c in zip(t.field_names, t.children)]}
    elif n in ("MAP", "MULTISET"):
        key = t.children[0]
        if key.name not in ("CHAR", "VARCHAR"):
            raise OptionError(f"Avro format doesn't support non-string as key type of map. The key type is: {key}")
        value = t.children[1] if n == "MAP" else FlinkType.of("INT")
        s = {"type": "map", "values": avro_type(value, row_name)}
    elif n == "ARRAY":
        s = {"type": "array", "items": avro_type(t.children[0], row_name)}
    else:
        raise OptionError(f"Unsupported to derive Avro schema for type: {t}")
    return ["null", s] if t.nullable else s


def record_schema(schema: TableSchema) -> dict:
    """The writer schema of a row (top-level temporal columns as their primitive: same bytes, no datetimes)."""
    return {"type": "record", "name": RECORD,
            "fields": [{"name": n, "type": avro_type(t, f"{RECORD}_{n}", logical=_temporal(t) is None)}
                       for n, t in zip(schema.names, schema.types)]}


def _to_arrow_values(t: FlinkType, v):
    """fastavro's Python value -> what pyarrow takes for the type (maps are lists of pairs)."""
    if v is None:
        return None
    if t.name == "MAP":
        return [(k, _to_arrow_values(t.children[1], x)) for k, x in v.items()]
    if t.name == "ARRAY":
        return [_to_arrow_values(t.children[0], x) for x in v]
    if t.name == "ROW":
        return {f: _to_arrow_values(c, v.get(f)) for f, c in zip(t.field_names, t.children)}
    return v


def _to_avro_values(t: FlinkType, v):
    if v is None:
        return None
    if t.name == "MAP":
        return {k: _to_avro_values(t.children[1], x) for k, x in v}
    if t.name == "ARRAY":
        return [_to_avro_values(t.children[0], x) for x in v]
    if t.name == "ROW":
        return {f: _to_avro_values(c, v.get(f)) for f, c in zip(t.field_names, t.children)}
    return v


def _nested(t: FlinkType) -> bool:
    return t.name in ("MAP", "ARRAY", "ROW", "MULTISET")


class AvroDecoder:
    """Avro binary datums (a BINARY array) -> one RecordBatch of the table's columns."""

    binary_input = True

    def __init__(self, schema: TableSchema, full: TableSchema | None = None):
        fa = _fastavro()
        self.schema = schema
        self.full = full or schema  # the datum holds every value column, even unprojected ones
        self.parsed = fa.parse_schema(record_schema(self.full))
        self.read = fa.schemaless_reader
        self.columnar = columnar_reader(self.full.names, self.full.types, _primitive)
        self.skipped = 0

    @classmethod
    def from_options(cls, opts, schema: TableSchema, prefix: str, full: TableSchema | None = None):
        encoding = opts.get_choice(prefix + "encoding", ENCODINGS, "binary")
        opts.get(prefix + "codec")  # Flink applies it to avro files only
        del encoding
        return cls(schema, full)

    def decode(self, docs: pa.Array, where: Callable[[int], str]) -> pa.RecordBatch:
        if self.columnar is not None:
            cols = self.columnar.decode(docs, set(self.schema.names))
            if cols is not None:
                return rows_batch([cols[n] for n in self.schema.names], self.schema.names, len(docs))
        return self.decode_each(docs, where)

    def decode_each(self, docs: pa.Array, where: Callable[[int], str]) -> pa.RecordBatch:
        """One fastavro call per datum: the reference, and the path that names a malformed message."""
        read, parsed = self.read, self.parsed
        records = []
        for i, datum in enumerate(docs.to_pylist()):
            buf = io.BytesIO(datum)
            try:
                records.append(read(buf, parsed, None))
            except Exception as e:  # fastavro raises EOFError, ValueError, ... on a malformed datum
                raise FormatError(f"Failed to deserialize Avro record: {type(e).__name__}: {e}", where(i)) \
                    from None
            if buf.tell() != len(datum):
                raise FormatError(f"Failed to deserialize Avro record: {len(datum) - buf.tell()} bytes left after "
                                  f"the record (the writer schema differs from the table's)", where(i))
        cols = []
        for name, t in zip(self.schema.names, self.schema.types):
            values = [r[name] for r in records]
            if _nested(t):
                values = [_to_arrow_values(t, v) for v in values]
            tmp = _temporal(t)
            if tmp is not None:
                prim = pa.array(values, pa.int64() if tmp[0] == "long" else pa.int32())
                cols.append(prim.cast(tmp[2]).cast(t.to_arrow()))
            else:
                cols.append(pa.array(values, t.to_arrow()))
        return rows_batch(cols, self.schema.names, len(records))


def encode_avro(batch: pa.RecordBatch, names: list[str], types: list[FlinkType]) -> pa.Array:
    """One Avro binary datum per row (the schema Flink derives for these columns)."""
    fa = _fastavro()
    parsed = fa.parse_schema(record_schema(TableSchema(names, types)))
    cols = []
    for i, t in enumerate(types):
        col = batch.column(i)
        tmp = _temporal(t)
        if tmp is not None:
            col = col.cast(tmp[2]).cast(pa.int64() if tmp[0] == "long" else pa.int32())
        values = col.to_pylist()
        if _nested(t):
            values = [_to_avro_values(t, v) for v in values]
        cols.append(values)
    write = fa.schemaless_writer
    out = []
    buf = io.BytesIO()
    for row in zip(*cols):
        buf.seek(0)
        buf.truncate()
        write(buf, parsed, dict(zip(names, row)))
        out.append(buf.getvalue())
    return pa.array(out, pa.binary())
