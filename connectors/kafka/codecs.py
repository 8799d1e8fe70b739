"""Message codecs the kafka connector adds to the shared formats: raw bytes and Debezium JSON change events."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.connectors.base import TableSchema
from sqlstream.connectors.formats import avro as avro_format
from sqlstream.connectors.formats import csv as csv_format
from sqlstream.connectors.formats import json as json_format
from sqlstream.connectors.kafka.config import KafkaConfig
from sqlstream.connectors.utf8 import replace_invalid_utf8
from sqlstream.core.errors import FormatError, OptionError
from sqlstream.core.types import FlinkType


def decoder(fmt: str, cfg: KafkaConfig, names: list[str], types: list[FlinkType], prefix: str,
            record: TableSchema | None = None):
    """The decoder of the columns `names` from messages that hold the columns of `record` (by default just
    those): JSON judges a field name by every field of that name a message may hold, read or not."""
    schema = TableSchema(names, types)
    if fmt == "json":
        if record is not None:
            schema = TableSchema(names, types, physical_names=record.names, physical_types=record.types)
        return json_format.JsonDecoder.from_options(cfg.opts, schema, prefix + "json.")
    if fmt == "csv":
        return csv_format.CsvDecoder.from_options(cfg.opts, schema, prefix + "csv.")
    if fmt == "avro":
        return avro_format.AvroDecoder.from_options(cfg.opts, schema, prefix + "avro.")
    if fmt == "raw":
        if len(names) != 1:
            raise OptionError(f"Table '{cfg.table}': the raw format needs exactly one column, got {len(names)}")
        return RawCodec(types[0])
    if fmt == "debezium-json":
        return DebeziumJsonDecoder(schema, cfg.opts.get_bool(prefix + "debezium-json.ignore-parse-errors"))
    raise OptionError(f"unsupported format {fmt}")


class RawCodec:
    """The message bytes as one STRING or BYTES column."""

    binary_input = True
    null_message_is_row = True  # as Flink's raw format: a message without a value is a row holding NULL

    def __init__(self, t: FlinkType):
        self.t = t
        self.skipped = 0

    def decode(self, docs: pa.Array, where) -> pa.RecordBatch:
        arr = docs if self.t.name in ("BINARY", "VARBINARY") else replace_invalid_utf8(docs)
        return pa.RecordBatch.from_arrays([arr], names=["value"])


class DebeziumJsonDecoder:
    """Debezium JSON change events -> changelog rows: c/r -> +I, u -> -U +U, d -> -D."""

    def __init__(self, schema: TableSchema, ignore_parse_errors: bool):
        row = FlinkType("ROW", children=tuple(schema.types), field_names=tuple(schema.names))
        # with no column read, only each event's kind is decoded
        images = ["before", "after"] if schema.names else []
        envelope = TableSchema(images + ["op"], [row] * len(images) + [FlinkType.of("STRING")])
        self.inner = json_format.JsonDecoder(envelope, ignore_parse_errors)
        self.schema = schema
        self.changelog = True

    @property
    def skipped(self) -> int:
        return self.inner.skipped

    def decode(self, docs: pa.Array, where) -> pa.RecordBatch:
        env = self.inner.decode(docs, where)
        op = env.column("op").to_pylist()
        take_before, take_after, kinds = [], [], []
        for i, o in enumerate(op):
            if o in ("c", "r"):
                kinds.append(0), take_after.append((len(kinds) - 1, i))
            elif o == "u":
                kinds.append(1), take_before.append((len(kinds) - 1, i))
                kinds.append(2), take_after.append((len(kinds) - 1, i))
            elif o == "d":
                kinds.append(3), take_before.append((len(kinds) - 1, i))
            else:
                raise FormatError(f"Unknown Debezium operation '{o}'", where(i))
        n = len(kinds)
        src_idx = np.zeros(n, dtype=np.int64)
        use_before = np.zeros(n, dtype=bool)
        for pos, i in take_before:
            src_idx[pos], use_before[pos] = i, True
        for pos, i in take_after:
            src_idx[pos] = i
        cols = []
        before, after = (env.column("before"), env.column("after")) if self.schema.names else (None, None)
        for j, name in enumerate(self.schema.names):
            b = pc.struct_field(before, [j]) if len(before) else pa.array([], self.schema.types[j].to_arrow())
            a = pc.struct_field(after, [j]) if len(after) else pa.array([], self.schema.types[j].to_arrow())
            both = pa.concat_arrays([a, b])
            cols.append(both.take(pa.array(src_idx + np.where(use_before, len(a), 0))))
        return pa.RecordBatch.from_arrays([pa.array(np.array(kinds, dtype=np.int8))] + cols,
                                          names=["_op"] + self.schema.names)
