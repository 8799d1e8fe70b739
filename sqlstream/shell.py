"""Interactive SQL shell: multi-line statements ending with ';', history, highlighting, completion from the
live catalog, Flink's result modes, background INSERT jobs (SHOW JOBS, STOP JOB), Ctrl-C to cancel a query."""
from __future__ import annotations

import os
import re
import sys
import threading
import time
from typing import TextIO

from sqlstream.connectors.base import SinkWriter
from sqlstream.plan import logical as L
from sqlstream.planner.scalar_binder import zone_id
from sqlstream.deep import deep_thread, run_deep
from sqlstream.dialect import expressions as fx
from sqlstream.core.errors import SqlError, SqlStreamError
from sqlstream.jobs import JobManager
from sqlstream.output import MAX_WIDTH, ResultWriter, display_strings, fit
from sqlstream.core.secrets import redact
from sqlstream.session import JOB_COLUMNS, Session, format_rows, parse_script

PROMPT = "Flink SQL> "
CONTINUATION = "         > "


def statement_complete(text: str) -> bool:
    """True when the text holds at least one ';' outside quotes and comments, and nothing but space after it."""
    in_quote, last_semicolon, i = None, -1, 0
    while i < len(text):
        c = text[i]
        if in_quote:
            if c == in_quote:
                in_quote = None
        elif c in ("'", "`", '"'):
            in_quote = c
        elif text.startswith("--", i):
            j = text.find("\n", i)
            i = len(text) if j < 0 else j
            continue
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = len(text) if j < 0 else j + 2
            continue
        elif c == ";":
            last_semicolon = i
        i += 1
    if in_quote:
        return False
    stripped = text.strip().rstrip(";").strip().upper()
    if stripped in ("QUIT", "EXIT", "HELP") and not text.strip().endswith(";"):
        return True
    return last_semicolon >= 0 and not text[last_semicolon + 1:].strip()


class Shell:
    def __init__(self, session: Session | None = None, out: TextIO | None = None, history: str | None = None,
                 web: bool = False):
        self.session = session or Session()
        self.web = web  # serve the web UI once a job runs ('rest.port' SET turns it on too)
        self.web_server = None
        self.out = out or sys.stdout
        self.jobs = JobManager(self.session, on_failure=self._job_failed)
        self.statement_set: list[L.Sink] = []  # INSERTs between BEGIN STATEMENT SET and END
        self.app = None  # the prompt while it is shown: messages from jobs are printed above it
        self.history = history or os.path.expanduser("~/.sqlstream_history")

    # ---- the prompt ----------------------------------------------------------------------------
    def prompt_session(self, input=None, output=None):
        from prompt_toolkit import PromptSession
        from prompt_toolkit.key_binding import KeyBindings
        from prompt_toolkit.lexers import PygmentsLexer
        from pygments.lexers.sql import SqlLexer

        from sqlstream.completion import SqlCompleter
        from sqlstream.history import PrivateHistory
        keys = KeyBindings()

        @keys.add("enter")
        def _(event):
            buf = event.current_buffer
            if statement_complete(buf.text):
                buf.validate_and_handle()
            else:
                buf.insert_text("\n")
        try:
            history = PrivateHistory(self.history)
        except OSError:
            history = None
        return PromptSession(message=PROMPT, multiline=True, key_bindings=keys, lexer=PygmentsLexer(SqlLexer),
                             completer=SqlCompleter(self.session), complete_while_typing=False, history=history,
                             prompt_continuation=lambda width, line, soft: CONTINUATION, input=input, output=output)

    def loop(self, input=None, output=None) -> int:
        session = self.prompt_session(input, output)
        self.app = session.app
        self.out.write("sqlstream interactive shell. Statements end with ';'. HELP; for help, QUIT; to leave.\n\n")
        while True:
            try:
                text = session.prompt()
            except KeyboardInterrupt:
                continue
            except EOFError:
                break
            if not self.execute_text(text):
                break
        self.app = None
        self.quit()
        return 0

    def quit(self) -> None:
        """Leave the session: say which running jobs are being stopped, stop them, then say goodbye."""
        for line in self.jobs.stop_all():
            self.out.write(f"[INFO] {line}\n")
            self.out.flush()
        if self.web_server is not None:
            self.web_server.stop()
            self.web_server = None
        self.out.write("Goodbye!\n")

    def _job_failed(self, info) -> None:
        """A background job failed: say so at once, above the prompt if one is shown."""
        self._notify(f"[ERROR] Job '{info.id}' ({info.name}) failed: {info.error}\n")

    def _notify(self, text: str) -> None:
        app = self.app
        if app is not None and app.is_running and app.loop is not None:
            from prompt_toolkit.application import run_in_terminal

            def write():
                self.out.write(text)
                self.out.flush()
            app.loop.call_soon_threadsafe(lambda: run_in_terminal(write))
        else:
            self.out.write(text)
            self.out.flush()

    # ---- statements ------------------------------------------------------------------------------
    def execute_text(self, text: str) -> bool:
        """Run every statement in `text`; False when the user asked to quit."""
        if not text.strip():
            return True
        try:
            stmts = parse_script(text)
        except SqlError as e:
            self._error(e)
            return True
        inserts: list[L.Sink] = []
        for stmt in stmts:
            if isinstance(stmt, fx.ClientCommand) and stmt.this.name == "QUIT":
                if inserts:
                    self._submit(inserts)
                return False
            try:
                self._execute(stmt, text, inserts)
            except (SqlStreamError, KeyError, ValueError) as e:
                self._error(e)
                return True
            except Exception as e:  # an engine bug must not end the session or lose what was typed
                self._error(e)
                return True
        if inserts:
            self._submit(inserts)
        return True

    def _execute(self, stmt, text: str, inserts: list) -> None:
        if isinstance(stmt, fx.ShowStatement) and stmt.this.name == "JOBS":
            format_rows(JOB_COLUMNS, self.jobs.rows(), self.out)
            failed = [info.id for info in self.jobs.jobs.values() if info.error is not None]
            if failed:
                self.out.write(f"[INFO] DESCRIBE JOB '{failed[-1]}'; shows a job's whole error, plan, operator "
                               f"metrics and last checkpoint\n")
            return
        if isinstance(stmt, fx.DescribeJobStatement):
            format_rows(JOB_COLUMNS, [self.jobs.describe(stmt.this.name)], self.out)
            self.out.write(self.jobs.details(stmt.this.name))
            return
        if isinstance(stmt, fx.StopJobStatement):
            self.out.write("[INFO] " + self.jobs.stop(stmt.this.name, bool(stmt.args.get("savepoint"))) + "\n")
            return
        res = self.session.execute(stmt, text)
        if isinstance(stmt, fx.StatementSetEnd):  # END: the statement set's INSERTs run as one job
            pending, self.statement_set = self.statement_set, []
            if pending:
                inserts.extend(pending)
            else:
                self.out.write((res.message or "[INFO] Execute statement succeeded.") + "\n")
            return
        if self.session.in_statement_set:  # BEGIN STATEMENT SET and the INSERTs after it wait for END
            if res.kind == "insert":
                self.statement_set.append(res.plan)
            self.out.write("[INFO] Execute statement succeeded.\n")
            return
        if res.kind == "insert":
            inserts.append(res.plan)
        elif res.kind == "query":
            self._run_query(res.plan)
        elif res.kind == "rows":
            format_rows(res.columns, res.rows, self.out)
            if res.message:
                self.out.write(res.message + "\n")
        elif res.message:
            self.out.write(res.message + "\n")

    def _submit(self, inserts: list[L.Sink]) -> None:
        info = self.jobs.submit(inserts)
        self.out.write(f"[INFO] Submitting SQL update statement to the cluster...\n"
                       f"[INFO] SQL update statement has been successfully submitted to the cluster:\n"
                       f"Job ID: {info.id}\n")
        self._web_ui()

    def _web_ui(self) -> None:
        """Serve the web UI once a job runs (not at start-up, which stays fast), on 'rest.port' or a free port."""
        port = self.session.config.get("rest.port")
        if not (self.web or port is not None):
            return
        wanted = int(port) if port is not None else 0
        if self.web_server is not None:
            if port is None or wanted == self.web_server.requested_port:
                return
            self.web_server.stop()
            self.web_server = None
        from sqlstream.web.server import WebServer
        host = self.session.config.get("rest.bind-address", "127.0.0.1")
        try:
            self.web_server = WebServer(lambda: list(self.jobs.jobs.values()), host, wanted).start()
        except SqlStreamError as e:
            self.web = False
            self.out.write(f"[WARNING] {e}\n")
            return
        self.out.write(f"[INFO] Web UI and REST API: {self.web_server.url}\n")

    def _run_query(self, plan: L.Node) -> None:
        """Run a SELECT in the foreground; Ctrl-C cancels it and returns to the prompt."""
        from sqlstream.script import build_job
        mode = self.session.config.get("sql-client.execution.result-mode", "table").lower()
        names, types = plan.names, [f.type for f in plan.fields]
        zone = zone_id(self.session.config.get("table.local-time-zone"))
        writer = MaterializedView(names, self.out, lambda: _watermark(job), zone) if mode == "table" else (
            ChangelogPrinter(names, self.out, zone) if mode == "changelog" else
            ResultWriter(names, types, "table", self.out, zone))
        root = L.Sink(plan.fields, plan.changelog, input=plan, table="<result>", connector="collect")
        job = run_deep(build_job, self.session, [], [(root, writer)], summary=False)
        error: list[BaseException] = []

        def run():
            try:
                run_deep(job.run)
            except BaseException as e:  # shown at the prompt
                error.append(e)
        t = deep_thread(run, "query", daemon=True)
        if isinstance(writer, MaterializedView) and self.out is sys.stdout and sys.stdout.isatty():
            self._full_screen(writer, t)
            job.cancel()
            t.join(10)
            writer.tty = False
            writer.refresh(final=True)
            self.out.write("[INFO] Query cancelled.\n" if t.is_alive() or not writer.done else
                           "[INFO] Query finished.\n")
            if error:
                raise error[0]
            return
        try:
            while t.is_alive():
                t.join(0.1)
                if isinstance(writer, MaterializedView):
                    writer.refresh()
        except KeyboardInterrupt:
            job.cancel()
            t.join(10)
            if isinstance(writer, MaterializedView):
                writer.refresh(final=True)
            self.out.write("[INFO] Query cancelled.\n")
            if error:
                raise error[0]
            return
        if isinstance(writer, MaterializedView):
            writer.refresh(final=True)
        if error:
            raise error[0]

    def _full_screen(self, view: "MaterializedView", job: threading.Thread) -> None:
        """The result as a full-screen table: updated in place, paged with arrows/PgUp/PgDn, left with q."""
        from prompt_toolkit.application import Application
        from prompt_toolkit.key_binding import KeyBindings
        from prompt_toolkit.layout import Layout, Window
        from prompt_toolkit.layout.controls import FormattedTextControl
        keys = KeyBindings()
        offset = [0]
        page = [20]

        @keys.add("q")
        @keys.add("c-c")
        def _(event):
            event.app.exit()

        @keys.add("down")
        def _(event):
            offset[0] += 1

        @keys.add("up")
        def _(event):
            offset[0] = max(0, offset[0] - 1)

        @keys.add("pagedown")
        def _(event):
            offset[0] += page[0]

        @keys.add("pageup")
        def _(event):
            offset[0] = max(0, offset[0] - page[0])

        def text():
            from prompt_toolkit.application import get_app
            page[0] = max(1, get_app().output.get_size().rows - 7)
            view.done = not job.is_alive()
            lines, total = view.render(offset[0], page[0])
            offset[0] = min(offset[0], max(0, total - page[0]))
            return "\n".join(lines)
        app = Application(layout=Layout(Window(FormattedTextControl(text))), key_bindings=keys, full_screen=True,
                          refresh_interval=0.3)
        app.run()

    def _error(self, e: BaseException) -> None:
        if isinstance(e, SqlError):
            self.out.write(f"[ERROR] {e}\n")
            caret = e.caret()
            if caret:
                self.out.write(caret + "\n")
        elif isinstance(e, KeyError):
            self.out.write(redact(f"[ERROR] {e.args[0]}") + "\n")
        else:
            self.out.write(redact(f"[ERROR] {e}") + "\n")


def _watermark(job) -> str | None:
    current = job.watermark()
    if current is None:
        return None
    if current >= 2 ** 63 - 1:
        return "end of input"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(current / 1000)) + ".%03d" % (current % 1000)


class ChangelogPrinter(SinkWriter):
    """'changelog' mode: one line per change, with its RowKind."""

    def __init__(self, names: list[str], out: TextIO, zone: str = "UTC"):
        self.names, self.out, self.zone = names, out, zone
        self.out.write(" op | " + " | ".join(names) + "\n")

    def write(self, batch) -> None:
        from sqlstream.core.changelog import OP_NAMES
        cols = [display_strings(batch.column(i), self.zone) for i in range(1, batch.num_columns)]
        for r, op in enumerate(batch.column(0).to_pylist()):
            self.out.write(f" {OP_NAMES[op]} | " + " | ".join(c[r] for c in cols) + "\n")
        self.out.flush()


class MaterializedView(SinkWriter):
    """'table' mode: the result as a table kept up to date as -U/+U/-D arrive, redrawn in place."""

    MAX_ROWS = 40

    def __init__(self, names: list[str], out: TextIO, watermark=lambda: None, zone: str = "UTC"):
        self.names, self.out, self.zone = names, out, zone
        self.watermark = watermark
        self.rows: list[list[str]] = []
        self.lock = threading.Lock()
        self.changed = False
        self.drawn_lines = 0
        self.last_draw = 0.0
        self.done = False
        self.tty = getattr(out, "isatty", lambda: False)()

    def render(self, offset: int, height: int) -> tuple[list[str], int]:
        """Lines of the full-screen view: the table from row `offset`, at most `height` rows, and a status."""
        with self.lock:
            rows = list(self.rows)
        shown = rows[offset:offset + height]
        lines = _bordered(self.names, shown)
        wm = self.watermark()
        status = (f"{len(rows)} rows in result (rows {offset + 1 if rows else 0}-{offset + len(shown)}); "
                  f"updated {time.strftime('%H:%M:%S')}" + (f"; watermark {wm}" if wm else "") +
                  ("; finished" if self.done else ""))
        lines += [status, "q or Ctrl-C to stop and leave; Up/Down/PgUp/PgDn to page"]
        return lines, len(rows)

    def write(self, batch) -> None:
        cols = [display_strings(batch.column(i), self.zone) for i in range(1, batch.num_columns)]
        with self.lock:
            for r, op in enumerate(batch.column(0).to_pylist()):
                row = [c[r] for c in cols]
                if op in (0, 2):
                    self.rows.append(row)
                else:
                    try:
                        self.rows.remove(row)
                    except ValueError:
                        pass
            self.changed = True

    def refresh(self, final: bool = False) -> None:
        if not self.tty and not final:
            return
        now = time.monotonic()
        with self.lock:
            if not self.changed and not final:
                return
            if not final and now - self.last_draw < 0.3:
                return
            rows = list(self.rows)
            self.changed = False
        lines = _bordered(self.names, rows[: self.MAX_ROWS])
        more = f" (showing {self.MAX_ROWS})" if len(rows) > self.MAX_ROWS else ""
        status = f"{len(rows)} row{'s' if len(rows) != 1 else ''} in result{more}; updated {time.strftime('%H:%M:%S')}"
        wm = self.watermark()
        if wm:
            status += f"; watermark {wm}"
        lines.append(status + ("" if final else "; Ctrl-C to stop"))
        if self.tty and self.drawn_lines:
            self.out.write(f"\x1b[{self.drawn_lines}F\x1b[J")
        self.out.write("\n".join(lines) + "\n")
        self.out.flush()
        self.drawn_lines = len(lines)
        self.last_draw = now


def _bordered(names: list[str], rows: list[list[str]]) -> list[str]:
    """A table whose columns fit the header and the values shown (up to MAX_WIDTH, then cut visibly)."""
    widths = [min(MAX_WIDTH, max([len(n)] + [len(r[i]) for r in rows])) for i, n in enumerate(names)]
    border = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    lines = [border, "|" + "|".join(f" {fit(n, w):>{w}} " for n, w in zip(names, widths)) + "|", border]
    lines += ["|" + "|".join(f" {fit(v, w):>{w}} " for v, w in zip(r, widths)) + "|" for r in rows]
    lines.append(border)
    return lines


def main_shell(init: str | None, history: str | None, web: bool = True, session: Session | None = None) -> int:
    shell = Shell(session, history=history, web=web)
    if init:
        from sqlstream.script import read_sql
        shell.execute_text(read_sql(init))
    return shell.loop()


__all__ = ["Shell", "statement_complete", "main_shell", "re"]
