"""Moving Arrow record batches between processes: an IPC stream over a pipe vs. shared-memory slots.

Parallel subtasks run in worker processes and exchange batches; this measures the two transports on
bid-shaped batches (a producer process sends, the consumer reads every column). Run alone:

    python -m benchmarks.exchange [--rows 5000000] [--batch 65536]
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import struct
import time

import numpy as np
import pyarrow as pa


def bids(n: int, seed: int = 7) -> pa.RecordBatch:
    rng = np.random.default_rng(seed)
    return pa.RecordBatch.from_pydict({
        "auction": rng.integers(1000, 2000, n), "bidder": rng.integers(0, 10**6, n),
        "price": rng.integers(1, 10**7, n),
        "channel": pa.array(np.array(["Google", "Facebook", "Baidu", "Apple"])[rng.integers(0, 4, n)]),
        "url": pa.array([f"https://www.nexmark.com/item/{i}" for i in rng.integers(0, 10**6, n)]),
        "date_time": pa.array(np.arange(n, dtype=np.int64), pa.timestamp("ms")),
    })


def _pipe_producer(fd: int, batch: pa.RecordBatch, count: int) -> None:
    with os.fdopen(fd, "wb", buffering=1 << 20) as f:
        with pa.ipc.new_stream(f, batch.schema) as w:
            for _ in range(count):
                w.write_batch(batch)


def via_pipe(batch: pa.RecordBatch, count: int) -> int:
    r, w = os.pipe()
    p = mp.get_context("fork").Process(target=_pipe_producer, args=(w, batch, count))
    p.start()
    os.close(w)
    rows = 0
    with os.fdopen(r, "rb", buffering=1 << 20) as f:
        for b in pa.ipc.open_stream(f):
            rows += b.num_rows
            b.column(4)  # touch a string column as a consumer would
    p.join()
    return rows


SLOTS = 4


def _shm_producer(name: str, slot_size: int, ready_fd: int, free_fd: int, batch: pa.RecordBatch, count: int):
    from multiprocessing import shared_memory
    shm = shared_memory.SharedMemory(name=name)
    free = os.fdopen(free_fd, "rb", buffering=0)
    ready = os.fdopen(ready_fd, "wb", buffering=0)
    for i in range(count):
        slot = struct.unpack("<i", free.read(4))[0]
        ready.write(struct.pack("<ii", slot, _write_slot(shm, slot, slot_size, batch)))
    ready.write(struct.pack("<ii", -1, 0))
    ready.close()
    shm.close()


def _write_slot(shm, slot: int, slot_size: int, batch: pa.RecordBatch) -> int:
    sink = pa.FixedSizeBufferWriter(pa.py_buffer(shm.buf[slot * slot_size:(slot + 1) * slot_size]))
    with pa.ipc.new_stream(sink, batch.schema) as w:
        w.write_batch(batch)
    return sink.tell()


def via_shared_memory(batch: pa.RecordBatch, count: int) -> int:
    """Slots in one shared segment; the consumer copies a batch out of its slot, then frees the slot."""
    from multiprocessing import shared_memory
    slot_size = 2 * (batch.nbytes + (1 << 16))
    shm = shared_memory.SharedMemory(create=True, size=slot_size * SLOTS)
    ready_r, ready_w = os.pipe()
    free_r, free_w = os.pipe()
    for s in range(SLOTS):
        os.write(free_w, struct.pack("<i", s))
    p = mp.get_context("fork").Process(target=_shm_producer,
                                       args=(shm.name, slot_size, ready_w, free_r, batch, count))
    p.start()
    os.close(ready_w)
    rows = 0
    ready = os.fdopen(ready_r, "rb", buffering=0)
    while True:
        slot, size = struct.unpack("<ii", ready.read(8))
        if slot < 0:
            break
        view = pa.py_buffer(shm.buf[slot * slot_size:slot * slot_size + size])
        b = pa.ipc.open_stream(view).read_next_batch()
        b = pa.RecordBatch.from_arrays([pa.concat_arrays([c]) for c in b.columns], schema=b.schema)  # own copy
        rows += b.num_rows
        del view
        os.write(free_w, struct.pack("<i", slot))
    p.join()
    shm.close()
    shm.unlink()
    return rows


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=5_000_000)
    ap.add_argument("--batch", type=int, default=65_536)
    args = ap.parse_args(argv)
    batch = bids(args.batch)
    count = max(1, args.rows // args.batch)
    results = {}
    for name, fn in (("pipe", via_pipe), ("shared_memory", via_shared_memory)):
        start = time.perf_counter()
        rows = fn(batch, count)
        secs = time.perf_counter() - start
        results[name] = {"rows_per_s": round(rows / secs), "MB_per_s": round(batch.nbytes * count / secs / 1e6)}
    print(json.dumps({"batch_rows": args.batch, "batch_bytes": batch.nbytes, "batches": count, **results}, indent=1))


if __name__ == "__main__":
    main()
