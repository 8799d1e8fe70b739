"""Where a divided source's rounds start and end, and its position as parallelism 1's reader gives it.

A round is N pieces, one per subtask, each what parallelism 1 reads as one batch and each merged as its own batch
(so an aggregate sums its rows in the same groups, to the last bit of a DOUBLE, and a round's fixed costs are paid
per batch, not per fraction of one); rounds are asked for ahead of the merge, so each round's bounds follow from
the source alone, never from what earlier rounds read. A row-indexed source (a generator) has pieces of the job's
batch size. A partitioned source (Kafka) has rounds as parallelism 1's step: a poll of up to a batch per
partition, in partition order, each partition read by one subtask from its own offset. A file's pieces are
consecutive blocks of about a batch's rows, at most the block parallelism 1's reader decodes (the lines ending
within CHUNK bytes); the files of a folder follow each other as at parallelism 1.
"""
from __future__ import annotations

import os

from sqlstream.connectors.file_monitor import taken_over
from sqlstream.connectors.lines import CHUNK

# a piece's bytes at most, below parallelism 1's block (CHUNK): pieces of up to 32 MB (nexmark's ~16.9 MB, a batch's
# rows estimated from the file's first lines) were no cheaper than up to 16 MB (q2 at parallelism 2, workers' CPU
# median 5.07 s against 4.82 s over 5 alternating rounds on a loaded machine)
PIECE_BYTES = 16 << 20


class RowRounds:
    """Rounds of a row-indexed source; its position is the number of rows merged. A round is `pieces` of
    parallelism 1's batches (`batch_rows` rows each), one per subtask: each subtask reads one whole batch a round,
    so a round's fixed costs (a poll, the chain's and operators' calls, the messages) are paid per batch, not per
    fraction of one."""

    def __init__(self, batch_rows: int, limit: int | None = None, pieces: int = 1) -> None:
        self.batch_rows, self.limit = batch_rows, limit
        self.round_rows = batch_rows * pieces
        self.next = self.merged = 0
        self.ended = False

    def next_round(self) -> tuple | None:
        if self.ended:
            return None
        start = self.next
        end = start + self.round_rows if self.limit is None else min(start + self.round_rows, self.limit)
        if end <= start:
            self.ended = True
            return None
        self.next = end
        return ("rows", start, end, self.batch_rows)

    def merged_round(self, request: tuple, replies: list[dict]) -> int:
        rows = sum(r["rows"] for r in replies)
        start, end = request[1], request[2]
        if rows < end - start:
            self.ended = True  # the source ended within this round; later rounds read nothing
        self.merged = start + rows
        return rows

    def position(self):
        return self.merged

    def restore(self, position) -> None:
        self.next = self.merged = int(position or 0)
        self.ended = False


class SplitRounds:
    """Rounds of a partitioned source (Kafka): each a batch per split (partition); its position is parallelism 1's
    readers' (the next offset per split; None: where the startup mode says, not read yet)."""

    def __init__(self, splits: int, round_rows: int) -> None:
        self.round_rows = round_rows
        self.merged: list = [None] * splits
        self.finished = [False] * splits
        self.reset: list | None = None  # positions the subtasks reopen their readers at (after a restore)

    def next_round(self) -> tuple | None:
        if all(self.finished):
            return None
        request = ("splits", self.round_rows, self.reset)
        self.reset = None
        return request

    def merged_round(self, request: tuple, replies: list[dict]) -> int:
        for r in replies:
            self.merged[r["split"]] = r["after"]
            self.finished[r["split"]] = r["finished"]
        return sum(r["rows"] for r in replies)

    def position(self):
        return list(self.merged)

    def restore(self, position) -> None:
        n = len(self.merged)  # as parallelism 1's readers: a partition new since the checkpoint starts as at startup
        self.merged = (list(position or [])[:n] + [None] * n)[:n]
        self.finished = [False] * len(self.merged)
        self.reset = list(self.merged)


class FileRounds:
    """Rounds over the files of a folder in order; its position is parallelism 1's reader's
    [file, byte offset, line, rows served of the block there].

    A round is `pieces` consecutive blocks, each about a batch's rows (at most the block parallelism 1's reader
    decodes), subtask j of N reading and decoding the j-th block whole: a subtask makes one decoder call per
    block, as parallelism 1 does, on blocks of parallelism 1's size. A round's blocks may run on into the next
    files."""

    def __init__(self, files: list[str], batch_rows: int, pieces: int = 1) -> None:
        self.files, self.batch_rows, self.pieces = files, batch_rows, pieces
        self.sizes = [os.path.getsize(f) for f in files]
        self.line_bytes: dict[int, float] = {}  # a file's mean line length, from its first bytes
        self.restore(None)

    def next_round(self) -> tuple | None:
        """("bytes", [(path, file index, start, end, line, rows served) per block]): line and rows served are
        where parallelism 1's position had them, for the block a position starts at (else 0)."""
        blocks = []
        f, start = self.next
        while len(blocks) < self.pieces:
            while f < len(self.files) and start >= self.sizes[f]:
                f, start = f + 1, 0
            if f >= len(self.files):
                break
            first = (f, start) == tuple(self.merged[:2])  # the block a position starts at: its line and rows served
            served = self.merged[3] if first else 0
            # rows served count rows of parallelism 1's whole block there: the piece takes all of that block
            most = CHUNK if served else min(int(self.batch_rows * self._line_bytes(f)), PIECE_BYTES)
            end = block_end(self.files[f], start, self.sizes[f], most)
            blocks.append((self.files[f], f, start, end, self.merged[2] if first else 0, served))
            start = end
        self.next = (f, start)
        return ("bytes", blocks) if blocks else None

    def merged_round(self, request: tuple, replies: list[dict]) -> int:
        """The position after the round's last block (`replies`: each subtask's, block j's the j-th)."""
        blocks = request[1]
        f, after = blocks[-1][1], blocks[-1][3]
        line = self.merged[2] if self.merged[0] == f else 0
        line += sum(r["lines"] for r, b in zip(replies, blocks) if b[1] == f)
        self.merged = [f, after, line, 0] if after < self.sizes[f] else [f + 1, 0, 0, 0]
        return sum(r["rows"] for r in replies)

    def position(self):
        return list(self.merged)

    def _line_bytes(self, f: int) -> float:
        if f not in self.line_bytes:
            with open(self.files[f], "rb") as file:
                head = file.read(1 << 16)
            self.line_bytes[f] = len(head) / max(1, head.count(b"\n"))
        return self.line_bytes[f]

    def restore(self, position) -> None:
        files, position = taken_over(position)  # a monitored source's position names the files it read
        if files is not None:
            self.files, self.sizes, self.line_bytes = files, [os.path.getsize(f) for f in files], {}
        self.merged = list(position) if position else [0, 0, 0, 0]
        self.next = (self.merged[0], self.merged[1])


def block_end(path: str, start: int, size: int, most: int = CHUNK) -> int:
    """Where parallelism 1's block starting at `start` ends (`connectors/lines.LineFile`): after the last newline
    within CHUNK bytes (or within the first multiple of CHUNK bytes that holds one), else at the end of the file;
    `most`: fewer bytes (about a batch's rows) where a newline ends a line within them."""
    with open(path, "rb") as f:
        end = min(start + max(1, min(most, CHUNK)), size)
        while True:
            at = end
            while at > start:  # the last newline before `end`
                lo = max(start, at - (1 << 16))
                f.seek(lo)
                found = f.read(at - lo).rfind(b"\n")
                if found >= 0:
                    return lo + found + 1
                at = lo
            if end >= size:
                return size
            end = min(start + CHUNK, size) if end - start < CHUNK else min(end + CHUNK, size)
