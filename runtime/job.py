"""A job from start to end: builds its plan's sources, operators and sinks, runs them, and owns its checkpoints,
restore, savepoints, cancellation and restarts. The command line, the shell and background jobs all drive jobs
through this class and nothing else.

    job = Job(physical_plan, targets, results, config=session_config, log=sys.stderr)
    job.run()                       # blocks until the job finishes, is stopped, or fails (then raises)
    job.cancel()                    # from any thread: stop, no savepoint, uncommitted output dropped
    job.stop()                      # stop with a savepoint where checkpoints are configured (SIGTERM)
    req = job.stop_with_savepoint() # or trigger_savepoint(): req.done, then req.location or req.error
    job.status, job.counters, job.watermark(), job.outages, job.plan, job.dataflow, job.coordinator

Each attempt (the first run, then each restart) builds a fresh Dataflow (`runtime/executor.py`) from the plan and
restores it from the newest intact checkpoint; the connector sinks are created once per job.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import TextIO

from sqlstream.connectors import registry
from sqlstream.connectors.base import Sink, SinkWriter, TableSchema
from sqlstream.connectors.options import parse_duration_ms
from sqlstream.core.errors import (CheckpointError, ConnectorError, SqlStreamError, StorageError, ValidationError,
                                   WorkerLostError)
from sqlstream.plan import logical as L
from sqlstream.runtime.checkpoint import (CheckpointCoordinator, CheckpointStorage, read_checkpoint, unpack,
                                          unpack_committables)
from sqlstream.runtime.checkpoint_fs import join
from sqlstream.plan.physical import PhysicalPlan
from sqlstream.core.formatting import epoch_ms_text
from sqlstream.runtime import metrics as job_metrics
from sqlstream.runtime.event_time import MAX_WM, MIN_WM
from sqlstream.runtime.executor import Dataflow, JobStats, RunLimits, job_name, open_sink
from sqlstream.runtime.job_lock import JobLock
from sqlstream.runtime.job_log import FILE_ONLY, job_log
from sqlstream.runtime.late_rows import LateRowsOutput, LateRowsTable
from sqlstream.runtime.metrics import JobMetrics
from sqlstream.runtime.restart import RestartStrategy
from sqlstream.runtime.savepoint import SAVEPOINT_FAILED, SAVEPOINT_WRITTEN, SavepointRequest
from sqlstream.core.secrets import redact

# Flink's job statuses, those a job here goes through
CREATED, RUNNING, RESTARTING, FINISHED, CANCELED, FAILED = (
    "CREATED", "RUNNING", "RESTARTING", "FINISHED", "CANCELED", "FAILED")

LOG = logging.getLogger("sqlstream.job")
NO_SAVEPOINT_DIR = ("Savepoint directory is not configured, can't take a savepoint: the job was started without "
                    "'execution.checkpointing.dir' (SET it before the job starts)")


@dataclass
class RestoreOptions:
    """How a run treats earlier state: resume automatically, from a given path, or start fresh."""

    from_path: str | None = None
    fresh: bool = False
    allow_non_restored_state: bool = False


def failure_text(e: BaseException) -> str:
    """A failure as the user sees it: our errors by their message, anything else named by its type."""
    return str(e) if isinstance(e, SqlStreamError) else redact(f"internal error: {type(e).__name__}: {e}")


class _Discard:
    def write(self, s):
        return len(s)

    def flush(self):
        pass


class Job:
    """One job: INSERT INTO targets and result writers (a query's rows) over one plan, run as one dataflow.

    plan: the physical plan of all its sinks (its fingerprint is the job's id and names its checkpoint folder);
    targets: the plan's INSERT INTO sinks (the job creates their connector sinks);
    results: (sink node, writer) pairs whose rows go to a writer the caller made (a query's result);
    late_rows: the table late rows are written to ('table.exec.late-rows.sink'), a sink like the targets;
    config: the session's effective configuration (checkpointing, restart strategy, state TTL, batch size);
    log: where the job says what it does (restore, checkpoints, restarts, savepoints, its summary);
    log_file: where its log records go too, with their times (default: job.log in its checkpoint folder).
    Only `run` may raise; construction only records what to run.
    """

    def __init__(self, plan: PhysicalPlan, targets: list[L.Sink],
                 results: list[tuple[L.Sink, SinkWriter]] | None = None, *, late_rows: LateRowsTable | None = None,
                 config: dict[str, str] | None = None, batch_size: int | None = None,
                 limits: RunLimits | None = None, restore: RestoreOptions | None = None,
                 log: TextIO | None = None, log_file: str | None = None, summary: bool = True,
                 name: str | None = None):
        self.plan = plan
        self.targets = list(targets)
        self.results = list(results or [])
        self.roots: list[L.Sink] = [*self.targets, *(root for root, _ in self.results)]
        self.late_rows = late_rows
        self.id = plan.fingerprint
        self.name = name or job_name(self.roots)
        self.config = dict(config or {})
        self.batch_size = batch_size if batch_size is not None else int(self.config.get("sqlstream.batch-size",
                                                                                        65536))
        self.limits = limits or RunLimits()
        self.restore_options = restore or RestoreOptions()
        self.log: TextIO = log if log is not None else _Discard()
        self.log_file = log_file
        self.summary = summary
        self.running_note = ""  # appended to the 'Job running' line (how to reach the job from outside)
        self.on_started = None  # called with the job each time an attempt's dataflow is built (a web UI starts)
        self.on_step = None  # called with the job between steps, on its thread (a live status line)
        self.metrics = JobMetrics(self.id, self.name)  # Flink-named metrics, kept across restarts
        self.status = CREATED
        self.error: str | None = None
        self.started = time.time()
        self.dataflow: Dataflow | None = None  # the current attempt's
        self.coordinator: CheckpointCoordinator | None = None
        self.checkpoints_completed = 0
        self._stop: str | None = None  # "stop" (with a savepoint if possible) or "cancel"
        self._stopped_with_savepoint = False
        self._requests: list[SavepointRequest] = []
        self._lock = threading.Lock()
        self._ended = False
        self._running = False  # the current attempt got past building and restore: a failure may restart it
        self._failed_writers: list[SinkWriter] = []
        self._sinks: dict[int, Sink] | None = None
        self._late_sink: Sink | None = None
        self.parallel_described = False
        self.parallel_summary = ""  # what runs as parallel subtasks, for the job's summary

    # ---- control, from any thread ------------------------------------------------------------------------
    def cancel(self) -> None:
        """Stop as soon as possible without a savepoint; output since the last checkpoint is not committed."""
        self._stop = "cancel"

    def stop(self) -> None:
        """Stop as soon as possible, writing a savepoint first when the job checkpoints (else saying it cannot)."""
        if self._stop is None:
            self._stop = "stop"

    @property
    def stop_requested(self) -> bool:
        return self._stop is not None

    def trigger_savepoint(self, notify=None) -> SavepointRequest:
        """Ask for a savepoint; the job goes on. The request is answered at the job's next step."""
        return self.request_savepoint(SavepointRequest(False, notify))

    def stop_with_savepoint(self, notify=None) -> SavepointRequest:
        """Ask for a savepoint and a stop once it is written; if the savepoint fails the job goes on."""
        return self.request_savepoint(SavepointRequest(True, notify))

    def request_savepoint(self, req: SavepointRequest) -> SavepointRequest:
        with self._lock:
            if not self._ended:
                self._requests.append(req)
                return req
        self._savepoint_failed(req, "the job ended before taking it")
        return req

    # ---- what it is doing --------------------------------------------------------------------------------
    @property
    def counters(self) -> JobStats:
        """Rows in and out, late rows dropped, parse errors skipped: of the current attempt."""
        return self.dataflow.stats if self.dataflow is not None else JobStats()

    @property
    def outages(self) -> list[str]:
        """What the job's sources and sinks wait for (an unreachable broker), empty when nothing."""
        return list(self.dataflow.outages) if self.dataflow is not None else []

    def watermark(self) -> int | None:
        """The job's current watermark in epoch ms (the least over its sources), None before the first."""
        flow = self.dataflow
        if flow is None or not flow.assigners:
            return None
        current = min(op.state.current for op in flow.assigners)
        return None if current <= MIN_WM else current

    def watermark_status(self) -> list[str]:
        return self.dataflow.watermark_status() if self.dataflow is not None else []

    def state_sizes(self) -> dict[str, int]:
        """Bytes of keyed state per operator id."""
        return self.dataflow.state_sizes() if self.dataflow is not None else {}

    # ---- running -----------------------------------------------------------------------------------------
    def run(self) -> None:
        """Run to the end: restarts per the restart strategy; raises the failure that ends the job."""
        job_metrics.register(self.metrics)
        try:
            self._run()
            self.status = CANCELED if self.stop_requested else FINISHED
        except BaseException as e:
            self.status, self.error = FAILED, failure_text(e)
            raise
        finally:
            self.metrics.status = self.status
            job_metrics.unregister(self.metrics)
            with self._lock:
                self._ended = True
            self._fail_pending_savepoints("the job ended before taking it")

    def _run(self) -> None:
        cfg = self.config
        interval = cfg.get("execution.checkpointing.interval")
        ckpt_dir = cfg.get("execution.checkpointing.dir")
        interval_ms = parse_duration_ms(interval) if interval else 0
        if interval_ms and not ckpt_dir:
            raise ValidationError("'execution.checkpointing.interval' is set but 'execution.checkpointing.dir' is "
                                  "not: set the directory checkpoints are written to")
        storage = CheckpointStorage(join(ckpt_dir, self.id)) if ckpt_dir else None
        lock = JobLock(storage.local_folder, self.id) if storage is not None else None
        restarts = RestartStrategy(cfg)
        restarts.check()
        log_path = self.log_file or (os.path.join(storage.local_folder, "job.log") if storage is not None else None)
        port = cfg.get("metrics.reporter.prom.port")
        try:
            with job_log(self.log, log_path):
                LOG.info("job %s (%s) starting: %s%s", self.id, self.name,
                         f"checkpoints every {interval} in {storage.root}" if interval_ms else
                         f"checkpoints in {storage.root} (no interval)" if storage is not None else
                         "no checkpoints", f", metrics on port {port}" if port else "")
                try:
                    while True:
                        self._running, self._failed_writers = False, []
                        try:
                            self._attempt(storage, interval_ms, ckpt_dir)
                            break
                        except Exception as e:
                            # a job restarts from a failure while running, or from an unreachable system or a
                            # lost worker (a Ray node not yet known to be dead) as it starts
                            restartable = self._running or isinstance(e, (ConnectorError, WorkerLostError))
                            delay = restarts.next_delay() if restartable and not self.stop_requested else None
                            if delay is None or not self._wait_to_restart(e, delay, restarts, storage):
                                raise
                            self.metrics.restarts += 1
                except BaseException as e:
                    LOG.error("job %s failed: %s", self.id, failure_text(e) if isinstance(e, Exception) else
                              type(e).__name__, extra=FILE_ONLY)
                    raise
                LOG.info("job %s %s: %s", self.id, "stopped" if self.stop_requested else "finished",
                         self.counters.summary())
        except StorageError as e:
            raise StorageError(f"{e}. {_restart_hint(storage)}") from None
        finally:
            if lock is not None:
                lock.release()

    def _wait_to_restart(self, failure: Exception, delay: float, restarts: RestartStrategy,
                         storage: CheckpointStorage | None) -> bool:
        """Say why and when the failed job restarts, abort what its sinks left open, and wait; False if a stop
        was requested meanwhile."""
        self.status = RESTARTING
        where = "its last checkpoint" if storage is not None else "the beginning (checkpointing is off)"
        LOG.error("job failed: %s; restarting from %s in %.1f s (%s)", failure_text(failure), where, delay,
                  restarts.describe(), extra=FILE_ONLY)
        self.log.write(f"WARNING: the job failed: {failure_text(failure)}\nWARNING: restarting from {where} in "
                       f"{delay:.1f} s ({restarts.describe()})\n")
        self.log.flush()
        for w in self._failed_writers:
            try:
                w.cancel()
            except Exception:  # the failed attempt's output is written again from the checkpoint anyway
                pass
        deadline = time.monotonic() + delay
        while time.monotonic() < deadline:
            if self.stop_requested:
                return False
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
        return not self.stop_requested

    def _connector_sinks(self) -> dict[int, Sink]:
        """The INSERT targets' connector sinks, created once for the job (restarts reuse them)."""
        if self._sinks is None:
            sinks = {}
            for s in self.targets:
                sinks[id(s)] = open_sink(s)
            late = self.late_rows
            if late is not None:
                self._late_sink = registry.create_sink(
                    late.connector, late.table, late.options,
                    TableSchema(late.names, late.types, primary_key=list(late.primary_key),
                                partition_keys=list(late.partition_keys)))
            self._sinks = sinks
        return self._sinks

    def _attempt(self, storage: CheckpointStorage | None, interval_ms: int, ckpt_dir: str | None) -> None:
        """One run of the dataflow, restored from the newest checkpoint; its checkpoint folder is locked."""
        sinks = dict(self._connector_sinks())
        writers = [(s, sinks[id(s)].writer(self.id)) for s in self.targets] + self.results
        late_rows = None
        if self.late_rows is not None:
            late_rows = LateRowsOutput(self.late_rows.table, self.late_rows.names,
                                       [t.to_arrow() for t in self.late_rows.types], self._late_sink.writer(self.id))
            sinks[id(late_rows)] = self._late_sink  # restored and committed like the targets, under its own id
        parallel = self._parallel_operators()
        flow = Dataflow(writers, self.plan, batch_size=self.batch_size, config=self.config, limits=self.limits,
                        late_rows=late_rows, metrics=self.metrics,
                        build_operator=parallel.build if parallel is not None else None)
        self.dataflow = flow
        if self.on_started is not None:
            self.on_started(self)

        if not interval_ms and not all(src.source is None or src.source.bounded for src in flow.sources):
            for s in self.targets:
                if sinks[id(s)].needs_checkpoints:
                    flow.close()
                    raise ValidationError(f"Table '{s.table}' commits its output on checkpoints "
                                          f"('sink.delivery-guarantee' = 'exactly-once') but the job reads an "
                                          f"unbounded source without them: set 'execution.checkpointing.interval' "
                                          f"and 'execution.checkpointing.dir'")
        coordinator = None
        if storage is not None:
            coordinator = CheckpointCoordinator(flow, storage, interval_ms,
                                                int(self.config.get("execution.checkpointing.num-retained") or 1),
                                                first_id=_next_id(storage))
        self.coordinator = coordinator
        if self._restore(flow, storage, sinks):
            flow.close()
            return

        savepoint_dir = self._savepoint_dir(ckpt_dir)
        if coordinator is not None:
            interval = self.config.get("execution.checkpointing.interval")
            self._announce(interval if interval_ms else None, storage.root)

        def on_step():
            while self._requests:
                req = self._requests.pop(0)
                if coordinator is None:
                    self._savepoint_failed(req, NO_SAVEPOINT_DIR)
                    continue
                try:
                    location = self._savepoint(coordinator, savepoint_dir)
                except Exception as e:  # the job goes on: a failed savepoint must not stop it as if it succeeded
                    self._savepoint_failed(req, f"{type(e).__name__}: {e}" if not str(e) else str(e))
                    continue
                req.answer(location=location)
                if req.stop:
                    self._stopped_with_savepoint = True
                    self.stop()
            if coordinator is not None:
                coordinator.maybe_checkpoint()
                self.checkpoints_completed = coordinator.completed
            if self.on_step is not None:
                self.on_step(self)

        def before_finish():
            if coordinator is not None:
                coordinator.checkpoint()  # the final, committing checkpoint of a bounded job
        self._stopped_with_savepoint = False
        try:
            self._running = True
            self.status = RUNNING
            try:
                finished = flow.run(should_stop=lambda: self.stop_requested, on_step=on_step,
                                    before_finish=before_finish)
            except Exception:
                self._failed_writers = list(flow.writers.values())
                raise
            if not finished and not self._stopped_with_savepoint:
                with_savepoint = self._stop == "stop"
                if coordinator is not None and with_savepoint:
                    self._savepoint(coordinator, savepoint_dir)
                else:
                    if with_savepoint:
                        self.log.write("stopping without a savepoint: 'execution.checkpointing.dir' is not set\n")
                    for w in flow.writers.values():
                        w.cancel() if coordinator is not None else w.close()
        finally:
            flow.close()
            if coordinator is not None:
                self.checkpoints_completed = coordinator.completed
            self._fail_pending_savepoints("the job ended before taking it")
        if self.summary:
            self._summary(flow)

    def _parallel_operators(self):
        """Above parallelism 1, the parallel runtime builds the operators (imported only then); it says once
        which operators run as subtasks and which stay in the job's process."""
        if max((s.parallelism for s in self.plan.operators), default=1) <= 1:
            return None
        from sqlstream.runtime.parallel import ParallelOperators
        parallel = ParallelOperators(self.plan, self.config, late_rows=self.late_rows is not None,
                                     capped=self.limits.max_rows_in is not None,
                                     counted=self.limits.max_rows_out is not None, job=self.id)
        regions = parallel.regions
        self.parallel_summary = (f"parallelism: {regions.parallelism} ("
                                 + (", ".join(r.describe() for r in regions.regions) or "nothing")
                                 + " as subtasks" + (f"; {len(regions.notices)} sink(s) at parallelism 1"
                                                     if regions.notices else "") + ")")
        if not self.parallel_described:
            self.parallel_described = True
            for line in parallel.describe():
                LOG.info("%s", line)
                self.log.write(line + "\n")
        return parallel

    # ---- restore -----------------------------------------------------------------------------------------
    def _restore(self, flow: Dataflow, storage: CheckpointStorage | None, sinks: dict[int, Sink]) -> bool:
        """Restore state if asked or if a completed checkpoint of this job exists. True if already finished.

        Damaged checkpoints are skipped (with a warning naming each) for the newest intact one; the output
        newer checkpoints committed is taken back where the sink can. A job that committed output here
        before but has nothing to restore stops instead of starting over (`--fresh` says to start over).
        """
        options = self.restore_options
        explicit = options.from_path or self.config.get("execution.savepoint.path")
        path, skipped = None, []
        if options.fresh and not options.from_path:
            pass  # starting over on purpose
        elif explicit:
            manifest, files = read_checkpoint(explicit)
            path = explicit
        elif storage is not None:
            path, manifest, files, skipped = storage.newest_valid()
            for location, why in skipped:
                self.log.write(f"WARNING: {why}; skipped it\n")
            if path is None and (skipped or storage.history() is not None and sinks):
                raise CheckpointError(self._nothing_to_restore(storage, skipped))
        if path is None:
            if storage is not None and not options.fresh and not explicit and sinks:
                self._other_jobs_warning(storage)
            for sink in sinks.values():
                sink.recover(self.id, [])
            return False
        restored_id = manifest.get("checkpoint_id")
        flow.restore(unpack(manifest, files), options.allow_non_restored_state)
        committed = unpack_committables(manifest.get("committables"), files)
        for nid, sink in sinks.items():
            if skipped:
                done = sink.rollback(self.id, restored_id)
                table = flow.nodes[nid].table if nid in flow.nodes else flow.late_rows.table
                self.log.write(f"WARNING: sink table '{table}': " + (
                    done if done is not None else f"rows committed after checkpoint {restored_id} cannot be taken "
                                                  f"back and are written again") + "\n")
            sink.recover(self.id, committed.get(flow.uids[nid]) or [])
        kind = manifest.get("kind", "checkpoint")
        self.metrics.restored()
        LOG.info("restored from %s %s (%s)", kind, restored_id, path)
        self.log.write(f"restored from {kind} {restored_id} ({path})\n")
        if manifest.get("finished"):
            self.log.write("the job had already finished at that checkpoint; nothing to do\n")
            return True
        return False

    def _other_jobs_warning(self, storage: CheckpointStorage) -> None:
        """A job new to a checkpoint directory where other jobs committed output starts from its sources'
        beginning, as any new job: said, since an edited statement (or a version of sqlstream that plans it
        otherwise) is another job, and its sinks may receive what the earlier job wrote once more."""
        others = storage.other_jobs_with_output(self.config.get("execution.checkpointing.dir"))
        if others:
            self.log.write(
                f"WARNING: job {self.id} has no checkpoint in '{self.config.get('execution.checkpointing.dir')}', "
                f"where other jobs committed output ({', '.join(others)}): it starts from its sources' beginning. "
                f"An edited statement, or another version of sqlstream planning it otherwise, makes another job; "
                f"to go on from an earlier job's state, restore its savepoint or checkpoint with --from-savepoint "
                f"PATH (with --allow-non-restored-state for operators it does not have)\n")

    def _nothing_to_restore(self, storage: CheckpointStorage, skipped: list) -> str:
        history = storage.history() or {}
        why = "; ".join(reason for _, reason in skipped) or "its checkpoints are gone"
        savepoint = history.get("savepoint")
        resume = f"resume with --from-savepoint {savepoint}, or " if savepoint else ""
        return (f"Job {self.id} ran before and committed output (checkpoint folder '{storage.root}'), but "
                f"nothing there can be restored: {why}. Starting over would write its output again: "
                f"{resume}run with --fresh to start over (clear the sinks' output first if it must not repeat), "
                f"or restore a copy with --from-checkpoint PATH")

    # ---- savepoints --------------------------------------------------------------------------------------
    def _savepoint_dir(self, ckpt_dir: str | None) -> str | None:
        """Where this job's savepoints go, fixed when it starts (Flink's key, or its older name)."""
        target = self.config.get("execution.checkpointing.savepoint-dir") or self.config.get("state.savepoints.dir")
        if target:
            return target
        return join(ckpt_dir, "savepoints") if ckpt_dir else None

    def _savepoint(self, coordinator: CheckpointCoordinator, target: str) -> str:
        location = coordinator.checkpoint(savepoint_dir=target)
        self.checkpoints_completed = coordinator.completed
        self.log.write(f"{SAVEPOINT_WRITTEN}{location}\n")
        self.log.flush()
        return location

    def _savepoint_failed(self, req: SavepointRequest, reason: str) -> None:
        self.log.write(f"ERROR: {SAVEPOINT_FAILED}{reason}\n")
        self.log.flush()
        req.answer(error=reason)

    def _fail_pending_savepoints(self, reason: str) -> None:
        while self._requests:
            self._savepoint_failed(self._requests.pop(0), reason)

    # ---- reports -----------------------------------------------------------------------------------------
    def _announce(self, interval: str | None, where: str) -> None:
        """Say once that a checkpointed job runs, where its checkpoints go and how to reach it."""
        line = f"Job running: {f'checkpoints every {interval}' if interval else 'no periodic checkpoints'} in {where}"
        self.log.write(line + self.running_note + "\n")
        self.log.flush()

    def _summary(self, flow: Dataflow) -> None:
        stopped = " (stopped)" if self.stop_requested else ""
        line = flow.stats.summary() + stopped
        if flow.late_rows is not None:
            line += f", late rows written to {flow.late_rows.table}: {flow.late_rows.rows}"
        marks = [m.output_watermark for m in flow.op_metrics.values() if m.operator_name == "WatermarkAssigner"]
        if marks and MIN_WM < min(marks) < MAX_WM:
            line += f", watermark: {epoch_ms_text(min(marks))}"
        if self.coordinator is not None:
            line += f", checkpoints: {self.coordinator.completed}"
        if self.parallel_summary:
            line += ", " + self.parallel_summary
        sizes = flow.state_sizes()
        if sizes:
            line += ", state: " + ", ".join(f"{uid} {_human(n)}" for uid, n in sizes.items())
        self.log.write(line + "\n")
        if not getattr(flow, "finished", False):
            for status in flow.watermark_status():
                self.log.write("  " + status + "\n")
        self.log.flush()


def _restart_hint(storage: CheckpointStorage | None) -> str:
    """What running the job again after fixing a storage failure does."""
    if storage is None:
        return "The job does not checkpoint ('execution.checkpointing.dir'): after fixing that, a rerun starts from " \
               "the beginning"
    latest = storage.latest()
    if latest is None:
        return "No checkpoint completed yet: after fixing that, run the job again; it starts from the beginning"
    return f"After fixing that, run the job again: it resumes from its last checkpoint ({latest})"


def _next_id(storage: CheckpointStorage) -> int:
    return max(storage.numbers(), default=0) + 1


def _human(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"


__all__ = ["Job", "RestoreOptions", "RunLimits", "SavepointRequest", "failure_text",
           "CREATED", "RUNNING", "RESTARTING", "FINISHED", "CANCELED", "FAILED"]
