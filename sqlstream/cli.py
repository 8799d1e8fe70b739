"""Command line: `sqlstream run job.sql`, `sqlstream -f job.sql`, and `sqlstream` for the interactive shell."""
from __future__ import annotations

import argparse
import gc
import os
import sys

from sqlstream.core.errors import SqlError, SqlStreamError


def _report(e: BaseException) -> int:
    if isinstance(e, SqlError):
        sys.stderr.write(f"ERROR: {e}\n")
        caret = e.caret()
        if caret:
            sys.stderr.write(caret + "\n")
    elif isinstance(e, SqlStreamError):
        sys.stderr.write(f"ERROR: {e}\n")
    else:
        from sqlstream.core.secrets import redact
        sys.stderr.write(redact(f"ERROR: internal error: {type(e).__name__}: {e}") + "\n")
        if os.environ.get("SQLSTREAM_DEBUG"):
            import traceback
            traceback.print_exc()
    return 1


def _batch_size(text: str) -> int:
    from sqlstream.config import check_int
    from sqlstream.core.errors import ValidationError
    try:
        return check_int("sqlstream.batch-size", text, "the batch size")
    except ValidationError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _count(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of rows, 1 or more, got '{text}'")
    return int(text)


def _parallelism(text: str) -> int:
    from sqlstream.config import check_int
    from sqlstream.core.errors import ValidationError
    try:
        return check_int("parallelism.default", text, "the parallelism")
    except ValidationError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _session(parallelism: int | None, cluster: str | None = None):
    """A session whose jobs run at `parallelism` (the same as SET 'parallelism.default'; a script's SET wins) and,
    with `cluster`, on that Ray cluster (SET 'execution.target' = 'ray' and 'ray.address'). Above parallelism 1
    on this machine the subtasks' fork server starts first, so its start (a fresh interpreter importing the
    runtime, ~0.5 s of CPU) overlaps the session's imports and the planning instead of delaying the job."""
    if parallelism is not None and parallelism > 1 and cluster is None:
        from sqlstream.runtime.parallel.hosts import warm_up
        warm_up()
    from sqlstream.session import Session
    session = Session()
    if parallelism is not None:
        session.config.set("parallelism.default", str(parallelism))
    if cluster is not None:
        session.config.set("execution.target", "ray")
        session.config.set("ray.address", cluster)
    return session


def run_file(path: str, fmt: str, batch_size: int | None, restore=None, limits=None,
             python_files: str | None = None, web: bool = False, metrics_port: str | None = None,
             quiet: bool = False, log_file: str | None = None, parallelism: int | None = None,
             cluster: str | None = None) -> int:
    from sqlstream.script import ScriptRunner, read_sql
    try:
        sql = read_sql(path)
    except SqlStreamError as e:
        return _report(e)
    ui = None
    try:
        session = _session(parallelism, cluster)
        if python_files:
            session.config.set("python.files", python_files)
        if metrics_port is not None:
            session.config.set("metrics.reporter.prom.port", metrics_port)
        runner = ScriptRunner(session, fmt=fmt, batch_size=batch_size, restore=restore, limits=limits,
                              status_line=not quiet, log_file=log_file)
        ui = _RunWebUI(runner, os.path.basename(path), web)
        runner.run(sql)
        ui.ended("CANCELED" if runner.stop_requested else "FINISHED")
    except BrokenPipeError:
        return 0
    except (SqlStreamError, Exception) as e:  # every failure becomes a message, never a traceback
        if ui is not None:
            from sqlstream.runtime.job import failure_text
            ui.ended("FAILED", failure_text(e))
        return _report(e)
    finally:
        if ui is not None:
            ui.stop()
    return 0


class _RunWebUI:
    """The web UI of `sqlstream run`: served once the job starts, with --web or when the script SETs
    'rest.port'; it ends with the process."""

    def __init__(self, runner, name: str, always: bool):
        self.runner, self.name, self.always = runner, name, always
        self.server = self.info = None
        runner.on_job_started = self.started

    def started(self, job) -> None:
        """`job` (a runtime Job) built its dataflow: serve it, or follow it when the script runs the next job."""
        if self.info is not None:
            self.info.job, self.info.plans = job, list(job.roots)
        config = self.runner.session.config
        port = config.get("rest.port")
        if self.server is not None or not (self.always or port is not None):
            return
        import uuid
        from sqlstream.jobs import JobInfo
        from sqlstream.web.server import WebServer
        self.info = JobInfo(uuid.uuid4().hex[:8], self.name, job, plans=list(job.roots))
        self.server = WebServer(lambda: [self.info], config.get("rest.bind-address", "127.0.0.1"),
                                int(port or 0)).start()
        sys.stderr.write(f"Web UI and REST API: {self.server.url}\n")
        sys.stderr.flush()

    def ended(self, status: str, error: str | None = None) -> None:
        if self.info is not None:
            import time
            self.info.status, self.info.error, self.info.ended = status, error, time.time()

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()


COMMANDS = """commands:
  (none)                 the interactive shell (or statements from stdin when it is not a terminal)
  run FILE.sql           run a SQL file: INSERTs as one job, the last SELECT's rows to stdout
  savepoint JOB|PID      ask a running job (its id, its checkpoint folder, or its process) for a savepoint
                         (--stop: then stop it)
  kafka topics|create|produce|consume
                         list and create topics, produce records from a file, read a topic

`sqlstream COMMAND --help` describes a command's options."""


def _import_engine() -> None:
    """Imports the engine (pyarrow, numpy, sqlglot and sqlstream's layers) with the cyclic garbage collector off,
    then freezes what the imports made: tens of thousands of modules, classes and functions that live as long as
    the process and are no garbage, so neither start-up nor a long job's full collections walk them again (about
    a tenth of a short job's CPU time)."""
    if "sqlstream.script" in sys.modules:
        return
    gc.disable()
    try:
        import sqlstream.script  # noqa: F401
    finally:
        gc.freeze()
        gc.enable()


def main(argv: list[str] | None = None) -> int:
    # the engine does no linear algebra: numpy's OpenBLAS would only start threads that spin idle at import
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from sqlstream import signals
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "run":
        signals.install()  # first of all: a signal while the job is starting is kept, not fatal
        p = argparse.ArgumentParser(prog="sqlstream run", description="Run a Flink SQL file.")
        p.add_argument("file")
        p.add_argument("--format", choices=("table", "csv", "jsonl"), default="table")
        p.add_argument("--batch-size", type=_batch_size, default=None,
                       help="rows per batch, 1 or more (results do not depend on it)")
        p.add_argument("--from-checkpoint", "--from-savepoint", dest="from_path", metavar="PATH",
                       help="restore from this checkpoint or savepoint folder")
        p.add_argument("--fresh", action="store_true", help="ignore checkpoints of earlier runs of this job")
        p.add_argument("--allow-non-restored-state", action="store_true",
                       help="restore even if some saved operator state no longer matches the query")
        p.add_argument("--max-rows-in", type=_count, metavar="N",
                       help="each source table ends after N rows, as a bounded table does: windows fire, the job "
                            "finishes (bounds an unbounded job without editing its SQL); the rows are counted from "
                            "the job's start, so a resumed job ends where an uninterrupted run ends")
        p.add_argument("--max-rows-out", type=_count, metavar="N",
                       help="stop each job once its sinks (or the SELECT's result) got N rows")
        p.add_argument("--unthrottled", action="store_true",
                       help="sources ignore their 'rows-per-second': data generators run at full speed")
        p.add_argument("--web", action="store_true",
                       help="serve the web UI and REST API while the job runs, on 'rest.port' if the script SETs "
                            "it, else on a free port (printed)")
        p.add_argument("-pyfs", "--pyFiles", dest="python_files", metavar="FILES",
                       help="Python files or folders the job's Python functions are imported from (comma-separated;"
                            " Flink's SQL client option, the same as SET 'python.files')")
        p.add_argument("--metrics-port", metavar="PORT",
                       help="serve the job's metrics for Prometheus on http://HOST:PORT/metrics (a port, 0 for any "
                            "free one, or a range such as 9249-9259; the same as SET 'metrics.reporter.prom.port')")
        p.add_argument("--quiet", action="store_true",
                       help="no live status line on the terminal (it is shown only when stderr is a terminal)")
        p.add_argument("-p", "--parallelism", type=_parallelism, metavar="N",
                       help="run every operator as N parallel subtasks unless the plan says otherwise (the same as "
                            "SET 'parallelism.default'; a SET in the script wins)")
        p.add_argument("--cluster", metavar="ray://HOST:PORT",
                       help="run the job's parallel subtasks as actors of this Ray cluster (ray://HOST:PORT through "
                            "Ray Client, HOST:PORT from a node of the cluster, or 'auto'); the same as SET "
                            "'execution.target' = 'ray' and SET 'ray.address'")
        p.add_argument("--log-file", metavar="PATH",
                       help="append the job's log (start, stop, checkpoints, restores, restarts, watermark stalls, "
                            "errors) to PATH (default: job.log in the job's checkpoint folder, if it has one)")
        a = p.parse_args(argv[1:])
        _import_engine()
        from sqlstream.script import RestoreOptions, RunLimits
        return run_file(a.file, a.format, a.batch_size,
                        RestoreOptions(a.from_path, a.fresh, a.allow_non_restored_state),
                        RunLimits(a.max_rows_in, a.max_rows_out, a.unthrottled), a.python_files, a.web,
                        a.metrics_port, a.quiet, a.log_file, a.parallelism, a.cluster)
    if argv and argv[0] == "savepoint":
        p = argparse.ArgumentParser(prog="sqlstream savepoint",
                                    description="Ask a running `sqlstream run` process for a savepoint and wait "
                                                "for it to be written.")
        p.add_argument("job", metavar="JOB_ID|CHECKPOINT_DIR|PID",
                       help="the job's id (printed when it starts), its checkpoint folder or the "
                            "'execution.checkpointing.dir' it runs under, or the process id of a `sqlstream run`")
        p.add_argument("--stop", action="store_true", help="stop the job once the savepoint is written")
        p.add_argument("--timeout", type=float, default=60, help="seconds to wait for the answer (default 60)")
        a = p.parse_args(argv[1:])
        from sqlstream.savepoint_client import request_savepoint, resolve_target
        pid = resolve_target(a.job)
        return 1 if pid is None else request_savepoint(pid, a.stop, a.timeout)
    if argv and argv[0] == "kafka":
        from sqlstream.kafka_tool import main as kafka_main
        return kafka_main(argv[1:])
    from sqlstream import __version__
    p = argparse.ArgumentParser(prog="sqlstream", description="Streaming SQL with Flink semantics.",
                                epilog=COMMANDS, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-f", "--file", help="run a SQL file statement by statement as Flink's SQL client does, printing "
                                        "each statement's result ([INFO] .., [ERROR] .., tables); statements "
                                        "piped on stdin run the same way")
    p.add_argument("--continue-on-error", action="store_true",
                   help="with -f or piped statements: go on past a failing statement (the exit code is still 1)")
    p.add_argument("-i", "--init", help="SQL file to run before the prompt")
    p.add_argument("--format", choices=("table", "csv", "jsonl"), default="table")
    p.add_argument("--history", default=None, help="history file (default ~/.sqlstream_history)")
    p.add_argument("--no-web", action="store_true",
                   help="no web UI: the shell otherwise serves one (on 'rest.port', or a free port it prints) once "
                        "a job runs")
    p.add_argument("-p", "--parallelism", type=_parallelism, metavar="N",
                   help="the parallelism of the jobs the session starts (the same as SET 'parallelism.default')")
    p.add_argument("--version", action="version", version=f"sqlstream {__version__}")
    a = p.parse_args(argv)
    if a.file or not sys.stdin.isatty():
        signals.install()
    if a.file or not sys.stdin.isatty():
        _import_engine()
        from sqlstream.client import run_client_script
        from sqlstream.script import read_sql
        try:
            sql = (read_sql(a.init) + "\n" if a.init else "") + read_sql(a.file)
            return run_client_script(sql, sys.stdout, a.continue_on_error, fmt=a.format,
                                     session=_session(a.parallelism))
        except BrokenPipeError:
            return 0
        except Exception as e:
            return _report(e)
    from sqlstream.shell import main_shell
    try:
        return main_shell(a.init, a.history, web=not a.no_web, session=_session(a.parallelism))
    except (SqlStreamError, OSError) as e:
        return _report(e)


if __name__ == "__main__":
    sys.exit(main())
