"""print sink (the changelog as Flink prints it: +I[a, b]) and blackhole sink (discards, for benchmarks)."""
from __future__ import annotations

import os
import sys

import pyarrow as pa

from sqlstream.connectors.base import Sink, SinkWriter, TableSchema
from sqlstream.connectors.options import Options

PRINT_OPTIONS = ["connector", "print-identifier", "standard-error", "sink.parallelism"]
BLACKHOLE_OPTIONS = ["connector"]


def flink_row_strings(batch: pa.RecordBatch) -> list[str]:
    """'+I[v1, v2]' per row, values formatted as Flink's print connector does (Java's toString of each value)."""
    from sqlstream.core.changelog import OP_NAMES
    from sqlstream.core.formatting import format_double
    cols = []
    for i in range(1, batch.num_columns):
        if batch.schema.names[i] == "_wm":
            continue
        a = batch.column(i)
        if pa.types.is_timestamp(a.type) or pa.types.is_time(a.type):
            a = java_time_text(a)
        elif pa.types.is_floating(a.type):
            a = format_double(a)
        elif pa.types.is_boolean(a.type):
            a = pa.compute.cast(a, pa.string())
        cols.append(a.to_pylist())
    ops = batch.column(0).to_pylist()
    out = []
    for r, op in enumerate(ops):
        vals = ["null" if c[r] is None else str(c[r]) for c in cols]
        out.append(f"{OP_NAMES[op]}[{', '.join(vals)}]")
    return out


def java_time_text(a: pa.Array) -> pa.Array:
    """TIMESTAMP, TIMESTAMP_LTZ and TIME as java.time prints them: 2020-01-01T10:00, 2020-01-01T10:00:00.120,
    1970-01-01T00:00:01.500Z (an instant, in UTC, always with its seconds), 10:00:00.500: the fraction in groups
    of three digits as needed, the seconds only when they or a fraction are not zero."""
    import pyarrow.compute as pc
    from sqlstream.core.formatting import format_timestamp
    instant = pa.types.is_timestamp(a.type) and a.type.tz is not None
    text = format_timestamp(a) if pa.types.is_timestamp(a.type) else pc.cast(a, pa.string())
    text = pc.replace_substring(text, " ", "T")
    text = pc.replace_substring_regex(text, r"\.0+$", "")
    text = pc.replace_substring_regex(text, r"(\.(?:\d{3})+?)(?:000)+$", r"\1")
    if instant:
        return pc.binary_join_element_wise(text, "Z", "")
    return pc.replace_substring_regex(text, r"(\d{2}:\d{2}):00$", r"\1")


PIPE_BUF = 4096  # a write of at most this many bytes to a pipe is never interleaved with another process's


class PrintWriter(SinkWriter):
    def __init__(self, identifier: str | None, stderr: bool):
        self.prefix = f"{identifier}> " if identifier else ""
        self.stream = sys.stderr if stderr else sys.stdout

    def write(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows:
            self.stream.write("".join(self.prefix + s + "\n" for s in flink_row_strings(batch)))
            self.stream.flush()


class SubtaskPrintWriter(PrintWriter):
    """One parallel subtask's writer: Flink's prefix names the subtask ('2> ', 'id:2> '), and lines are written
    whole, several at a time up to PIPE_BUF bytes, so two subtasks' lines never tear each other on a shared pipe."""

    def __init__(self, identifier: str | None, stderr: bool, index: int):
        super().__init__(None, stderr)
        self.prefix = f"{identifier}:{index + 1}> " if identifier else f"{index + 1}> "

    def write(self, batch: pa.RecordBatch) -> None:
        if not batch.num_rows:
            return
        self.stream.flush()
        fd = self.stream.fileno()
        chunk: list[bytes] = []
        size = 0
        for s in flink_row_strings(batch):
            line = (self.prefix + s + "\n").encode()
            if chunk and size + len(line) > PIPE_BUF:
                _write_all(fd, b"".join(chunk))
                chunk, size = [], 0
            chunk.append(line)
            size += len(line)
        if chunk:
            _write_all(fd, b"".join(chunk))


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class PrintSink(Sink):
    accepts_updates = True
    subtask_writers = True
    local_output = True

    def __init__(self, identifier, stderr):
        self.identifier, self.stderr = identifier, stderr

    def writer(self, job: str = "job") -> SinkWriter:
        return PrintWriter(self.identifier, self.stderr)

    def subtask_writer(self, job: str, index: int, parallelism: int) -> SinkWriter:
        if parallelism <= 1:
            return self.writer(job)
        return SubtaskPrintWriter(self.identifier, self.stderr, index)


class BlackholeWriter(SinkWriter):
    def __init__(self):
        self.rows = 0

    def write(self, batch: pa.RecordBatch) -> None:
        self.rows += batch.num_rows


class BlackholeSink(Sink):
    accepts_updates = True
    subtask_writers = True

    def writer(self, job: str = "job") -> SinkWriter:
        return BlackholeWriter()


def create_print(table: str, options: dict, schema: TableSchema) -> Sink:
    opts = Options(table, "print", options, PRINT_OPTIONS)
    ident = opts.get("print-identifier")
    err = opts.get_bool("standard-error")
    opts.get("sink.parallelism")
    opts.finish()
    return PrintSink(ident, err)


def create_blackhole(table: str, options: dict, schema: TableSchema) -> Sink:
    Options(table, "blackhole", options, BLACKHOLE_OPTIONS).finish()
    return BlackholeSink()
