"""filesystem connector: a file or a folder of files (json, csv; parquet and orc in parquet_files.py); sink writes
part files committed by rename."""
from __future__ import annotations

import fcntl
import os
import queue
import re
import threading
import time
import uuid
import weakref
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor, wait

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.connectors import partitions
from sqlstream.connectors.base import Sink, SinkWriter, Source, SplitReader, TableSchema, rows_batch
from sqlstream.connectors.formats import csv as csv_format
from sqlstream.connectors.formats import cdc_json, debezium
from sqlstream.connectors.formats import json as json_format
from sqlstream.connectors.formats.debezium import DebeziumJsonDecoder
from sqlstream.connectors.formats.raw import RawLines, one_column
from sqlstream.connectors.lines import BlockText, LineFile, non_blank
from sqlstream.connectors.file_monitor import MonitoredFilesReader, taken_over
from sqlstream.connectors.options import Options, parse_duration_ms
from sqlstream.connectors.part_files import (COMPACTED_PREFIX, PartFile, RollingPolicy, commit_file, compaction_bins,
                                    hide_rolled_back, recover_in_progress)
from sqlstream.core.errors import ConnectorError, FormatError, OptionError, storage_error

FORMATS = ("json", "csv", "raw", "debezium-json", "canal-json", "maxwell-json", "parquet", "orc")
SINK_FORMATS = ("json", "csv", "debezium-json", "raw", "parquet", "orc")
OPTIONS = ["connector", "path", "format", "source.monitor-interval", "sink.rolling-policy.file-size",
           "sink.rolling-policy.rollover-interval", "sink.rolling-policy.check-interval",
           "sink.rolling-policy.inactivity-interval", "auto-compaction", "compaction.file-size",
           "partition.default-name", "sink.parallelism", "source.path.regex-pattern"] + \
    json_format.FORMAT_OPTIONS + csv_format.FORMAT_OPTIONS + debezium.FORMAT_OPTIONS + ["raw.charset", "raw.endianness"] + \
    cdc_json.CANAL_OPTIONS + cdc_json.MAXWELL_OPTIONS


def make_decoder(opts: Options, schema: TableSchema):
    fmt = opts.require("format")
    if fmt == "json":
        decoder = json_format.JsonDecoder.from_options(opts, schema)
        decoder.array_roots = True
        return decoder
    if fmt == "csv":
        decoder = csv_format.CsvDecoder.from_options(opts, schema)
        decoder.records_span_lines = True
        return decoder
    if fmt == "raw":
        opts.get("raw.endianness")
        return RawLines(one_column(opts.table, schema.types), schema.names[0], opts.get("raw.charset", "UTF-8"))
    if fmt == "debezium-json":
        return DebeziumJsonDecoder.from_options(opts, schema)
    if fmt == "canal-json":
        return cdc_json.CanalJsonDecoder.from_options(opts, schema)
    if fmt == "maxwell-json":
        return cdc_json.MaxwellJsonDecoder.from_options(opts, schema)
    raise OptionError(f"Table '{opts.table}': format '{fmt}' is not supported by the filesystem connector; "
                      f"use one of: {', '.join(FORMATS)}")


def local_path(path: str, table: str) -> str:
    """A local path of a 'path' option (file:// or none); another scheme names a file system not shipped."""
    if path.startswith("file://"):
        return path[len("file://"):]
    m = re.match(r"([A-Za-z][A-Za-z0-9+.-]*)://", path)
    if m:
        raise ConnectorError(f"Table '{table}': path '{path}' is on the '{m.group(1)}' file system, which sqlstream "
                             f"does not ship (it reads and writes local files: a path or a file:// URI)")
    return path


def list_files(path: str, pattern: re.Pattern | None = None) -> list[str]:
    """The files of a path, folders walked in name order; hidden and in-progress ones ('.' or '_' first, folders
    too) are left out, and with `pattern` ('source.path.regex-pattern') those whose whole absolute path it does not match."""
    if path.startswith("file://"):
        path = path[len("file://"):]
    if os.path.isfile(path):  # a hidden file is left out also when named alone, as by Flink
        return [] if os.path.basename(path).startswith((".", "_")) else [path]
    if os.path.isdir(path):
        out = []
        for root, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
            out += [os.path.join(root, f) for f in sorted(files) if not f.startswith((".", "_"))]
        return out if pattern is None else [f for f in out if pattern.fullmatch(os.path.abspath(f))]
    raise ConnectorError(f"File or directory '{path}' does not exist")


def text_lines(lines: pa.Array) -> tuple[memoryview, np.ndarray]:
    """Strings as newline-terminated UTF-8 lines, straight from the Arrow buffers, and where each line ends."""
    joined = pc.binary_join_element_wise(lines, "\n", "")
    offsets = np.frombuffer(joined.buffers()[1], dtype=np.int32)[joined.offset:joined.offset + len(joined) + 1]
    text = memoryview(joined.buffers()[2].slice(int(offsets[0]), int(offsets[-1] - offsets[0])))
    return text, (offsets[1:] - offsets[0]).astype(np.int64)


class _Block:
    """One block of lines as read and decoded ahead: where it starts and ends, its rows (or the error decoding
    raised), and its lines (counted where it is split: the number of its first line is known once the blocks
    before it in its file are split)."""

    def __init__(self, file_idx: int, offset: int, after: int, stop_reached: bool, line: int | None,
                 before: _Block | None = None):
        self.file_idx, self.offset, self.after, self.stop_reached = file_idx, offset, after, stop_reached
        self.batch: pa.RecordBatch | None = None  # None: no line left to read
        self.error: BaseException | None = None
        self.lines = 0
        self._line, self.before = line, before
        self.split = threading.Event()

    @property
    def line(self) -> int:
        """Number of the block's first line in its file (0-based)."""
        if self._line is None:
            self.before.split.wait()
            self._line, self.before = self.before.line + self.before.lines, None
        return self._line


class FileSplitReader(SplitReader):
    """Reads the files of a table in order; position = (file, byte offset of the current block, rows served).

    The job's thread cuts the next blocks ahead (a byte range ending after a newline) and the decoding threads
    split them into lines and decode them while the job processes the current one (both release the GIL): a
    decoder with a twin decodes two whole blocks at once, each by one of the two, so a job at parallelism 1 uses
    both cores, and each DuckDB call takes a whole block. Only delivered rows count: the position, the lines read
    and an error (raised when its block is reached, naming where it came from) are those of the blocks handed
    out."""

    def __init__(self, files: list[str], decoder, position=None, stop: int | None = None):
        """stop: read only the lines that start before this byte of the (one) file."""
        self.files, self.decoder = files, decoder
        self.file_idx, self.block_offset, self.block_line, self.served = 0, 0, 0, 0
        if position:
            self.file_idx, self.block_offset, self.block_line, self.served = position
        self.block: pa.RecordBatch | None = None
        self.pos_in_block = 0
        self.finished = False
        self.rows_read = 0
        self.stop, self.stop_reached = stop, False
        self.lines_read = 0  # lines taken, blank ones too
        self.next_offset = self.block_offset  # where the line after the last one taken starts
        self.line_base = lambda: 0  # lines before the first read one that the line numbers do not count
        # the reading side: blocks cut in order on the job's thread, split and decoded on the decoding threads
        self.reader: LineFile | None = None
        self.read_idx, self.read_offset, self.read_line = self.file_idx, self.block_offset, self.block_line
        self.read_all = False  # the last block (end of the files, or of the range) was read
        self.read_after = self.block_offset  # where the line after the last one read starts
        self.last_cut: _Block | None = None  # the block cut last in the file being read
        self.ahead: deque[Future] = deque()

    def _cut(self) -> tuple[_Block, BlockText | None]:
        """The next block's byte range, and the file's bytes to split it from (None: no line left to read)."""
        while self.read_idx < len(self.files):
            if self.reader is None:
                self.reader = LineFile(self.files[self.read_idx], self.read_offset, self.read_line)
                self.last_cut = None
            cut = self.reader.cut(self.stop)
            if cut is None:
                self.reader.close()
                self.reader = None
                self.read_idx += 1
                self.read_offset = self.read_line = 0
                continue
            start, end = cut
            before = self.last_cut
            block = _Block(self.read_idx, start, end, self.stop is not None and end >= self.stop,
                           self.read_line if before is None else None, before)
            self.read_after, self.last_cut = end, block
            if end == start:
                block.split.set()
                return block, None
            return block, self.reader.text()
        return _Block(self.read_idx, 0, self.read_after, False, 0), None

    def _decode_block(self, block: _Block, text: BlockText, free: queue.SimpleQueue) -> _Block:
        """A block split into lines (blank ones dropped) and decoded (on a decoding thread) by whichever of the
        table's decoders is free; an error is kept for when the job reaches the block."""
        path = self.files[block.file_idx]
        try:
            try:
                lines = text.lines(block.offset, block.after)
                block.lines = len(lines)
            finally:
                block.split.set()  # before waiting for a decoder: a later block's line numbers wait for it
            keep = np.ones(len(lines), dtype=bool) if getattr(self.decoder, "records_span_lines", False) \
                else non_blank(lines)  # a CSV decoder drops blank lines itself, except inside quoted values
            idx = np.flatnonzero(keep)
            if len(idx) < len(lines):
                lines = lines.filter(pa.array(keep))
        except Exception as e:
            block.batch, block.error = rows_batch([], [], 0), e
            return block
        decoder = free.get()  # readers of one table share its decoders, each decoding one block at a time
        try:
            if hasattr(decoder, "path"):
                decoder.path = path  # partition values come from the file's folders
            block.batch = decoder.decode(lines, lambda i: f"{path}:{self.line_base() + block.line + int(idx[i]) + 1}")
        except Exception as e:  # raised when the job reaches this block
            block.batch, block.error = rows_batch([], [], 0), e
        finally:
            free.put(decoder)
        return block

    def _read_ahead(self) -> None:
        """Cut blocks and hand them to the decoding threads until IN_FLIGHT are (one more than the decoders,
        so that a decoder that is done finds the next block waiting), or one for a decoder without a twin."""
        twin = self.decoder.twin() if hasattr(self.decoder, "twin") else None
        free = _free_decoders(self.decoder, twin)
        while not self.read_all and len(self.ahead) < (IN_FLIGHT if twin is not None else 1):
            block, text = self._cut()
            self.read_all = text is None or block.stop_reached
            if text is None:
                done: Future = Future()
                done.set_result(block)
                self.ahead.append(done)
                continue
            self.ahead.append(decoding_pool().submit(self._decode_block, block, text, free))

    def start(self) -> None:
        """Hand the first blocks to the decoding threads now, ahead of the first poll (a source subtask starts
        its next piece while it still works on the one before)."""
        self._read_ahead()

    def _next_block(self) -> bool:
        self._read_ahead()
        if not self.ahead:  # the end was handed out before
            return False
        block = self.ahead.popleft().result()
        self.next_offset = block.after
        self.lines_read += block.lines
        self.stop_reached = block.stop_reached
        if block.file_idx != self.file_idx:  # the files before it were read to their end
            self.file_idx, self.block_offset, self.block_line, self.served = block.file_idx, 0, 0, 0
        if block.error is not None:
            raise block.error
        if block.batch is None:
            return False
        self.block_offset, self.block_line = block.offset, block.line
        self.block, self.pos_in_block = block.batch, self.served
        if not block.stop_reached:
            self._read_ahead()
        return True

    def poll(self, max_rows: int) -> pa.RecordBatch | None:
        while self.block is None or self.pos_in_block >= self.block.num_rows:
            if self.block is not None:
                self.served = 0
                self.block = None
            if self.stop_reached or not self._next_block():
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
        wait(list(self.ahead))
        self.ahead.clear()
        if self.reader is not None:
            self.reader.close()
            self.reader = None

    def metrics(self) -> dict:
        twin = self.decoder.twin() if hasattr(self.decoder, "twin") else None
        return {"records_skipped": getattr(self.decoder, "skipped", 0) + (twin.skipped if twin is not None else 0)}


DECODING_THREADS = 2
IN_FLIGHT = DECODING_THREADS + 1  # blocks read ahead for a decoder with a twin
_pool: list = []  # (process id, executor): a forked worker process makes its own
_free: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_free_lock = threading.Lock()


def decoding_pool() -> ThreadPoolExecutor:
    """The process's decoding threads, one per block decoded at once."""
    if not _pool or _pool[0][0] != os.getpid():
        _pool[:] = [(os.getpid(), ThreadPoolExecutor(max_workers=DECODING_THREADS, thread_name_prefix="sqlstream-decode"))]
    return _pool[0][1]


def _free_decoders(decoder, twin) -> queue.SimpleQueue:
    """The table's decoders (the decoder and its twin) not decoding a block now, shared by its readers."""
    with _free_lock:
        if decoder not in _free:
            _free[decoder] = queue.SimpleQueue()
            for d in [decoder] + ([twin] if twin is not None else []):
                _free[decoder].put(d)
        return _free[decoder]


class FileSystemSource(Source):
    bounded = True

    def __init__(self, path: str, decoder, monitor_ms: int | None = None, pattern: re.Pattern | None = None):
        """monitor_ms: 'source.monitor-interval' (None: the files present at start are read, and the source ends);
        pattern: 'source.path.regex-pattern'."""
        self.path, self.decoder, self.monitor_ms, self.pattern = path, decoder, monitor_ms, pattern
        self.bounded = monitor_ms is None
        # one record per line: byte ranges of a file can be read apart (source subtasks divide each file so; a
        # monitored source's files as they are discovered, `runtime/parallel/monitored_rounds.py`)
        self.ranged = not getattr(decoder, "records_span_lines", False)

    def files(self) -> list[str]:
        return list_files(self.path, self.pattern)

    def piece(self, file: str, start: int, end: int, line: int = 0, served: int = 0) -> FileSplitReader:
        """A reader of the lines of `file` that start in [start, end) (`start`: any byte; the piece begins at the
        first line starting there), numbering lines from `line` when `start` is a known line's start."""
        aligned = start if start == 0 or served or _byte_before(file, start) == b"\n" else _next_line(file, start)
        reader = FileSplitReader([file], self.decoder, [0, aligned, line, served], stop=end)
        if aligned != start or not line:
            reader.line_base = lambda: _lines_before(file, aligned)  # counted only for an error's message
            reader.block_line = 0
        return reader

    def reader(self, split: str, position=None) -> SplitReader:
        if self.monitor_ms is not None:
            return MonitoredFilesReader(self.files, lambda files, at: FileSplitReader(files, self.decoder, at),
                                        self.monitor_ms, position)
        files, position = taken_over(position)
        return FileSplitReader(self.files() if files is None else files, self.decoder, position)


def _byte_before(path: str, offset: int) -> bytes:
    with open(path, "rb") as f:
        f.seek(offset - 1)
        return f.read(1)


def _next_line(path: str, offset: int) -> int:
    """The start of the first line that starts at or after `offset` (the file's size if none)."""
    with open(path, "rb") as f:
        f.seek(offset)
        while True:
            chunk = f.read(1 << 16)
            if not chunk:
                return f.tell()
            at = chunk.find(b"\n")
            if at >= 0:
                return offset + at + 1
            offset += len(chunk)


def _lines_before(path: str, offset: int) -> int:
    with open(path, "rb") as f:
        return f.read(offset).count(b"\n")


class FileSystemSinkWriter(SinkWriter):
    """Writes rows to hidden part files; a file becomes visible (renamed) only when a checkpoint commits it.

    Without checkpointing the job commits at its end; with checkpointing at completed checkpoints, so readers
    never see uncommitted rows and a restored job writes no row twice. Files roll as Flink's rolling policy says
    (`part_files.RollingPolicy`); an in-progress file open across checkpoints is recorded in each with its length.
    A committed file's name ends in the checkpoint that committed it (`-chk<n>`), so output of checkpoints a
    restore falls back past can be taken back (`FileSystemSink.rollback`).
    """

    def __init__(self, directory: str, fmt: str, schema: TableSchema, delimiter: str, job: str,
                 default_partition: str = partitions.DEFAULT_NAME, table: str = "",
                 policy: RollingPolicy | None = None):
        self.dir, self.fmt, self.schema, self.delimiter = directory, fmt, schema, delimiter
        self.default_partition = default_partition
        self.table = table
        self.policy = policy or RollingPolicy()
        keys = set(schema.partition_keys)
        self.names = [n for n in schema.names if n not in keys]  # partition values are in the path only
        self.types = [t for n, t in zip(schema.names, schema.types) if n not in keys]
        self._io("the output folder", self.dir, lambda: os.makedirs(self.dir, exist_ok=True))
        self.part = 0
        self.prefix = f"part-{job[:12]}-{uuid.uuid4().hex[:8]}"
        self.current: dict[str, PartFile] = {}  # partition folder -> its in-progress file
        self.rolled: list[PartFile] = []  # closed since the last checkpoint, committed by the next one
        self.recorded: set[str] = set()  # in-progress files a checkpoint holds a length of
        self.held: dict[str, object] = {}  # rolled files' open handles, until committed or aborted
        self.last_check_ms = _now_ms()

    def _io(self, what: str, where: str, action):
        """Run a file operation; an OSError becomes a StorageError naming the table, the path and the cause."""
        try:
            return action()
        except OSError as e:
            raise storage_error(e, f"{what} of sink table '{self.table}'", where) from None

    def _open(self, folder: str, now: float) -> PartFile:
        if folder not in self.current:
            where = os.path.join(self.dir, folder)
            part = PartFile(where, f"{self.prefix}-{self.part}", None, now, now)
            self.part += 1

            def create():
                os.makedirs(where, exist_ok=True)
                f = open(part.in_progress, "wb")
                fcntl.flock(f.fileno(), fcntl.LOCK_EX)  # tells `recover` of another run that a writer owns it
                return f
            part.handle = self._io("a part file", where, create)
            self.current[folder] = part
        return self.current[folder]

    def _roll(self, folder: str) -> None:
        """End the folder's in-progress file; the next checkpoint commits it. Its handle (and lock) is kept
        until then, so that no other run's clean-up takes it."""
        part = self.current.pop(folder)

        def sync():
            part.handle.flush()
            os.fsync(part.handle.fileno())
        self._io("a part file", part.folder, sync)
        self.rolled.append(part)
        self.held[part.in_progress] = part.handle

    def _roll_on_time(self, now: float) -> None:
        for folder in [f for f, part in self.current.items() if self.policy.on_processing_time(part, now)]:
            self._roll(folder)
        self.last_check_ms = now

    def write(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows == 0:
            return
        now = _now_ms()
        if now - self.last_check_ms >= self.policy.check_ms:
            self._roll_on_time(now)
        data = pa.RecordBatch.from_arrays(batch.columns[1:], names=batch.schema.names[1:])
        if not self.schema.partition_keys:
            self._write(batch.column(0), data, "", now)
            return
        for folder, rows in partitions.partition_groups(data, self.schema.partition_keys, self.default_partition):
            take = pa.array(rows)
            self._write(batch.column(0).take(take), data.take(take), folder, now)

    def _write(self, ops: pa.Array, data: pa.RecordBatch, folder: str, now: float) -> None:
        data = pa.RecordBatch.from_arrays([data.column(data.schema.get_field_index(n)) for n in self.names],
                                          names=self.names)
        if self.fmt == "json":
            lines = json_format.encode_json_lines(data, self.names, self.types)
        elif self.fmt == "debezium-json":
            lines = json_format.encode_debezium_lines(ops, data, self.names, self.types)
        elif self.fmt == "raw":
            lines = data.column(0)
        else:
            lines = csv_format.encode_csv_lines(data, self.names, self.delimiter)
        text, ends = text_lines(lines)
        done = 0
        while done < len(text):
            # as Flink checks before each record: a file rolls once a record took it past the file size
            part = self._open(folder, now)
            over = int(np.searchsorted(ends, done + self.policy.file_size - part.size, side="right"))
            upto = len(text) if over >= len(ends) else int(ends[over])
            chunk = text[done:upto]
            self._io("a part file", part.folder, lambda: part.handle.write(chunk))
            part.size += len(chunk)
            part.written_ms = now
            done = upto
            if self.policy.on_event(part):
                self._roll(folder)

    def end_input(self) -> None:
        """Bounded input ended: every in-progress file rolls, so the final checkpoint commits all rows."""
        for folder in list(self.current):
            self._roll(folder)

    def prepare_commit(self, checkpoint_id: int):
        """Roll what the policy says, then list the files this checkpoint commits and the lengths of those
        that stay in progress: `{"files": [[sources, final], ...], "in_progress": [[path, length, final]]}`."""
        now = _now_ms()
        for folder, part in list(self.current.items()):
            if checkpoint_id < 0 or self.policy.on_checkpoint(part) or self.policy.on_processing_time(part, now):
                self._roll(folder)
        in_progress = []
        for part in self.current.values():
            def flush(f=part.handle):
                f.flush()
                os.fsync(f.fileno())
            self._io("a part file", part.folder, flush)
            in_progress.append([part.in_progress, part.size, part.final(checkpoint_id)])
            self.recorded.add(part.in_progress)
        files = []
        if self.policy.compaction_size is None:
            files = [[[part.in_progress], part.final(checkpoint_id)] for part in self.rolled]
        else:
            by_folder: dict[str, list[PartFile]] = {}
            for part in self.rolled:
                by_folder.setdefault(part.folder, []).append(part)
            for parts in by_folder.values():
                for members in compaction_bins([p.size for p in parts], self.policy.compaction_size):
                    files.append([[parts[i].in_progress for i in members],
                                  parts[members[0]].final(checkpoint_id, COMPACTED_PREFIX)])
        self.recorded.difference_update(p.in_progress for p in self.rolled)
        self.rolled = []
        return {"files": files, "in_progress": in_progress}

    def commit(self, committable) -> None:
        for sources, final in committed_files(committable):
            if not os.path.exists(final) and not all(os.path.exists(s) for s in sources):
                raise ConnectorError(f"Sink table '{self.table}': an in-progress part file of '{final}' vanished "
                                     f"before its commit (removed by another process?); its rows are not in "
                                     f"'{self.dir}'")
            self._io("a part file", os.path.dirname(final), lambda: commit_file(sources, final))
            self._release(sources)

    def abort(self, committable) -> None:
        for sources, _ in committed_files(committable):
            for src in sources:
                if os.path.exists(src):
                    os.remove(src)
            self._release(sources)

    def _release(self, sources: list[str]) -> None:
        for src in sources:
            handle = self.held.pop(src, None)
            if handle is not None:
                handle.close()

    def close(self) -> None:
        self.commit(self.prepare_commit(-1))

    def cancel(self) -> None:
        """Stop without committing; an in-progress file a checkpoint recorded stays for the restore to cut."""
        for folder in list(self.current):
            self._roll(folder)
        self.abort({"files": [[[p.in_progress], ""] for p in self.rolled if p.in_progress not in self.recorded]})
        self._release(list(self.held))
        self.rolled = []


def committed_files(committable) -> list:
    """[[sources, final], ...] of a committable; a list of [in-progress, final] pairs is the older form."""
    if not committable:
        return []
    if isinstance(committable, list):
        return [[[tmp], final] for tmp, final in committable]
    return committable.get("files", [])


def _now_ms() -> float:
    return time.monotonic() * 1000


class FileSystemSink(Sink):
    subtask_writers = True  # each writer has part files of its own, committed by name at the checkpoint
    local_output = True

    def __init__(self, path: str, fmt: str, schema: TableSchema, delimiter: str = ",",
                 default_partition: str = partitions.DEFAULT_NAME, table: str = "",
                 policy: RollingPolicy | None = None):
        self.path, self.fmt, self.schema, self.delimiter = path, fmt, schema, delimiter
        self.default_partition = default_partition
        self.table = table
        self.policy = policy or RollingPolicy()
        self.accepts_updates = fmt == "debezium-json"

    @property
    def directory(self) -> str:
        return self.path[len("file://"):] if self.path.startswith("file://") else self.path

    def writer(self, job: str = "job") -> SinkWriter:
        cls = FileSystemSinkWriter
        if self.fmt in ("parquet", "orc"):
            from sqlstream.connectors.parquet_files import BulkSinkWriter as cls
        return cls(self.directory, self.fmt, self.schema, self.delimiter, job, self.default_partition, self.table,
                   self.policy)

    def recover(self, job: str, committables) -> None:
        for sources, final in committed_files(committables):
            if os.path.exists(final) or all(os.path.exists(s) for s in sources):
                commit_file(sources, final)
        if isinstance(committables, dict):
            for path, length, final in committables.get("in_progress", []):
                recover_in_progress(path, length, final)
        for root, _, files in os.walk(self.directory):
            for name in files:
                if name.startswith((f".part-{job[:12]}-", f".{COMPACTED_PREFIX}part-{job[:12]}-")) and \
                        name.endswith((".inprogress", ".compacting")):
                    _remove_unless_written(os.path.join(root, name))

    def rollback(self, job: str, checkpoint_id: int) -> str:
        """Take back this job's part files committed by checkpoints after `checkpoint_id` (a restore fell back
        to it): merged ones are removed, others hidden again for `recover` to cut back or remove."""
        pattern = re.compile(rf"({COMPACTED_PREFIX})?part-{re.escape(job[:12])}-[0-9a-f]+-\d+-chk(\d+)")
        removed = 0
        for root, _, files in os.walk(self.directory):
            for name in files:
                m = pattern.fullmatch(name)
                if m and int(m.group(2)) > checkpoint_id:
                    path = os.path.join(root, name)
                    os.remove(path) if m.group(1) else hide_rolled_back(path)
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
    local_path(path, table)
    fmt = options.get("format")
    if fmt in ("parquet", "orc"):
        from sqlstream.connectors.parquet_files import BulkSource
        opts.require("format")
        for k in [k for k in options if k.startswith(fmt + ".")]:
            opts.get(k)
        monitor_ms, pattern = monitoring(opts)
        if monitor_ms is not None:  # else the job would end after the files present, as if unmonitored
            raise OptionError(f"Table '{table}': 'source.monitor-interval' is not supported for the {fmt} format yet")
        opts.get("partition.default-name")
        opts.finish()
        list_files(path)
        return BulkSource(path, fmt, schema, options.get("partition.default-name", partitions.DEFAULT_NAME), pattern)
    decoder = make_decoder(opts, in_files if keys else schema)
    if keys:
        decoder = PartitionedDecoder(decoder, schema, path,
                                     options.get("partition.default-name", partitions.DEFAULT_NAME))
    monitor_ms, pattern = monitoring(opts)
    opts.finish()
    list_files(path)
    return FileSystemSource(path, decoder, monitor_ms, pattern)


def monitoring(opts: Options) -> tuple[int | None, re.Pattern | None]:
    """'source.monitor-interval' in ms (None: not monitored) and 'source.path.regex-pattern' compiled."""
    interval = opts.get("source.monitor-interval")
    monitor_ms = None if interval is None else parse_duration_ms(interval)
    if monitor_ms is not None and monitor_ms <= 0:
        raise OptionError(f"Table '{opts.table}': 'source.monitor-interval' must be greater than 0, got '{interval}'")
    regex = opts.get("source.path.regex-pattern")
    try:
        pattern = re.compile(regex) if regex else None
    except re.error as e:
        raise OptionError(f"Table '{opts.table}': 'source.path.regex-pattern' is not a valid regular expression "
                          f"({e}): '{regex}'") from None
    return monitor_ms, pattern


class PartitionedDecoder:
    """Decodes a file's lines, then adds the partition columns its folders name."""

    def __init__(self, inner, schema: TableSchema, root: str, default_name: str):
        self.inner, self.schema, self.default_name = inner, schema, default_name
        self.root = root[len("file://"):] if root.startswith("file://") else root
        self.path = ""

    @property
    def skipped(self) -> int:
        return getattr(self.inner, "skipped", 0)

    @property
    def records_span_lines(self) -> bool:
        return getattr(self.inner, "records_span_lines", False)

    def decode(self, lines: pa.Array, where) -> pa.RecordBatch:
        batch = self.inner.decode(lines, where)
        values = partitions.values_from_path(self.path, self.root, self.schema.partition_keys, self.default_name)
        if len(values) < len(self.schema.partition_keys):  # a file outside the k=v folders, as Flink refuses it
            spec = ", ".join(f"{k}={'null' if v is None else v}" for k, v in values.items())
            raise FormatError(f"Partition keys are: [{', '.join(self.schema.partition_keys)}], incomplete partition "
                              f"spec: {{{spec}}}", self.path)
        cols = []
        for name, t in zip(self.schema.names, self.schema.types):
            if name in self.schema.partition_keys:
                v = values.get(name)
                text = pa.array([v] * batch.num_rows, pa.string())
                try:
                    cols.append(text if t.to_arrow() == pa.string() else pc.cast(text, t.to_arrow()))
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                    raise FormatError(f"Partition value '{name}={v}' is not of the column's type {t}: For input "
                                      f"string: \"{v}\"", self.path) from None
            else:
                cols.append(batch.column(batch.schema.get_field_index(name)))
        if getattr(self.inner, "changelog", False):  # the rows' kinds come first
            return pa.RecordBatch.from_arrays([batch.column(0)] + cols, names=["_op"] + self.schema.names)
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
    if fmt == "raw":
        written = [t for n, t in zip(schema.names, schema.types) if n not in set(schema.partition_keys)]
        if len(written) != 1 or written[0].to_arrow() not in (pa.string(), pa.large_string()):
            raise OptionError(f"Table '{table}': the 'raw' format writes a single STRING column per line; the "
                              f"table has {len(written)} column(s) outside PARTITIONED BY")
    for k in [k for k in options if k.startswith(("parquet.", "orc."))]:
        opts.get(k)
    local_path(path, table)
    policy = RollingPolicy.from_options(opts)
    if fmt in ("parquet", "orc") and policy.compaction_size is not None:
        raise OptionError(f"Table '{table}': 'auto-compaction' is not supported for the {fmt} format yet")
    delim = csv_format.field_delimiter(opts) if fmt == "csv" else options.get("csv.field-delimiter", ",")
    default_partition = options.get("partition.default-name", partitions.DEFAULT_NAME)
    opts.finish()
    return FileSystemSink(path, fmt, schema, delim, default_partition, table, policy)
