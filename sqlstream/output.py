"""Writes a SELECT's changelog to the terminal as it is produced: table, csv or jsonl."""
from __future__ import annotations

import sys

import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.connectors.base import SinkWriter
from sqlstream.core.changelog import OP_NAMES
from sqlstream.core.formatting import format_double, format_interval, format_timestamp
from sqlstream.functions.time_zones import to_local
from sqlstream.core.types import FlinkType

FORMATS = ("table", "csv", "jsonl")
MAX_WIDTH = 60  # a wider value is cut with a visible "..." so one long string cannot flood the table


def fit(text: str, width: int) -> str:
    """The text if it fits the column, else its start and '...' (a visibly shortened value, never a broken border)."""
    return text if len(text) <= width else text[:max(0, width - 3)] + "..."


def display_strings(arr: pa.Array, zone: str = "UTC", ftype: FlinkType | None = None) -> list[str]:
    """Values as Flink's SQL client shows them; TIMESTAMP_LTZ on the wall clock of the session zone."""
    if pa.types.is_duration(arr.type) or ftype is not None and ftype.name == "INTERVAL_YEAR_MONTH":
        text = format_interval(arr, ftype is not None and ftype.name == "INTERVAL_YEAR_MONTH")
        return ["<NULL>" if v is None else v for v in text.to_pylist()]
    if pa.types.is_timestamp(arr.type):
        if arr.type.tz is not None and zone != "UTC":
            arr = to_local(arr, zone)
        arr = format_timestamp(arr)
    elif pa.types.is_floating(arr.type):
        arr = format_double(arr)
    elif pa.types.is_boolean(arr.type):
        arr = pc.utf8_upper(pc.cast(arr, pa.string()))
    elif pa.types.is_nested(arr.type):
        return ["<NULL>" if v is None else _flink_text(v, arr.type) for v in arr.to_pylist()]
    elif not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        try:
            arr = pc.cast(arr, pa.string())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return ["<NULL>" if v is None else str(v) for v in arr.to_pylist()]
    out = ["<NULL>" if v is None else v for v in arr.to_pylist()]
    if ftype is not None and ftype.precision is not None and (ftype.is_timestamp or ftype.name == "TIME"):
        out = [v if v == "<NULL>" else _fraction(v, ftype.precision) for v in out]
    return out


def _fraction(text: str, precision: int) -> str:
    """A TIME or TIMESTAMP shown with its type's digits of fraction, as Flink does: TIMESTAMP(0) has none."""
    whole, _, frac = text.partition(".")
    return whole if precision == 0 else f"{whole}.{frac.ljust(precision, '0')[:precision]}"


def _flink_text(v, t: pa.DataType) -> str:
    """Nested values as Flink prints them: [a, b], {k=1}, (5, hi)."""
    if v is None:
        return "NULL"
    if pa.types.is_map(t):
        return "{" + ", ".join(f"{_flink_text(k, t.key_type)}={_flink_text(x, t.item_type)}" for k, x in v) + "}"
    if pa.types.is_struct(t):
        return "(" + ", ".join(_flink_text(v[f.name], f.type) for f in t) + ")"
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return "[" + ", ".join(_flink_text(x, t.value_type) for x in v) + "]"
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    return str(v)


class ResultWriter(SinkWriter):
    """Prints rows of the final SELECT; `op` is the RowKind string (+I, -U, +U, -D)."""

    def __init__(self, names: list[str], types: list[FlinkType], fmt: str = "table", stream=None, zone: str = "UTC"):
        """jsonl keeps TIMESTAMP_LTZ in UTC (the engine's contract with the Flink oracle); table and csv show it
        in the session `zone`, as Flink's SQL client does."""
        self.names, self.types, self.fmt = names, types, fmt
        self.zone = zone
        self.stream = stream or sys.stdout
        self.widths = [max(len(n), min(_width(t), 30)) for n, t in zip(names, types)]  # grown by the values
        self.header_done = False
        self.rows = 0

    def write(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows == 0:
            return
        ops = pa.array([OP_NAMES[o] for o in range(4)]).take(pc.cast(batch.column(0), pa.int32()))
        data = pa.RecordBatch.from_arrays(batch.columns[1:], names=self.names)
        if self.fmt == "jsonl":
            data = _millisecond_timestamps(data)
            from sqlstream.connectors.formats.json import encode_json_lines  # only for jsonl output
            lines = encode_json_lines(data, self.names, self.types, extra={"op": ops}, rows_as_lists=True)
            self.stream.write("\n".join(lines.to_pylist()) + "\n")
        elif self.fmt == "csv":
            if not self.header_done:
                self.stream.write(",".join(["op"] + self.names) + "\n")
                self.header_done = True
            cols = [display_strings(c, self.zone, t) for c, t in zip(data.columns, self.types)]
            out = []
            for r, op in enumerate(ops.to_pylist()):
                vals = [_csv_field("" if c[r] == "<NULL>" else c[r]) for c in cols]
                out.append(",".join([op] + vals))
            self.stream.write("\n".join(out) + "\n")
        else:
            self._table(ops, data)
        self.rows += batch.num_rows
        self.stream.flush()

    def _table(self, ops: pa.Array, data: pa.RecordBatch) -> None:
        cols = [display_strings(c, self.zone, t) for c, t in zip(data.columns, self.types)]
        needed = [min(MAX_WIDTH, max(map(len, c), default=0)) for c in cols]
        if any(n > w for n, w in zip(needed, self.widths)):
            # rows stream out, so a wider value starts a new section with wider columns: borders stay whole
            if self.header_done:
                self.stream.write(self._border() + "\n")
                self.header_done = False
            self.widths = [max(n, w) for n, w in zip(needed, self.widths)]
        if not self.header_done:
            head = "| op |" + "|".join(f" {fit(n, w):>{w}} " for n, w in zip(self.names, self.widths)) + "|"
            self.stream.write(self._border() + "\n" + head + "\n" + self._border() + "\n")
            self.header_done = True
        out = []
        for r, op in enumerate(ops.to_pylist()):
            cells = [f" {fit(c[r], w):>{w}} " for c, w in zip(cols, self.widths)]
            out.append(f"| {op} |" + "|".join(cells) + "|")
        self.stream.write("\n".join(out) + "\n")

    def _border(self) -> str:
        return "+----+" + "+".join("-" * (w + 2) for w in self.widths) + "+"

    def close(self) -> None:
        if self.fmt == "table" and self.header_done:
            self.stream.write(self._border() + "\n")
            self.stream.write(f"Received a total of {self.rows} row{'s' if self.rows != 1 else ''}\n")
            self.stream.flush()


def _millisecond_timestamps(data: pa.RecordBatch) -> pa.RecordBatch:
    """jsonl writes TIMESTAMPs as 'yyyy-MM-dd HH:mm:ss.SSS' whatever their precision (the contract the Flink
    oracle's output follows); finer values are cut to the millisecond (CAST to STRING keeps every digit). A FLOAT
    is written as the DOUBLE it widens to (0.1 as 0.10000000149011612), as the oracle receives it."""
    cols = list(data.columns)
    for i, c in enumerate(cols):
        if pa.types.is_timestamp(c.type) and c.type.unit in ("us", "ns"):
            cut = pc.floor_temporal(c, unit="millisecond")
            cols[i] = pc.cast(cut, pa.timestamp("ms", tz=c.type.tz))
        elif pa.types.is_float32(c.type):
            cols[i] = pc.cast(c, pa.float64())
    return pa.RecordBatch.from_arrays(cols, names=data.schema.names)


def _width(t: FlinkType) -> int:
    if t.is_timestamp:
        return 23
    if t.is_integer:
        return 11
    if t.is_decimal:
        return t.precision + 2
    if t.name in ("FLOAT", "DOUBLE"):
        return 20  # the shortest text that reads back the same value has up to 17 significant digits
    return 12


def _csv_field(s: str) -> str:
    if any(ch in s for ch in ',"\n'):
        return '"' + s.replace('"', '""') + '"'
    return s
