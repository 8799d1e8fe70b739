"""Runs a .sql script: statements in order; all INSERTs run as one job (a statement set), the last SELECT
streams its changelog to stdout; a short job summary goes to stderr.

With 'execution.checkpointing.interval' and 'execution.checkpointing.dir' set, the job checkpoints
periodically, resumes from its newest completed checkpoint when run again, writes a savepoint on SIGTERM
(and on SIGUSR1 without stopping), and its file sinks commit exactly once.
"""
from __future__ import annotations

import logging
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import TextIO

from sqlstream.connectors import registry
from sqlstream.catalog import TableDef
from sqlstream.connectors.base import TableSchema
from sqlstream.connectors.options import parse_duration_ms
from sqlstream.plan import logical as L
from sqlstream.planner.scalar_binder import zone_id
from sqlstream.runtime.checkpoint import (CheckpointCoordinator, LocalCheckpointStorage, read_checkpoint, unpack,
                                unpack_committables)
from sqlstream.runtime.executor import Job, RunLimits
from sqlstream.runtime.late_rows import OPTION as LATE_ROWS_OPTION, LateRowsOutput
from sqlstream.runtime.job_lock import JobLock
from sqlstream.runtime import metrics as job_metrics
from sqlstream.runtime.metrics import JobMetrics
from sqlstream.runtime.restart import RestartStrategy
from sqlstream import signals
from sqlstream.config import check_int
from sqlstream.deep import run_deep
from sqlstream.core.errors import CheckpointError, ConnectorError, SqlStreamError, StorageError, ValidationError
from sqlstream.core.formatting import epoch_ms_text
from sqlstream.job_log import FILE_ONLY, job_log
from sqlstream.output import ResultWriter
from sqlstream.dialect import expressions as fx
from sqlstream.session import Result, Session, format_rows, parse_script


@dataclass
class RestoreOptions:
    """How a run treats earlier state: resume automatically, from a given path, or start fresh."""

    from_path: str | None = None
    fresh: bool = False
    allow_non_restored_state: bool = False


MIN_WATERMARK, MAX_WATERMARK = -(2 ** 63), 2 ** 63 - 1
LOG = logging.getLogger("sqlstream.job")
NO_SAVEPOINT_DIR = ("Savepoint directory is not configured, can't take a savepoint: the job was started without "
                    "'execution.checkpointing.dir' (SET it before the job starts)")


@dataclass
class SavepointRequest:
    """A savepoint asked for while the job runs (by a signal or STOP JOB .. WITH SAVEPOINT), with its answer."""

    stop: bool
    done: threading.Event = field(default_factory=threading.Event)
    location: str | None = None
    error: str | None = None

    def answer(self, location: str | None = None, error: str | None = None) -> None:
        self.location, self.error = location, error
        signals.announce(signals.SAVEPOINT_WRITTEN + location if location else signals.SAVEPOINT_FAILED + error)
        self.done.set()


class ScriptRunner:
    def __init__(self, session: Session | None = None, out: TextIO = sys.stdout, err: TextIO = sys.stderr,
                 fmt: str = "table", batch_size: int | None = None, summary: bool = True,
                 restore: RestoreOptions | None = None, limits: RunLimits | None = None,
                 status_line: bool = False, log_file: str | None = None):
        self.session = session or Session()
        self.limits = limits or RunLimits()
        self.out, self.err, self.fmt = out, err, fmt
        self.batch_size = None if batch_size is None else check_int("sqlstream.batch-size", batch_size,
                                                                    "The batch size")
        self.summary = summary
        self.status_line = status_line  # a live status line on stderr while a job runs, if stderr is a terminal
        self.log_file = log_file  # the job's log file (else job.log in its checkpoint folder, if it has one)
        self.restore = restore or RestoreOptions()
        self.stop_requested = False
        self.job_running = False  # the current attempt got past planning and restore: a failure may restart it
        self.failed_writers: list = []
        self.savepoint_requests: list[SavepointRequest] = []
        self.savepoint_on_stop = True  # SIGTERM on `run` stops with a savepoint if it can; the shell's STOP JOB not
        self.stopped_with_savepoint = False
        self.signals_handled = False  # this runner's job answers SIGTERM/SIGUSR1/SIGUSR2 (the process's main thread)
        self.current_job: Job | None = None
        self.current_coordinator: CheckpointCoordinator | None = None  # the current job's checkpoints, if it takes any
        self.on_job_started = None  # called with each Job once it is built (`sqlstream run --web` serves it then)
        self.job_metrics: JobMetrics | None = None  # the current (or last) job's, kept across its restarts

    def request_savepoint(self, stop: bool = False) -> SavepointRequest:
        """Ask the running job for a savepoint (and to stop once it is written); the request tells the outcome."""
        req = SavepointRequest(stop)
        self.savepoint_requests.append(req)
        return req

    def _on_signal(self, what: str) -> None:
        if what == signals.STOP:
            self.stop_requested = True
        else:
            self.request_savepoint(stop=what == signals.SAVEPOINT_AND_STOP)

    def _fail_pending_savepoints(self, reason: str) -> None:
        while self.savepoint_requests:
            self._savepoint_failed(self.savepoint_requests.pop(0), reason)

    def _savepoint_failed(self, req: SavepointRequest, reason: str) -> None:
        self.err.write(f"ERROR: {signals.SAVEPOINT_FAILED}{reason}\n")
        self.err.flush()
        req.answer(error=reason)

    def run(self, sql: str) -> None:
        previous = signals.install()
        self.signals_handled = bool(previous)
        signals.listen(self._on_signal)
        try:
            run_deep(self._run_script, sql)  # the job too: setting up a deep plan recurses as deeply
        finally:
            self._fail_pending_savepoints("no job is running")
            signals.unlisten()
            signals.restore(previous)

    def _run_script(self, sql: str) -> None:
        stmts = parse_script(sql)
        quit_at = next((i for i, s in enumerate(stmts) if isinstance(s, fx.ClientCommand) and s.this.name == "QUIT"),
                       None)
        stmts = stmts if quit_at is None else stmts[:quit_at]
        inserts: list[L.Sink] = []
        queries = [i for i, s in enumerate(stmts) if self._is_query(s)]
        last_query = queries[-1] if queries else None
        for i, stmt in enumerate(stmts):
            res = self.session.execute(stmt, sql)
            if res.kind == "insert":
                inserts.append(res.plan)
            elif res.kind == "query":
                if i == last_query:
                    self._run_job(inserts, res.plan)
                    inserts = []
                else:
                    self._run_job([], res.plan)
            elif res.kind == "rows":
                format_rows(res.columns, res.rows, self.out)
                if res.message:
                    self.out.write(res.message + "\n")
            elif res.message:
                # keep stdout machine-readable for csv/jsonl: informational lines go to stderr
                (self.out if self.fmt == "table" or stmt.key in ("explainstatement",) else self.err).write(
                    res.message + "\n")
        if inserts:
            self._run_job(inserts, None)

    @staticmethod
    def _is_query(stmt) -> bool:
        from sqlglot import exp
        return isinstance(stmt, (exp.Select, exp.Union, exp.Subquery, exp.Intersect, exp.Except, exp.Values))

    # ---- one job --------------------------------------------------------------------------------
    def _run_job_with_writer(self, root: L.Sink, writer) -> None:
        """Run a query whose rows go to a given writer (the shell's display modes)."""
        self._run_job([], None, result=(root, writer))

    def _run_job(self, inserts: list[L.Sink], query: L.Node | None, result=None) -> None:
        if not (self.status_line and _isatty(self.err)):
            return self._run_one_job(inserts, query, result)
        from sqlstream.status_line import StatusLine
        outer, self.err = self.err, StatusLine(self.err)
        try:
            return self._run_one_job(inserts, query, result)
        finally:
            self.err.clear()
            self.err = outer

    def _run_one_job(self, inserts: list[L.Sink], query: L.Node | None, result=None) -> None:
        cfg = self.session.config
        self.stopped_with_savepoint = False
        roots: list[L.Node] = list(inserts)
        result_root = None
        if query is not None:
            result_root = L.Sink(query.fields, query.changelog, input=query, table="<result>", connector="collect")
            roots.append(result_root)
        if result is not None:
            roots.append(result[0])
        from sqlstream.planner.physical import physical_plan
        from sqlstream.runtime.executor import job_name
        plan = physical_plan(roots, cfg.effective())
        fingerprint = plan.fingerprint
        self.job_metrics = metrics = JobMetrics(fingerprint, job_name(roots))
        interval = cfg.get("execution.checkpointing.interval")
        ckpt_dir = cfg.get("execution.checkpointing.dir")
        interval_ms = parse_duration_ms(interval) if interval else 0
        if interval_ms and not ckpt_dir:
            raise ValidationError("'execution.checkpointing.interval' is set but 'execution.checkpointing.dir' is "
                                  "not: set the directory checkpoints are written to")
        storage = LocalCheckpointStorage(os.path.join(_strip_file(ckpt_dir), fingerprint)) if ckpt_dir else None
        port = cfg.get("metrics.reporter.prom.port")
        if port:
            from sqlstream.prometheus import serve
            self.err.write(f"Metrics: http://localhost:{serve(port)}/metrics (Prometheus)\n")
            self.err.flush()
        lock = JobLock(storage.root, fingerprint) if storage is not None else None
        restarts = RestartStrategy(cfg.effective())
        restarts.check()
        log_path = self.log_file or (os.path.join(storage.root, "job.log") if storage is not None else None)
        job_metrics.register(metrics)
        try:
            with job_log(self.err, log_path):
                LOG.info("job %s (%s) starting: %s%s", fingerprint, metrics.job_name,
                         f"checkpoints every {interval} in {storage.root}" if interval_ms else
                         f"checkpoints in {storage.root} (no interval)" if storage is not None else
                         "no checkpoints", f", metrics on port {port}" if port else "")
                try:
                    while True:
                        self.job_running, self.failed_writers = False, []
                        try:
                            self._run_locked(inserts, query, result, plan, result_root, fingerprint, storage,
                                             interval_ms, ckpt_dir)
                            break
                        except Exception as e:
                            # a job restarts from a failure while running, or from an unreachable system as it
                            # starts
                            restartable = self.job_running or isinstance(e, ConnectorError)
                            delay = restarts.next_delay() if restartable and not self.stop_requested else None
                            if delay is None or not self._wait_to_restart(e, delay, restarts, storage):
                                raise
                            metrics.restarts += 1
                except BaseException as e:
                    from sqlstream.jobs import failure_text
                    LOG.error("job %s failed: %s", fingerprint, failure_text(e) if isinstance(e, Exception) else
                              type(e).__name__, extra=FILE_ONLY)
                    raise
                job = self.current_job
                LOG.info("job %s %s: %s", fingerprint, "stopped" if self.stop_requested else "finished",
                         job.stats.summary() if job is not None else "")
            metrics.status = "CANCELED" if self.stop_requested else "FINISHED"
        except StorageError as e:
            metrics.status = "FAILED"
            raise StorageError(f"{e}. {_restart_hint(storage)}") from None
        except BaseException:
            metrics.status = "FAILED"
            raise
        finally:
            job_metrics.unregister(metrics)
            if lock is not None:
                lock.release()

    def _wait_to_restart(self, failure: Exception, delay: float, restarts: RestartStrategy,
                         storage: LocalCheckpointStorage | None) -> bool:
        """Say why and when the failed job restarts, abort what its sinks left open, and wait; False if a stop
        was requested meanwhile."""
        from sqlstream.jobs import failure_text
        where = "its last checkpoint" if storage is not None else "the beginning (checkpointing is off)"
        LOG.error("job failed: %s; restarting from %s in %.1f s (%s)", failure_text(failure), where, delay,
                  restarts.describe(), extra=FILE_ONLY)
        self.err.write(f"WARNING: the job failed: {failure_text(failure)}\nWARNING: restarting from {where} in "
                       f"{delay:.1f} s ({restarts.describe()})\n")
        self.err.flush()
        for w in self.failed_writers:
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

    def _run_locked(self, inserts, query, result, plan, result_root, fingerprint, storage, interval_ms,
                    ckpt_dir) -> None:
        """Run one job; its checkpoint folder (if any) is locked for this process."""
        cfg = self.session.config
        sinks, sink_objects = [], {}
        for s in inserts:
            tdef = self.session.catalog.by_qualified_name(s.table)
            meta = {c.name: c.metadata_key for c in tdef.columns if c.kind == "metadata"}
            sink = registry.create_sink(s.connector, s.table, s.options,
                                        TableSchema(s.names, [f.type for f in s.fields], metadata=meta,
                                                    primary_key=list(tdef.primary_key),
                                                 partition_keys=list(tdef.partition_keys)))
            sinks.append((s, sink.writer(fingerprint)))
            sink_objects[id(s)] = sink
        if result_root is not None:
            zone = zone_id(self.session.config.get("table.local-time-zone"))
            sinks.append((result_root, ResultWriter(query.names, [f.type for f in query.fields], self.fmt, self.out,
                                                    zone)))
        if result is not None:
            sinks.append(result)
        batch = self.batch_size if self.batch_size is not None else cfg.get_int("sqlstream.batch-size", 65536)
        late_rows = self._late_rows_output(fingerprint, sink_objects)
        job = Job(sinks, plan, batch_size=batch, config=cfg.effective(), limits=self.limits, late_rows=late_rows,
                  metrics=self.job_metrics)
        self.current_job = job
        if self.on_job_started is not None:
            self.on_job_started(job)

        if not interval_ms and not all(src.source is None or src.source.bounded for src in job.sources):
            for s in inserts:
                if sink_objects[id(s)].needs_checkpoints:
                    job.close()
                    raise ValidationError(f"Table '{s.table}' commits its output on checkpoints "
                                          f"('sink.delivery-guarantee' = 'exactly-once') but the job reads an "
                                          f"unbounded source without them: set 'execution.checkpointing.interval' "
                                          f"and 'execution.checkpointing.dir'")
        coordinator = None
        if storage is not None:
            coordinator = CheckpointCoordinator(job, storage, interval_ms,
                                                cfg.get_int("execution.checkpointing.num-retained", 1),
                                                first_id=_next_id(storage))
        self.current_coordinator = coordinator
        if self._restore(job, storage, sink_objects, fingerprint):
            job.close()
            return

        savepoint_dir = self._savepoint_dir(ckpt_dir)
        if coordinator is not None:
            interval = cfg.get("execution.checkpointing.interval")
            self._announce(interval if interval_ms else None, storage.root, fingerprint,
                           signals=self.signals_handled)

        def on_step():
            while self.savepoint_requests:
                req = self.savepoint_requests.pop(0)
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
                    self.stopped_with_savepoint = self.stop_requested = True
            if coordinator is not None:
                coordinator.maybe_checkpoint()
            if hasattr(self.err, "show"):
                self.err.show(job)

        def before_finish():
            if coordinator is not None:
                coordinator.checkpoint()  # the final, committing checkpoint of a bounded job
        try:
            self.job_running = True
            try:
                finished = job.run(should_stop=lambda: self.stop_requested, on_step=on_step,
                                   before_finish=before_finish)
            except Exception:
                self.failed_writers = list(job.writers.values())
                raise
            if not finished and not self.stopped_with_savepoint:
                if coordinator is not None and self.stop_requested and self.savepoint_on_stop:
                    self._savepoint(coordinator, savepoint_dir)
                else:
                    if self.stop_requested and self.savepoint_on_stop:
                        self.err.write("stopping without a savepoint: 'execution.checkpointing.dir' is not set\n")
                    for w in job.writers.values():
                        w.cancel() if coordinator is not None else w.close()
        finally:
            job.close()
            self._fail_pending_savepoints("the job ended before taking it")
        if self.summary:
            self._summary(job, coordinator)

    def _late_rows_output(self, fingerprint: str, sink_objects: dict) -> LateRowsOutput | None:
        """The table 'table.exec.late-rows.sink' names, opened as one more sink of the job."""
        name = self.session.config.get(LATE_ROWS_OPTION)
        if not name:
            return None
        try:
            tdef = self.session.catalog.lookup(name)
        except SqlStreamError as e:
            raise ValidationError(f"'{LATE_ROWS_OPTION}' = '{name}': {e}") from None
        if not isinstance(tdef, TableDef) or not tdef.connector:
            raise ValidationError(f"'{LATE_ROWS_OPTION}' = '{name}' must name a table with a connector, "
                                  f"not a view")
        fields = tdef.physical_columns
        names, types = [c.name for c in fields], [c.type for c in fields]
        sink = registry.create_sink(tdef.connector, tdef.qualified_name, dict(tdef.options),
                                    TableSchema(names, types, primary_key=list(tdef.primary_key),
                                                partition_keys=list(tdef.partition_keys)))
        output = LateRowsOutput(tdef.qualified_name, names, [t.to_arrow() for t in types], sink.writer(fingerprint))
        sink_objects[id(output)] = sink
        return output

    def _restore(self, job: Job, storage: LocalCheckpointStorage | None, sink_objects: dict, fingerprint: str) -> bool:
        """Restore state if asked or if a completed checkpoint of this job exists. True if already finished.

        Damaged checkpoints are skipped (with a warning naming each) for the newest intact one; the output
        newer checkpoints committed is taken back where the sink can. A job that committed output here
        before but has nothing to restore stops instead of starting over (`--fresh` says to start over).
        """
        explicit = self.restore.from_path or self.session.config.get("execution.savepoint.path")
        path, skipped = None, []
        if self.restore.fresh and not self.restore.from_path:
            pass  # starting over on purpose
        elif explicit:
            manifest, files = read_checkpoint(explicit)
            path = explicit
        elif storage is not None:
            path, manifest, files, skipped = storage.newest_valid()
            for location, why in skipped:
                self.err.write(f"WARNING: {why}; skipped it\n")
            if path is None and (skipped or storage.history() is not None and sink_objects):
                raise CheckpointError(self._nothing_to_restore(storage, skipped, fingerprint))
        if path is None:
            for sink in sink_objects.values():
                sink.recover(fingerprint, [])
            return False
        restored_id = manifest.get("checkpoint_id")
        job.restore(unpack(manifest, files), self.restore.allow_non_restored_state)
        committed = unpack_committables(manifest.get("committables"), files)
        for nid, sink in sink_objects.items():
            if skipped:
                done = sink.rollback(fingerprint, restored_id)
                table = job.nodes[nid].table if nid in job.nodes else job.late_rows.table
                self.err.write(f"WARNING: sink table '{table}': " + (
                    done if done is not None else f"rows committed after checkpoint {restored_id} cannot be taken "
                                                  f"back and are written again") + "\n")
            sink.recover(fingerprint, committed.get(job.uids[nid]) or [])
        kind = manifest.get("kind", "checkpoint")
        job.metrics.restored()
        LOG.info("restored from %s %s (%s)", manifest.get("kind", "checkpoint"), restored_id, path)
        self.err.write(f"restored from {kind} {restored_id} ({path})\n")
        if manifest.get("finished"):
            self.err.write("the job had already finished at that checkpoint; nothing to do\n")
            return True
        return False

    @staticmethod
    def _nothing_to_restore(storage: LocalCheckpointStorage, skipped: list, fingerprint: str) -> str:
        history = storage.history() or {}
        why = "; ".join(reason for _, reason in skipped) or "its checkpoints are gone"
        savepoint = history.get("savepoint")
        resume = f"resume with --from-savepoint {savepoint}, or " if savepoint else ""
        return (f"Job {fingerprint} ran before and committed output (checkpoint folder '{storage.root}'), but "
                f"nothing there can be restored: {why}. Starting over would write its output again: "
                f"{resume}run with --fresh to start over (clear the sinks' output first if it must not repeat), "
                f"or restore a copy with --from-checkpoint PATH")

    def _announce(self, interval: str | None, where: str, job_id: str, signals: bool) -> None:
        """Say once that a checkpointed job runs (its signals are handled from here on), where its checkpoints
        go and how to take a savepoint of it."""
        line = f"Job running: {f'checkpoints every {interval}' if interval else 'no periodic checkpoints'} in {where}"
        if signals:
            line += f"; `sqlstream savepoint {job_id}` writes a savepoint (--stop, or SIGTERM: and stops the job)"
        self.err.write(line + "\n")
        self.err.flush()

    def _savepoint_dir(self, ckpt_dir: str | None) -> str | None:
        """Where this job's savepoints go, fixed when it starts (Flink's key, or its older name)."""
        cfg = self.session.config
        target = cfg.get("execution.checkpointing.savepoint-dir") or cfg.get("state.savepoints.dir")
        if target:
            return _strip_file(target)
        return os.path.join(_strip_file(ckpt_dir), "savepoints") if ckpt_dir else None

    def _savepoint(self, coordinator: CheckpointCoordinator, target: str) -> str:
        location = coordinator.checkpoint(savepoint_dir=target)
        self.err.write(f"{signals.SAVEPOINT_WRITTEN}{location}\n")
        self.err.flush()
        return location

    def _summary(self, job: Job, coordinator: CheckpointCoordinator | None) -> None:
        stopped = " (stopped)" if self.stop_requested else ""
        line = job.stats.summary() + stopped
        if job.late_rows is not None:
            line += f", late rows written to {job.late_rows.table}: {job.late_rows.rows}"
        marks = [m.output_watermark for m in job.op_metrics.values() if m.operator_name == "WatermarkAssigner"]
        if marks and MIN_WATERMARK < min(marks) < MAX_WATERMARK:
            line += f", watermark: {epoch_ms_text(min(marks))}"
        if coordinator is not None:
            line += f", checkpoints: {coordinator.completed}"
        sizes = job.state_sizes()
        if sizes:
            line += ", state: " + ", ".join(f"{uid} {_human(n)}" for uid, n in sizes.items())
        self.err.write(line + "\n")
        if not getattr(job, "finished", False):
            for status in job.watermark_status():
                self.err.write("  " + status + "\n")
        self.err.flush()


MAX_SQL_BYTES = 64 * 1024 * 1024


def read_sql(path: str | None) -> str:
    """The text of a SQL file (stdin for None): at most MAX_SQL_BYTES of UTF-8, else a clear error."""
    try:
        if path is None:
            raw = sys.stdin.buffer.read(MAX_SQL_BYTES + 1)
        else:
            with open(path, "rb") as f:
                raw = f.read(MAX_SQL_BYTES + 1)
    except OSError as e:
        raise SqlStreamError(f"cannot read SQL file '{path}': {e.strerror}") from None
    name = "standard input" if path is None else f"SQL file '{path}'"
    if len(raw) > MAX_SQL_BYTES:
        raise SqlStreamError(f"{name} is larger than {MAX_SQL_BYTES // (1024 * 1024)} MB: not a SQL script")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        col = e.start - (raw.rfind(b"\n", 0, e.start) + 1) + 1
        raise SqlStreamError(f"{name} is not UTF-8 text: byte 0x{raw[e.start]:02x} at line {line}, column "
                             f"{col} (save it as UTF-8)") from None


def _restart_hint(storage: LocalCheckpointStorage | None) -> str:
    """What running the job again after fixing a storage failure does."""
    if storage is None:
        return "The job does not checkpoint ('execution.checkpointing.dir'): after fixing that, a rerun starts from " \
               "the beginning"
    latest = storage.latest()
    if latest is None:
        return "No checkpoint completed yet: after fixing that, run the job again; it starts from the beginning"
    return f"After fixing that, run the job again: it resumes from its last checkpoint ({latest})"


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _strip_file(path: str | None) -> str:
    if path is None:
        return ""
    return path[len("file://"):] if path.startswith("file://") else path


def _next_id(storage: LocalCheckpointStorage) -> int:
    latest = storage.latest()
    highest = 0
    if os.path.isdir(storage.root):
        for d in os.listdir(storage.root):
            if d.startswith("chk-") and d[4:].isdigit():
                highest = max(highest, int(d[4:]))
    return max(highest, int(os.path.basename(latest)[4:]) if latest else 0) + 1


def _human(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"


__all__ = ["ScriptRunner", "RestoreOptions", "RunLimits", "Result", "read_sql"]
