"""Runs statements: DDL -> catalog, SET -> config, INSERT/SELECT -> plan -> job, EXPLAIN -> plan text."""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from typing import TextIO

from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import TokenType

from sqlstream.plan import logical as L
from sqlstream.planner.bind.legacy_windows import LEGACY_PROPS
from sqlstream.planner.binder import Binder
from sqlstream.planner.explain import explain
from sqlstream.functions.catalog import names as catalog_names
from sqlstream.planner.flink_functions import SHOW_FUNCTIONS
from sqlstream.planner.functions import AGGREGATES
from sqlstream.planner.rules import optimize
from sqlstream.planner.scalar_binder import local_time_zone, zone_id
from sqlstream import catalog_ddl, function_catalog, show
from sqlstream.catalog import (CatalogManager, TableDef, ViewDef, check_table, is_temporary, like_clause,
                               table_from_create)
from sqlstream.config import Config
from sqlstream.dialect import Flink
from sqlstream.dialect import expressions as fx
from sqlstream.deep import check_nesting, run_deep
from sqlstream.function_catalog import FunctionCatalog, FunctionDef
from sqlstream.core.secrets import mask_value, remember_sql
from sqlstream.core.errors import SqlError, SqlStreamError, ValidationError

_FLINK = Flink()

HELP = """Statements end with ';' and may span lines.

  CREATE TABLE | VIEW ..., DROP TABLE | VIEW ...   define tables over Kafka, files, datagen
  SELECT ...                                       run a query; Ctrl-C stops it
  INSERT INTO ... SELECT ...                       start a background job
  SHOW TABLES | VIEWS | FUNCTIONS | JOBS;          list what exists
  DESCRIBE t;  DESCRIBE JOB '<id>';  EXPLAIN ...;  inspect a table, a job or a plan
  STOP JOB '<id>' [WITH SAVEPOINT];                stop a background job
  SET 'key' = 'value';  SET;  RESET ['key'];       configuration (SET; lists it)
  SET 'sql-client.execution.result-mode' = 'table' | 'changelog' | 'tableau';
  SET 'rest.port' = '8081';                        where the web UI of the jobs is served
  SET 'table.exec.late-rows.sink' = '<table>';     keep the rows windows drop as late in a table
  HELP;  QUIT;  EXIT;  (or Ctrl-D)
"""

# Flink's messages for statement sets
STATEMENT_SET_ONLY_INSERT = ("Only 'INSERT/CREATE TABLE AS' statement is allowed in Statement Set or use 'END' "
                             "statement to submit Statement Set.")
NO_STATEMENT_SET = "No Statement Set to submit. 'END' statement should be used after 'BEGIN STATEMENT SET'."

# Flink's columns of SHOW JOBS / DESCRIBE JOB, then sqlstream's own
JOB_COLUMNS = ["job id", "job name", "status", "start time", "parallelism", "rows in", "rows out", "watermark",
               "error"]


def parse_script(sql: str) -> list[exp.Expr]:
    """Parse a script of ';'-separated statements; errors name line, column and what was expected."""
    return run_deep(_parse_script, sql)


def _parse_script(sql: str) -> list[exp.Expr]:
    remember_sql(sql)
    try:
        tokens = _FLINK.tokenize(sql)
        check_nesting(sql, tokens)
        stmts = _FLINK.parser().parse(tokens, sql)
    except ParseError as e:
        raise _sql_error(e, sql) from None
    except TokenError as e:
        raise SqlError(str(e), sql=sql) from None
    out = [fx.StatementSetEnd() if type(s).__name__ == "EndStatement" else s
           for s in stmts if s is not None and not isinstance(s, exp.Semicolon)]
    for s in out:
        s.meta["sql"] = sql
        if not isinstance(s, SUPPORTED_STATEMENTS):
            starts = _statement_starts(sql)
            start = starts[out.index(s)] if len(starts) == len(out) else 0
            line, col = position(sql, start)
            first = s.sql(dialect=_FLINK).split()[0] if s.sql(dialect=_FLINK).split() else type(s).__name__
            raise SqlError(f"Unsupported statement '{first}'; expected CREATE, DROP, SET, RESET, "
                           f"SHOW, DESCRIBE, EXPLAIN, INSERT or SELECT", line, col, sql=sql)
        if isinstance(s, exp.Create) and (s.args.get("kind") or "").upper() == "VIEW" and s.expression is None:
            ends = _statement_ends(sql)
            line, col = position(sql, ends[out.index(s)] if len(ends) == len(out) else len(sql.rstrip()))
            raise SqlError("Expected a query after CREATE VIEW .. AS but found the end of the statement", line, col,
                           sql=sql)
    return out


def _statement_ends(sql: str) -> list[int]:
    """Offset just after each statement's last token."""
    ends, open_ = [], False
    for tok in _FLINK.tokenize(sql):
        if tok.token_type == TokenType.SEMICOLON:
            open_ = False
        elif not open_:
            ends.append(tok.end + 1)
            open_ = True
        else:
            ends[-1] = tok.end + 1
    return ends


def _statement_starts(sql: str) -> list[int]:
    """Offset of each statement's first token."""
    starts, at_start = [], True
    for tok in _FLINK.tokenize(sql):
        if tok.token_type == TokenType.SEMICOLON:
            at_start = True
        elif at_start:
            starts.append(tok.start)
            at_start = False
    return starts


SUPPORTED_STATEMENTS = (exp.Create, exp.Drop, exp.Insert, exp.Select, exp.Union, exp.Intersect, exp.Except,
                        exp.Subquery, exp.Values, fx.SetStatement, fx.ResetStatement, fx.ShowStatement,
                        fx.DescribeStatement, fx.ExplainStatement, fx.StopJobStatement,
                        fx.DescribeJobStatement, fx.ClientCommand, fx.StatementSetBegin,
                        fx.StatementSetEnd, fx.UseStatement, fx.CatalogStatement, fx.AlterTableStatement,
                        fx.AlterFunctionStatement, fx.CreateSystemFunction, fx.DropObject)


def drop_target(stmt: exp.Drop) -> exp.Table:
    """The name a DROP statement names (sqlglot 30.18 moved it from `this` to a `tables` list)."""
    tables = stmt.args.get("tables") or ([stmt.this] if stmt.this is not None else [])
    if len(tables) != 1:
        raise ValidationError("DROP names exactly one table or view")
    return tables[0]


# sqlglot's node names, as the SQL words a user typed
SQL_WORDS = {"GT": ">", "GTE": ">=", "LT": "<", "LTE": "<=", "EQ": "=", "NEQ": "<>", "NULLSAFEEQ": "<=>",
             "ADD": "+", "SUB": "-", "MUL": "*", "DIV": "/", "MOD": "%", "NEG": "-", "DPIPE": "||",
             "BITWISEAND": "&", "BITWISEOR": "|", "BITWISEXOR": "^", "ORDER": "ORDER BY", "GROUP": "GROUP BY",
             "ORDERED": "ORDER BY", "ILIKE": "ILIKE", "SIMILARTO": "SIMILAR TO", "IS": "IS", "ALIAS": "AS",
             "PAREN": "(", "TRYCAST": "TRY_CAST", "PARTITIONEDBYPROPERTY": "PARTITIONED BY",
             "WATERMARKCOLUMNCONSTRAINT": "WATERMARK FOR", "PRIMARYKEY": "PRIMARY KEY",
             "MATCHRECOGNIZE": "MATCH_RECOGNIZE", "WINDOWSPEC": "OVER", "WINDOW": "OVER", "SUBQUERY": "(SELECT ..)"}


def sql_word(node_name: str) -> str:
    """The SQL a user wrote for a sqlglot node name (`GT` -> `>`), or the name itself when it is a keyword."""
    return SQL_WORDS.get(node_name.upper(), node_name.upper())


def _token_text(m: re.Match) -> str:
    return "the end of the statement" if "SENTINEL" in m.group(1) else f"'{m.group(2)}'"


def _sql_error(e: ParseError, sql: str) -> SqlError:
    info = e.errors[0] if e.errors else {}
    desc = info.get("description") or str(e)
    token = (info.get("highlight") or "").strip()
    desc = re.sub(r"<Token token_type: (TokenType\.\w+), text: (.*?), line: \d+, col: \d+, start: \d+, "
                  r"end: \d+, comments: \[.*?\]>", _token_text, desc)
    m = re.match(r"Required keyword: '(\w+)' missing for <class '[\w.]*\.(\w+)'>", desc)
    if m:
        desc = f"Expected an expression to complete {sql_word(m.group(2))}"
    elif desc.startswith("Invalid expression / Unexpected token"):
        desc = f"Unexpected token '{token}'" if token else "Unexpected token"
    elif desc.startswith("Expecting"):
        desc = f"Expected '{desc[len('Expecting'):].strip()}'" + (f" but found '{token}'" if token else "")
    elif token and token not in desc:
        desc = f"{desc} (near '{token}')"
    line, col = info.get("line"), info.get("col")
    if line is not None and col is not None and token:
        line, col = _token_start(sql, line, col, token)
    return SqlError(desc, line, col, desc, sql)


def _token_start(sql: str, line: int, end_col: int, token: str) -> tuple[int, int]:
    """Line and column (1-based) where a token starts, given where it ends (a token may span lines)."""
    lines = sql.splitlines() or [""]
    end = sum(len(ln) + 1 for ln in lines[:line - 1]) + end_col - 1
    start = sql.rfind(token, 0, end + 1) if token else -1
    if start < 0:
        return line, max(1, end_col)
    return position(sql, start)


def position(sql: str, offset: int) -> tuple[int, int]:
    """1-based (line, column) of a character offset in the text."""
    offset = max(0, min(offset, len(sql)))
    return sql.count("\n", 0, offset) + 1, offset - (sql.rfind("\n", 0, offset) + 1) + 1


@dataclass
class Result:
    """What a statement produced: a message, rows to show, or a plan to run."""

    kind: str  # "ok" | "rows" | "query" | "insert" | "quit"
    message: str = ""
    columns: list[str] = field(default_factory=list)
    rows: list[list] = field(default_factory=list)
    plan: L.Node | None = None


class Session:
    def __init__(self) -> None:
        self.catalog = CatalogManager()
        self.modules = catalog_ddl.ModuleManager()
        self.config = Config()
        self.functions: dict = {}
        self.user_functions = FunctionCatalog()
        self.binder = Binder(self.catalog, self.functions)
        self.in_statement_set = False
        self.explained_set: list | None = None  # EXPLAIN STATEMENT SET BEGIN ..: its INSERTs' plans until END
        self.explained_details: list[str] = []

    def register_function(self, name: str, fn) -> None:
        """Register a Python function declared with @sqlstream.core.udf.udf under a SQL name."""
        from sqlstream.core import udf
        self.functions[name.upper()] = udf.register(name, fn)
        self.user_functions.create(FunctionDef(name, getattr(fn, "__qualname__", name), "PYTHON", "SYSTEM",
                                               runnable=self.functions[name.upper()]), True)

    def _load_used_functions(self, stmt: exp.Expr) -> None:
        """Import the declared Python functions this statement calls (CREATE FUNCTION does not import)."""
        if not self.functions:
            return
        from sqlstream.core import udf
        declared = {n for n, f in self.functions.items() if isinstance(f, udf.DeclaredFunction)}
        if not declared:
            return
        for node in stmt.walk():
            if isinstance(node, exp.Func):
                name = (node.name if isinstance(node, exp.Anonymous) else node.sql_name()).upper()
                if name in declared:
                    f = self.functions[name]
                    self.functions[name] = udf.load(f.name, f.path, self.config.get("python.files"))
                    declared.discard(name)

    # ---- statements ---------------------------------------------------------------------------
    def execute(self, stmt: exp.Expr, sql: str = "") -> Result:
        return run_deep(self._execute_in_zone, stmt, sql)

    def _execute_in_zone(self, stmt: exp.Expr, sql: str) -> Result:
        with local_time_zone(self.config.get("table.local-time-zone")):
            return self._execute(stmt, sql)

    def _execute(self, stmt: exp.Expr, sql: str = "") -> Result:
        self._load_used_functions(stmt)
        if self.in_statement_set and not isinstance(stmt, (exp.Insert, fx.StatementSetEnd, fx.ClientCommand)):
            raise ValidationError(STATEMENT_SET_ONLY_INSERT)
        if isinstance(stmt, fx.StatementSetEnd) and not self.in_statement_set:
            raise ValidationError(NO_STATEMENT_SET)
        if isinstance(stmt, exp.Create):
            self._start_fork_server()  # a script's settings come first: its start overlaps the tables' definitions
            return self._create(stmt, sql)
        if isinstance(stmt, exp.Drop):
            return self._drop(stmt)
        if isinstance(stmt, (fx.UseStatement, fx.CatalogStatement, fx.DropObject)):
            return self._catalog_statement(stmt)
        if isinstance(stmt, fx.AlterTableStatement):
            return self._alter(stmt)
        if isinstance(stmt, fx.CreateSystemFunction):
            function_catalog.create_function(self, stmt.this.name, stmt.expression.name,
                                             stmt.args["language"].name.upper() if stmt.args.get("language") else
                                             None, "SYSTEM", bool(stmt.args.get("exists")))
            return Result("ok", "[INFO] Execute statement succeeded.")
        if isinstance(stmt, fx.AlterFunctionStatement):
            function_catalog.alter_function(self, stmt)
            return Result("ok", "[INFO] Execute statement succeeded.")
        if isinstance(stmt, fx.SetStatement):
            if stmt.this is None:
                cfg = self.config.effective()
                return Result("rows", columns=["key", "value"],
                              rows=[[k, mask_value(k, v)] for k, v in sorted(cfg.items())])
            if stmt.this.name == "table.local-time-zone":
                zone_id(stmt.expression.name)  # refuse an unknown zone here, not at every later statement
            self.config.set(stmt.this.name, stmt.expression.name)
            return Result("ok", "[INFO] Execute statement succeeded.")
        if isinstance(stmt, fx.ResetStatement):
            self.config.reset(stmt.this.name if stmt.this is not None else None)
            return Result("ok", "[INFO] Execute statement succeeded.")
        if isinstance(stmt, fx.ShowStatement):
            return self._show(stmt)
        if isinstance(stmt, fx.DescribeStatement):
            if stmt.args.get("kind") is not None and stmt.args["kind"].name == "FUNCTION":
                name = stmt.this.name.upper()
                builtins = set(self.function_names()) - set(self.functions)
                builtin = None if name not in builtins else "AGGREGATE" if name in AGGREGATES else "SCALAR"
                rows = function_catalog.describe_function(self, stmt.this, bool(stmt.args.get("extended")),
                                                          builtin)
                return Result("rows", columns=["info name", "info value"], rows=rows)
            if stmt.args.get("kind") is not None:
                name = stmt.this.name
                rows = show.describe_catalog(name, self.catalog.catalog(name), bool(stmt.args.get("extended")))
                return Result("rows", columns=["info name", "info value"], rows=rows)
            return self._describe(stmt.this)
        if isinstance(stmt, fx.ExplainStatement):
            plan = self.plan(stmt.this)
            check_sources(plan)  # as Flink's EXPLAIN creates the table sources: unknown option keys are errors
            details = stmt.args["details"].name.split(", ") if stmt.args.get("details") else []
            if stmt.args.get("statement_set"):  # the INSERTs up to END are explained, never run
                self.in_statement_set, self.explained_set, self.explained_details = True, [plan], details
                return Result("ok", "")
            return Result("ok", self._explain([plan]) + explain_details(plan, details))
        if isinstance(stmt, exp.Insert):
            if self.explained_set is not None:
                plan = self.plan(stmt)
                check_sources(plan)
                self.explained_set.append(plan)
                return Result("ok", "")
            return Result("insert", plan=self.plan(stmt))
        if isinstance(stmt, (exp.Select, exp.Union, exp.Subquery, exp.Intersect, exp.Except, exp.Values)):
            return Result("query", plan=self.plan(stmt))
        if isinstance(stmt, fx.StatementSetBegin):
            self.in_statement_set = True
            if stmt.this is not None:
                return Result("insert", plan=self.plan(stmt.this))
            return Result("ok", "")
        if isinstance(stmt, fx.StatementSetEnd):
            self.in_statement_set = False
            if self.explained_set is not None:
                plans, self.explained_set = self.explained_set, None
                return Result("ok", self._explain(plans) + "".join(
                    explain_details(p, self.explained_details) for p in plans))
            return Result("ok", "")
        if isinstance(stmt, fx.ClientCommand):
            return Result("quit") if stmt.this.name == "QUIT" else Result("ok", HELP.rstrip("\n"))
        if isinstance(stmt, (fx.StopJobStatement, fx.DescribeJobStatement)):
            raise ValidationError(f"Job '{stmt.this.name}' not found: no job runs in the background here (INSERT "
                                  f"statements of a script run in the foreground, until they finish)")
        raise ValidationError(f"Unsupported statement: {stmt.sql(dialect=_FLINK)[:80]}")

    def plan(self, stmt: exp.Expr) -> L.Node:
        """Bind a query or INSERT into a logical plan, checking the sink accepts its changelog."""
        self._start_fork_server()
        self._load_used_functions(stmt)  # planned without execute(): its declared Python functions too
        if isinstance(stmt, exp.Insert):
            sink = self.binder.bind_insert(stmt)
            from sqlstream.connectors import registry
            from sqlstream.connectors.base import TableSchema
            tdef = self.catalog.by_qualified_name(sink.table)
            meta = {c.name: c.metadata_key for c in tdef.columns if c.kind == "metadata"}
            s = registry.create_sink(sink.connector, sink.table, sink.options,
                                     TableSchema(sink.names, [f.type for f in sink.fields], metadata=meta,
                                                 primary_key=list(tdef.primary_key),
                                                 partition_keys=list(tdef.partition_keys)))
            if sink.input.updating and not s.accepts_updates:
                raise ValidationError(
                    f"Table sink '{sink.table}' doesn't support consuming update changes which is produced by "
                    f"node {type(_producer(sink.input)).__name__} (changelog mode [{sink.input.changelog}]). "
                    f"Write updating results to a sink that accepts them (print, upsert-kafka) or use a window "
                    f"aggregation, which is insert-only.")
            return optimize(sink)
        return optimize(self.binder.bind_query(stmt))

    def _start_fork_server(self) -> None:
        """Above parallelism 1 on this machine, the fork server the subtasks' worker processes come from starts
        with the first CREATE after the settings, else while the statement is planned, preloading the connectors
        the session's tables use by then (a worker imports the others)."""
        target = str(self.config.get("execution.target") or "local").strip().lower()
        if self.config.get_int("parallelism.default", 1) <= 1 or target != "local":
            return
        from sqlstream.runtime.parallel.hosts import warm_up
        warm_up([m for m in list(sys.modules) if m.startswith("sqlstream.connectors.")])

    def _create(self, stmt: exp.Create, sql: str) -> Result:
        kind = (stmt.args.get("kind") or "").upper()
        exists = bool(stmt.args.get("exists"))
        temporary = is_temporary(stmt)
        if kind == "TABLE":
            if stmt.expression is not None:
                return self._create_table_as(stmt, sql)
            target = stmt.this.this if isinstance(stmt.this, exp.Schema) else stmt.this
            t = table_from_create(stmt, sql)
            like = like_clause(stmt)
            if like is not None:
                from sqlstream.table_ddl import merge_like
                source = self.catalog.identifier(like.this)
                base = self.catalog.get(source)
                if base is None:
                    raise ValidationError(f"Source table '{source.quoted()}' of the LIKE clause not found in the "
                                          f"catalog")
                if isinstance(base, ViewDef):
                    raise ValidationError(f"Source table '{source.quoted()}' of the LIKE clause can not be a VIEW")
                t = merge_like(t, base, like)
            elif not isinstance(stmt.this, exp.Schema):
                raise ValidationError("CREATE TABLE needs a column list, a LIKE clause or AS SELECT")
            check_table(t, stmt)
            self.binder.check_schema(t)
            t.temporary = temporary
            self.catalog.add_table(t, exists, name=target)
            return Result("ok", "[INFO] Execute statement succeeded.")
        if kind == "VIEW":
            target = stmt.this.this if isinstance(stmt.this, exp.Schema) else stmt.this
            query = stmt.expression
            cols = [c.name for c in stmt.this.expressions] if isinstance(stmt.this, exp.Schema) else None
            plan = self.binder.bind_query(query)  # validate now, as Flink does
            for i, c in enumerate(cols or []):
                if c in cols[:i]:
                    raise ValidationError(f"A column with the same name `{c}` has been defined.")
            if cols is not None and len(cols) != len(plan.fields):
                raise ValidationError(f"VIEW definition and input fields not match:\n\tDef fields: "
                                      f"[{', '.join(cols)}].\n\tInput fields: [{', '.join(plan.names)}].")
            props = stmt.args.get("properties")
            comment = next((p.this.name for p in (props.expressions if props else [])
                            if isinstance(p, exp.SchemaCommentProperty)), None)
            if cols is not None:
                query = _renamed(query, plan.names, cols, target.name)
            self.catalog.add_view(ViewDef(target.name, query, temporary, sql, cols, comment), exists, name=target)
            return Result("ok", "[INFO] Execute statement succeeded.")
        if kind in ("DATABASE", "SCHEMA"):
            catalog_ddl.create_database(self.catalog, stmt)
            return Result("ok", "[INFO] Execute statement succeeded.")
        if kind == "FUNCTION":
            props = stmt.args.get("properties").expressions if stmt.args.get("properties") else []
            lang = [p.this.name.upper() for p in props if isinstance(p, exp.LanguageProperty)]
            if not isinstance(stmt.expression, exp.Literal):
                raise ValidationError("CREATE FUNCTION needs AS 'module.function'")
            function_catalog.create_function(self, stmt.this, stmt.expression.name, lang[0] if lang else None,
                                             "TEMPORARY" if temporary else "CATALOG", exists)
            return Result("ok", "[INFO] Execute statement succeeded.")
        raise ValidationError(f"CREATE {kind} is not supported")

    def function_names(self) -> list[str]:
        """Every function a query may call: what SHOW FUNCTIONS lists and Tab completes, one list for both."""
        from sqlstream.runtime.expressions import implemented
        from sqlstream.dialect.parser import WINDOW_TVFS
        scalars = {k for k in catalog_names() if re.fullmatch(r"[A-Z_0-9]+", k) and (implemented(k) or k == "IF")}
        legacy_windows = {f"{w}_{p}" for w in ("TUMBLE", "HOP", "SESSION") for p in LEGACY_PROPS}
        return sorted(scalars | set(AGGREGATES) | set(WINDOW_TVFS) | legacy_windows | {"ROW_NUMBER"} |
                      set(self.functions))

    def _show(self, stmt: fx.ShowStatement) -> Result:
        what = stmt.this.name
        cm = self.catalog
        target = stmt.args.get("target")
        keep = show.name_filter(stmt)
        if what == "TABLES":
            return Result("rows", columns=["table name"], rows=[[n] for n in show.show_objects(cm, stmt, None)])
        if what == "VIEWS":
            return Result("rows", columns=["view name"], rows=[[n] for n in show.show_objects(cm, stmt, ViewDef)])
        if what in ("FUNCTIONS", "USER FUNCTIONS"):
            names = function_catalog.show_user_functions(self, target) if what == "USER FUNCTIONS" else \
                sorted(set(SHOW_FUNCTIONS) | set(self.functions))
            return Result("rows", columns=["function name"], rows=[[n] for n in names if keep(n)])
        if what == "JOBS":
            return Result("rows", columns=JOB_COLUMNS, rows=[])
        if what == "CATALOGS":
            return Result("rows", columns=["catalog name"], rows=[[n] for n in sorted(cm.catalogs) if keep(n)])
        if what == "DATABASES":
            return Result("rows", columns=["database name"], rows=[[n] for n in show.show_databases(cm, stmt)])
        if what == "CURRENT CATALOG":
            return Result("rows", columns=["current catalog name"], rows=[[cm.current_catalog]])
        if what == "CURRENT DATABASE":
            return Result("rows", columns=["current database name"], rows=[[cm.current_database]])
        if what == "MODULES":
            return Result("rows", columns=["module name"], rows=[[n] for n in self.modules.used])
        if what == "FULL MODULES":
            return Result("rows", columns=["module name", "used"],
                          rows=[[n, "TRUE" if used else "FALSE"] for n, used in self.modules.full()])
        if what == "COLUMNS":
            res = self._describe(target)
            res.rows = [r for r in res.rows if keep(r[0])]
            res.message = ""
            return res
        if what == "CREATE CATALOG":
            name = target.name
            return Result("rows", columns=["result"], rows=[[show.show_create_catalog(name, cm.catalog(name))]])
        if what == "CREATE TABLE":
            t = show.object_for_show(cm, target, "TABLE")
            return Result("rows", columns=["result"], rows=[[show.show_create_table(t, _quoted_sql)]])
        if what == "CREATE VIEW":
            v = show.object_for_show(cm, target, "VIEW")
            names = self.binder.bind_query(v.query).names
            expanded = show.expanded_query(v.query if v.columns is None else v.query.args["from_"].this.this, cm,
                                           lambda t: self.binder.bind_query(exp.select("*").from_(t.copy())).names)
            return Result("rows", columns=["result"], rows=[[show.show_create_view(v, names, expanded)]])
        raise ValidationError(f"SHOW {what} is not supported")

    def _explain(self, plans: list[L.Node]) -> str:
        """The logical plan as the rules left it, then the physical plan the job would run."""
        from sqlstream.planner.explain import explain_physical
        from sqlstream.planner.physical import physical_plan
        physical = physical_plan(plans, self.config.effective())
        return ("== Logical Plan ==\n" + "\n\n".join(explain(p) for p in plans)
                + "\n\n== Physical Plan ==\n" + explain_physical(physical))

    def _describe(self, name: exp.Expr) -> Result:
        obj = show.object_for_show(self.catalog, name, "")
        if isinstance(obj, ViewDef):
            fields = self.binder.bind_query(obj.query).fields
            columns, rows = show.describe_rows(obj, fields, _quoted_sql)
            return Result("rows", columns=columns, rows=rows)
        plan = self.binder.check_schema(obj)
        columns, rows = show.describe_rows(obj, plan.fields, _quoted_sql)
        res = Result("rows", columns=columns, rows=rows)
        res.message = "Options:\n" + "\n".join(f"  '{k}' = '{mask_value(k, v)}'"
                                                for k, v in sorted(obj.options.items()))
        return res

    # ---- catalogs, databases, modules, ALTER ---------------------------------------------------
    def _catalog_statement(self, stmt: exp.Expr) -> Result:
        cm = self.catalog
        ok = Result("ok", "[INFO] Execute statement succeeded.")
        if isinstance(stmt, fx.UseStatement):
            kind = stmt.args["kind"].name
            if kind == "CATALOG":
                catalog_ddl.use_catalog(cm, stmt.this.name)
            elif kind == "MODULES":
                self.modules.use([e.name for e in stmt.this.expressions])
            else:
                catalog_ddl.use_database(cm, stmt.this)
            return ok
        if isinstance(stmt, fx.DropObject):
            if stmt.args["kind"].name == "CATALOG":
                catalog_ddl.drop_catalog(cm, stmt.this.name, bool(stmt.args.get("exists")))
                return ok
            return self._drop_function(stmt.this.name, bool(stmt.args.get("exists")), "SYSTEM")
        action = stmt.args["action"].name
        if action == "CREATE CATALOG":
            catalog_ddl.create_catalog(cm, stmt)
        elif action == "ALTER CATALOG":
            catalog_ddl.alter_catalog(cm, stmt)
        elif action == "ALTER DATABASE":
            catalog_ddl.alter_database(cm, stmt)
        elif action == "LOAD MODULE":
            self.modules.load(stmt.this.name, catalog_ddl.options_of(stmt.args.get("options")))
            return ok
        elif action == "UNLOAD MODULE":
            self.modules.unload(stmt.this.name)
            return ok
        return ok

    def _drop(self, stmt: exp.Drop) -> Result:
        kind = (stmt.args.get("kind") or "TABLE").upper()
        exists, temporary = bool(stmt.args.get("exists")), bool(stmt.args.get("temporary"))
        if kind in ("DATABASE", "SCHEMA"):
            catalog_ddl.drop_database(self.catalog, stmt)
        elif kind == "FUNCTION":
            return self._drop_function(drop_target(stmt), exists, "TEMPORARY" if temporary else "CATALOG")
        elif kind in ("TABLE", "VIEW"):
            self.catalog.drop(drop_target(stmt), kind, exists, temporary)
        else:
            raise ValidationError(f"DROP {kind} is not supported")
        return Result("ok", "[INFO] Execute statement succeeded.")

    def _drop_function(self, name, if_exists: bool, kind: str) -> Result:
        """DROP [TEMPORARY [SYSTEM]] FUNCTION."""
        function_catalog.drop_function(self, name, kind, if_exists)
        return Result("ok", "[INFO] Execute statement succeeded.")

    def _alter(self, stmt: fx.AlterTableStatement) -> Result:
        from sqlstream.table_ddl import alter_table
        cm = self.catalog
        kind = stmt.args["kind"].name
        ident = cm.identifier(stmt.this)
        obj = cm.get_permanent(ident)
        cls = TableDef if kind == "TABLE" else ViewDef
        ok = Result("ok", "[INFO] Execute statement succeeded.")
        if not isinstance(obj, cls):
            if stmt.args.get("exists"):
                return ok
            raise ValidationError(f"{kind.title()} {ident.quoted()} doesn't exist or is a temporary "
                                  f"{kind.lower()}.")
        action = stmt.args["action"].name
        db = cm.database(ident.catalog, ident.database)
        if action == "RENAME":
            new = cm.identifier(stmt.args["target"])
            if (new.catalog, new.database) != (ident.catalog, ident.database):
                raise ValidationError(f"The catalog and database of the new name {new.quoted()} must be those of "
                                      f"{ident.quoted()}")
            if new.name in db.objects:
                raise ValidationError(f"Could not execute ALTER {kind} {ident} RENAME TO {new}: Table (or view) "
                                      f"{new.database}.{new.name} already exists in Catalog {new.catalog}.")
            del db.objects[ident.name]
            obj.name, obj.identifier = new.name, new
            db.objects[new.name] = obj
            return ok
        if action == "AS":
            self.binder.bind_query(stmt.args["expression"])
            obj.query, obj.columns = stmt.args["expression"], None
            return ok
        altered = alter_table(obj, stmt)
        check_table(altered)
        self.binder.check_schema(altered)
        db.objects[ident.name] = altered
        return ok

    def _create_table_as(self, stmt: exp.Create, sql: str) -> Result:
        """CREATE [OR REPLACE] TABLE t [(columns)] WITH (..) AS SELECT: the table gets the query's columns (after
        any declared ones), then an INSERT fills it."""
        from sqlstream.core.types import common_type
        if is_temporary(stmt):
            raise ValidationError("CREATE TABLE AS SELECT syntax does not support to create temporary table yet.")
        target = stmt.this.this if isinstance(stmt.this, exp.Schema) else stmt.this
        ident = self.catalog.identifier(target)
        query = stmt.expression
        existing = self.catalog.get(ident)
        if existing is not None and stmt.args.get("exists") and not stmt.args.get("replace"):
            insert = exp.Insert(this=target.copy(), expression=query)
            return Result("insert", plan=self.plan(insert))
        plan = self.binder.bind_query(query)
        declared = table_from_create(stmt, sql)
        columns = [c for c in declared.columns if c.name not in plan.names]
        from sqlstream.catalog import ColumnDef
        for i, f in enumerate(plan.fields):
            own = declared.column(f.name)
            if own is None:
                columns.append(ColumnDef(f.name, f.type.without_time_attr()))
                continue
            if own.type is not None and common_type(own.type.with_nullable(True),
                                                    f.type.without_time_attr().with_nullable(True)) is None:
                raise ValidationError(f"Incompatible types for sink column '{f.name}' at position {i}. The source "
                                      f"column has type '{f.type.without_time_attr()}', while the target column "
                                      f"has type '{own.type}'.")
            columns.append(own)
        declared.columns = columns
        check_table(declared, stmt)
        if existing is not None and not stmt.args.get("replace"):
            raise ValidationError(f"Could not execute CreateTable in path {ident.quoted()}: Table (or view) "
                                  f"{ident.database}.{ident.name} already exists in Catalog {ident.catalog}.")
        previous = self.catalog.get_permanent(ident)
        self.catalog.add_table(declared, name=target, replace=True)
        try:
            insert = exp.Insert(this=exp.Schema(this=target.copy(), expressions=[
                exp.to_identifier(n, quoted=True) for n in plan.names]), expression=query)
            return Result("insert", plan=self.plan(insert))
        except Exception:
            db = self.catalog.database(ident.catalog, ident.database)
            if previous is None:
                db.objects.pop(ident.name, None)
            else:
                db.objects[ident.name] = previous
            raise


def _quoted_sql(e: exp.Expr) -> str:
    """An expression as Flink prints it in DESCRIBE and SHOW CREATE TABLE: identifiers in backticks, interval
    units singular (`INTERVAL '1' SECONDS` is `INTERVAL '1' SECOND`)."""
    e = e.copy()
    for iv in e.find_all(exp.Interval):
        unit = iv.args.get("unit")
        if isinstance(unit, exp.Var) and unit.name.upper() in _PLURAL_UNITS:
            iv.set("unit", exp.var(unit.name.upper()[:-1]))
    return e.sql(dialect=_FLINK, identify=True)


_PLURAL_UNITS = {"SECONDS", "MINUTES", "HOURS", "DAYS", "MONTHS", "YEARS", "MILLISECONDS"}


def _renamed(query: exp.Expr, names: list[str], aliases: list[str], view: str) -> exp.Expr:
    """A view's query with its columns renamed by the view's column list: CREATE VIEW v (a, b) AS .."""
    if len(aliases) != len(names):
        raise ValidationError(f"VIEW definition and input fields not match:\n\tDef fields: {aliases}.\n\t"
                              f"Input fields: {names}.")
    inner = query.this if isinstance(query, exp.Subquery) and not query.alias else query
    sub = exp.Subquery(this=inner.copy(), alias=exp.TableAlias(this=exp.to_identifier(f"${view}")))
    return exp.select(*[exp.column(n, quoted=True).as_(a, quoted=True) for n, a in zip(names, aliases)]).from_(sub)


def check_sources(plan: L.Node) -> None:
    """Create each table source of a plan, as Flink's EXPLAIN does, so that an option key its connector does not
    know is an error there too. Nothing is read: a missing file or an unreachable broker, and what sqlstream's
    connectors refuse beyond unknown keys, stay the job's to report."""
    from sqlstream.connectors import registry
    from sqlstream.connectors.base import TableSchema
    from sqlstream.core.errors import OptionError
    seen: set[int] = set()

    def visit(n: L.Node) -> None:
        if id(n) in seen:
            return
        seen.add(id(n))
        if isinstance(n, L.Scan):
            schema = TableSchema(n.names, [f.type for f in n.fields], metadata=dict(n.metadata),
                                 primary_key=list(n.primary_key), partition_keys=list(n.partition_keys),
                                 physical_names=[f.name for f in n.columns],
                                 physical_types=[f.type for f in n.columns])
            try:
                registry.create_source(n.connector, n.table, n.options, schema)
            except OptionError as e:
                if str(e).startswith("Unsupported options found"):
                    raise
            except (SqlStreamError, OSError):
                pass
        for c in n.inputs():
            visit(c)
    visit(plan)


def explain_details(plan: L.Node, details: list[str]) -> str:
    """The sections EXPLAIN's detail keywords ask for, as far as sqlstream has them (the plan always shows each
    node's changelog mode; there is no cost model and no plan advice)."""
    out = ""
    if "ESTIMATED_COST" in details:
        out += "\n\n== Estimated Cost ==\nNone: sqlstream has no cost model"
    if "PLAN_ADVICE" in details:
        out += "\n\n== Plan Advice ==\nNo available advice"
    if "JSON_EXECUTION_PLAN" in details:
        import json
        from sqlstream.planner.explain import describe
        nodes, ids = [], {}

        def visit(n: L.Node) -> int:
            if id(n) not in ids:
                inputs = [visit(c) for c in n.inputs()]
                ids[id(n)] = len(ids) + 1
                nodes.append({"id": ids[id(n)], "type": type(n).__name__, "contents": describe(n),
                              "changelog_mode": n.changelog, "predecessors": [{"id": i} for i in inputs]})
            return ids[id(n)]
        visit(plan)
        out += "\n\n== Physical Execution Plan ==\n" + json.dumps({"nodes": nodes}, indent=2)
    return out


def _producer(node: L.Node) -> L.Node:
    while isinstance(node, L.Calc) and node.input is not None and node.input.updating:
        node = node.input
    return node


def format_rows(columns: list[str], rows: list[list], out: TextIO = sys.stdout) -> None:
    """Print a small result (SHOW, DESCRIBE) as a bordered table."""
    cells = [["<NULL>" if v is None else " ".join(str(v).splitlines()) for v in r] for r in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    border = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    out.write(border + "\n")
    out.write("|" + "|".join(f" {c:<{w}} " for c, w in zip(columns, widths)) + "|\n")
    out.write(border + "\n")
    for r in cells:
        out.write("|" + "|".join(f" {v:<{w}} " for v, w in zip(r, widths)) + "|\n")
    if cells:
        out.write(border + "\n")
    out.write(f"{len(cells)} row{'s' if len(cells) != 1 else ''} in set\n")


__all__ = ["Session", "Result", "parse_script", "format_rows", "SqlStreamError", "HELP", "JOB_COLUMNS"]
