"""Reads text files as batches of lines without copying: numpy finds newlines, Arrow wraps the bytes.

Each line keeps its trailing newline (JSON ignores it; CSV strips it), so a block is one zero-copy array.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

CHUNK = 8 << 20


class LineFile:
    """Yields blocks of complete lines of a file, starting at a byte offset and line number."""

    def __init__(self, path: str, offset: int = 0, line_no: int = 0):
        self.path, self.offset, self.line_no = path, offset, line_no
        self.f = open(path, "rb")
        self.f.seek(offset)
        self.carry = b""
        self.eof = False

    def next_block(self) -> tuple[pa.Array, int, np.ndarray] | None:
        """(lines, number of the first line (0-based), byte offset just after each line) or None at EOF."""
        while not self.eof:
            data = self.f.read(CHUNK)
            if not data:
                self.eof = True
                if self.carry:
                    data, self.carry = self.carry + b"\n", b""
                    return self._lines(data, virtual_newline=True)
                return None
            data = self.carry + data
            cut = data.rfind(b"\n")
            if cut < 0:
                self.carry = data
                continue
            self.carry = data[cut + 1:]
            return self._lines(data[:cut + 1])
        return None

    def _lines(self, data: bytes, virtual_newline: bool = False):
        buf = np.frombuffer(data, dtype=np.uint8)
        nl = np.flatnonzero(buf == 10)
        offsets = np.concatenate(([0], nl + 1)).astype(np.int64)
        arr = pa.LargeStringArray.from_buffers(len(nl), pa.py_buffer(offsets), pa.py_buffer(data))
        first = self.line_no
        self.line_no += len(nl)
        after = self.offset + nl + 1
        if virtual_newline:
            after[-1] -= 1
        self.offset = int(after[-1]) if len(after) else self.offset
        return arr, first, after

    def close(self) -> None:
        self.f.close()


def non_blank(lines: pa.Array) -> np.ndarray:
    """Mask of lines holding more than whitespace."""
    return np.asarray(pc.match_substring_regex(lines, r"\S").to_numpy(zero_copy_only=False))


def strip_newline(lines: pa.Array) -> pa.Array:
    return pc.utf8_rtrim(lines, characters="\r\n")
