"""One subtask of a region, as a worker process runs it: the region's operators over the rows of its key groups.

A `SubtaskUnit` is everything a host needs to run a subtask (picklable: the region's specs, the job's
configuration, the subtask's index), so a local worker process and a Ray actor can run the same unit. The subtask
answers every message of its channel with the output it produced and a `done` marker; it applies watermarks
exactly as the job's dataflow does (each operator's input watermarks, event-time timers, then `on_watermark`).
"""
from __future__ import annotations

import json
import queue
import threading
import time
from dataclasses import dataclass

import pyarrow as pa

from sqlstream.plan.physical import OperatorSpec
from sqlstream.core.changelog import has_wm, row_watermarks
from sqlstream.runtime.event_time import MIN_WM
from sqlstream.runtime.key_groups import group_range, max_parallelism_of
from sqlstream.runtime.operator import EVENT_TIME, PROCESSING_TIME, Operator, OperatorContext, fire_timers
from sqlstream.runtime.operators import registry as operators
from sqlstream.runtime.parallel.channel import BATCH, ENDED, receive_all
from sqlstream.runtime.split_watermarks import SplitWatermarks
from sqlstream.runtime.state import StateBackend, state_backend_class
from sqlstream.runtime.subtask_state import WATERMARKS, load, restore_operator, write_part

WATERMARK, CLOSE, SNAPSHOT, RESTORE, STOP, DONE, FAILED, ROUND, MERGE, GATHER = (
    "watermark", "close", "snapshot", "restore", "stop", "done", "failed", "round", "merge", "gather")
PREPARE, COMMIT, CLOSE_SINK = "prepare", "commit", "close-sink"  # the two phases of a sink the subtask writes
STEPPED = (BATCH, MERGE, GATHER, WATERMARK, CLOSE)  # messages whose answer, going back to the job's dataflow,
# lists the watermark advances between its rows
STATE_SIZE_S = 1.0  # how often a subtask measures its state's size for the metrics


@dataclass
class SubtaskUnit:
    """What a host needs to run subtask `index` of `parallelism` of a region (head spec first)."""

    specs: list[OperatorSpec]
    config: dict
    index: int
    parallelism: int
    source: object = None  # a regions.SourceChain: the subtask reads its share of that source's rounds
    keys: tuple[int, ...] | None = None  # the exchange's hash keys on the source chain's rows
    sink: OperatorSpec | None = None  # the sink this subtask writes its output to (else it goes to the job)
    job: str = "job"  # the job's fingerprint, which names a sink writer's files and transactions
    returns: bool = False  # the output goes back to the job's dataflow with the watermark advances between it
    fork: object = None  # a regions.Fork: the source's rows reach the head through several branches
    functions: tuple = ()  # the Python functions the job's process imported (udf.loaded_functions), to import here

    def modules(self) -> list[str]:
        """The modules the subtask's operators and source live in (a worker's host may import them ahead)."""
        specs = list(self.specs) + (list(self.source.specs) if self.source is not None else [])
        if self.fork is not None:
            specs += self.fork.specs + [target for _, target in self.fork.returned]
        found = [operators.operator_module(s.name) for s in specs]
        if self.fork is not None:
            found.append("sqlstream.runtime.parallel.forks")
        if self.source is not None:
            found += [self.source.module, "sqlstream.runtime.parallel.source_share", "sqlstream.runtime.executor",
                      "sqlstream.runtime.parallel.peers", *getattr(self.source, "reader_modules", ())]
        if self.sink is not None:
            found += ["sqlstream.runtime.parallel.subtask_sink", "sqlstream.runtime.executor"]
        return list(dict.fromkeys(found))


class RegionSubtask:
    """The region's operators in one process: a chain from the head (several inputs) to the last operator."""

    def __init__(self, unit: SubtaskUnit, peers: dict | None = None) -> None:
        """peers: channels to the other subtasks (index -> channel), where a round's rows go directly between
        subtasks instead of through the job's process."""
        self.unit = unit
        self.exchange = None
        if peers is not None and (unit.keys is not None or unit.fork is not None):
            from sqlstream.runtime.parallel.peers import PeerExchange
            self.exchange = PeerExchange(unit.index, unit.parallelism, peers)
        self.ops: list[Operator] = []
        self.contexts: list[OperatorContext] = []
        self.backends: list[StateBackend] = []
        backend_class = state_backend_class(unit.config)
        for spec in unit.specs:
            op = operators.build(spec)
            max_p = max_parallelism_of(unit.config)
            backend = backend_class(spec.uid, group_range(unit.index, unit.parallelism, max_p), max_p)
            ctx = OperatorContext(backend, unit.config, n_inputs=len(spec.inputs), uid=spec.uid)
            op.open(ctx)
            self.ops.append(op)
            self.contexts.append(ctx)
            self.backends.append(backend)
        self.out_wm = [MIN_WM] * len(self.ops)
        self.sized_at, self.state_bytes = -STATE_SIZE_S, 0
        self.share = None
        self.local = None  # the head's local phase, run on a piece before the exchange (`two_phase`)
        if unit.source is not None:
            from sqlstream.runtime.parallel.source_share import SourceShare
            self.share = SourceShare(unit.source, unit.config, unit.index, unit.parallelism)
            self.local = two_phase(self.ops[0] if self.ops else None, unit)
        self.marks = SplitWatermarks()  # the divided source's watermark, as parallelism 1's assigner has it
        self.emitted = MIN_WM
        self.fork = None  # the branches of a source several operators read (`forks.py`)
        self.job_marks = [MIN_WM] * (len(unit.specs[0].inputs) if unit.specs else 1)  # as the job's process sent
        if unit.fork is not None:
            from sqlstream.runtime.parallel.forks import ForkBranches
            self.fork = ForkBranches(unit.fork, unit.config, unit.parallelism, max_parallelism_of(unit.config),
                                     row_watermarks=self.ops[0].reads_row_watermarks)
        self.sink = None
        if unit.sink is not None:
            from sqlstream.runtime.parallel.subtask_sink import SubtaskSink
            self.sink = SubtaskSink(unit.sink, unit.config, unit.job, unit.index, unit.parallelism)

    def read_round(self, request: tuple, number: int | None = None) -> tuple[list, dict]:
        """This subtask's piece of a round: the rows for each downstream subtask (or, without an exchange, the
        rows for the sink), and what the merge needs of the piece. With pipes to the other subtasks (rows of a
        row or byte range), the rows go to them directly (round `number`) and none come back."""
        if request[0] == "splits":
            return self._read_splits(request, number)
        batches, summary = self.share.read(request)
        if self.fork is not None:  # rows for the head go to their subtasks, the others' partials to the job
            routed, partials = self.fork.split(batches)
            self.exchange.send(number, routed, (summary["max"], summary["rows"]))
            return partials, summary
        if self.sink is not None and self.unit.keys is None:  # the chain ends at the sink, written here
            self.sink.write(batches)
            return [], summary
        if self.exchange is not None and number is not None:
            self.exchange.send(number, self._routed(batches), (summary["max"], summary["rows"]))
            return [], summary
        return self._route(batches), summary

    def _read_splits(self, request: tuple, number: int | None) -> tuple[list, dict]:
        """A partitioned source's round: per partition its rows tagged (destination, partition) and its summary;
        with pipes to the other subtasks, each gets one batch of its rows, partition after partition, and the
        summaries say how many rows of each partition went to each subtask ("to")."""
        read = self.share.read_splits(request)
        if self.sink is not None and self.unit.keys is None:  # the chain ends at the sink, written here
            for _, batches, _ in read:
                self.sink.write(batches)
            return [], {"splits": [summary for _, _, summary in read]}
        if self.exchange is None or number is None:
            tagged = [((d, split), b) for split, batches, _ in read for d, b in self._route(batches)]
            return tagged, {"splits": [summary for _, _, summary in read]}
        per_split = [self._routed(batches) for _, batches, _ in read]
        for routed, (_, _, summary) in zip(per_split, read):
            summary["to"] = [0 if b is None else b.num_rows for b in routed]
        outgoing = []
        for d in range(self.unit.parallelism):
            here = [routed[d] for routed in per_split if routed[d] is not None]
            outgoing.append(None if not here else here[0] if len(here) == 1 else pa.concat_batches(here))
        self.exchange.send(number, outgoing, None)
        return [], {"splits": [summary for _, _, summary in read]}

    def _route(self, batches: list[pa.RecordBatch]) -> list[tuple]:
        """The rows for each downstream subtask (None: without an exchange, for the sink)."""
        if self.unit.keys is None:
            return [(None, b) for b in batches]
        return [(d, b) for d, b in enumerate(self._routed(batches)) if b is not None]

    def _routed(self, batches: list[pa.RecordBatch]) -> list[pa.RecordBatch | None]:
        """Per downstream subtask, the rows of its key groups (None: none); of a two-phase head, the piece's
        partial aggregates, keys first."""
        from sqlstream.runtime.parallel.source_share import route
        keys = self.unit.keys
        if self.local is not None:
            partials = self.local(batches)
            batches, keys = ([] if partials is None else [partials]), tuple(range(len(keys)))
        return route(batches, keys, self.unit.parallelism, max_parallelism_of(self.unit.config))

    def gather(self, number: int, summaries: list[tuple] | None, before) -> list[pa.RecordBatch]:
        """Merge round `number` from the pieces the source subtasks sent here directly, with each piece's maximum
        and rows read in logical order: as its sender gave them with its rows (`summaries` None), or, of a
        partitioned source, per partition as the job's process ordered them."""
        if self.fork is not None:
            pieces = self.exchange.take(number, len(self.fork.inputs))
            return self._merge_fork(self.exchange.summaries_of(number), before, pieces)
        mine = self.exchange.take(number)
        sent = self.exchange.summaries_of(number)
        if summaries is None:
            summaries = sent
        elif summaries and len(summaries[0]) == 4:  # a partitioned source: (rows here, maximum, rows, partition)
            return self.merge(summaries, before, self._by_partition(mine, summaries))
        parts = [(0 if b is None else b.num_rows, part_max, rows) for b, (part_max, rows) in zip(mine, summaries)]
        here = [b for b in mine if b is not None]
        batch = None if not here else here[0] if len(here) == 1 else pa.concat_batches(here)
        return self.merge(parts, before, batch)

    def _by_partition(self, mine: list, parts: list[tuple]) -> pa.RecordBatch | None:
        """The rows the source subtasks sent here (one batch each, their partitions in order) in partition order:
        partition i came from subtask i % parallelism."""
        taken = [0] * len(mine)
        slices = []
        for here, _, _, split in parts:
            j = split % self.unit.parallelism
            if here:
                slices.append(mine[j].slice(taken[j], here))
                taken[j] += here
        return None if not slices else slices[0] if len(slices) == 1 else pa.concat_batches(slices)

    def merge(self, parts: list[tuple], before, batch: pa.RecordBatch | None) -> list[pa.RecordBatch]:
        """A round's rows for this subtask, (rows here, piece maximum, piece rows) per piece in logical order:
        each row's watermark as parallelism 1 gives it, and the watermark's advance after the round. `before`: the
        source's watermark before the round, as the job's process has it (restored, it may come from a checkpoint
        taken at another parallelism; a restored watermark is in force without being advanced to, as at
        parallelism 1).

        A partitioned source's pieces are its partitions ((rows here, maximum, rows, partition) each), and
        `before` is (watermark, per-partition watermarks, idle partitions) before the round: each piece is pushed
        as its own batch and the watermark advanced after it, as parallelism 1 pushes a partition's poll."""
        per_split = isinstance(before, (list, tuple))
        if per_split:
            before, splits, idle = before
            if splits:
                self.marks.set_splits(len(splits))
                self.marks.splits[:], self.marks.idle[:] = splits, idle
        if before is not None and before > self.marks.current:
            self.marks.current = before
            self.emitted = max(self.emitted, before)
        if per_split:
            if self.marks.splits and not all(self.marks.idle):  # idle partitions let the others' watermark on
                self.marks.current = max(self.marks.current, self.marks.combined())
            return self._merge_splits(parts, batch)
        return self._merge_batches(parts, batch)

    def _merge_fork(self, summaries: list[tuple[int, int]], before: int | None, pieces: list[list]) -> list:
        """A round of a source read through several branches: per piece in logical order, the rows of each head
        input fed by the source (input after input) with parallelism 1's watermarks, then the watermark's advance
        after the piece."""
        self.merge([], before, None)  # the watermark before the round
        out: list = []
        inputs = sorted(self.unit.fork.inputs)
        for (part_max, rows), got in zip(summaries, pieces):
            for input, piece in zip(inputs, got):
                if piece is not None and piece.num_rows:
                    out += self.on_batch(input, self._in_force(0, piece), self.job_marks)
            if rows:
                self.marks.add_part(0, part_max)
                out += self._advance()
        return out

    def _in_force(self, split: int, piece: pa.RecordBatch) -> pa.RecordBatch:
        """A piece's rows with the watermark in force before each (their `_wm` was the candidate within the
        piece)."""
        if not has_wm(piece):
            return piece
        wm = self.marks.row_watermarks(split, row_watermarks(piece))
        return pa.RecordBatch.from_arrays(piece.columns[:-1] + [pa.array(wm, pa.int64())], names=piece.schema.names)

    def _merge_batches(self, parts: list[tuple], batch: pa.RecordBatch | None) -> list[pa.RecordBatch]:
        """A round of a row-indexed source or of files: each piece is one of parallelism 1's batches, pushed as its
        own batch with the watermark advanced after it, as parallelism 1 does."""
        out: list[pa.RecordBatch] = []
        marked = batch is not None and has_wm(batch)
        offset = 0
        for here, part_max, rows in parts:
            if here:
                piece = batch.slice(offset, here)
                if marked:
                    wm = self.marks.row_watermarks(0, row_watermarks(piece))
                    piece = pa.RecordBatch.from_arrays(piece.columns[:-1] + [pa.array(wm, pa.int64())],
                                                       names=piece.schema.names)
                out += self.on_batch(0, piece, [self.emitted])
            offset += here
            if rows:
                self.marks.add_part(0, part_max)
                out += self._advance()
        return out

    def _merge_splits(self, parts: list[tuple], batch: pa.RecordBatch | None) -> list[pa.RecordBatch]:
        out = self._advance()
        marked = batch is not None and has_wm(batch)
        offset = 0
        for here, part_max, rows, split in parts:
            if here:
                piece = batch.slice(offset, here)
                if marked:
                    wm = self.marks.row_watermarks(split, row_watermarks(piece))
                    piece = pa.RecordBatch.from_arrays(piece.columns[:-1] + [pa.array(wm, pa.int64())],
                                                       names=piece.schema.names)
                out += self.on_batch(0, piece, [self.emitted])
            offset += here
            if rows:
                self.marks.add_part(split, part_max)
                out += self._advance()
        return out

    def _advance(self) -> list:
        """The source's watermark moved past what the operators were given: advance them to it. Output going
        back to the job's dataflow (`returns`) ends with the watermark itself, after the rows it fired."""
        if self.marks.current > self.emitted:
            self.emitted = self.marks.current
            marks = self.job_marks if self.fork is not None else [self.emitted]
            return self.on_watermark(marks) + ([self.emitted] if self.unit.returns else [])
        return []

    def _with_source(self, input_watermarks: list[int]) -> list[int]:
        """A head's input watermarks: of the inputs a forked source feeds, the source's as merged here (the job's
        process sends its own view with its rows and advances for the other inputs)."""
        if self.fork is None:
            return input_watermarks
        self.job_marks = list(input_watermarks)
        return [self.emitted if i in self.unit.fork.inputs else wm for i, wm in enumerate(input_watermarks)]

    def on_batch(self, input: int, batch: pa.RecordBatch, input_watermarks: list[int]) -> list[pa.RecordBatch]:
        self.contexts[0].input_watermarks[:] = self._with_source(input_watermarks)
        out: list[pa.RecordBatch] = []
        self._push(0, [batch], input, out)
        return out

    def on_watermark(self, input_watermarks: list[int]) -> list[pa.RecordBatch]:
        """The head's input watermarks moved: fire what their minimum completes, operator by operator."""
        if not self.ops:
            return []
        input_watermarks = self._with_source(input_watermarks)
        self.contexts[0].input_watermarks[:] = input_watermarks
        wm = min(input_watermarks)
        out: list[pa.RecordBatch] = []
        for i, (op, ctx) in enumerate(zip(self.ops, self.contexts)):
            if i:
                ctx.input_watermarks[:] = [wm]
            if wm <= self.out_wm[i]:
                break
            self.out_wm[i] = wm
            fired = fire_timers(op, ctx, EVENT_TIME, wm) + op.on_watermark(wm)
            self._emit(i, fired, out)
        return out

    def on_processing_time(self) -> list[pa.RecordBatch]:
        now = int(time.time() * 1000)
        out: list[pa.RecordBatch] = []
        for i, (op, ctx) in enumerate(zip(self.ops, self.contexts)):
            self._emit(i, fire_timers(op, ctx, PROCESSING_TIME, now), out)
        return out

    def close(self) -> list[pa.RecordBatch]:
        out: list[pa.RecordBatch] = []
        for i, op in enumerate(self.ops):
            self._emit(i, op.close(), out)
        return out

    def output(self, batches: list, channel) -> list[int]:
        """The output of a message: to this subtask's sink writer, else back to the job's process. Output going
        back to the job's dataflow holds the watermarks the operators were advanced to, each after the rows it
        fired: each batch goes tagged with the number of advances before it, and the advances are returned."""
        if self.sink is not None:
            self.sink.write(batches)
            return []
        advances: list[int] = []
        for b in batches:
            if isinstance(b, int):
                advances.append(b)
            else:
                channel.send_batch(len(advances) if self.unit.returns else None, b)
        return advances

    def snapshot(self) -> dict[str, dict[str, bytes]]:
        """Each operator's state tables, and the watermarks as this subtask's operators last saw them."""
        marks = json.dumps({"out": self.out_wm, "in": [list(c.input_watermarks) for c in self.contexts],
                            "source": [self.marks.current, self.emitted]})
        return {WATERMARKS: {"watermarks": marks.encode()},
                **{spec.uid: b.snapshot() for spec, b in zip(self.unit.specs, self.backends)}}

    def restore(self, parts: list[dict[str, dict[str, bytes]]], groups: range | None, taken: int) -> None:
        """Restore from this subtask's own part (`groups` None) or, at another parallelism than the checkpoint's
        (`taken`), from the parts of the old subtasks overlapping its key groups, keeping the keys of `groups`.
        Parts the subtasks wrote are read here, from the checkpoint's folder."""
        parts = [load(part) for part in parts]
        for spec, backend in zip(self.unit.specs, self.backends):
            tables = [part[spec.uid] for part in parts if spec.uid in part]
            if tables:
                restore_operator(backend, tables, groups, taken, self.unit.parallelism)
        # watermarks go to every subtask alike, so any part's are this subtask's
        marks = json.loads(parts[0][WATERMARKS]["watermarks"])
        self.out_wm = list(marks["out"])
        for ctx, ins in zip(self.contexts, marks["in"]):
            ctx.input_watermarks[:] = ins
        self.marks.current, self.emitted = marks.get("source", [MIN_WM, MIN_WM])
        if self.ops:
            self.job_marks = list(self.contexts[0].input_watermarks)

    def metrics(self) -> dict:
        # the operators' own counters: their metrics() also measure their state, which walks its tables
        late = sum(getattr(op, "late_dropped", 0) for op in self.ops)
        late += sum(ctx.metrics.values().get("numLateRecordsDropped", 0) for ctx in self.contexts)
        now = time.monotonic()
        if now - self.sized_at >= STATE_SIZE_S:  # measuring state walks its tables: not with every message
            self.sized_at, self.state_bytes = now, sum(b.size_bytes() for b in self.backends)
        return {"late_records_dropped": late, "state_bytes": self.state_bytes,
                "sunk": self.sink.rows if self.sink is not None else 0,
                "records_skipped": self.share.skipped() if self.share is not None else 0}

    def _push(self, i: int, batches: list[pa.RecordBatch], input: int, out: list[pa.RecordBatch]) -> None:
        if not self.ops:  # only a source's chain: its rows go to the sink
            out.extend(b for b in batches if b.num_rows)
            return
        op = self.ops[i]
        for b in batches:
            if b.num_rows:
                self._emit(i, op.on_batch(b, input), out)

    def _emit(self, i: int, batches: list[pa.RecordBatch], out: list[pa.RecordBatch]) -> None:
        if i + 1 < len(self.ops):
            self._push(i + 1, batches, 0, out)
        else:
            out.extend(b for b in batches if b.num_rows)


def two_phase(head: Operator | None, unit: SubtaskUnit):
    """The local phase of a head that splits its aggregation in two (Flink's LocalWindowAggregate and
    GlobalWindowAggregate) over a divided source's pieces, the head made its global phase; None where it does not
    split ('table.optimizer.agg-phase-strategy' ONE_PHASE, an aggregation whose partials do not merge exactly, an
    exchange on other keys than its groups')."""
    strategy = str(unit.config.get("table.optimizer.agg-phase-strategy", "AUTO")).upper()
    if head is None or unit.keys is None or strategy == "ONE_PHASE" or not hasattr(head, "splits_in_two") \
            or tuple(unit.keys) != tuple(head.keys) or not head.splits_in_two():
        return None
    head.become_global()
    return head.local_partials


def serve(unit: SubtaskUnit, channel, peers: dict | None = None) -> None:
    """Run a subtask over a channel until STOP (or the other end goes away): a worker process's whole life.
    peers: channels to the region's other subtasks (index -> channel), where the host connected them."""
    try:
        if unit.functions:
            from sqlstream.core.udf import carry
            carry(unit.functions)
        subtask = RegionSubtask(unit, peers)
    except BaseException as e:  # noqa: BLE001 -- the job's process raises it
        channel.send_marker(FAILED, _portable(e))
        return
    inbox = _receiving(channel, subtask.share) if subtask.share is not None else None
    while True:
        if inbox is None:
            try:
                msg = channel.receive()
            except (EOFError, OSError):
                return
        else:
            msg = inbox.get()
            if msg is ENDED:
                return
        kind = msg[0]
        if kind == STOP:  # a job that ended closed its sink writers first: this only drops what was not committed
            if subtask.sink is not None:
                subtask.sink.cancel()
            return
        try:
            out = subtask.on_processing_time()
            reply = None
            if kind == BATCH and msg[1][0] == MERGE:
                out += subtask.merge(msg[1][1], msg[1][2], msg[2])
            elif kind == MERGE:
                out += subtask.merge(msg[1], msg[2], None)
            elif kind == GATHER:
                out += subtask.gather(*msg[1:])
            elif kind == ROUND:
                tagged, reply = subtask.read_round(*msg[1:])
                for tag, b in tagged:
                    channel.send_batch(tag, b)
            elif kind == BATCH:
                (input, input_watermarks), batch = msg[1], msg[2]
                out += subtask.on_batch(input, batch, input_watermarks)
            elif kind == WATERMARK:
                out += subtask.on_watermark(msg[1])
                if unit.returns:
                    out.append(min(msg[1]))
            elif kind == CLOSE:
                out += subtask.close()
                if subtask.sink is not None:
                    subtask.output(out, channel)
                    out = []
                    subtask.sink.end_input()
            elif kind == SNAPSHOT:
                reply = subtask.snapshot() if len(msg) == 1 else write_part(*msg[1], subtask.snapshot())
            elif kind == RESTORE:
                subtask.restore(*msg[1])
            elif kind == PREPARE:
                reply = subtask.sink.prepare_commit(msg[1])
            elif kind == COMMIT:
                subtask.sink.commit(msg[1])
            elif kind == CLOSE_SINK:
                subtask.sink.close()
            advances = subtask.output(out, channel)
            if unit.returns and kind in STEPPED:
                reply = advances
            channel.send_marker(DONE, subtask.metrics(), reply)
        except BaseException as e:  # noqa: BLE001 -- the job's process raises it and the job fails
            channel.send_marker(FAILED, _portable(e))
            return


def _receiving(channel, share) -> queue.Queue:
    """The job's messages to a source subtask, read as they come by a thread of their own, which starts this
    subtask's piece of a round of files decoding as soon as the round is asked for (`SourceShare.prefetch`): the
    piece decodes while the subtask still merges the rounds before it, where it would otherwise alternate between
    decoding and its operators, using one core at most."""
    inbox: queue.Queue = queue.Queue()

    def prefetch(msg) -> None:
        if msg[0] == ROUND:
            try:
                share.prefetch(msg[1])
            except Exception:  # noqa: BLE001 -- the subtask reads the piece itself and raises it then
                pass

    threading.Thread(target=receive_all, args=(channel, inbox, prefetch), daemon=True,
                     name="sqlstream-subtask-inbox").start()
    return inbox


def _portable(e: BaseException) -> BaseException:
    """The exception itself when it survives pickling, else an ExecutionError with its text."""
    import pickle
    from sqlstream.core.errors import ExecutionError
    try:
        pickle.loads(pickle.dumps(e))
        return e
    except Exception:
        return ExecutionError(f"{type(e).__name__}: {e}")


def worker_main(unit: SubtaskUnit, conn, peer_conns: dict | None = None) -> None:
    """Entry point of a local worker process (forked from the fork server); peer_conns: pipes to the region's
    other subtasks (index -> connection)."""
    import os
    from sqlstream.runtime.parallel.channel import PipeChannel
    from sqlstream.runtime.memory import tune_allocator
    _die_with_parent()
    tune_allocator()
    keep = sorted([conn.fileno()] + [c.fileno() for c in (peer_conns or {}).values()])
    # what the fork copied (the fork server's own descriptors) is not this worker's: holding it would keep them
    # open after the job's process died
    low = 3
    for fd in keep:
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, 1 << 16)
    channel = PipeChannel(conn)
    peers = None if peer_conns is None else {j: PipeChannel(c) for j, c in peer_conns.items()}
    profile_dir = os.environ.get("SQLSTREAM_PROFILE_SUBTASKS")
    try:
        if profile_dir:
            import cProfile
            import time
            profile = cProfile.Profile(time.process_time)
            try:
                profile.runcall(serve, unit, channel, peers)
            finally:
                profile.dump_stats(os.path.join(profile_dir, f"subtask-{unit.index}-{os.getpid()}.prof"))
        else:
            serve(unit, channel, peers)
    finally:
        channel.close()
        for p in (peers or {}).values():
            p.close()


def _die_with_parent() -> None:
    """Linux: the kernel kills this worker when the job's process dies, however it dies."""
    try:
        import ctypes
        import signal
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # elsewhere a worker ends when its pipe does
