"""Runs a script statement by statement as Flink's SQL client runs `sql-client.sh -f`: each statement's result
printed as the client prints it ([INFO] ..., [ERROR] Could not execute SQL statement. Reason: ..., tables),
stopping at the first failure unless told to continue past it.

An INSERT (or a statement set's END) runs to completion before the next statement, as Flink's client does with
'table.dml-sync' = 'true': in one process there is no cluster to hand a job to.
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from typing import TextIO

from sqlstream.connectors.base import SinkWriter
from sqlstream.plan import logical as L
from sqlstream.planner.scalar_binder import zone_id
from sqlstream.deep import run_deep
from sqlstream.dialect import expressions as fx
from sqlstream.core.errors import SqlError, SqlStreamError, ValidationError
from sqlstream.output import ResultWriter, display_strings
from sqlstream.core.secrets import redact
from sqlstream.session import HELP, Session, format_rows, parse_script

SUCCEEDED = "[INFO] Execute statement succeeded."
DML_DONE = "[INFO] Complete execution of the SQL update statement."
ERROR_HEAD = "[ERROR] Could not execute SQL statement. Reason:"


def split_statements(sql: str) -> list[str]:
    """The statements of a script, each with its ';': split at ';' outside quotes and comments.

    An unterminated quote or comment keeps the rest of the text in one statement (which then fails to parse
    on its own, as in Flink's client, instead of swallowing the statements after it silently)."""
    return [text for _, text in statement_spans(sql)]


def statement_spans(sql: str) -> list[tuple[int, str]]:
    """Each statement with the offset where its text starts in the script."""
    out, start = [], 0
    for end in terminators(sql):
        out.append((start, sql[start:end + 1]))
        start = end + 1
    out.append((start, sql[start:]))
    return [(at, text) for at, text in out if _has_code(text)]


SET_BLOCK = re.compile(r"(?:\s|--[^\n]*\n|/\*.*?\*/)*(?:EXPLAIN|EXECUTE)\b[\w\s,]*?\bSTATEMENT\s+SET\s+BEGIN\b",
                       re.I | re.S)
BLOCK_END = re.compile(r"(?:\s|--[^\n]*\n|/\*.*?\*/)*END\s*;?\s*", re.I | re.S)


def statement_blocks(spans: list[tuple[int, str]]) -> list[list[tuple[int, str]]]:
    """Statements grouped as Flink's client reads them: `EXECUTE|EXPLAIN STATEMENT SET BEGIN ..; ..; END;` is
    one statement, so a failure inside it stops the whole block (no INSERT of it runs on its own)."""
    blocks, i = [], 0
    while i < len(spans):
        j = i + 1
        opens = SET_BLOCK.match(spans[i][1])
        if opens and not BLOCK_END.fullmatch(spans[i][1][opens.end():]):  # not `.. BEGIN END;` in one piece
            while j < len(spans) and not BLOCK_END.fullmatch(spans[j][1]):
                j += 1
            j = min(j + 1, len(spans))  # through the END
        blocks.append(spans[i:j])
        i = j
    return blocks


def in_place(sql: str, at: int, text: str) -> str:
    """The statement's text behind blanks that keep its lines and columns those of the script (an error names
    the line of the file, not of the statement)."""
    before = sql[:at]
    line_start = before.rfind("\n") + 1
    return "\n" * before.count("\n") + " " * (at - line_start) + text


def ends_statement(text: str) -> bool:
    """True when the text ends with a ';' that ends a statement (not one inside a quote or a comment)."""
    ends = terminators(text)
    return bool(ends) and not text[ends[-1] + 1:].strip()


def terminators(sql: str) -> list[int]:
    """Offsets of the ';'s outside quotes and comments."""
    out, i, n = [], 0, len(sql)
    while i < n:
        c = sql[i]
        if c in ("'", "`", '"'):
            j = i + 1
            while j < n:
                if sql[j] == c:
                    if j + 1 < n and sql[j + 1] == c:  # a doubled quote stays inside
                        j += 2
                        continue
                    break
                j += 1
            i = j + 1
            continue
        if sql.startswith("--", i):
            j = sql.find("\n", i)
            i = n if j < 0 else j + 1
            continue
        if sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            i = n if j < 0 else j + 2
            continue
        if c == ";":
            out.append(i)
        i += 1
    return out


def _has_code(text: str) -> bool:
    """True when the text holds more than blanks, comments and a ';'."""
    i, n = 0, len(text)
    while i < n:
        if text.startswith("--", i):
            j = text.find("\n", i)
            i = n if j < 0 else j + 1
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            if j < 0:
                return True
            i = j + 2
        elif text[i].isspace() or text[i] == ";":
            i += 1
        else:
            return True
    return False


@dataclass
class Outcome:
    """What one statement did, as Flink's client reports it: a message, a table of rows, or an error."""

    kind: str  # "info" | "rows" | "changelog" | "printed" (rows already shown) | "error" | "quit"
    message: str = ""
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)  # display strings; "changelog" rows start with the op
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.kind != "error"


class _Collect(SinkWriter):
    """Keeps a query's changelog as display strings (op first)."""

    def __init__(self, zone: str, types: list):
        self.zone, self.types, self.rows = zone, types, []

    def write(self, batch) -> None:
        if batch.num_rows == 0:
            return
        from sqlstream.core.changelog import OP_NAMES
        ops = [OP_NAMES[o] for o in batch.column(0).to_pylist()]
        cols = [display_strings(c, self.zone, t) for c, t in zip(batch.columns[1:], self.types)]
        for r, op in enumerate(ops):
            self.rows.append([op] + [c[r] for c in cols])


class ClientScript:
    """Executes statements one at a time on one session, keeping Flink's client state (statement sets)."""

    def __init__(self, session: Session | None = None, batch_size: int | None = None, out: TextIO | None = None,
                 fmt: str = "table"):
        """With `out`, a query's rows are printed there as they are produced (an unbounded query shows its rows
        while it runs), as a table with the op column or as csv or jsonl (`fmt`); without, they are collected
        into the outcome."""
        self.session = session or Session()
        self.batch_size = batch_size
        self.out, self.fmt = out, fmt
        self.statement_set: list[L.Sink] | None = None

    def abandon_statement_set(self) -> None:
        """Forget a statement set a failed statement left open (its INSERTs are not run)."""
        self.statement_set = None
        self.session.in_statement_set = False
        self.session.explained_set = None

    def execute(self, text: str) -> Outcome:
        """Run one statement's text (one statement, with or without its ';')."""
        try:
            stmts = parse_script(text)
        except SqlError as e:
            return Outcome("error", error=e)
        except Exception as e:  # a bug must become a reported error, never end the script silently
            return Outcome("error", error=e)
        if not stmts:
            return Outcome("info", "")
        try:
            if len(stmts) > 1:
                raise ValidationError("only single statement supported")
            return self._execute(stmts[0], text)
        except (SqlStreamError, KeyError, ValueError) as e:
            return Outcome("error", error=e)
        except Exception as e:
            return Outcome("error", error=e)

    def _execute(self, stmt, text: str) -> Outcome:
        if isinstance(stmt, fx.ClientCommand):
            return Outcome("quit") if stmt.this.name == "QUIT" else Outcome("info", HELP.rstrip("\n"))
        if self.statement_set is not None:
            return self._in_statement_set(stmt, text)
        if isinstance(stmt, fx.StatementSetBegin):  # BEGIN STATEMENT SET, or EXECUTE STATEMENT SET BEGIN INSERT ..
            res = self.session.execute(stmt, text)
            self.statement_set = [res.plan] if stmt.this is not None else []
            return Outcome("info", SUCCEEDED)
        res = self.session.execute(stmt, text)
        if res.kind == "insert":
            self._run([res.plan], None)
            return Outcome("info", DML_DONE)
        if res.kind == "query":
            if self.out is not None:
                self._run([], res.plan)
                return Outcome("printed")
            return Outcome("changelog", columns=list(res.plan.names), rows=self._run([], res.plan))
        if res.kind == "rows":
            return Outcome("rows", res.message, [str(c) for c in res.columns],
                           [["<NULL>" if v is None else str(v) for v in r] for r in res.rows])
        if res.kind == "quit":
            return Outcome("quit")
        return Outcome("info", res.message or SUCCEEDED)

    def _in_statement_set(self, stmt, text: str) -> Outcome:
        """BEGIN STATEMENT SET; .. END;: the INSERTs are kept and run as one job at END (the session checks that
        nothing else comes in between)."""
        res = self.session.execute(stmt, text)
        if isinstance(stmt, fx.StatementSetEnd):
            inserts, self.statement_set = self.statement_set, None
            if not inserts:
                return Outcome("info", SUCCEEDED)
            self._run(inserts, None)
            return Outcome("info", DML_DONE)
        self.statement_set.append(res.plan)
        return Outcome("info", SUCCEEDED)

    def _run(self, inserts: list[L.Sink], query: L.Node | None) -> list[list[str]]:
        """Run one job to its end: the INSERTs, and the query whose rows are returned."""
        from sqlstream import signals
        from sqlstream.script import ScriptRunner
        runner = ScriptRunner(self.session, out=_Discard(), err=_Discard(), batch_size=self.batch_size,
                              summary=False)
        zone = zone_id(self.session.config.get("table.local-time-zone"))
        writer = None
        if query is not None:
            writer = _Collect(zone, [f.type for f in query.fields]) if self.out is None else \
                ResultWriter(query.names, [f.type for f in query.fields], self.fmt, self.out, zone)
        previous = signals.install()
        signals.listen(runner._on_signal)  # Ctrl-C / SIGTERM stop this job, as they stop `sqlstream run`
        try:
            if writer is None:
                run_deep(runner.run_job, inserts, None)  # setting up a deep plan recurses as deeply as planning
            else:
                root = L.Sink(query.fields, query.changelog, input=query, table="<result>", connector="collect")
                run_deep(runner.run_job, inserts, None, (root, writer))
        finally:
            signals.unlisten()
            signals.restore(previous)
        if isinstance(writer, ResultWriter) and writer.rows == 0 and self.fmt == "table":
            self.out.write("Empty set\n")
        return writer.rows if isinstance(writer, _Collect) else []


class _Discard:
    def write(self, s):
        pass

    def flush(self):
        pass


def error_text(e: BaseException) -> str:
    """The reason line(s) after '[ERROR] Could not execute SQL statement. Reason:'."""
    if isinstance(e, SqlError):
        caret = e.caret()
        return f"{type(e).__name__}: {e}" + (f"\n{caret}" if caret else "")
    if isinstance(e, KeyError):
        return f"ValidationError: {e.args[0]}"
    if isinstance(e, SqlStreamError):
        return f"{type(e).__name__}: {e}"
    return redact(f"InternalError: {type(e).__name__}: {e}")


def print_outcome(o: Outcome, out: TextIO, zone_names=None) -> None:
    """Print a statement's outcome as Flink's SQL client does."""
    if o.kind == "error":
        out.write(ERROR_HEAD + "\n" + error_text(o.error) + "\n")
    elif o.kind == "rows":
        if o.rows:
            format_rows(o.columns, o.rows, out)
        else:
            out.write("Empty set\n")
        if o.message:
            out.write(o.message + "\n")
    elif o.kind == "changelog":
        _print_changelog(o, out)
    elif o.message:
        out.write(o.message + "\n")
    out.write("\n")
    out.flush()


def _print_changelog(o: Outcome, out: TextIO) -> None:
    """A query's rows in the client's tableau form: op column, right-aligned cells, the total at the end."""
    if not o.rows:
        out.write("Empty set\n")
        return
    widths = [max([len(c)] + [len(r[i + 1]) for r in o.rows]) for i, c in enumerate(o.columns)]
    border = "+----+" + "+".join("-" * (w + 2) for w in widths) + "+"
    out.write(border + "\n| op |" + "|".join(f" {c:>{w}} " for c, w in zip(o.columns, widths)) + "|\n" + border +
              "\n")
    for r in o.rows:
        out.write(f"| {r[0]} |" + "|".join(f" {v:>{w}} " for v, w in zip(r[1:], widths)) + "|\n")
    out.write(border + "\n")
    out.write(f"Received a total of {len(o.rows)} row{'s' if len(o.rows) != 1 else ''}\n")


def run_client_script(sql: str, out: TextIO = sys.stdout, continue_on_error: bool = False,
                      batch_size: int | None = None, fmt: str = "table", err: TextIO = sys.stderr,
                      session: Session | None = None) -> int:
    """Run every statement of a script in order, printing each result; 1 if a statement failed, else 0.

    With csv or jsonl, stdout holds the queries' rows only: every other result goes to `err`."""
    client = ClientScript(session, batch_size=batch_size, out=out, fmt=fmt)
    failed = False
    for block in statement_blocks(statement_spans(sql)):
        for at, text in block:
            o = client.execute(in_place(sql, at, text))
            if o.kind == "quit":
                return 1 if failed else 0
            if fmt == "table" or o.kind not in ("printed",):
                print_outcome(o, out if fmt == "table" else err)
            if not o.ok:
                if SET_BLOCK.match(block[0][1]):  # the rest of a failed EXECUTE/EXPLAIN STATEMENT SET never runs
                    client.abandon_statement_set()
                break
        if not o.ok:
            failed = True
            if not continue_on_error:
                break
    return 1 if failed else 0


__all__ = ["ClientScript", "Outcome", "split_statements", "ends_statement", "run_client_script", "print_outcome", "error_text"]
