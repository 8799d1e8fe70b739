"""Builds operators from a logical plan and drives it: poll sources -> push batches -> advance watermarks.

Single-threaded and deterministic: sources are polled round-robin, each batch flows to the sinks before
the next is read, and a watermark moves on only after the rows that produced it.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pyarrow as pa

from sqlstream.connectors import registry
from sqlstream.connectors.base import SinkWriter, TableSchema
from sqlstream.plan import logical as L
from sqlstream.plan.physical import PhysicalPlan
from sqlstream.plan.expr import Ref
from sqlstream.core.changelog import INSERT, make_batch, strip_wm
from sqlstream.core.formatting import epoch_ms_text
from sqlstream.runtime.constraint_enforcer import NotNullEnforcer
from sqlstream.runtime.late_rows import LateRowsOutput
from sqlstream.runtime.memory import tune_allocator
from sqlstream.runtime.event_time import MAX_WM, MIN_WM
from sqlstream.runtime.key_groups import max_parallelism_of
from sqlstream.runtime.metrics import JobMetrics, OperatorMetrics, SplitMetrics
from sqlstream.runtime.operator import EVENT_TIME, PROCESSING_TIME, Operator, OperatorContext, fire_timers
from sqlstream.runtime.operators import registry as operators
from sqlstream.runtime.operators.calc import CalcOperator
from sqlstream.runtime.operators.watermark_assigner import WatermarkAssignerOperator
from sqlstream.runtime.state import StateBackend, state_backend_class
from sqlstream.runtime.subtask_state import SUBTASKS, WATERMARKS, decode, from_process, load, restore_operator
from sqlstream.core.errors import SqlStreamError, ValidationError

LOG = logging.getLogger("sqlstream.watermarks")
STALL_S = 10.0  # a split at the minimum watermark without data for this long is logged as holding it back
ROUND_ROWS = 65536
CHECK_CONNECTORS_S = 0.2
DRAIN_S = 0.1  # the longest output of parallel subtasks waits in their pipes while sources have rows to read


@dataclass
class SourceRuntime:
    node: L.Scan
    readers: list
    rows: int = 0  # read since the job began, kept in checkpoints: --max-rows-in ends the source where an
    # uninterrupted run ends it, whatever stops, restarts and restores came between
    source: object = None
    split_metrics: list[SplitMetrics] = field(default_factory=list)
    driver: object = None  # divided among parallel subtasks, which read it: the operator that runs its rounds


@dataclass(frozen=True)
class RunLimits:
    """Bounds a run puts on a job without touching its SQL (`sqlstream run --max-rows-in/--max-rows-out`).

    max_rows_in: each source table ends after this many rows, as a bounded source does (a final watermark fires
    every window), counted from the job's start (checkpoints keep the count, so a restored job ends where an
    uninterrupted one does); max_rows_out: the job stops once its sinks got this many rows; unthrottled: sources ignore
    their 'rows-per-second' (data generators run at full speed).
    """

    max_rows_in: int | None = None
    max_rows_out: int | None = None
    unthrottled: bool = False


@dataclass
class JobStats:
    rows_in: int = 0
    rows_out: int = 0
    started: float = field(default_factory=time.monotonic)
    late_dropped: int = 0
    skipped: int = 0
    read_at: float = 0.0  # perf_counter() when the newest source batch was read: a sink's write minus it is latency

    def summary(self) -> str:
        secs = time.monotonic() - self.started
        parts = [f"rows in: {self.rows_in}", f"rows out: {self.rows_out}",
                 f"late rows dropped: {self.late_dropped}"]
        if self.skipped:
            parts.append(f"records with parse errors: {self.skipped} (unparseable rows skipped, bad fields NULL)")
        parts.append(f"duration: {secs:.2f}s")
        return "Job finished: " + ", ".join(parts)


class Dataflow:
    """One run of a plan: its operators, source split readers and sink writers, and the loop that drives them.

    `runtime/job.py`'s Job builds a Dataflow for each attempt and owns checkpoints and restarts around it."""

    def __init__(self, sinks: list[tuple[L.Node, SinkWriter]], plan: PhysicalPlan, batch_size: int = 65536,
                 round_rows: int = ROUND_ROWS, config: dict | None = None, limits: RunLimits | None = None,
                 late_rows: LateRowsOutput | None = None, metrics: JobMetrics | None = None,
                 build_operator: Callable[[object], Operator] | None = None):
        """build_operator: makes each spec's operator (the parallel runtime's, for parallelism above 1)."""
        tune_allocator()
        self.build_operator = build_operator or operators.build
        self.plan = plan
        self.config = config or {}
        self.backend_class = state_backend_class(self.config)
        self.limits = limits or RunLimits()
        self.batch_size = batch_size
        self.round_rows = round_rows
        self.sinks = sinks
        self.ops: dict[int, Operator] = {}
        self.nodes: dict[int, L.Node] = {}
        self.consumers: dict[int, list[tuple[int, int]]] = {}
        self.idle_nodes: set[int] = set()  # operators whose every input comes from idle sources
        self.out_wm: dict[int, int] = {}
        self.in_wm: dict[int, list[int]] = {}
        self.sources: list[SourceRuntime] = []
        self.writers: dict[int, SinkWriter] = {}
        self.stats = JobStats()
        self.outages: list[str] = []  # what sources and sinks wait for (an unreachable broker), for the status
        self._connectors_checked = 0.0
        self.cancelled = False
        self.state: dict[int, StateBackend] = {}
        self.contexts: dict[int, OperatorContext] = {}
        self.enforcers: dict[int, NotNullEnforcer] = {}
        for root, writer in sinks:
            self._add(root)
            self.writers[id(root)] = writer
            if isinstance(root, L.Sink) and root.connector != "collect":  # a table, not a query's result
                enforcer = NotNullEnforcer.for_sink(root.fields, self.config)
                if enforcer is not None:
                    self.enforcers[id(root)] = enforcer
            if hasattr(writer, "attach"):
                writer.attach(self.stats)
        for nid, node in self.nodes.items():
            self.out_wm[nid] = MIN_WM
            ctx = self.contexts.get(nid)  # an operator reads its inputs' watermarks from its context
            self.in_wm[nid] = ctx.input_watermarks if ctx is not None else [MIN_WM] * len(node.inputs())
        # where a subplan feeds several consumers, the order in which they see rows follows the batches: each
        # source round is then pushed as one batch, so it follows rounds, whatever the batch size
        self.branches = any(len(c) > 1 for c in self.consumers.values())
        self.uids = {id(s.node): s.uid for s in plan.operators}
        self.fingerprint = plan.fingerprint
        self.late_rows = late_rows
        if late_rows is not None:
            self._connect_late_rows(late_rows)
        self.metrics = metrics or JobMetrics(self.fingerprint, job_name([root for root, _ in sinks]))
        self._register_metrics()
        # operators answering from other processes (parallel subtasks): their output is taken when it is needed
        self.remote = [(nid, op) for nid, op in self.ops.items() if hasattr(op, "drain")]
        by_uid = {uid: nid for nid, uid in self.uids.items()}
        # sinks the subtasks write themselves: only their row counts come here
        self.remote_sinks = [(op, by_uid[op.sink_uid]) for _, op in self.remote if getattr(op, "sink_uid", None)]
        for op, nid in self.remote_sinks:  # the checkpoint's two phases go to the subtasks' writers
            from sqlstream.runtime.parallel.subtask_sink import SubtasksSinkWriter
            self.writers[nid] = SubtasksSinkWriter(op, self.writers[nid])
        for _, op in self.remote:
            for src in self.sources:
                if getattr(op, "source_scan", None) == self.uids[id(src.node)]:
                    src.driver = op
                    op.limit, op.round_rows = self.limits.max_rows_in, self.batch_size
                    if getattr(src.source, "partitioned", False):
                        for reader in src.readers:  # the subtasks read its partitions: no fetching here too
                            reader.close()
        self._drained = time.monotonic()
        self.assigners: list[WatermarkAssignerOperator] = []
        for src in self.sources:
            for _, op in self._split_assigners(id(src.node)):
                op.set_splits(len(src.readers))
                idle = src.node.options.get("scan.watermark.idle-timeout")
                if idle:
                    from sqlstream.connectors.options import parse_duration_ms
                    op.idle_timeout_ms = parse_duration_ms(idle)
                self.assigners.append(op)
        # sources of one split read here whose assigner has an idle timeout, with the assigner's node: the
        # split-level idleness of a source of several splits (`WatermarkAssignerOperator.check_idle`) becomes the
        # source's own, for the operators it feeds
        self.watched_idle = [(src, aid, op) for src in self.sources if len(src.readers) == 1 and src.driver is None
                             for aid, op in self._split_assigners(id(src.node))
                             if op.idle_timeout_ms > 0 and not op.splits]
        self.started_at = time.monotonic()

    def _connect_late_rows(self, late_rows: LateRowsOutput) -> None:
        """Operators that drop late rows write them to the late-rows table, a sink committed like the others."""
        droppers = [(nid, op) for nid, op in self.ops.items() if op.drops_late_rows]
        readable = {nid: readable_input_names(self.nodes[nid]) for nid, _ in droppers}
        late_rows.check_columns([[n for names in inputs for n in names] for inputs in readable.values()])
        for nid, op in droppers:
            op.late_rows = late_rows.collector(f"{self.uids[nid]}", readable[nid])
        self.writers[id(late_rows)] = late_rows.writer
        self.uids[id(late_rows)] = LATE_ROWS_UID

    def _register_metrics(self) -> None:
        """One OperatorMetrics per plan node (sources and sinks too), one SplitMetrics per source split."""
        self.metrics.new_attempt()
        self.op_metrics: dict[int, OperatorMetrics] = {}
        for nid, node in self.nodes.items():
            kind = "source" if isinstance(node, L.Scan) else "sink" if isinstance(node, L.Sink) else "operator"
            self.op_metrics[nid] = self.metrics.operator(self.uids[nid], operator_name(node, self.plan.spec_of(node)),
                                                         kind,
                                                         tuple(self.uids[id(c)] for c in node.inputs()))
        self.last_rowtime: dict[tuple[int, int], pa.RecordBatch] = {}  # (assigner, split) -> its newest batch
        self.stalled: set[tuple[str, str]] = set()  # (table, split) holding the watermark back, as last logged
        for src in self.sources:
            uid = self.uids[id(src.node)]
            names = src.source.splits() if src.source is not None else []
            src.split_metrics = [self.metrics.split(uid, operator_name(src.node), src.node.table,
                                                    names[i] if i < len(names) else str(i))
                                 for i in range(len(src.readers))]

    def refresh_metrics(self, now: float | None = None) -> None:
        """Sample the counters for rates and read the gauges that cost more than a counter (on the job's thread)."""
        now = time.monotonic() if now is None else now
        for nid, m in self.op_metrics.items():
            node = self.nodes[nid]
            ins = [self.out_wm[id(c)] for c in node.inputs()]
            m.input_watermark = min(ins) if ins else MIN_WM
            m.output_watermark = m.input_watermark if isinstance(node, L.Sink) else self.out_wm[nid]
            op = self.ops.get(nid)
            if op is not None:
                own = self.contexts[nid].metrics.values() if nid in self.contexts else {}
                reported = op.metrics()
                m.late_dropped = own.pop("numLateRecordsDropped", reported.get("late_records_dropped", 0))
                m.own = own
                backend = self.state.get(nid)
                if backend is not None and backend.tables:
                    # measuring state walks its tables: take the operator's own figure when it gives one
                    m.state_bytes = reported["state_bytes"] if "state_bytes" in reported else backend.size_bytes()
                    m.state_rows = backend.size_rows()
        for src in self.sources:
            assigners = self._split_assigners(id(src.node))
            for r, (reader, sm) in enumerate(zip(src.readers, src.split_metrics)):
                sm.pending = reader.pending_records() if hasattr(reader, "pending_records") else None
                if assigners:
                    aid, op = assigners[0]
                    sm.watermark = op.splits[r] if op.splits else op.state.current
                    sm.idle = bool(op.idle[r]) if op.splits else False
                    last = self.last_rowtime.get((aid, r if op.splits else 0))
                    if last is not None:
                        sm.event_time_ms = _last_time_ms(last, 1 + self.nodes[aid].rowtime)
        self._note_stalls()
        self.metrics.tick(now)

    def _note_stalls(self) -> None:
        """Log when a source split starts holding the watermark back (silent for STALL_S) and when it stops."""
        stalled = {(table, split): (wm, silent) for table, split, wm, silent in self.held_back() if silent >= STALL_S}
        for key in stalled.keys() - self.stalled:
            (table, split), (wm, silent) = key, stalled[key]
            LOG.info("split %s of table %s holds the watermark back (%s): no data for %.0f s; "
                     "'scan.watermark.idle-timeout' on the table lets the other splits' watermark go on",
                     split, table, "no watermark yet" if wm == MIN_WM else f"watermark {epoch_ms_text(wm)}", silent)
        for table, split in self.stalled - stalled.keys():
            LOG.info("split %s of table %s no longer holds the watermark back", split, table)
        self.stalled = set(stalled)

    def _split_assigners(self, nid: int) -> list[tuple[int, WatermarkAssignerOperator]]:
        """Watermark assigners reached from a source through stateless Calcs (they see which split a row is from),
        each with its node."""
        found = []
        for cid, _ in self.consumers.get(nid, []):
            op = self.ops.get(cid)
            if isinstance(op, WatermarkAssignerOperator):
                found.append((cid, op))
            elif isinstance(op, CalcOperator):
                found += self._split_assigners(cid)
        return found

    def _add(self, node: L.Node) -> None:
        if id(node) in self.nodes:
            return
        self.nodes[id(node)] = node
        for i, child in enumerate(node.inputs()):
            self._add(child)
            self.consumers.setdefault(id(child), []).append((id(node), i))
        if isinstance(node, L.Scan):
            source = open_source(node, self.limits.unthrottled)
            readers = [source.reader(s) for s in source.splits()]
            self.sources.append(SourceRuntime(node, readers, source=source))
            return
        if isinstance(node, L.Sink):
            return
        spec = self.plan.spec_of(node)
        op = self.build_operator(spec)
        backend = self.backend_class(spec.uid, max_parallelism=max_parallelism_of(self.config))
        ctx = OperatorContext(backend, self.config, n_inputs=len(spec.inputs), uid=spec.uid)
        op.open(ctx)
        self.contexts[id(node)] = ctx
        self.state[id(node)] = backend
        self.ops[id(node)] = op

    # ---- data flow ----------------------------------------------------------------------------
    def _push(self, nid: int, batches: list[pa.RecordBatch], split: int | None = None) -> None:
        for cid, idx in self.consumers.get(nid, []):
            m = self.op_metrics[cid]
            for b in batches:
                if b.num_rows == 0:
                    continue
                m.records_in += b.num_rows
                started = time.perf_counter_ns()
                if cid in self.writers:
                    b, error = strip_wm(b), None
                    if cid in self.enforcers:
                        b, error = self.enforcers[cid].apply(b)
                    if b.num_rows:
                        self.stats.rows_out += b.num_rows
                        self.writers[cid].write(b)
                    m.busy_ns += time.perf_counter_ns() - started
                    if error is not None:
                        raise error
                    continue
                op = self.ops[cid]
                if split is not None and isinstance(op, WatermarkAssignerOperator):
                    out = op.on_split_batch(b, split)
                    self.last_rowtime[cid, split] = out[-1]
                else:
                    out = op.on_batch(b, idx)
                    if isinstance(op, WatermarkAssignerOperator) and out:
                        self.last_rowtime[cid, 0] = out[-1]
                done = time.perf_counter_ns()
                m.busy_ns += done - started
                if out:
                    m.records_out += sum(o.num_rows for o in out)
                    self._push(cid, out, split if isinstance(op, CalcOperator) else None)
                    m.backpressured_ns += time.perf_counter_ns() - done
                wm = op.take_watermark()
                if wm is not None:
                    self._advance(cid, wm)

    def _processing_time(self) -> None:
        """Fire the processing-time timers the wall clock has reached."""
        now = int(time.time() * 1000)
        for nid, ctx in self.contexts.items():
            out = fire_timers(self.ops[nid], ctx, PROCESSING_TIME, now)
            if out:
                self._push(nid, out)

    def _advance(self, nid: int, wm: int) -> None:
        if wm <= self.out_wm[nid]:
            return
        self.out_wm[nid] = wm
        for cid, idx in self.consumers.get(nid, []):
            if cid in self.writers:
                continue
            self.in_wm[cid][idx] = max(self.in_wm[cid][idx], wm)
            self._combine(cid)

    def _combine(self, cid: int) -> None:
        """Advance an operator to the minimum watermark of its inputs (of those not idle, where some are)."""
        op = self.ops[cid]
        combined = min(self.in_wm[cid]) if not self.idle_nodes else self._active_minimum(cid)
        if isinstance(op, WatermarkAssignerOperator):
            if combined == MAX_WM:
                self._advance(cid, MAX_WM)
            return
        if combined > self.out_wm[cid]:
            m = self.op_metrics[cid]
            started = time.perf_counter_ns()
            ctx = self.contexts[cid]
            out = fire_timers(op, ctx, EVENT_TIME, combined) + op.on_watermark(combined)
            done = time.perf_counter_ns()
            m.busy_ns += done - started
            if out:
                m.records_out += sum(o.num_rows for o in out)
                self._push(cid, out)
                m.backpressured_ns += time.perf_counter_ns() - done
            if not getattr(op, "holds_watermark", False):  # else it advances with its output (`drain`)
                self._advance(cid, combined)

    def _active_minimum(self, cid: int) -> int:
        """The minimum watermark of an operator's inputs that are not idle (all idle: of all)."""
        active = [wm for wm, child in zip(self.in_wm[cid], self.nodes[cid].inputs()) if id(child) not in self.idle_nodes]
        return min(active) if active else min(self.in_wm[cid])

    def _mark_idle(self, nid: int, idle: bool) -> None:
        """A source's watermark assigner went idle (table.exec.source.idle-timeout without rows) or active again:
        an operator whose every input is idle is idle too, and one with other inputs goes on with their minimum,
        as Flink's idle sources stop holding back the watermark of what they feed."""
        if (nid in self.idle_nodes) == idle:
            return
        self.idle_nodes.add(nid) if idle else self.idle_nodes.discard(nid)
        for cid, _ in self.consumers.get(nid, []):
            if cid in self.writers:
                continue
            inputs = self.nodes[cid].inputs()
            self._mark_idle(cid, all(id(c) in self.idle_nodes for c in inputs))
            if len(inputs) > 1 and idle and not isinstance(self.ops[cid], WatermarkAssignerOperator):
                self._combine(cid)

    def _check_idle_sources(self, now: float) -> None:
        """A source of one split stays without rows for its assigner's idle timeout: the assigner goes idle."""
        for src, aid, op in self.watched_idle:
            if src.split_metrics:
                last = src.split_metrics[0].last_record_at or self.started_at
                self._mark_idle(aid, (now - last) * 1000 >= op.idle_timeout_ms)

    # ---- driving --------------------------------------------------------------------------------
    def step(self) -> bool:
        """Give every source split one round; False when all are finished.

        With several splits, each round reads up to ROUND_ROWS rows per split whatever the batch size,
        so how sources interleave (and so every result) never depends on the batch size. A paced split (a
        broker) reads one batch per round: its interleaving already depends on arrival, and short rounds keep
        checkpoints, timers and stop requests responsive.
        """
        active = False
        rows_before = self.stats.rows_in
        many = sum(len(s.readers) for s in self.sources) > 1
        cap = self.limits.max_rows_in
        for src in self.sources:
            if cap is not None and src.rows >= cap:
                for reader in src.readers:
                    reader.finished = True
            sm = self.op_metrics[id(src.node)]
            if src.driver is not None:
                active = self._run_round(src) or active
                continue
            for r, reader in enumerate(src.readers):
                split_m = src.split_metrics[r]
                paced = getattr(reader, "paced", False)
                quota = self.round_rows if (many or self.branches) and not paced else self.batch_size
                held: list[pa.RecordBatch] = []
                while quota > 0 and not reader.finished:
                    active = True
                    asked = min(self.batch_size, quota)
                    if cap is not None:
                        asked = min(asked, cap - src.rows)
                        if asked <= 0:
                            reader.finished = True
                            break
                    started = time.perf_counter_ns()
                    batch = reader.poll(asked)
                    sm.busy_ns += time.perf_counter_ns() - started
                    if batch is None or batch.num_rows == 0:
                        break
                    quota -= batch.num_rows
                    sm.records_in += batch.num_rows  # FLIP-33: a source's input is what it read
                    sm.records_out += batch.num_rows
                    split_m.records_in += batch.num_rows
                    split_m.last_record_at = time.monotonic()
                    split_m.emitted_at_ms = int(time.time() * 1000)
                    if paced and batch.num_rows < asked:
                        quota = 0  # nothing more available right now: let the job check timers and stop requests
                    src.rows += batch.num_rows
                    self.stats.rows_in += batch.num_rows
                    self.stats.read_at = time.perf_counter()
                    if self.branches and not paced:
                        held.append(batch)
                    else:
                        self._push_source(src, r, batch)
                if held:
                    self._push_source(src, r, held[0] if len(held) == 1 else pa.concat_batches(held))
                if reader.finished:
                    continue
                active = True
        self._processing_time()
        self._check_connectors()
        now = time.monotonic()
        if self.metrics.due(now):
            self.refresh_metrics(now)
        if self.watched_idle:
            self._check_idle_sources(now)
        for op in self.assigners:
            op.check_idle()
            wm = op.take_watermark()
            if wm is not None:
                self._advance(next(n for n, o in self.ops.items() if o is op), wm)
        if self.remote and self.stats.rows_in == rows_before:
            self.drain()  # nothing new to read: take the subtasks' answers
        elif self.remote and now - self._drained >= DRAIN_S:
            self.collect()  # output waited long enough: take the answers there are
        self._count_sunk()
        return active

    def _run_round(self, src: SourceRuntime) -> bool:
        """A round of a source its parallel subtasks read themselves; False once it has ended."""
        rows = src.driver.run_round()
        if getattr(src.driver, "returned", None):
            self._push_returned(src, src.driver.take_returned())
        if rows is None:
            for reader in src.readers:
                reader.finished = True
            return False
        src.rows += rows
        self.stats.rows_in += rows
        self.stats.read_at = time.perf_counter()
        sm = self.op_metrics[id(src.node)]
        sm.records_in += rows
        sm.records_out += rows
        if src.split_metrics:
            src.split_metrics[0].records_in += rows
            src.split_metrics[0].last_record_at = time.monotonic()
        return True

    def _push_returned(self, src: SourceRuntime, items: list) -> None:
        """A round of a source the subtasks read through several branches, for the operators here that other
        branches feed: (an operator's uid, rows) to push into it, and the source's watermark advances between."""
        by_uid = {uid: nid for nid, uid in self.uids.items()}
        for item in items:
            if isinstance(item, int):
                self._advance(id(src.node), item)
                continue
            nid = by_uid[item[0]]
            m = self.op_metrics[nid]
            m.records_in += item[1].num_rows
            out = self.ops[nid].on_batch(item[1], 0)
            if out:
                m.records_out += sum(o.num_rows for o in out)
                self._push(nid, out)

    def drain(self) -> None:
        """Push on the output that operators running in other processes have not returned yet. A divided source's
        rounds its subtasks merged ahead are merged here by the drain too: the partials they give back for the
        operators here are pushed on, and what that sends the subtasks is drained in turn."""
        self._drained = time.monotonic()
        while True:
            for nid, op in self.remote:
                self._push_drained(nid, op.drain())
            returned = [src for src in self.sources if getattr(src.driver, "returned", None)]
            if not returned:
                break
            for src in returned:
                self._push_returned(src, src.driver.take_returned())
        self._count_sunk()

    def collect(self) -> None:
        """Push on the output that operators running in other processes have returned already, without waiting
        for the messages still unanswered (the rounds a divided source's subtasks are reading)."""
        self._drained = time.monotonic()
        for nid, op in self.remote:
            self._push_drained(nid, op.collect() if hasattr(op, "collect") else op.drain())
        self._count_sunk()

    def _push_drained(self, nid: int, out: list) -> None:
        """Push on an operator's drained output: batches, and (from one that holds its watermark) the
        watermarks to advance to between them."""
        rows: list[pa.RecordBatch] = []
        for item in out + [None]:
            if isinstance(item, pa.RecordBatch):
                rows.append(item)
                continue
            if rows:
                self.op_metrics[nid].records_out += sum(b.num_rows for b in rows)
                self._push(nid, rows)
                rows = []
            if item is not None:
                self._advance(nid, item)

    def _count_sunk(self) -> None:
        """Count the rows that sinks written by parallel subtasks got (their answers report them)."""
        for op, nid in self.remote_sinks:
            rows = op.take_sunk()
            if rows:
                self.stats.rows_out += rows
                self.op_metrics[nid].records_in += rows

    def _check_connectors(self) -> None:
        """Let readers and writers serve their events every CHECK_CONNECTORS_S (a sink whose delivery failed
        fails the job here) and note what they wait for."""
        now = time.monotonic()
        if now - self._connectors_checked < CHECK_CONNECTORS_S:
            return
        self._connectors_checked = now
        found = [c.outage() for c in [r for s in self.sources for r in s.readers] + list(self.writers.values())
                 if hasattr(c, "outage")]
        self.outages = list(dict.fromkeys(o for o in found if o))

    def _push_source(self, src: SourceRuntime, split: int, batch: pa.RecordBatch) -> None:
        started = time.perf_counter_ns()
        self._push_source_batch(src, split, batch)
        self.op_metrics[id(src.node)].backpressured_ns += time.perf_counter_ns() - started

    def _push_source_batch(self, src: SourceRuntime, split: int, batch: pa.RecordBatch) -> None:
        if batch.num_columns and batch.schema.names[0] == "_op":
            cb = make_batch(batch.column(0), [batch.column(i) for i in range(1, batch.num_columns)], src.node.names)
        else:  # a scan that reads no column still passes on how many rows it read
            ops = np.full(batch.num_rows, INSERT, dtype=np.int8)
            cb = make_batch(ops, [batch.column(i) for i in range(batch.num_columns)], src.node.names)
        self._push(id(src.node), [cb], split=split if len(src.readers) > 1 else None)

    def run(self, should_stop: Callable[[], bool] = lambda: False,
            on_step: Callable[[], None] | None = None, before_finish: Callable[[], None] | None = None) -> bool:
        """Run until the sources end (True) or `should_stop` says so (False)."""
        most = self.limits.max_rows_out
        if most is not None:
            asked = should_stop
            should_stop = lambda: asked() or self.stats.rows_out >= most  # noqa: E731
        try:
            while not self.cancelled and not should_stop():
                if not self.step():
                    break
                if on_step is not None:
                    on_step()
            if self.cancelled or should_stop():
                return False
            self.finish(before_close=before_finish)
            return True
        finally:
            self._collect_metrics()
            self.refresh_metrics()

    def finish(self, before_close: Callable[[], None] | None = None) -> None:
        """End of bounded input: a final MAX watermark fires every window, then operators and sinks close."""
        for src in self.sources:
            self._advance(id(src.node), MAX_WM)
        for nid, op in self.ops.items():
            out = op.close()
            if out:
                self._push(nid, out)
            if getattr(op, "holds_watermark", False):
                self._push_drained(nid, op.drain())
        self._count_sunk()
        self.finished = True
        for w in self.writers.values():
            w.end_input()
        if before_close is not None:
            before_close()
        for w in self.writers.values():
            w.close()

    def held_back(self) -> list[tuple[str, str, int, float]]:
        """(table, split, its watermark, seconds without data) of each source split at the minimum watermark."""
        out = []
        for src in self.sources:
            for _, op in self._split_assigners(id(src.node)):
                for split, wm in op.holding_back():
                    name = src.split_metrics[split].split if split < len(src.split_metrics) else str(split)
                    out.append((src.node.table, name, wm, time.monotonic() - op.last_active[split]))
        return out

    def watermark_status(self) -> list[str]:
        """Which source splits hold the watermark back, and for how long they have been silent."""
        lines = []
        for table, name, wm, silent in self.held_back():
            shown = "no watermark yet" if wm == MIN_WM else f"watermark {epoch_ms_text(wm)}"
            lines.append(f"{table} split {name} holds the watermark back ({shown}, no data for {silent:.1f}s): if "
                         f"it stays without data, set 'scan.watermark.idle-timeout' on table {table} so the other "
                         f"splits' watermark goes on without it")
        return lines

    def sink_writers(self) -> dict[str, SinkWriter]:
        return {self.uids[nid]: w for nid, w in self.writers.items()}

    def state_sizes(self) -> dict[str, int]:
        return {self.uids[nid]: b.size_bytes() for nid, b in self.state.items() if b.tables}

    # ---- snapshots ------------------------------------------------------------------------------
    def snapshot(self, parts_dir: str | None = None) -> dict:
        """A consistent cut between two steps: source positions, operator state (Arrow IPC) and watermarks.
        With `parts_dir` (the checkpoint's folder), parallel subtasks write their state parts there themselves;
        `written` lists them per operator as {table: [file, size, crc32]}."""
        self.drain()  # output owed for rows already read reaches the sinks before they prepare their commit
        by_uid = {self.uids[nid]: nid for nid in self.nodes}
        for _, op in self.remote:
            op.parts_dir = parts_dir
        operators = {self.uids[nid]: b.snapshot() for nid, b in self.state.items()}
        written = {self.uids[nid]: op.written for nid, op in self.remote if getattr(op, "written", None)}
        for _, op in self.remote:
            op.parts_dir, op.written = None, {}
        return {
            "version": 1,
            "finished": bool(getattr(self, "finished", False)),
            "positions": {self.uids[id(s.node)]: s.driver.positions() if s.driver is not None else
                          [r.position() for r in s.readers] for s in self.sources},
            "rows_read": {self.uids[id(s.node)]: s.rows for s in self.sources},
            "operators": operators,
            "written": written,
            "watermarks": {uid: [self.out_wm[nid], list(self.in_wm[nid])] for uid, nid in by_uid.items()},
        }

    def restore(self, snap: dict, allow_non_restored_state: bool = False) -> None:
        """Resume from a snapshot of the same plan; a changed operator is an error naming it."""
        by_uid = {self.uids[nid]: nid for nid in self.nodes}
        unknown = set(snap["operators"]) - {self.uids[nid] for nid in self.state}
        if unknown and not allow_non_restored_state:
            raise ValidationError(f"Cannot restore: the snapshot has state for operator(s) {', '.join(sorted(unknown))} "
                                  f"that the new plan does not have (the query changed). Use "
                                  f"--allow-non-restored-state to drop that state.")
        regions = {self.uids[nid]: b.tables[SUBTASKS] for nid, b in self.state.items() if SUBTASKS in b.tables}
        # the parts of a region that runs as subtasks again are read by those subtasks; the others' here
        taken_in_subtasks = {uid: decode(blobs) if uid in regions else [load(p) for p in decode(blobs)]
                             for uid, blobs in snap["operators"].items() if SUBTASKS in blobs}
        parts_of = {op: parts for uid, parts in taken_in_subtasks.items() if uid not in regions
                    for part in parts for op in part if op != WATERMARKS}
        in_regions = {uid for region in regions.values() for uid in region.uids}
        for uid, region in regions.items():
            parts = taken_in_subtasks.get(uid)
            region.restore_parts(parts if parts is not None else
                                 [from_process(region.uids, snap["operators"], snap["watermarks"])])
        for uid in sorted(set(snap["operators"]) | set(parts_of)):
            blobs = snap["operators"].get(uid, {})
            nid = by_uid.get(uid)
            if uid in unknown or uid in in_regions or nid not in self.state:
                continue
            if uid in parts_of:  # it ran as subtasks (the region's head too) and now runs here: their parts merged
                parts = parts_of[uid]
                restore_operator(self.state[nid], [p[uid] for p in parts if uid in p], None,
                                 len(parts), 1)
            elif SUBTASKS not in blobs:
                restore_operator(self.state[nid], [blobs], None, 1, 1)
        rows_read = snap.get("rows_read", {})  # absent from snapshots written before it was kept
        for src in self.sources:
            positions = snap["positions"].get(self.uids[id(src.node)])
            if positions is None:
                continue
            src.rows = int(rows_read.get(self.uids[id(src.node)], 0))
            if src.driver is not None:
                src.driver.restore_positions(positions)
                continue
            for r in src.readers:
                r.close()
            src.readers = [src.source.reader(split, pos) for split, pos in zip(src.source.splits(), positions)]
        for uid, (out, ins) in snap["watermarks"].items():
            nid = by_uid.get(uid)
            if nid is not None:
                self.out_wm[nid] = out
                self.in_wm[nid][:] = ins  # in place: the operator's context holds this list

    def _collect_metrics(self) -> None:
        self.stats.late_dropped = sum(op.metrics().get("late_records_dropped", 0) for op in self.ops.values())
        self.stats.skipped = sum(r.metrics().get("records_skipped", 0) for s in self.sources for r in s.readers) + \
            sum(s.driver.metric("records_skipped") for s in self.sources if s.driver is not None)

    @property
    def bounded(self) -> bool:
        return all(getattr(r, "finished", False) is not None for s in self.sources for r in s.readers)

    def close(self) -> None:
        for s in self.sources:
            for r in s.readers:
                r.close()
        for op in self.ops.values():
            if hasattr(op, "shutdown"):  # operators standing for subtasks in other processes
                op.shutdown()


LATE_ROWS_UID = "late-rows"


def open_source(node: L.Scan, unthrottled: bool = False):
    """The connector's Source for a scan (`unthrottled`: generators ignore their 'rows-per-second')."""
    schema = TableSchema(node.names, [f.type for f in node.fields], metadata=dict(node.metadata),
                         primary_key=list(node.primary_key), partition_keys=list(node.partition_keys),
                         physical_names=[f.name for f in node.columns],
                         physical_types=[f.type for f in node.columns])
    options = node.options
    if unthrottled and "rows-per-second" in options:
        options = {**options, "rows-per-second": "0"}
    return registry.create_source(node.connector, node.table, options, schema)


def open_sink(node: L.Sink):
    """The connector's Sink for an INSERT target."""
    return registry.create_sink(node.connector, node.table, node.options,
                                TableSchema(node.names, [f.type for f in node.fields], metadata=dict(node.metadata),
                                            primary_key=list(node.primary_key),
                                            partition_keys=list(node.partition_keys)))


def readable_names(node: L.Node) -> list[str]:
    """The names of an operator's input columns as the query wrote them: a column a Calc only renames (`v AS $f0`)
    is named after the column it passes on."""
    def name(n: L.Node, i: int) -> str:
        if n.names[i].startswith("$"):
            if isinstance(n, L.Calc) and isinstance(n.projections[i], Ref):
                return name(n.input, n.projections[i].index)
            if isinstance(n, L.WatermarkAssigner):
                return name(n.input, i)
        return n.names[i]
    return [name(child, i) for child in node.inputs() for i in range(len(child.names))]


def readable_input_names(node: L.Node) -> list[list[str]]:
    """readable_names, one list per input."""
    names, out = readable_names(node), []
    for child in node.inputs():
        out.append(names[:len(child.names)])
        names = names[len(child.names):]
    return out


def operator_name(node: L.Node, spec=None) -> str:
    """How metrics name an operator: Flink's 'Source: t' / 'Sink: t', else the physical operator's name."""
    if isinstance(node, L.Scan):
        return f"Source: {node.table}"
    if isinstance(node, L.Sink):
        return f"Sink: {node.table}"
    return spec.name if spec is not None else type(node).__name__


def job_name(roots: list[L.Node]) -> str:
    """Flink's name for a SQL job: insert-into_<sink tables>, or collect for a query's result."""
    tables = [r.table for r in roots if isinstance(r, L.Sink) and r.connector != "collect"]
    return "insert-into_" + ",".join(tables) if tables else "collect"


def _last_time_ms(batch: pa.RecordBatch, column: int) -> int | None:
    """Epoch ms of the time column's value in a batch's last row (a TIMESTAMP's wall time read as UTC)."""
    if batch.num_rows == 0 or column >= batch.num_columns:
        return None
    value = batch.column(column)[batch.num_rows - 1]
    if not value.is_valid:
        return None
    if pa.types.is_timestamp(value.type):
        return int(value.value * _MS_PER_UNIT[value.type.unit])
    return None


_MS_PER_UNIT = {"s": 1000, "ms": 1, "us": 1e-3, "ns": 1e-6}


def check_sink_accepts(root: L.Node, table: str, accepts_updates: bool) -> None:
    if root.updating and not accepts_updates:
        raise ValidationError(
            f"Table sink '{table}' doesn't support consuming update changes which is produced by an updating "
            f"query (changelog mode [{root.changelog}]); use a sink that accepts updates (print, upsert-kafka) "
            f"or make the query insert-only (e.g. a window aggregation)")


__all__ = ["Dataflow", "check_sink_accepts", "SqlStreamError", "np"]
