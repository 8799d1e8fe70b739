"""Runs a .sql script: statements in order; all INSERTs run as one job (a statement set), the last SELECT
streams its changelog to stdout; a short job summary goes to stderr."""
from __future__ import annotations

import signal
import sys
from typing import TextIO

from planner import logical as L
from runtime.executor import Job
from sqlstream.output import ResultWriter
from sqlstream.session import Result, Session, format_rows, parse_script


class ScriptRunner:
    def __init__(self, session: Session | None = None, out: TextIO = sys.stdout, err: TextIO = sys.stderr,
                 fmt: str = "table", batch_size: int | None = None, summary: bool = True):
        self.session = session or Session()
        self.out, self.err, self.fmt = out, err, fmt
        self.batch_size = batch_size
        self.summary = summary
        self.stop_requested = False

    def run(self, sql: str) -> None:
        stmts = parse_script(sql)
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
            elif res.message:
                # keep stdout machine-readable for csv/jsonl: informational lines go to stderr
                (self.out if self.fmt == "table" or stmt.key in ("explainstatement",) else self.err).write(
                    res.message + "\n")
        if inserts:
            self._run_job(inserts, None)

    @staticmethod
    def _is_query(stmt) -> bool:
        from sqlglot import exp
        return isinstance(stmt, (exp.Select, exp.Union, exp.Subquery, exp.Intersect, exp.Except))

    def _run_job(self, inserts: list[L.Sink], query: L.Node | None) -> None:
        from connectors import registry
        from connectors.base import TableSchema
        sinks = []
        for s in inserts:
            sink = registry.create_sink(s.connector, s.table, s.options,
                                        TableSchema(s.names, [f.type for f in s.fields]))
            sinks.append((s, sink.writer()))
        if query is not None:
            writer = ResultWriter(query.names, [f.type for f in query.fields], self.fmt, self.out)
            root = L.Sink(query.fields, query.changelog, input=query, table="<result>", connector="collect")
            sinks.append((root, writer))
        batch = self.batch_size or self.session.config.get_int("sqlstream.batch-size", 65536)
        job = Job(sinks, batch_size=batch)
        previous = {}

        def request_stop(signum, frame):
            self.stop_requested = True
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                previous[sig] = signal.signal(sig, request_stop)
            except ValueError:
                pass
        try:
            job.run(should_stop=lambda: self.stop_requested)
            if self.stop_requested:
                for w in job.writers.values():
                    w.close()
        finally:
            job.close()
            for sig, h in previous.items():
                signal.signal(sig, h)
        if self.summary:
            stopped = " (stopped)" if self.stop_requested else ""
            self.err.write(job.stats.summary() + stopped + "\n")
            self.err.flush()


__all__ = ["ScriptRunner", "Result"]
