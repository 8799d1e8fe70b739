"""A source subtask: its share of every round of a divided source, through the stateless operators up to the
exchange (or the sink), each row with its watermark candidate within the share.

A round is p of parallelism 1's batches (of a row-indexed source: ranges of row indexes; of files: consecutive
blocks of lines); subtask j of p reads the j-th, so every row keeps parallelism 1's logical position (round,
piece, offset). The watermark assigner does not decide a
row's watermark here (that needs the pieces before it): the row carries in `_wm` the maximum of the WATERMARK
expression over the piece's rows before it, and the piece's maximum goes with the answer; the downstream subtasks
combine them in logical order (`runtime/split_watermarks.py`), as parallelism 1's assigner does.

A partitioned source (Kafka) is divided by split instead: subtask j reads the partitions i with i % p == j, each
from its own offset, a poll of up to a batch per partition per round as parallelism 1 does; a row's logical
position is (round, partition, offset), and each partition is a piece with its own watermark.
"""
from __future__ import annotations

import threading

import numpy as np
import pyarrow as pa

from sqlstream.core.changelog import INSERT, data_columns, make_batch
from sqlstream.runtime.event_time import MIN_WM
from sqlstream.runtime.key_groups import subtask_of_keys
from sqlstream.runtime.operator import OperatorContext
from sqlstream.runtime.operators import registry as operators
from sqlstream.runtime.operators.calc import CalcOperator
from sqlstream.runtime.operators.watermark_assigner import WatermarkAssignerOperator
from sqlstream.runtime.split_watermarks import part_prefix
from sqlstream.runtime.state import StateBackend

POLL_ROWS = 65536


class SourceShare:
    """Reads pieces of rounds of one source and runs them through its stateless chain."""

    def __init__(self, chain, config: dict, index: int, parallelism: int) -> None:
        from sqlstream.runtime.executor import open_source
        self.scan = chain.scan.node
        self.source = open_source(self.scan, unthrottled=True)
        self.split = self.source.splits()[0] if getattr(self.source, "indexed", False) else None
        self.readers: dict[int, object] = {}  # a partitioned source's readers of this subtask's splits
        self.decoders_skipped = 0  # records the decoders of a divided source's pieces skipped so far
        self.ahead: dict[tuple, object] = {}  # readers of blocks asked for and decoding ahead (`prefetch`), by block
        self.ahead_lock = threading.Lock()
        self.index, self.parallelism = index, parallelism
        self.ops = stateless_ops(chain.specs, config)

    def prefetch(self, request: tuple) -> None:
        """Start reading and decoding this subtask's block of a round of files (on the decoding threads) as soon as
        the round is asked for, while the subtask still works on the rounds before it; `read` takes it up."""
        if request[0] != "bytes" or self.index >= len(request[1]):
            return
        block = tuple(request[1][self.index])
        path, _, start, end, line, served = block
        reader = self.source.piece(path, start, end, line, served)
        reader.start()
        with self.ahead_lock:
            old = self.ahead.pop(block, None)
            self.ahead[block] = reader
        if old is not None:
            old.close()

    def read(self, request: tuple) -> tuple[list[pa.RecordBatch], dict]:
        """This subtask's piece of a round through the chain: the batches, and the piece's summary (its maximum
        of the WATERMARK expression, rows read; for a file, the lines taken and where the next line starts).

        request: ("rows", start, end, batch rows) of a row-indexed source (piece i: the i-th batch), or ("bytes",
        blocks) of files (piece i: the i-th block, (path, file index, start, end, line, rows served), read whole by
        one reader; line and rows served: where parallelism 1's position had them, for the block it starts at)."""
        summary: dict = {}
        if request[0] == "splits":
            raise ValueError("a partitioned source's round is read by read_splits")
        if request[0] == "rows":
            _, start, end, batch_rows = request
            lo = min(start + batch_rows * self.index, end)
            hi = min(lo + batch_rows, end)
            reader, most = self.source.reader(self.split, lo), hi - lo
        else:
            blocks = request[1]
            if self.index >= len(blocks):
                return [], {"lines": 0, "max": MIN_WM, "rows": 0}
            path, _, start, end, line, served = blocks[self.index]
            with self.ahead_lock:
                reader = self.ahead.pop(tuple(blocks[self.index]), None)
            if reader is None:
                reader = self.source.piece(path, start, end, line, served)
            most = None
        out: list[pa.RecordBatch] = []
        rows, part_max = 0, MIN_WM
        while (most is None or rows < most) and not reader.finished:
            batch = reader.poll(POLL_ROWS if most is None else min(POLL_ROWS, most - rows))
            if batch is None or batch.num_rows == 0:
                break
            rows += batch.num_rows
            batches, part_max = self._chain(batch, part_max)
            out += batches
        if request[0] == "bytes":
            summary.update(lines=reader.lines_read, after=reader.next_offset)
        # the table's decoders are shared by its pieces' readers: their running count
        self.decoders_skipped = reader.metrics().get("records_skipped", 0) if hasattr(reader, "metrics") else 0
        reader.close()
        summary.update(max=part_max, rows=rows)
        return out, summary

    def read_splits(self, request: tuple) -> list[tuple[int, list[pa.RecordBatch], dict]]:
        """This subtask's partitions' share of a round ("splits", rows, positions to reopen at or None): per
        partition in order, its batches through the chain and its summary (maximum of the WATERMARK expression,
        rows, the offset after them, finished), read as parallelism 1 reads a partition in a step."""
        _, quota_rows, reset = request
        splits = self.source.splits()
        if reset is not None:
            for reader in self.readers.values():
                reader.close()
            self.readers = {}
        mine = [i for i in range(len(splits)) if i % self.parallelism == self.index]
        for i in mine:
            if i not in self.readers:
                self.readers[i] = self.source.reader(splits[i], reset[i] if reset is not None else None)
        out = []
        for i in mine:
            reader = self.readers[i]
            batches, rows, part_max, quota = [], 0, MIN_WM, quota_rows
            while quota > 0 and not reader.finished:
                batch = reader.poll(quota)
                if batch is None or batch.num_rows == 0:
                    break
                asked, quota, rows = quota, quota - batch.num_rows, rows + batch.num_rows
                chained, part_max = self._chain(batch, part_max)
                batches += chained
                if batch.num_rows < asked:
                    break  # nothing more available now, as parallelism 1's paced read
            out.append((i, batches, {"split": i, "rows": rows, "max": part_max, "after": reader.position(),
                                     "finished": bool(reader.finished)}))
        return out

    def skipped(self) -> int:
        """Records this subtask's decoders skipped so far ('json.ignore-parse-errors' and the like)."""
        if self.readers:
            return sum(r.metrics().get("records_skipped", 0) for r in self.readers.values())
        return self.decoders_skipped

    def close(self) -> None:
        with self.ahead_lock:
            ahead, self.ahead = list(self.ahead.values()), {}
        for reader in list(self.readers.values()) + ahead:
            reader.close()
        self.readers = {}

    def _chain(self, batch: pa.RecordBatch, part_max: int) -> tuple[list[pa.RecordBatch], int]:
        """A batch read through the stateless chain, each row with its watermark candidate within the piece."""
        if batch.num_columns and batch.schema.names[0] == "_op":
            b = make_batch(batch.column(0), [batch.column(i) for i in range(1, batch.num_columns)], self.scan.names)
        else:  # a scan that reads no column still passes on how many rows it read
            b = make_batch(np.full(batch.num_rows, INSERT, dtype=np.int8),
                           [batch.column(i) for i in range(batch.num_columns)], self.scan.names)
        batches = [b]
        for op in self.ops:
            if isinstance(op, WatermarkAssignerOperator):
                marked = []
                for x in batches:
                    x, part_max = _candidates(op, x, part_max)
                    marked.append(x)
                batches = marked
            else:
                batches = through([op], batches)
        return [x for x in batches if x.num_rows], part_max



def stateless_ops(specs: list, config: dict) -> list:
    """The operators of a source's stateless chain (or of a branch of its rows), opened."""
    ops = []
    for spec in specs:
        op = operators.build(spec)
        op.open(OperatorContext(StateBackend(spec.uid), config, n_inputs=1, uid=spec.uid))
        ops.append(op)
    return ops


def through(ops: list, batches: list[pa.RecordBatch]) -> list[pa.RecordBatch]:
    """Batches through stateless operators (each row's `_wm` candidate goes along)."""
    for op in ops:
        batches = [y for x in batches if x.num_rows for y in op.on_batch(x)]
    return [x for x in batches if x.num_rows]


def _candidates(op: WatermarkAssignerOperator, batch: pa.RecordBatch, before: int) -> tuple[pa.RecordBatch, int]:
    """The batch with each row's maximum of the WATERMARK expression over the piece's rows before it (`before`:
    the maximum over the piece's earlier batches), and the maximum including this batch."""
    cols = data_columns(batch)
    prefix, batch_max = part_prefix(op.values(cols, batch.num_rows))
    return make_batch(batch.column(0), cols, op.names, wm=np.maximum(prefix, before)), max(before, batch_max)


def route(batches: list[pa.RecordBatch], keys: tuple[int, ...], parallelism: int,
          max_parallelism: int) -> list[pa.RecordBatch | None]:
    """The rows for each downstream subtask (the owner of their key group), in their order."""
    if not batches:
        return [None] * parallelism
    batch = batches[0] if len(batches) == 1 else pa.concat_batches(batches)
    owner = owners(batch, keys, parallelism, max_parallelism)
    out = []
    for d in range(parallelism):  # a pass per subtask: cheaper than sorting by owner at the parallelisms of a machine
        rows = np.flatnonzero(owner == d)
        out.append(batch.take(pa.array(rows)) if len(rows) else None)
    return out


def owners(batch: pa.RecordBatch, keys: tuple[int, ...], parallelism: int, max_parallelism: int) -> np.ndarray:
    """The subtask owning each row of a batch by its data columns `keys`."""
    return subtask_of_keys([batch.column(1 + k) for k in keys], batch.num_rows, parallelism, max_parallelism)


def route_through(ops: list, batches: list[pa.RecordBatch], keys: tuple[int, ...], parallelism: int,
                  max_parallelism: int) -> list[pa.RecordBatch | None]:
    """`route(through(ops, batches), ..)`; where the last operator is a filtering calc that only reads columns
    (`CalcOperator.split`: nexmark's bid view, routed by price into q7's join), each subtask's rows are copied
    once from its input instead of once by the filter and again by routing."""
    last = ops[-1] if ops else None
    if not isinstance(last, CalcOperator) or not last.routes_before_filter():
        return route(through(ops, batches), keys, parallelism, max_parallelism)
    batches = through(ops[:-1], batches)
    if not batches:
        return [None] * parallelism
    batch = batches[0] if len(batches) == 1 else pa.concat_batches(batches)
    return last.split(batch, lambda out: owners(out, keys, parallelism, max_parallelism), parallelism)
