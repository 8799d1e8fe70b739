"""Runs a .sql script: statements in order; all INSERTs run as one job (a statement set), the last SELECT
streams its changelog to stdout; a short job summary goes to stderr.

With 'execution.checkpointing.interval' and 'execution.checkpointing.dir' set, the job checkpoints
periodically, resumes from its newest completed checkpoint when run again, writes a savepoint on SIGTERM
(and on SIGUSR1 without stopping), and its file sinks commit exactly once.
"""
from __future__ import annotations

import sys
import threading
from typing import TextIO

from sqlstream.catalog import TableDef
from sqlstream.plan import logical as L
from sqlstream.planner.physical import physical_plan
from sqlstream.planner.scalar_binder import zone_id
from sqlstream.runtime.executor import RunLimits
from sqlstream.runtime.job import Job, RestoreOptions
from sqlstream.runtime.late_rows import OPTION as LATE_ROWS_OPTION, LateRowsTable
from sqlstream.runtime.savepoint import SavepointRequest
from sqlstream import signals
from sqlstream.config import check_int
from sqlstream.deep import run_deep
from sqlstream.core.errors import SqlStreamError, ValidationError
from sqlstream.output import ResultWriter
from sqlstream.dialect import expressions as fx
from sqlstream.session import Result, Session, format_rows, parse_script


class ScriptRunner:
    """Runs a script's statements in a session, and its jobs (`runtime/job.py`) one after another in the
    foreground; signals and savepoint requests reach the job that runs."""

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
        self.stop_requested = False  # a stop asked for while no job ran stops the next one at once
        self.signals_handled = False  # this runner's job answers SIGTERM/SIGUSR1/SIGUSR2 (the process's main thread)
        self.current_job: Job | None = None  # the newest job, running or ended
        self._active: Job | None = None  # the job that runs now
        self._pending: list[SavepointRequest] = []  # savepoints asked for while no job ran
        self._lock = threading.Lock()
        self.on_job_started = None  # called with each Job once its dataflow is built (`sqlstream run --web`)

    @property
    def job_metrics(self):
        """The current (or last) job's metrics, kept across its restarts."""
        return self.current_job.metrics if self.current_job is not None else None

    def request_savepoint(self, stop: bool = False) -> SavepointRequest:
        """Ask the running job (else the next one, at its first step) for a savepoint, and to stop once it is
        written; the request tells the outcome."""
        req = SavepointRequest(stop, signals.announce)
        with self._lock:
            if self._active is None:
                self._pending.append(req)
                return req
            job = self._active
        return job.request_savepoint(req)

    def stop(self) -> None:
        """Stop the running job (with a savepoint where it checkpoints) and every later one at once."""
        self.stop_requested = True
        with self._lock:
            if self._active is not None:
                self._active.stop()

    def _on_signal(self, what: str) -> None:
        if what == signals.STOP:
            self.stop()
        else:
            self.request_savepoint(stop=what == signals.SAVEPOINT_AND_STOP)

    def _fail_pending_savepoints(self, reason: str) -> None:
        with self._lock:
            pending, self._pending = self._pending, []
        for req in pending:
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
                    self.run_job(inserts, res.plan)
                    inserts = []
                else:
                    self.run_job([], res.plan)
            elif res.kind == "rows":
                format_rows(res.columns, res.rows, self.out)
                if res.message:
                    self.out.write(res.message + "\n")
            elif res.message:
                # keep stdout machine-readable for csv/jsonl: informational lines go to stderr
                (self.out if self.fmt == "table" or stmt.key in ("explainstatement",) else self.err).write(
                    res.message + "\n")
        if inserts:
            self.run_job(inserts, None)

    @staticmethod
    def _is_query(stmt) -> bool:
        from sqlglot import exp
        return isinstance(stmt, (exp.Select, exp.Union, exp.Subquery, exp.Intersect, exp.Except, exp.Values))

    # ---- one job --------------------------------------------------------------------------------
    def run_query(self, root: L.Sink, writer) -> Job:
        """Run a query whose rows go to a given writer (the shell's display modes, benchmarks)."""
        return self.run_job([], None, result=(root, writer))

    def run_job(self, inserts: list[L.Sink], query: L.Node | None, result=None) -> Job:
        """Run one job to its end in this thread: the INSERTs, the query whose rows go to this runner's output
        in its format, and a (sink node, writer) pair whose rows go to that writer."""
        if not (self.status_line and _isatty(self.err)):
            return self._run_job(inserts, query, result)
        from sqlstream.status_line import StatusLine
        outer, self.err = self.err, StatusLine(self.err)
        try:
            return self._run_job(inserts, query, result)
        finally:
            self.err.clear()
            self.err = outer

    def _run_job(self, inserts: list[L.Sink], query: L.Node | None, result=None) -> Job:
        results = []
        if query is not None:
            root = L.Sink(query.fields, query.changelog, input=query, table="<result>", connector="collect")
            zone = zone_id(self.session.config.get("table.local-time-zone"))
            results.append((root, ResultWriter(query.names, [f.type for f in query.fields], self.fmt, self.out,
                                               zone)))
        if result is not None:
            results.append(result)
        job = build_job(self.session, inserts, results, batch_size=self.batch_size, limits=self.limits,
                        restore=self.restore, log=self.err, log_file=self.log_file, summary=self.summary)
        job.on_started = self.on_job_started
        if hasattr(self.err, "show"):
            job.on_step = lambda j: self.err.show(j.dataflow)
        if self.signals_handled:
            job.running_note = (f"; `sqlstream savepoint {job.id}` writes a savepoint (--stop, or SIGTERM: and "
                                f"stops the job)")
        with self._lock:
            self.current_job = self._active = job
            pending, self._pending = self._pending, []
            if self.stop_requested:
                job.stop()
        for req in pending:
            job.request_savepoint(req)
        serve_metrics(self.session, self.err)
        try:
            job.run()
        finally:
            with self._lock:
                self._active = None
        return job


def build_job(session: Session, targets: list[L.Sink], results: list | None = None, **options) -> Job:
    """A runtime Job for a session's INSERTs and result writers: their physical plan under the session's
    configuration and the late-rows table it names; `options` are Job's (log, batch_size, restore, ...)."""
    config = session.config.effective()
    results = list(results or [])
    plan = physical_plan([*targets, *(root for root, _ in results)], config)
    return Job(plan, targets, results, late_rows=late_rows_table(session), config=config, **options)


def serve_metrics(session: Session, err: TextIO) -> None:
    """Serve the jobs' metrics for Prometheus when 'metrics.reporter.prom.port' is set (once per process)."""
    port = session.config.get("metrics.reporter.prom.port")
    if port:
        from sqlstream.prometheus import serve
        err.write(f"Metrics: http://localhost:{serve(port)}/metrics (Prometheus)\n")
        err.flush()


def late_rows_table(session: Session) -> LateRowsTable | None:
    """The table 'table.exec.late-rows.sink' names, or None when it is not set."""
    name = session.config.get(LATE_ROWS_OPTION)
    if not name:
        return None
    try:
        tdef = session.catalog.lookup(name)
    except SqlStreamError as e:
        raise ValidationError(f"'{LATE_ROWS_OPTION}' = '{name}': {e}") from None
    if not isinstance(tdef, TableDef) or not tdef.connector:
        raise ValidationError(f"'{LATE_ROWS_OPTION}' = '{name}' must name a table with a connector, not a view")
    fields = tdef.physical_columns
    return LateRowsTable(tdef.qualified_name, tdef.connector, dict(tdef.options), [c.name for c in fields],
                         [c.type for c in fields], list(tdef.primary_key), list(tdef.partition_keys))


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


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


__all__ = ["ScriptRunner", "RestoreOptions", "RunLimits", "Result", "build_job", "read_sql"]
