"""PipeChannel writes a batch's IPC stream straight into the pipe, framed as `send_bytes` frames a message: what
the other end receives is the batch sent, between the markers sent around it."""
import multiprocessing
import threading

import numpy as np
import pyarrow as pa

from sqlstream.runtime.parallel.channel import BATCH, PipeChannel


def test_batches_and_markers_arrive_as_sent():
    ours, theirs = multiprocessing.Pipe()
    sender, receiver = PipeChannel(ours), PipeChannel(theirs)
    n = 100_000  # over a MB: the pipe fills while the reader drains it
    big = pa.record_batch([pa.array(np.arange(n)), pa.array(["x" * (i % 7) if i % 5 else None for i in range(n)]),
                           pa.array([[("k", i)] for i in range(n)], pa.map_(pa.string(), pa.int64()))],
                          names=["a", "s", "m"])
    sent = [("wm", 5), big, big.slice(7, 3), big.slice(0, 0), ("end",)]
    got = []
    reader = threading.Thread(target=lambda: got.extend(receiver.receive() for _ in sent))
    reader.start()
    for i, item in enumerate(sent):
        if isinstance(item, tuple):
            sender.send_marker(*item)
        else:
            sender.send_batch(("tag", i), item)
    reader.join()
    for item, (i, msg) in zip(sent, enumerate(got)):
        if isinstance(item, tuple):
            assert msg == item
        else:
            assert msg[:2] == (BATCH, ("tag", i)) and msg[2].equals(item)
    sender.close()
    receiver.close()
