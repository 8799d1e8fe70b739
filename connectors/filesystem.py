"""filesystem connector: a file or a folder of files (json or csv); sink writes part files committed by rename."""
from __future__ import annotations

import fcntl
import os
import re
import uuid

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from connectors import partitions
from connectors.base import Sink, SinkWriter, Source, SplitReader, TableSchema, rows_batch
from connectors.formats import csv as csv_format
from connectors.formats import json as json_format
from connectors.lines import LineFile, non_blank
from connectors.options import Options
from sqlstream.errors import ConnectorError, OptionError, storage_error

FORMATS = ("json", "csv")
SINK_FORMATS = ("json", "csv", "debezium-json")
OPTIONS = ["connector", "path", "format", "source.monitor-interval", "sink.rolling-policy.file-size",
           "sink.rolling-policy.rollover-interval", "sink.rolling-policy.check-interval",
           "partition.default-name", "sink.parallelism", "source.path.regex-pattern"] + \
    json_format.FORMAT_OPTIONS + csv_format.FORMAT_OPTIONS


def make_decoder(opts: Options, schema: TableSchema):
    fmt = opts.require("format")
    if fmt == "json":
        return json_format.JsonDecoder.from_options(opts, schema)
    if fmt == "csv":
        return csv_format.CsvDecoder.from_options(opts, schema)
    raise OptionError(f"Table '{opts.table}': format '{fmt}' is not supported by the filesystem connector; "
                      f"use one of: {', '.join(FORMATS)}")


def list_files(path: str) -> list[str]:
    if path.startswith("file://"):
        path = path[len("file://"):]
    if os.path.isfile(path):
        return [path]
    if os.path.isdir(path):
        out = []
        for root, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
            out += [os.path.join(root, f) for f in sorted(files) if not f.startswith((".", "_"))]
        return out
    raise ConnectorError(f"File or directory '{path}' does not exist")


def text_lines(lines: pa.Array) -> memoryview:
    """Strings as newline-terminated UTF-8 lines, straight from the Arrow buffers."""
    joined = pc.binary_join_element_wise(lines, "\n", "")
    offsets = np.frombuffer(joined.buffers()[1], dtype=np.int32)[joined.offset:joined.offset + len(joined) + 1]
    return memoryview(joined.buffers()[2].slice(int(offsets[0]), int(offsets[-1] - offsets[0])))


class FileSplitReader(SplitReader):
    """Reads the files of a table in order; position = (file, byte offset of the current block, rows served)."""

    def __init__(self, files: list[str], decoder, position=None):
        self.files, self.decoder = files, decoder
        self.file_idx, self.block_offset, self.block_line, self.served = 0, 0, 0, 0
        if position:
            self.file_idx, self.block_offset, self.block_line, self.served = position
        self.reader: LineFile | None = None
        self.block: pa.RecordBatch | None = None
        self.pos_in_block = 0
        self.finished = False
        self.rows_read = 0

    def _next_block(self) -> bool:
        while self.file_idx < len(self.files):
            if self.reader is None:
                self.reader = LineFile(self.files[self.file_idx], self.block_offset, self.block_line)
            start_offset, start_line = self.reader.offset, self.reader.line_no
            got = self.reader.next_block()
            if got is None:
                self.reader.close()
                self.reader = None
                self.file_idx += 1
                self.block_offset = self.block_line = self.served = 0
                continue
            lines, first, _after = got
            keep = non_blank(lines)
            idx = np.flatnonzero(keep)
            if len(idx) < len(lines):
                lines = lines.filter(pa.array(keep))
            path = self.files[self.file_idx]
            if hasattr(self.decoder, "path"):
                self.decoder.path = path  # partition values come from the file's folders
            batch = self.decoder.decode(lines, lambda i, idx=idx, first=first, path=path:
                                        f"{path}:{first + int(idx[i]) + 1}")
            self.block_offset, self.block_line = start_offset, start_line
            skip = self.served
            self.block, self.pos_in_block = batch, skip
            return True
        return False

    def poll(self, max_rows: int) -> pa.RecordBatch | None:
        while self.block is None or self.pos_in_block >= self.block.num_rows:
            if self.block is not None:
                self.served = 0
                self.block = None
            if not self._next_block():
                self.finished = True
                return None
        n = min(max_rows, self.block.num_rows - self.pos_in_block)
        out = self.block.slice(self.pos_in_block, n)
        self.pos_in_block += n
        self.served = self.pos_in_block
        self.rows_read += n
        return out

    def position(self):
        return [self.file_idx, self.block_offset, self.block_line, self.served]

    def close(self) -> None:
        if self.reader is not None:
            self.reader.close()

    def metrics(self) -> dict:
        return {"records_skipped": getattr(self.decoder, "skipped", 0)}


class FileSystemSource(Source):
    bounded = True

    def __init__(self, path: str, decoder):
        self.path, self.decoder = path, decoder

    def reader(self, split: str, position=None) -> SplitReader:
        return FileSplitReader(list_files(self.path), self.decoder, position)


class FileSystemSinkWriter(SinkWriter):
    """Writes rows to in-progress part files; a file becomes visible (renamed) only when committed.

    Without checkpointing the job commits at its end; with checkpointing at every completed checkpoint, so
    readers never see uncommitted rows and a restored job writes no row twice. A committed file's name ends in
    the checkpoint that committed it (`-chk<n>`), so output of checkpoints a restore falls back past can be
    taken back (`FileSystemSink.rollback`).
    """

    def __init__(self, directory: str, fmt: str, schema: TableSchema, delimiter: str, job: str,
                 default_partition: str = partitions.DEFAULT_NAME, table: str = ""):
        self.dir, self.fmt, self.schema, self.delimiter = directory, fmt, schema, delimiter
        self.default_partition = default_partition
        self.table = table
        keys = set(schema.partition_keys)
        self.names = [n for n in schema.names if n not in keys]  # partition values are in the path only
        self.types = [t for n, t in zip(schema.names, schema.types) if n not in keys]
        self._io("the output folder", self.dir, lambda: os.makedirs(self.dir, exist_ok=True))
        self.part = 0
        self.prefix = f"part-{job[:12]}-{uuid.uuid4().hex[:8]}"
        self.current: dict[str, tuple[str, str, object]] = {}  # partition folder -> (folder path, in-progress, file)

    def _io(self, what: str, where: str, action):
        """Run a file operation; an OSError becomes a StorageError naming the table, the path and the cause."""
        try:
            return action()
        except OSError as e:
            raise storage_error(e, f"{what} of sink table '{self.table}'", where) from None

    def _open(self, folder: str):
        if folder not in self.current:
            where = os.path.join(self.dir, folder)
            tmp = os.path.join(where, f".{self.prefix}-{self.part}.inprogress")

            def create():
                os.makedirs(where, exist_ok=True)
                f = open(tmp, "wb")
                fcntl.flock(f.fileno(), fcntl.LOCK_EX)  # tells `recover` of another run that a writer owns it
                return f
            self.current[folder] = (where, tmp, self._io("a part file", where, create))
        return self.current[folder][2]

    def write(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows == 0:
            return
        data = pa.RecordBatch.from_arrays(batch.columns[1:], names=batch.schema.names[1:])
        if not self.schema.partition_keys:
            self._write(batch.column(0), data, "")
            return
        for folder, rows in partitions.partition_groups(data, self.schema.partition_keys, self.default_partition):
            take = pa.array(rows)
            self._write(batch.column(0).take(take), data.take(take), folder)

    def _write(self, ops: pa.Array, data: pa.RecordBatch, folder: str) -> None:
        data = pa.RecordBatch.from_arrays([data.column(data.schema.get_field_index(n)) for n in self.names],
                                          names=self.names)
        if self.fmt == "json":
            lines = json_format.encode_json_lines(data, self.names, self.types)
        elif self.fmt == "debezium-json":
            lines = json_format.encode_debezium_lines(ops, data, self.names, self.types)
        else:
            lines = csv_format.encode_csv_lines(data, self.names, self.delimiter)
        f = self._open(folder)
        self._io("a part file", os.path.dirname(f.name), lambda: f.write(text_lines(lines)))

    def prepare_commit(self, checkpoint_id: int):
        out = []
        suffix = f"-chk{checkpoint_id}" if checkpoint_id >= 0 else ""
        for where, tmp, f in self.current.values():
            def flush(f=f):
                f.flush()
                os.fsync(f.fileno())
                f.close()
            self._io("a part file", where, flush)
            out.append([tmp, os.path.join(where, f"{self.prefix}-{self.part}{suffix}")])
        if self.current:
            self.part += 1
        self.current = {}
        return out

    def commit(self, committable) -> None:
        for tmp, final in committable or []:
            if os.path.exists(tmp):
                self._io("a part file", os.path.dirname(final), lambda: os.replace(tmp, final))
            elif not os.path.exists(final):
                raise ConnectorError(f"Sink table '{self.table}': the in-progress part file '{tmp}' vanished before "
                                     f"its commit (removed by another process?); its rows are not in "
                                     f"'{self.dir}'")

    def abort(self, committable) -> None:
        for tmp, _ in committable or []:
            if os.path.exists(tmp):
                os.remove(tmp)

    def close(self) -> None:
        self.commit(self.prepare_commit(-1))

    def cancel(self) -> None:
        self.abort(self.prepare_commit(-1))


class FileSystemSink(Sink):
    def __init__(self, path: str, fmt: str, schema: TableSchema, delimiter: str = ",",
                 default_partition: str = partitions.DEFAULT_NAME, table: str = ""):
        self.path, self.fmt, self.schema, self.delimiter = path, fmt, schema, delimiter
        self.default_partition = default_partition
        self.table = table
        self.accepts_updates = fmt == "debezium-json"

    @property
    def directory(self) -> str:
        return self.path[len("file://"):] if self.path.startswith("file://") else self.path

    def writer(self, job: str = "job") -> SinkWriter:
        return FileSystemSinkWriter(self.directory, self.fmt, self.schema, self.delimiter, job,
                                    self.default_partition, self.table)

    def recover(self, job: str, committables: list) -> None:
        for tmp, final in committables or []:
            if os.path.exists(tmp):
                os.replace(tmp, final)
        for root, _, files in os.walk(self.directory):
            for name in files:
                if name.startswith(f".part-{job[:12]}-") and name.endswith(".inprogress"):
                    _remove_unless_written(os.path.join(root, name))

    def rollback(self, job: str, checkpoint_id: int) -> str:
        """Remove this job's part files committed by checkpoints after `checkpoint_id` (a restore fell back to it)."""
        pattern = re.compile(rf"part-{re.escape(job[:12])}-[0-9a-f]+-\d+-chk(\d+)")
        removed = 0
        for root, _, files in os.walk(self.directory):
            for name in files:
                m = pattern.fullmatch(name)
                if m and int(m.group(1)) > checkpoint_id:
                    os.remove(os.path.join(root, name))
                    removed += 1
        return f"removed {removed} part file(s) committed after checkpoint {checkpoint_id}"


def _remove_unless_written(path: str) -> None:
    """Remove a part file a dead attempt left in progress; one a live writer holds (flock) stays."""
    try:
        with open(path, "rb") as f:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.remove(path)
    except BlockingIOError:
        pass
    except FileNotFoundError:
        pass


def create_source(table: str, options: dict, schema: TableSchema) -> Source:
    opts = Options(table, "filesystem", options, OPTIONS)
    path = opts.require("path")
    keys = set(schema.partition_keys)
    in_files = TableSchema([n for n in schema.names if n not in keys],
                           [t for n, t in zip(schema.names, schema.types) if n not in keys],
                           physical_names=[n for n in schema.all_names if n not in keys],
                           physical_types=[t for n, t in zip(schema.all_names, schema.all_types) if n not in keys])
    decoder = make_decoder(opts, in_files if keys else schema)
    if keys:
        decoder = PartitionedDecoder(decoder, schema, path,
                                     options.get("partition.default-name", partitions.DEFAULT_NAME))
    opts.get("source.monitor-interval")
    opts.get("source.path.regex-pattern")
    opts.finish()
    list_files(path)
    return FileSystemSource(path, decoder)


class PartitionedDecoder:
    """Decodes a file's lines, then adds the partition columns its folders name."""

    def __init__(self, inner, schema: TableSchema, root: str, default_name: str):
        self.inner, self.schema, self.default_name = inner, schema, default_name
        self.root = root[len("file://"):] if root.startswith("file://") else root
        self.path = ""

    @property
    def skipped(self) -> int:
        return getattr(self.inner, "skipped", 0)

    def decode(self, lines: pa.Array, where) -> pa.RecordBatch:
        batch = self.inner.decode(lines, where)
        values = partitions.values_from_path(self.path, self.root, self.schema.partition_keys, self.default_name)
        cols = []
        for name, t in zip(self.schema.names, self.schema.types):
            if name in self.schema.partition_keys:
                v = values.get(name)
                text = pa.array([v] * batch.num_rows, pa.string())
                cols.append(text if t.to_arrow() == pa.string() else pc.cast(text, t.to_arrow()))
            else:
                cols.append(batch.column(batch.schema.get_field_index(name)))
        return rows_batch(cols, self.schema.names, batch.num_rows)


def create_sink(table: str, options: dict, schema: TableSchema) -> Sink:
    opts = Options(table, "filesystem", options, OPTIONS)
    path = opts.require("path")
    fmt = opts.require("format")
    if fmt not in SINK_FORMATS:
        raise OptionError(f"Table '{table}': format '{fmt}' is not supported by the filesystem sink; use one "
                          f"of: {', '.join(SINK_FORMATS)}")
    for k in list(options):
        if k.startswith(("json.", "csv.", "sink.", "partition.", "debezium-json.")):
            opts.get(k)
    delim = options.get("csv.field-delimiter", ",")
    default_partition = options.get("partition.default-name", partitions.DEFAULT_NAME)
    opts.finish()
    return FileSystemSink(path, fmt, schema, delim, default_partition, table)
