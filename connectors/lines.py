"""Reads text files as batches of lines without copying: the file is memory-mapped, numpy finds the newlines
and an Arrow string array is laid over the mapped bytes.

Each line keeps its trailing newline (JSON ignores it; CSV strips it).
"""
from __future__ import annotations

import mmap
import os
import threading
from collections import deque

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# bytes per block: each block costs ~4 ms of fixed work (a DuckDB call's planning, registering the documents,
# ~40 calls of the JSON checks); 16 MB (~58k nexmark events) took 7-13% less CPU per event than 8 MB, and 32 MB
# (~120k events, two of the job's batches) 4% less than 16 MB over a whole nexmark q0-q2 process (8% of the
# decoding alone) for ~130 MB more peak RSS; 64 MB was no cheaper than 32 MB
CHUNK = 32 << 20
KEPT_BLOCKS = 2  # blocks handed out whose pages stay mapped (decoded ahead while the job reads the next)


class LineFile:
    """Cuts a file into blocks of complete lines, starting at a byte offset and line number."""

    def __init__(self, path: str, offset: int = 0, line_no: int = 0):
        self.path, self.offset, self.line_no = path, offset, line_no
        self.size = os.path.getsize(path)
        self.file = open(path, "rb")
        self.map = mmap.mmap(self.file.fileno(), 0, access=mmap.ACCESS_READ) if self.size else None
        self.buf = pa.py_buffer(self.map) if self.map is not None else pa.py_buffer(b"")
        self.bytes = np.frombuffer(self.buf, dtype=np.uint8)
        self.released = 0  # bytes before this offset were handed back to the OS (keeps RSS flat)
        self.starts: deque[int] = deque(maxlen=KEPT_BLOCKS)  # where the last blocks handed out start

    def next_block(self) -> tuple[pa.Array, int, np.ndarray] | None:
        """(lines, number of the first line (0-based), byte offset just after the block) or None at EOF."""
        cut = self.cut()
        if cut is None:
            return None
        lines = self.text().lines(*cut)
        first = self.line_no
        self.line_no += len(lines)
        return lines, first, np.array([cut[1]], dtype=np.int64)

    def cut(self, stop: int | None = None) -> tuple[int, int] | None:
        """The next block's byte range [start, end), or None at EOF: up to the last newline within CHUNK bytes
        (or within the first multiple of CHUNK bytes that holds one), else to the end of the file. `stop`: only
        the lines that start before this byte (an empty range when none does). Looks for one newline, not every
        line's: the block is split into lines where it is decoded (`BlockText.lines`)."""
        start = self.offset
        if len(self.starts) == KEPT_BLOCKS:
            self._release(self.starts[0])  # the last blocks may still be decoding
        self.starts.append(start)
        if start >= self.size:
            return None
        end = min(start + CHUNK, self.size)
        while True:
            at = self.map.rfind(b"\n", start, end)
            if at >= 0:
                end = at + 1
                break
            if end >= self.size:
                break
            end = min(end + CHUNK, self.size)
        if stop is not None and stop < end:
            if stop <= start:
                end = start
            else:
                at = self.map.find(b"\n", stop - 1, end)  # the end of the line holding byte stop - 1
                end = end if at < 0 else at + 1
        self.offset = end
        return start, end

    def text(self) -> BlockText:
        """The file's bytes, for splitting its blocks on other threads (they outlive `close`)."""
        return BlockText(self.buf, self.bytes)

    def _release(self, upto: int) -> None:
        """Drop mapped pages of lines already handed out and decoded (they are re-read if needed)."""
        upto -= upto % mmap.PAGESIZE
        if self.map is not None and upto - self.released >= CHUNK and hasattr(mmap, "MADV_DONTNEED"):
            self.map.madvise(mmap.MADV_DONTNEED, self.released, upto - self.released)
            self.released = upto

    def close(self) -> None:
        self.bytes = None
        self.buf = None
        try:
            if self.map is not None:
                self.map.close()
        except BufferError:
            pass  # an Arrow array still points into the mapping; it is freed with it
        self.file.close()


class BlockText:
    """A file's mapped bytes, split into lines a block at a time (by the decoding threads, each with a scratch
    mask of its own)."""

    _scratch = threading.local()

    def __init__(self, buf: pa.Buffer, data: np.ndarray):
        self.buf, self.data = buf, data

    def lines(self, start: int, end: int) -> pa.Array:
        """The lines of [start, end) (a block cut by `LineFile.cut`), each with its newline; a file's last line
        without one gets one (copied)."""
        if end <= start:
            return pa.array([], pa.large_string())
        mask = getattr(self._scratch, "mask", None)
        if mask is None or len(mask) < end - start:
            mask = self._scratch.mask = np.empty(max(end - start, CHUNK), dtype=bool)  # reused: no page faults
        mask = mask[:end - start]
        np.equal(self.data[start:end], 10, out=mask)
        nl = np.flatnonzero(mask)
        if len(nl) and nl[-1] == end - start - 1:
            return self._laid(start, nl)
        tail_from = start + int(nl[-1]) + 1 if len(nl) else start
        data = self.buf.slice(tail_from, end - tail_from).to_pybytes() + b"\n"
        tail = pa.LargeStringArray.from_buffers(1, pa.py_buffer(np.array([0, len(data)], np.int64)),
                                                pa.py_buffer(data))
        return pa.concat_arrays([self._laid(start, nl), tail]) if len(nl) else tail

    def _laid(self, start: int, nl: np.ndarray) -> pa.Array:
        """Lines ending at the newlines `nl` (offsets from `start`), over the mapped bytes."""
        offsets = np.empty(len(nl) + 1, dtype=np.int64)
        offsets[0] = start
        np.add(nl, start + 1, out=offsets[1:])
        return pa.LargeStringArray.from_buffers(len(nl), pa.py_buffer(offsets), self.buf)


def non_blank(lines: pa.Array) -> np.ndarray:
    """Mask of lines holding more than their line break (an empty line is no record, as in Flink's line reader;
    a line of spaces is one, which JSON refuses). Only short lines are looked at, as bytes."""
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)[lines.offset:lines.offset + len(lines) + 1]
    lengths = np.diff(offsets)
    keep = np.ones(len(lines), dtype=bool)
    short = np.flatnonzero(lengths <= 8)
    if len(short):
        sub = lines.take(pa.array(short)).view(pa.large_binary())
        keep[short] = np.asarray(pc.match_substring_regex(sub, r"[^\r\n]").to_numpy(zero_copy_only=False))
    return keep


def strip_newline(lines: pa.Array) -> pa.Array:
    return pc.utf8_rtrim(lines, characters="\r\n")
