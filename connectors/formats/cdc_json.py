"""Canal JSON and Maxwell JSON change events -> changelog rows, as Flink's canal-json and maxwell-json formats
read them. An event is converted one at a time by the JSON format's rules (`json_flink`): these formats carry
change data captured from databases, rarely bulk data."""
from __future__ import annotations

import re

import numpy as np
import pyarrow as pa

from sqlstream.connectors.base import TableSchema
from sqlstream.connectors.formats import json_flink
from sqlstream.connectors.formats.json import arrow_values
from sqlstream.connectors.options import Options
from sqlstream.core.errors import FormatError

INSERT, UPDATE_BEFORE, UPDATE_AFTER, DELETE = 0, 1, 2, 3
COMMON_OPTIONS = ["ignore-parse-errors", "timestamp-format.standard", "map-null-key.mode", "map-null-key.literal",
                  "encode.decimal-as-plain-number", "encode.ignore-null-fields"]
CANAL_OPTIONS = ["canal-json." + o for o in COMMON_OPTIONS + ["database.include", "table.include"]]
MAXWELL_OPTIONS = ["maxwell-json." + o for o in COMMON_OPTIONS]


class Corrupt(Exception):
    """An event the format cannot read: the job fails, or (ignore-parse-errors) it is skipped."""


class ChangeEventDecoder:
    """Lines of change events -> a batch of `_op` and the columns. Subclasses turn one parsed event into its
    (kind, image) pairs."""

    name = ""

    def __init__(self, schema: TableSchema, ignore_parse_errors: bool, standard: str = "SQL"):
        self.schema, self.ignore_errors, self.standard = schema, ignore_parse_errors, standard
        self.changelog = True
        self.skipped = 0

    def decode(self, docs: pa.Array, where) -> pa.RecordBatch:
        kinds: list[int] = []
        columns: list[list] = [[] for _ in self.schema.names]
        for i, text in enumerate(docs.to_pylist()):
            text = (text or "").rstrip("\r\n")
            try:
                rows = [(k, self._row(image)) for k, image in self.changes(json_flink.parse_document(text), text)]
            except (Corrupt, json_flink.Malformed, json_flink.FieldError, ValueError, ArithmeticError) as e:
                if not self.ignore_errors:
                    raise FormatError(f"Corrupt {self.name} JSON message '{text}': {e}", where(i)) from None
                self.skipped += 1
                continue
            for kind, row in rows:
                kinds.append(kind)
                for j, v in enumerate(row):
                    columns[j].append(v)
        cols = [arrow_values(vals, t) for vals, t in zip(columns, self.schema.types)]
        return pa.RecordBatch.from_arrays([pa.array(np.array(kinds, dtype=np.int8))] + cols,
                                          names=["_op"] + self.schema.names)

    def _row(self, image) -> list:
        if not isinstance(image, dict):
            raise Corrupt(f"an image is {json_flink.to_text(image)}, not a JSON object")
        return [self._value(image.get(n), t) for n, t in zip(self.schema.names, self.schema.types)]

    def _value(self, v, t):
        """A field that does not convert fails the event, or is NULL under ignore-parse-errors."""
        try:
            return json_flink.convert(v, t, self.standard, self.ignore_errors)
        except (json_flink.FieldError, ValueError, ArithmeticError):
            if not self.ignore_errors:
                raise
            return None

    def changes(self, event: dict, text: str) -> list[tuple[int, dict]]:
        raise NotImplementedError

    def unknown(self, field: str, value, text: str) -> Corrupt:
        shown = "null" if value is None else json_flink.to_text(value).strip('"')
        return Corrupt(f'Unknown "{field}" value "{shown}". The {self.name} JSON message is \'{text}\'')


def _before(after: dict, old) -> dict:
    """The image before an update: the fields the event's 'old' holds, the others as after it."""
    return {**after, **old} if isinstance(old, dict) and isinstance(after, dict) else after


class CanalJsonDecoder(ChangeEventDecoder):
    """INSERT -> +I and DELETE -> -D for each row of 'data'; UPDATE -> -U (the row with its 'old' fields) and +U
    for each; a CREATE (DDL) event is no row. Events of other databases or tables than the include patterns
    are skipped."""

    name = "Canal"

    def __init__(self, schema: TableSchema, ignore_parse_errors: bool, standard: str = "SQL",
                 database: str | None = None, table: str | None = None):
        super().__init__(schema, ignore_parse_errors, standard)
        self.database = re.compile(database) if database else None
        self.table = re.compile(table) if table else None

    @classmethod
    def from_options(cls, opts: Options, schema: TableSchema) -> "CanalJsonDecoder":
        for key in CANAL_OPTIONS:
            opts.get(key)
        return cls(schema, opts.get_bool("canal-json.ignore-parse-errors"),
                   opts.get("canal-json.timestamp-format.standard", "SQL"), opts.get("canal-json.database.include"),
                   opts.get("canal-json.table.include"))

    def changes(self, event: dict, text: str) -> list[tuple[int, dict]]:
        for pattern, field in ((self.database, "database"), (self.table, "table")):
            if pattern is not None and not pattern.fullmatch(str(event.get(field))):
                return []
        kind, data = event.get("type"), event.get("data")
        if kind == "CREATE":
            return []
        if kind not in ("INSERT", "UPDATE", "DELETE"):
            raise self.unknown("type", kind, text)
        if not isinstance(data, list):
            raise Corrupt(f'"data" is {json_flink.to_text(data)}, not a JSON array')
        if kind == "INSERT":
            return [(INSERT, row) for row in data]
        if kind == "DELETE":
            return [(DELETE, row) for row in data]
        old = event.get("old") if isinstance(event.get("old"), list) else []
        out = []
        for i, row in enumerate(data):
            out += [(UPDATE_BEFORE, _before(row, old[i] if i < len(old) else None)), (UPDATE_AFTER, row)]
        return out


class MaxwellJsonDecoder(ChangeEventDecoder):
    """insert -> +I, update -> -U ('data' with its 'old' fields) and +U, delete -> -D, of the event's 'data'."""

    name = "Maxwell"

    @classmethod
    def from_options(cls, opts: Options, schema: TableSchema) -> "MaxwellJsonDecoder":
        for key in MAXWELL_OPTIONS:
            opts.get(key)
        return cls(schema, opts.get_bool("maxwell-json.ignore-parse-errors"),
                   opts.get("maxwell-json.timestamp-format.standard", "SQL"))

    def changes(self, event: dict, text: str) -> list[tuple[int, dict]]:
        kind, data = event.get("type"), event.get("data")
        if kind == "insert":
            return [(INSERT, data)]
        if kind == "delete":
            return [(DELETE, data)]
        if kind == "update":
            return [(UPDATE_BEFORE, _before(data, event.get("old"))), (UPDATE_AFTER, data)]
        raise self.unknown("type", kind, text)
