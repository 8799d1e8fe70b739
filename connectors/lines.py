"""Reads text files as batches of lines without copying: the file is memory-mapped, numpy finds the newlines
and an Arrow string array is laid over the mapped bytes.

Each line keeps its trailing newline (JSON ignores it; CSV strips it).
"""
from __future__ import annotations

import mmap
import os
from collections import deque

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

CHUNK = 8 << 20
KEPT_BLOCKS = 2  # blocks handed out whose pages stay mapped (decoded ahead while the job reads the next)


class LineFile:
    """Yields blocks of complete lines of a file, starting at a byte offset and line number."""

    def __init__(self, path: str, offset: int = 0, line_no: int = 0):
        self.path, self.offset, self.line_no = path, offset, line_no
        self.size = os.path.getsize(path)
        self.file = open(path, "rb")
        self.map = mmap.mmap(self.file.fileno(), 0, access=mmap.ACCESS_READ) if self.size else None
        self.buf = pa.py_buffer(self.map) if self.map is not None else pa.py_buffer(b"")
        self.bytes = np.frombuffer(self.buf, dtype=np.uint8)
        self.released = 0  # bytes before this offset were handed back to the OS (keeps RSS flat)
        self.starts: deque[int] = deque(maxlen=KEPT_BLOCKS)  # where the last blocks handed out start
        self.newline = np.empty(0, dtype=bool)  # where the bytes of a block are newlines (reused: no page faults)

    def next_block(self) -> tuple[pa.Array, int, np.ndarray] | None:
        """(lines, number of the first line (0-based), byte offset just after each line) or None at EOF."""
        start = self.offset
        if len(self.starts) == KEPT_BLOCKS:
            self._release(self.starts[0])  # the last blocks may still be decoding
        self.starts.append(start)
        if start >= self.size:
            return None
        end = min(start + CHUNK, self.size)
        nl = self._newlines(start, end)
        while len(nl) == 0 and end < self.size:
            end = min(end + CHUNK, self.size)
            nl = self._newlines(start, end)
        if len(nl) == 0:
            data = self.buf.slice(start).to_pybytes() + b"\n"
            arr = pa.LargeStringArray.from_buffers(1, pa.py_buffer(np.array([0, len(data)], np.int64)),
                                                   pa.py_buffer(data))
            after = np.array([self.size], dtype=np.int64)
        else:
            offsets = np.concatenate(([start], nl + 1)).astype(np.int64)
            arr = pa.LargeStringArray.from_buffers(len(nl), pa.py_buffer(offsets), self.buf)
            after = nl + 1
        first = self.line_no
        self.line_no += len(arr)
        self.offset = int(after[-1])
        return arr, first, after

    def _newlines(self, start: int, end: int) -> np.ndarray:
        """Offsets of the newlines in [start, end)."""
        if len(self.newline) < end - start:
            self.newline = np.empty(end - start, dtype=bool)
        mask = self.newline[:end - start]
        np.equal(self.bytes[start:end], 10, out=mask)
        return np.flatnonzero(mask) + start

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


def non_blank(lines: pa.Array) -> np.ndarray:
    """Mask of lines holding more than whitespace (only short lines are looked at, as bytes: a line of invalid
    UTF-8 is not blank)."""
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)[lines.offset:lines.offset + len(lines) + 1]
    lengths = np.diff(offsets)
    keep = np.ones(len(lines), dtype=bool)
    short = np.flatnonzero(lengths <= 8)
    if len(short):
        sub = lines.take(pa.array(short)).view(pa.large_binary())
        keep[short] = np.asarray(pc.match_substring_regex(sub, r"[^\s]").to_numpy(zero_copy_only=False))
    return keep


def strip_newline(lines: pa.Array) -> pa.Array:
    return pc.utf8_rtrim(lines, characters="\r\n")
