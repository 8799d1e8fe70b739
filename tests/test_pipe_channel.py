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


class Interrupted(Exception):
    """What the test's signal handler raises, as a KeyboardInterrupt would, in the middle of a write."""


def test_a_write_failing_part_way_fails_the_channel_and_nothing_follows_the_torn_message():
    """A batch's write interrupted while the pipe is full (an exception from a signal handler) leaves a torn
    message: later writes raise instead of putting more bytes after it (which the other end would read as the
    torn message's rest), and the other end reads the pipe's end right after the torn bytes."""
    import os
    import signal

    import pytest

    ours, theirs = multiprocessing.Pipe()
    sender = PipeChannel(ours)
    big = pa.record_batch([pa.array(np.arange(2_000_000))], names=["a"])  # 16 MB: far more than the pipe holds
    sender.send_batch("first", big.slice(0, 10))  # the buffered file exists: its buffer is what could be left
    main = threading.get_ident()
    received = bytearray()

    def drain() -> None:  # reads the raw bytes; once part of the big batch is through, interrupts its write
        interrupted = False
        while chunk := os.read(theirs.fileno(), 1 << 16):
            received.extend(chunk)
            if not interrupted and len(received) > 1 << 20:
                interrupted = True
                signal.pthread_kill(main, signal.SIGUSR1)

    def interrupt(signum, frame):
        raise Interrupted()

    previous = signal.signal(signal.SIGUSR1, interrupt)
    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        with pytest.raises(Interrupted):
            sender.send_batch("big", big)
    finally:
        signal.signal(signal.SIGUSR1, previous)
    with pytest.raises(BrokenPipeError, match="Interrupted"):
        sender.send_marker("wm", 5)
    with pytest.raises(BrokenPipeError):
        sender.send_batch("later", big.slice(0, 10))
    reader.join(300)  # the other end reads the pipe's end without this end being closed
    assert not reader.is_alive(), "the other end was not told that nothing follows"
    assert len(received) > 1 << 20
    sender.close()
    theirs.close()


def test_a_marker_that_cannot_be_pickled_fails_the_call_and_leaves_the_channel_whole():
    ours, theirs = multiprocessing.Pipe()
    sender, receiver = PipeChannel(ours), PipeChannel(theirs)
    try:
        sender.send_marker("wm", lambda: None)
    except Exception as e:  # pickle's error: nothing was written
        assert "pickle" in f"{type(e).__name__} {e}".lower(), e
    else:
        raise AssertionError("a lambda was pickled")
    sender.send_marker("wm", 5)
    assert receiver.receive() == ("wm", 5)
    sender.close()
    receiver.close()
