"""A region's subtasks as one operator of the job's dataflow: the exchange into them and their output back.

In the job's process, a region's head is replaced by a `RegionOperator` (and its chain by `ForwardOperator`s), so
sources, watermark assigners, sinks, checkpoints and restarts stay those of parallelism 1. The region operator
routes each input row to the subtask owning its key group and forwards every watermark change to all subtasks:
the rows a subtask gets, and the points where its watermark moves, are those of parallelism 1, so results do not
depend on how processes are scheduled. Messages are pipelined (up to MAX_IN_FLIGHT unanswered); answers are taken
message by message, and within a message subtask by subtask, so the output order is fixed too. The dataflow
drains the answers before a checkpoint (the subtasks' outputs reach the sinks before they prepare their commit),
at the end of input, and when its sources have nothing new; otherwise it collects the answers already there.
"""
from __future__ import annotations

import queue
import threading
import time
from collections import deque

import numpy as np
import pyarrow as pa

from sqlstream.core.changelog import row_watermarks
from sqlstream.core.errors import ExecutionError, ValidationError, WorkerLostError
from sqlstream.runtime.key_groups import key_groups, max_parallelism_of, subtask_of_groups
from sqlstream.runtime.operator import Operator, OperatorContext
from sqlstream.runtime.parallel.channel import BATCH, ENDED, receive_all
from sqlstream.runtime.parallel.regions import Region
from sqlstream.runtime.parallel.subtask import (CLOSE, DONE, FAILED, GATHER, MERGE, RESTORE, ROUND, SNAPSHOT,
                                                STOP, WATERMARK, SubtaskUnit)
from sqlstream.runtime.subtask_state import SUBTASKS, decode, encode, redistribute, written


STOP_GRACE_S = 5.0  # how long a subtask may take to end after STOP before its process is stopped
MAX_IN_FLIGHT = 4  # messages sent to the subtasks and not yet answered (besides the rounds asked ahead)
# rounds the subtasks are asked to read before the oldest is merged, by the source's kind: a subtask held up for a
# moment (descheduled, a costlier piece) leaves the others rounds to read instead of waiting for it; a round of
# files asked for starts decoding its blocks at once (`SourceShare.prefetch`), so fewer of those (and of a Kafka
# topic's polls)
ROUNDS_AHEAD = {"rows": 8, "bytes": 2, "splits": 2}
# a round of a source whose subtasks exchange its pieces (with their summaries) between themselves is merged in
# the subtasks this many rounds after it is read, asked for with the read of the later round: the subtasks go on
# reading and merging without waiting for this process to hear from all of them, and by then the other
# subtasks' pieces of the round have come unless one of them is that many rounds behind
GATHER_LAG = 4


class _Round:
    """A round the source subtasks read, in flight (its number, the subtasks asked)."""

    def __init__(self, number: int, subtasks: list[int]) -> None:
        self.number, self.subtasks = number, subtasks


class SubtaskFailed(WorkerLostError):
    """A subtask's worker process died or failed: the job fails and its restart strategy restarts it."""


class ForwardOperator(Operator):
    """An operator of a region's chain, in the job's process: it runs in the subtasks, so rows pass unchanged."""

    name = "Forward"

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        return [batch]


class SourceWatermarkOperator(ForwardOperator):
    """The watermark assigner of a divided source, in the job's process: the subtasks assign the watermarks; its
    state is the source's watermark as the merged rounds left it (the region operator keeps it), in the assigner's
    own layout, so a checkpoint restores at any parallelism."""

    def __init__(self, marks) -> None:
        self.marks = marks

    def open(self, ctx: OperatorContext) -> None:
        from sqlstream.runtime.operators.watermark_assigner import WatermarkState
        state = WatermarkState(self.marks)
        state.owner = self.marks  # per-split watermarks (a partitioned source's) in the assigner's layout
        ctx.register("watermark", state)


class RegionState:
    """The subtasks' state in a checkpoint: one part per subtask (`runtime/subtask_state.py`), redistributed by
    key-group range when the job restores at another parallelism."""

    def __init__(self, owner: "RegionOperator") -> None:
        self.owner = owner

    @property
    def uids(self) -> list[str]:
        """The region's operators, head first."""
        return [s.uid for s in self.owner.region.specs]

    def snapshot(self) -> pa.Table:
        """The subtasks' parts; with the owner's `parts_dir` set (a checkpoint's folder), each subtask writes its
        part there itself and the owner's `written` lists the files."""
        owner = self.owner
        if owner.parts_dir is None:
            return encode(owner.request(SNAPSHOT), owner.parallelism)
        files = owner.request(SNAPSHOT, [(owner.parts_dir, f"{owner.region.head.uid}.subtask-{i}.arrow")
                                         for i in range(owner.parallelism)])
        owner.written = {f"subtask-{i}": f for i, f in enumerate(files)}
        return written(owner.parallelism)

    def restore(self, table: pa.Table) -> None:
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as w:
            w.write_table(table)
        self.restore_parts(decode({SUBTASKS: sink.getvalue().to_pybytes()}))

    def restore_parts(self, parts: list) -> None:
        """Restore from the parts of the subtasks of a checkpoint at any parallelism (1: the region's operators
        ran in the job's process): each subtask takes the parts overlapping its key groups."""
        owner = self.owner
        plan = redistribute(parts, owner.parallelism, owner.max_parallelism)
        owner.request(RESTORE, [(taken, groups, len(parts)) for taken, groups in plan])

    def size_bytes(self) -> int:
        return self.owner.metric("state_bytes")


class RegionOperator(Operator):
    """The head of a region in the job's process: hash exchange into N subtasks, their outputs back."""

    def __init__(self, region: Region, config: dict, parallelism: int, host=None, marks=None,
                 job: str = "job") -> None:
        """marks: the watermark of the source the subtasks divide (a SplitWatermarks), kept here in step with
        theirs; job: the job's fingerprint, for the writers of a sink the subtasks write."""
        self.region = region
        self.job = job
        self.sink_uid = region.sink.uid if region.sink is not None else None
        self.sunk = 0  # rows the subtasks' sink writers wrote, as counted so far
        self.marks = marks
        self.name = region.head.name
        self.config = config
        self.parallelism = parallelism
        self.max_parallelism = max_parallelism_of(config)
        if not parallelism <= self.max_parallelism:
            raise ValidationError(f"parallelism {parallelism} is above 'pipeline.max-parallelism' "
                                  f"({self.max_parallelism}): key groups cannot be spread over more subtasks")
        self.host = host
        self.channels: list = []
        self.handles: list = []
        self.last_metrics: list[dict] = [{} for _ in range(parallelism)]
        self.source_scan = region.source.scan.uid if region.source is not None else None
        self.limit: int | None = None  # rows a divided generator reads at most (a run's --max-rows-in)
        self.round_rows = 65536  # the rows parallelism 1 reads as one batch: a divided source's round
        self.cursor = None  # the divided source's rounds and position (runtime/parallel/rounds.py)
        self.asked = 0  # rounds asked for so far
        self.gathered = 0  # rounds the subtasks were asked to merge so far (`early`: maybe before they were merged here)
        self.early = False  # the subtasks merge a round from the summaries they exchange (set by `open`)
        self.rounds: deque[tuple[int, tuple]] = deque()  # rounds asked for and not merged yet
        self.reads: dict[int, list] = {}  # the answers of rounds read, by number
        self.ready: list[pa.RecordBatch] = []  # output owed to the dataflow
        self.parts_dir: str | None = None  # set by the dataflow while it takes a checkpoint: subtasks write there
        self.written: dict[str, list] = {}  # the parts they wrote: table name -> [file, size, crc32]
        self.last_active: list[float] = []  # a partitioned source's: when each partition last had rows
        self.idle_timeout_ms = region.source.idle_timeout_ms if region.source is not None else 0
        self.returns = region.returns
        self.sent_wm: int | None = None  # the last input watermark sent to the subtasks (a returning region)
        # a forked source's partials for the window aggregations in this process, with the source's watermark
        # advances between them: (the aggregation's uid, rows) and ints, taken by the dataflow after each round
        self.returned: list = []
        # the rounds asked ahead are in flight too, not answered before their turn to be merged
        self.rounds_ahead = ROUNDS_AHEAD[region.source.kind] if region.source is not None else 0
        self.settled = 0  # rows of rounds merged for a checkpoint, not yet counted by `run_round`
        self.writes_at_read = False
        self.most_in_flight = MAX_IN_FLIGHT + self.rounds_ahead

    @property
    def holds_watermark(self) -> bool:
        """A region whose output goes back into the job's dataflow advances the operators after it itself: its
        output (only through `drain`) holds each watermark advance after the rows it fired."""
        return self.returns

    @property
    def drops_late_rows(self) -> bool:
        return False  # the subtasks drop them and count them (metrics)

    def open(self, ctx: OperatorContext) -> None:
        self.ctx = ctx
        if self.marks is not None:  # as parallelism 1's assigner: every partition active from the start
            self.last_active = [time.monotonic()] * len(self.marks.splits)
        ctx.register(SUBTASKS, RegionState(self))
        if self.host is None:
            from sqlstream.runtime.parallel.hosts import LocalProcessHost
            self.host = LocalProcessHost()
        self.in_flight: deque[list[int]] = deque()  # per unanswered message, the subtasks it went to
        self.inboxes: list[queue.Queue] = []
        self.pending: list[deque] = [deque() for _ in range(self.parallelism)]  # answers `collect` looked at
        fork = self.region.fork
        keys = self.region.keys[0] if self.region.specs and self.region.source and fork is None else None
        from sqlstream.core.udf import loaded_functions
        functions = loaded_functions()
        units = [SubtaskUnit(self.region.specs, self.config, i, self.parallelism, self.region.source, keys,
                             self.region.sink, self.job, self.returns, fork, functions)
                 for i in range(self.parallelism)]
        # a divided source's rows go from the subtask reading them to the one owning them, where the host can
        # connect its subtasks; else through this process
        self.direct = (keys is not None or fork is not None) and hasattr(self.host, "start_connected")
        # the subtasks send each other their pieces' summaries with the rows: a round is merged without them from
        # here (a partitioned source's summaries are ordered and counted per partition here)
        self.early = self.direct and self.region.source.kind != "splits"
        # the source's chain ends at a sink the subtasks write: a round's rows are written as it is read, ahead of
        # its merge, so a checkpoint's position merges every round read (else a restore would read them again)
        self.writes_at_read = self.region.source is not None and self.region.sink is not None and keys is None \
            and fork is None
        if fork is not None and not self.direct:
            raise ExecutionError(f"{self.region.describe()}: a source read through several branches needs pipes "
                                 f"between the subtasks, which this host does not make")
        started = self.host.start_connected(units) if self.direct else [self.host.start(u) for u in units]
        for i, (channel, handle) in enumerate(started):
            self.channels.append(channel)
            self.handles.append(handle)
            inbox: queue.Queue = queue.Queue()
            # answers are read as they come, so a subtask never blocks writing output while we write its input
            threading.Thread(target=receive_all, args=(channel, inbox), daemon=True,
                             name=f"sqlstream-subtask-{i}-answers").start()
            self.inboxes.append(inbox)

    # ---- data ---------------------------------------------------------------------------------------------
    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        keys = self.region.keys[input]
        n = batch.num_rows
        owner = subtask_of_groups(key_groups([batch.column(1 + k) for k in keys], n, self.max_parallelism),
                                  self.parallelism, self.max_parallelism)
        order = np.argsort(owner, kind="stable")
        counts = np.bincount(owner, minlength=self.parallelism)
        routed = batch.take(pa.array(order)) if np.any(order != np.arange(n)) else batch
        marks = list(self.ctx.input_watermarks)
        sent, start = [], 0
        for i, count in enumerate(counts):
            if count:
                self._send(i, lambda c: c.send_batch((input, marks), routed.slice(start, int(count))))
                sent.append(i)
            start += int(count)
        return self._sent(sent)

    def on_watermark(self, wm: int) -> list[pa.RecordBatch]:
        if self.returns:
            if self.sent_wm is not None and wm <= self.sent_wm:
                return []
            self.sent_wm = wm
        marks = list(self.ctx.input_watermarks)
        for i in range(self.parallelism):
            self._send(i, lambda c: c.send_marker(WATERMARK, marks))
        return self._sent(list(range(self.parallelism)))

    def close(self) -> list[pa.RecordBatch]:
        for i in range(self.parallelism):
            self._send(i, lambda c: c.send_marker(CLOSE))
        self.ready += self._sent(list(range(self.parallelism)))
        return [] if self.returns else self.drain()

    def drain(self) -> list:
        """The output of every message sent so far (the dataflow pushes it on); of a returning region, with
        the watermark advances (ints) between its rows."""
        while self.in_flight:
            self.ready += self._front()
        while self.rounds and self.rounds[0][0] < self.gathered:  # merged in the subtasks: merged here too, so a
            self.settled += self._merge_round(self._cursor())  # checkpoint's position and watermark are theirs
        out, self.ready = self.ready, []
        return out

    def collect(self) -> list:
        """As `drain`, but only the messages every subtask has answered already: the output waiting in the pipes
        while the source has rows, without waiting for the rounds asked ahead (draining them all left the
        subtasks without a round to read from the last answer until this process asked again)."""
        while self.in_flight and self._answered(self.in_flight[0]):
            self.ready += self._front()
        out, self.ready = self.ready, []
        return out

    def _answered(self, entry) -> bool:
        """Whether each subtask a message went to has answered it (its answer's end is in `pending`)."""
        for i in entry.subtasks if isinstance(entry, _Round) else entry:
            pending = self.pending[i]
            while all(msg[0] == BATCH for msg in pending):
                try:
                    pending.append(self.inboxes[i].get_nowait())
                except queue.Empty:
                    return False
        return True

    def _next(self, i: int) -> tuple:
        """Subtask i's next message (those `collect` looked at first)."""
        return self.pending[i].popleft() if self.pending[i] else self.inboxes[i].get()

    @property
    def draining(self) -> bool:
        return bool(self.in_flight or self.ready)

    # ---- a source divided among the subtasks ----------------------------------------------------------------
    def run_round(self) -> int | None:
        """Merge the next round of the divided source into the region (the subtasks read the following rounds
        meanwhile): the rows it read, None once the source has ended."""
        cursor = self._cursor()
        self._ask_rounds(cursor)
        settled, self.settled = self.settled, 0
        if not self.rounds:
            if settled:
                return settled
            return 0 if getattr(cursor, "unbounded", False) else None  # an unbounded source waits for more
        return settled + self._merge_round(cursor)

    def _ask_rounds(self, cursor) -> None:
        """Ask the subtasks for the rounds up to ROUNDS_AHEAD ahead of the merge."""
        everyone = list(range(self.parallelism))
        while len(self.rounds) < self.rounds_ahead:
            request = cursor.next_round()
            if request is None:
                break
            number = self.asked
            for i in everyone:
                self._send(i, lambda c: c.send_marker(ROUND, request, number) if self.direct
                           else c.send_marker(ROUND, request))
            self.in_flight.append(_Round(self.asked, everyone))
            self.rounds.append((self.asked, request))
            self.asked += 1
        if self.early:
            self._gather(self.asked - 1 - GATHER_LAG)

    def _gather(self, last: int) -> None:
        """Ask the subtasks to merge the rounds up to `last` (they have the pieces' summaries). The source's
        watermark sent with them is this process's, which has merged fewer rounds or as many: only a restored
        one ahead of the subtasks' (from a checkpoint at another parallelism) moves theirs."""
        everyone = list(range(self.parallelism))
        before = self.marks.current if self.marks is not None else None
        for number in range(self.gathered, last + 1):
            for d in everyone:
                self._send(d, lambda c: c.send_marker(GATHER, number, None, before))
            self.ready += self._sent(everyone)
            self.gathered = number + 1

    def _merge_round(self, cursor) -> int:
        """Merge the oldest round asked for (waiting for the subtasks' answers): the rows it read."""
        everyone = list(range(self.parallelism))
        number, request = self.rounds.popleft()
        if self.early:  # the subtasks merge it while this process waits for what they read
            self._gather(number)
        while number not in self.reads:
            self.ready += self._front()
        pieces = self.reads.pop(number)
        splits = request[0] == "splits"
        if splits:
            pieces = _by_split(pieces)
        rows = cursor.merged_round(request, [reply for _, reply in pieces])
        before = self.marks.current if self.marks is not None else None
        if splits:
            before = (before, list(self.marks.splits), self._idle([reply for _, reply in pieces])) \
                if self.marks is not None else (None, [], [])
        if self.region.fork is not None:
            self.returned += self._returned(pieces)
        elif self.marks is not None:
            for _, reply in pieces:
                if reply["rows"]:
                    self.marks.add_part(reply.get("split", 0), reply["max"])
        if not self.region.specs:  # the source's chain ends at the sink: its rows in logical order
            self.ready += [b for tagged, _ in pieces for _, b in tagged]
            return rows
        if self.direct:  # the rows went between the subtasks: each merges what it received (asked above, or
            if not self.early:  # here with the partitions' summaries: (rows sent to d, maximum, rows, partition))
                for d in everyone:
                    summaries = [(reply["to"][d], reply["max"], reply["rows"], reply["split"]) for _, reply in pieces]
                    self._send(d, lambda c: c.send_marker(GATHER, number, summaries, before))
                self.ready += self._sent(everyone)
            return rows
        for d in everyone:
            mine = [next((b for tag, b in tagged if tag == d), None) for tagged, _ in pieces]
            parts = [(0 if b is None else b.num_rows, reply["max"], reply["rows"]) + ((reply["split"],) if splits else ())
                     for b, (_, reply) in zip(mine, pieces)]
            here = [b for b in mine if b is not None]
            if here:
                batch = here[0] if len(here) == 1 else pa.concat_batches(here)
                self._send(d, lambda c: c.send_batch((MERGE, parts, before), batch))
            else:
                self._send(d, lambda c: c.send_marker(MERGE, parts, before))
        self.ready += self._sent(everyone)
        return rows

    def _returned(self, pieces: list[tuple[list, dict]]) -> list:
        """A forked source's round for the window aggregations in this process, piece by piece in logical order:
        each piece's partials with the watermark in force before their first rows (as the subtasks give a piece's
        rows), then the source's watermark after the piece."""
        targets = [target.uid for _, target in self.region.fork.returned]
        out: list = []
        for tagged, reply in pieces:
            for j, partials in tagged:
                wm = self.marks.row_watermarks(0, row_watermarks(partials))
                out.append((targets[j], pa.RecordBatch.from_arrays(
                    partials.columns[:-1] + [pa.array(wm, pa.int64())], names=partials.schema.names)))
            if reply["rows"]:
                self.marks.add_part(0, reply["max"])
                out.append(self.marks.current)
        return out

    def take_returned(self) -> list:
        """What `_returned` gave since the last call."""
        out, self.returned = self.returned, []
        return out

    def _idle(self, replies: list[dict]) -> list[bool]:
        """The partitions idle before this round ('scan.watermark.idle-timeout' or table.exec.source.idle-timeout
        of processing time without rows, as parallelism 1's assigner decides), after which the watermark is the
        minimum over the others."""
        marks, now = self.marks, time.monotonic()
        for r in replies:
            if r["rows"] and r["split"] < len(self.last_active):
                self.last_active[r["split"]] = now
        if self.idle_timeout_ms > 0:
            newly = sorted((t, i) for i, t in enumerate(self.last_active)
                           if not marks.idle[i] and (now - t) * 1000 >= self.idle_timeout_ms)
            for _, i in newly:  # oldest first: each partition going idle lets the others' watermark through
                marks.idle[i] = True
                if not all(marks.idle):
                    marks.current = max(marks.current, marks.combined())
        return list(marks.idle)

    def positions(self) -> list:
        """The divided source's position for a checkpoint, as parallelism 1's readers give it (one per split)."""
        if self.writes_at_read:  # the rounds asked ahead are in the sink already (read by the drain before)
            while self.rounds:
                self.settled += self._merge_round(self._cursor())
        position = self._cursor().position()
        return position if self.region.source.kind == "splits" else [position]

    def restore_positions(self, positions: list) -> None:
        self.restore_position(positions if self.region.source.kind == "splits" else positions[0])

    def position(self):
        """The divided source's position as parallelism 1's reader gives it (what was merged so far)."""
        return self._cursor().position()

    def restore_position(self, position) -> None:
        self._cursor().restore(position)
        self.settled = 0
        self.gathered = self.asked
        self.rounds.clear()
        self.reads.clear()
        self.returned.clear()

    def _cursor(self):
        if self.cursor is None:
            from sqlstream.runtime.parallel.rounds import FileRounds, RowRounds, SplitRounds
            source = self.region.source
            if source.kind == "splits":
                self.cursor = SplitRounds(source.splits, self.round_rows)
            elif source.kind == "bytes":
                from sqlstream.runtime.executor import open_source
                files = open_source(source.scan.node)
                if getattr(files, "monitor_ms", None) is not None:
                    from sqlstream.runtime.parallel.monitored_rounds import MonitoredFileRounds
                    self.cursor = MonitoredFileRounds(files.files, files.monitor_ms, self.round_rows, self.parallelism)
                else:
                    self.cursor = FileRounds(files.files(), self.round_rows, self.parallelism)
            else:
                self.cursor = RowRounds(self.round_rows, self.limit, self.parallelism)
        return self.cursor

    def metrics(self) -> dict:
        return {"late_records_dropped": self.metric("late_records_dropped"), "state_bytes": self.metric("state_bytes")}

    def metric(self, name: str) -> int:
        return sum(m.get(name, 0) for m in self.last_metrics)

    def take_sunk(self) -> int:
        """The rows the subtasks' sink writers wrote since the last call (their answers report running totals)."""
        total = self.metric("sunk")
        new, self.sunk = total - self.sunk, total
        return new

    # ---- control ------------------------------------------------------------------------------------------
    def request(self, kind: str, per_subtask: list | None = None) -> list:
        """Send a control marker to every subtask (with its own payload) and return their replies in order."""
        if self.in_flight:
            raise ExecutionError(f"{self.region.describe()}: a {kind} request while subtask output is unanswered "
                                 f"(the dataflow drains it first)")
        everyone = list(range(self.parallelism))
        for i in everyone:
            args = () if per_subtask is None else (per_subtask[i],)
            self._send(i, lambda c: c.send_marker(kind, *args))
        return self._answer(everyone)[1]

    def shutdown(self) -> None:
        """Stop the subtasks' processes (the dataflow is closing). A subtask that closed its end of the channel
        after STOP has done all it does (its sink's cleanup included); where the host can let such a process end
        on its own (`release`: a local worker's exit, freeing its memory, took 20-70 ms more), the job does not
        wait for it."""
        for c in self.channels:
            try:
                c.send_marker(STOP)
            except (OSError, ValueError):
                pass
        release = getattr(self.host, "release", None)
        deadline = time.monotonic() + STOP_GRACE_S
        for c, h, inbox, pending in zip(self.channels, self.handles, self.inboxes, self.pending):
            if release is not None and (any(m is ENDED for m in pending) or _ended(inbox, deadline)):
                release(h)
            else:
                self.host.stop(h)
            c.close()
        self.channels, self.handles = [], []

    def _send(self, i: int, send) -> None:
        try:
            send(self.channels[i])
        except (OSError, ValueError, EOFError):
            raise self._lost(i) from None

    def _sent(self, subtasks: list[int]) -> list[pa.RecordBatch]:
        """Note a message as in flight; answer the oldest ones beyond MAX_IN_FLIGHT."""
        if subtasks:
            self.in_flight.append(subtasks)
        out: list[pa.RecordBatch] = []
        while len(self.in_flight) > self.most_in_flight:
            out += self._front()
        if self.returns:  # handed on only by `drain`, with the watermark advances between
            self.ready += out
            return []
        return out

    def _front(self) -> list[pa.RecordBatch]:
        """Answer the oldest message in flight: its output, or (a round read) keep what the subtasks read."""
        entry = self.in_flight.popleft()
        if isinstance(entry, _Round):
            self.reads[entry.number] = self._read(entry.subtasks)
            return []
        out, replies, tagged = self._answer(entry)
        return _in_steps(tagged, replies, self.region.describe()) if self.returns else out

    def _read(self, subtasks) -> list[tuple[list, dict]]:
        """Each subtask's answer to a round: its rows tagged with the subtask they go to, and its summary."""
        pieces = []
        for i in subtasks:
            tagged = []
            while True:
                msg = self._next(i)
                if msg[0] == BATCH:
                    tagged.append((msg[1], msg[2]))
                elif msg[0] == DONE:
                    self.last_metrics[i] = msg[1]
                    pieces.append((tagged, msg[2]))
                    break
                elif msg[0] == FAILED:
                    raise self._failed(msg[1])
                else:
                    raise self._lost(i)
        return pieces

    def _answer(self, subtasks) -> tuple[list[pa.RecordBatch], list, list[list[tuple]]]:
        """The answers of the subtasks to one message, in subtask order: their rows, their replies, and per
        subtask its rows with their tags."""
        out: list[pa.RecordBatch] = []
        replies, tagged = [], []
        for i in subtasks:
            tagged.append([])
            while True:
                msg = self._next(i)
                if msg[0] == BATCH:
                    out.append(msg[2])
                    tagged[-1].append((msg[1], msg[2]))
                elif msg[0] == DONE:
                    self.last_metrics[i] = msg[1]
                    replies.append(msg[2])
                    break
                elif msg[0] == FAILED:
                    raise self._failed(msg[1])
                else:
                    raise self._lost(i)
        return out, replies, tagged

    def _failed(self, error: BaseException) -> BaseException:
        """A subtask's failure; where it lost the pipe from another subtask, that subtask's end."""
        from sqlstream.runtime.parallel.peers import PeerLost
        return self._lost(error.peer) if isinstance(error, PeerLost) else error

    def _lost(self, i: int) -> SubtaskFailed:
        why = self.host.describe_end(self.handles[i])
        return SubtaskFailed(f"subtask {i + 1}/{self.parallelism} of {self.region.describe()} failed: its worker "
                             f"process {why}")


def _in_steps(tagged: list[list[tuple]], replies: list, region: str) -> list:
    """A returning region's answers to one message in parallelism 1's steps: the rows every subtask produced
    before its first watermark advance (subtask after subtask), the advance, the rows up to the next, ... Every
    subtask advances through the same watermarks (they follow the source's, which all of them get)."""
    advances = replies[0] or []
    if any((r or []) != advances for r in replies):
        raise ExecutionError(f"{region}: subtasks advanced their watermarks differently ({replies})")
    out: list = []
    for step in range(len(advances) + 1):
        for rows in tagged:
            out += [b for tag, b in rows if tag == step]
        if step < len(advances):
            out.append(advances[step])
    return out


def _by_split(pieces: list[tuple[list, dict]]) -> list[tuple[list, dict]]:
    """The subtasks' answers to a partitioned source's round as one piece per partition, in partition order (the
    order parallelism 1 reads them in a step), each with its rows tagged by destination subtask."""
    out = []
    for tagged, reply in pieces:
        for summary in reply["splits"]:
            out.append(([(d, b) for (d, split), b in tagged if split == summary["split"]], summary))
    return sorted(out, key=lambda piece: piece[1]["split"])


def _ended(inbox: queue.Queue, deadline: float) -> bool:
    """Whether the subtask's end of its channel closed (ENDED after whatever answers were left) by `deadline`."""
    while True:
        try:
            if inbox.get(timeout=max(0.0, deadline - time.monotonic())) is ENDED:
                return True
        except queue.Empty:
            return False
