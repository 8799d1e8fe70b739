"""A one-dimensional numpy array that batches are appended to, kept in a buffer with room to spare that doubles
when full: an append copies only the appended values, where `np.concatenate` copies every value held, so
per-row arrays of state that grows batch after batch cost in proportion to the batch, not to the state."""
from __future__ import annotations

import numpy as np


class Growing:
    __slots__ = ("_buf", "_n")

    def __init__(self, values: np.ndarray) -> None:
        self._buf = np.array(values)  # a copy: views of it are handed out
        self._n = len(self._buf)

    def __len__(self) -> int:
        return self._n

    @property
    def values(self) -> np.ndarray:
        """The values, as a view (writes go to the buffer; a view may outlive the next append's new buffer)."""
        return self._buf[:self._n]

    def append(self, values: np.ndarray) -> None:
        end = self._n + len(values)
        if end > len(self._buf):
            buf = np.empty(max(2 * end, 1024), self._buf.dtype)
            buf[:self._n] = self._buf[:self._n]
            self._buf = buf
        self._buf[self._n:end] = values
        self._n = end
