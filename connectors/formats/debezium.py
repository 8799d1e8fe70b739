"""Debezium JSON change events -> changelog rows, as Flink's debezium-json format reads them."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.connectors.base import TableSchema
from sqlstream.connectors.formats import json as json_format
from sqlstream.connectors.options import Options
from sqlstream.core.errors import FormatError
from sqlstream.core.types import FlinkType

FORMAT_OPTIONS = ["debezium-json.ignore-parse-errors", "debezium-json.schema-include",
                  "debezium-json.timestamp-format.standard", "debezium-json.map-null-key.mode",
                  "debezium-json.map-null-key.literal", "debezium-json.encode.decimal-as-plain-number",
                  "debezium-json.encode.ignore-null-fields"]
KINDS = {"c": (0,), "r": (0,), "u": (1, 2), "d": (3,)}  # +I; -U +U; -D


class DebeziumJsonDecoder:
    """c/r -> +I from 'after', u -> -U from 'before' and +U from 'after', d -> -D from 'before'. With
    schema-include the event is the 'payload' of its message. A message of another op, an update or delete
    without its 'before' image, or an insert or update without its 'after' image fails the job or
    (ignore-parse-errors) is skipped, as in Flink."""

    def __init__(self, schema: TableSchema, ignore_parse_errors: bool, schema_include: bool = False,
                 standard: str = "SQL"):
        # with no column read, the images are read as text: only whether each is null counts
        row = FlinkType("ROW", children=tuple(schema.types), field_names=tuple(schema.names)) if schema.names \
            else FlinkType.of("STRING")
        event = TableSchema(["before", "after", "op"], [row, row, FlinkType.of("STRING")])
        if schema_include:
            payload = FlinkType("ROW", children=tuple(event.types), field_names=tuple(event.names))
            event = TableSchema(["payload"], [payload])
        self.inner = json_format.JsonDecoder(event, ignore_parse_errors, timestamp_standard=standard)
        self.schema, self.schema_include, self.ignore_errors = schema, schema_include, ignore_parse_errors
        self.changelog = True
        self.dropped = 0

    @classmethod
    def from_options(cls, opts: Options, schema: TableSchema, prefix: str = "debezium-json.") -> "DebeziumJsonDecoder":
        for key in ("map-null-key.mode", "map-null-key.literal", "encode.decimal-as-plain-number",
                    "encode.ignore-null-fields"):
            opts.get(prefix + key)
        return cls(schema, opts.get_bool(prefix + "ignore-parse-errors"), opts.get_bool(prefix + "schema-include"),
                   opts.get(prefix + "timestamp-format.standard", "SQL"))

    @property
    def skipped(self) -> int:
        return self.inner.skipped + self.dropped

    def decode(self, docs: pa.Array, where) -> pa.RecordBatch:
        env = self.inner.decode(docs, where)
        kept = np.arange(len(docs)) if self.inner.last_kept is None else np.flatnonzero(self.inner.last_kept)
        if self.schema_include:
            payload = env.column(0)
            env = pa.RecordBatch.from_arrays([pc.struct_field(payload, [j]) for j in range(payload.type.num_fields)],
                                             names=[f.name for f in payload.type])
        op = env.column("op").to_pylist()
        before = env.column("before")
        no_before, no_after = (np.asarray(pc.is_null(env.column(c)).to_numpy(zero_copy_only=False), dtype=bool)
                               for c in ("before", "after"))
        kinds, src, use_before = [], [], []
        for i, o in enumerate(op):
            problem = None
            if o not in KINDS:
                problem = f'Unknown "op" value "{"null" if o is None else o}". The Debezium JSON message is \'{_text(docs, kept[i])}\''
            elif o in ("u", "d") and no_before[i]:
                problem = (f'The "before" field of {"UPDATE" if o == "u" else "DELETE"} message is null, if you are '
                           f'using Debezium Postgres Connector, please check the Postgres table has been set REPLICA '
                           f'IDENTITY to FULL level.')
            elif o in ("c", "r", "u") and no_after[i]:
                problem = f'The "after" field of {"UPDATE" if o == "u" else "INSERT"} message is null.'
            if problem is not None:
                if not self.ignore_errors:
                    raise FormatError(f"Corrupt Debezium JSON message '{_text(docs, kept[i])}': {problem}",
                                      where(int(kept[i])))
                self.dropped += 1
                continue
            for k in KINDS[o]:
                kinds.append(k)
                src.append(i)
                use_before.append(k in (1, 3))
        src_idx, from_before = np.array(src, dtype=np.int64), np.array(use_before, dtype=bool)
        cols = []
        for j, name in enumerate(self.schema.names):
            a = pc.struct_field(env.column("after"), [j])
            b = pc.struct_field(before, [j])
            cols.append(pa.concat_arrays([a, b]).take(pa.array(src_idx + np.where(from_before, len(a), 0))))
        return pa.RecordBatch.from_arrays([pa.array(np.array(kinds, dtype=np.int8))] + cols,
                                          names=["_op"] + self.schema.names)


def _text(docs: pa.Array, i) -> str:
    return (docs[int(i)].as_py() or "").rstrip("\r\n")
