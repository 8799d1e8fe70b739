"""Raw format: each message (a Kafka value, a line of a file) is one STRING or BYTES value, unparsed."""
from __future__ import annotations

import codecs

import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.connectors.utf8 import replace_invalid_utf8
from sqlstream.core.errors import OptionError
from sqlstream.core.types import FlinkType


def one_column(table: str, types: list[FlinkType]) -> FlinkType:
    if len(types) != 1:
        raise OptionError(f"Table '{table}': the raw format needs exactly one column, got {len(types)}")
    return types[0]


class RawCodec:
    """The message bytes as one STRING or BYTES column."""

    binary_input = True
    null_message_is_row = True  # as Flink's raw format: a message without a value is a row holding NULL

    def __init__(self, t: FlinkType):
        self.t = t
        self.skipped = 0

    @classmethod
    def for_columns(cls, table: str, types: list[FlinkType]) -> "RawCodec":
        return cls(one_column(table, types))

    def decode(self, docs: pa.Array, where) -> pa.RecordBatch:
        arr = docs if self.t.name in ("BINARY", "VARBINARY") else replace_invalid_utf8(docs)
        return pa.RecordBatch.from_arrays([arr], names=["value"])


class RawLines(RawCodec):
    """The raw format over a text file: each line (without its line break) is one value; blank lines too."""

    binary_input = False
    records_span_lines = True  # keeps blank lines: each is a row

    def __init__(self, t: FlinkType, name: str, charset: str = "UTF-8"):
        if t.name not in ("CHAR", "VARCHAR", "STRING", "BINARY", "VARBINARY"):
            raise OptionError(f"the raw format of a file reads STRING or BYTES lines, not {t}")
        try:
            self.codec = codecs.lookup(charset).name
        except LookupError:
            raise OptionError(f"Unsupported 'raw.charset': {charset}") from None
        super().__init__(t)
        self.name = name

    def decode(self, lines: pa.Array, where) -> pa.RecordBatch:
        binary = self.t.name in ("BINARY", "VARBINARY")
        if self.codec == "utf-8" or binary:
            text = pc.replace_substring_regex(pc.cast(lines, pa.binary()), "\r?\n$", b"")
            arr = text if binary else replace_invalid_utf8(text)
        else:
            arr = pa.array([v.rstrip(b"\r\n").rstrip(b"\r").decode(self.codec, "replace")
                            for v in pc.cast(lines, pa.binary()).to_pylist()], pa.string())
        return pa.RecordBatch.from_arrays([arr.cast(self.t.to_arrow())], names=[self.name])
