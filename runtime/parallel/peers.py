"""The exchange between the subtasks of a region themselves: each source subtask sends every other subtask the rows
of its piece of a round that fall in that subtask's key groups, over a pipe between the two worker processes.

The job's process then only coordinates: it asks for rounds and tells every subtask when to merge one. Every
subtask sends every other one exactly one message per round (the rows, or a marker that it has none), tagged with
the round's number and the piece's summary (maximum of the WATERMARK expression, rows read), so a subtask takes a
round's pieces in logical order (piece 0 first) whatever the timing, and merges it without waiting for the job's
process to have heard from every subtask; its own piece never leaves the process. A thread per incoming pipe reads messages as they come, so two subtasks sending each other a large
piece never block each other on a full pipe. A pipe that ends (its worker died) fails the subtask waiting on it,
naming the subtask it came from.
"""
from __future__ import annotations

import queue
import threading

import pyarrow as pa

from sqlstream.core.errors import ExecutionError
from sqlstream.runtime.parallel.channel import BATCH, ENDED, receive_all

NOTHING = "nothing"  # a round's piece holds no row for the receiving subtask


class PeerLost(ExecutionError):
    """The pipe to or from another subtask broke: its worker died (the job's process names it and how it ended)."""

    def __init__(self, peer: int, parallelism: int) -> None:
        super().__init__(f"the pipe to or from subtask {peer + 1}/{parallelism} broke (its worker process died)")
        self.peer, self.parallelism = peer, parallelism

    def __reduce__(self):
        return PeerLost, (self.peer, self.parallelism)


class PeerExchange:
    """Subtask `index`'s pipes to the other subtasks of its region (`peers`: index -> channel)."""

    def __init__(self, index: int, parallelism: int, peers: dict) -> None:
        self.index, self.parallelism = index, parallelism
        self.peers = peers
        self.inboxes: dict[int, queue.Queue] = {}
        self.own: dict[int, pa.RecordBatch | None] = {}  # this subtask's rows of its own pieces, by round
        self.own_summary: dict[int, tuple] = {}  # this subtask's piece's summary, by round
        self.summaries: dict[int, list] = {}  # the summaries of the pieces of a round taken, in logical order
        for j, channel in peers.items():
            inbox: queue.Queue = queue.Queue()
            threading.Thread(target=receive_all, args=(channel, inbox), daemon=True,
                             name=f"sqlstream-peer-{j}").start()
            self.inboxes[j] = inbox

    def send(self, number: int, routed: list, summary: tuple) -> None:
        """This subtask's piece of round `number`: routed[d] the rows subtask d owns (None: none), or a list of
        them, one per input of a head reading the source through several branches (a message each); summary:
        the piece's (maximum of the WATERMARK expression, rows read), which goes with every message."""
        for d, batches in enumerate(routed):
            if d == self.index:
                self.own[number], self.own_summary[number] = batches, summary
                continue
            try:
                for batch in batches if isinstance(batches, list) else [batches]:
                    if batch is None:
                        self.peers[d].send_marker(NOTHING, number, summary)
                    else:
                        self.peers[d].send_batch((number, summary), batch)
            except (OSError, ValueError):  # the pipe is broken: subtask d's worker is gone
                raise PeerLost(d, self.parallelism) from None

    def take(self, number: int, inputs: int | None = None) -> list:
        """Round `number`'s rows for this subtask, one entry per piece in logical order (None: none; with
        `inputs`, a list of that many entries, one per branch). Messages of older rounds (read ahead before a
        restore and never merged) are dropped. The pieces' summaries are kept for `summaries`."""
        pieces, summaries = [], []
        for j in range(self.parallelism):
            if j == self.index:
                pieces.append(self.own.pop(number, None if inputs is None else [None] * inputs))
                summaries.append(self.own_summary.pop(number, None))
                for old in [n for n in self.own if n < number]:
                    del self.own[old]
                    self.own_summary.pop(old, None)
                continue
            got = [self._next(j, number) for _ in range(inputs or 1)]
            summaries.append(got[0][1])
            got = [batch for batch, _ in got]
            pieces.append(got[0] if inputs is None else got)
        self.summaries[number] = summaries
        return pieces

    def summaries_of(self, number: int) -> list[tuple]:
        """The (maximum, rows) of each piece of round `number`, in logical order, as the pieces' senders gave
        them (after `take`)."""
        return self.summaries.pop(number)

    def _next(self, j: int, number: int) -> tuple[pa.RecordBatch | None, tuple]:
        """The next message of round `number` from subtask j: its rows (None: none) and the piece's summary."""
        while True:
            msg = self.inboxes[j].get()
            if msg is ENDED:
                raise PeerLost(j, self.parallelism)
            if msg[0] == BATCH:
                (tag, summary), batch = msg[1], msg[2]
            else:
                tag, summary, batch = msg[1], msg[2], None
            if tag < number:
                continue
            if tag > number:
                raise ExecutionError(f"subtask {j + 1}/{self.parallelism} sent round {tag} before round {number}")
            return batch, summary

    def close(self) -> None:
        for channel in self.peers.values():
            channel.close()
