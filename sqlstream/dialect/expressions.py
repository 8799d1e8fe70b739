"""sqlglot nodes for Flink constructs the base dialect has no node for."""
from __future__ import annotations

from sqlglot import exp


class TableArgument(exp.Expression):
    """`TABLE t [PARTITION BY c, ..]` as the first argument of a window TVF."""

    arg_types = {"this": True, "partition_by": False}


class Descriptor(exp.Expression):
    """`DESCRIPTOR(col, ..)` naming the time attribute of a window TVF."""

    arg_types = {"expressions": True}


class WindowTVF(exp.Expression, exp.Func):
    """`TUMBLE|HOP|CUMULATE|SESSION(TABLE t, DESCRIPTOR(ts), INTERVAL ..)` (a window table function)."""

    arg_types = {"this": True, "expressions": True}
    is_var_len_args = True


class ShowStatement(exp.Expression):
    """`SHOW <what> [FROM|IN name] [[NOT] [I]LIKE 'pattern']`: what is listed (TABLES, VIEWS, COLUMNS, CREATE
    TABLE, CURRENT CATALOG, ..), the object or database it is about, and an optional name filter."""

    arg_types = {"this": True, "target": False, "like": False, "not_like": False, "ilike": False}


class UseStatement(exp.Expression):
    """`USE [CATALOG] name` or `USE MODULES m, ..`: `kind` is DATABASE, CATALOG or MODULES."""

    arg_types = {"this": True, "kind": True}


class CatalogStatement(exp.Expression):
    """CREATE | DROP | ALTER CATALOG and LOAD | UNLOAD MODULE: `action` says which; `options` are WITH (..),
    `reset` the keys of ALTER CATALOG .. RESET (..)."""

    arg_types = {"this": True, "action": True, "exists": False, "options": False, "comment": False,
                 "reset": False}


class AlterTableStatement(exp.Expression):
    """`ALTER TABLE|VIEW [IF EXISTS] name <action>`: `kind` TABLE or VIEW, `action` one of RENAME, SET, RESET,
    RENAME_COLUMN, ADD, MODIFY, DROP_COLUMNS, DROP_PRIMARY_KEY, DROP_CONSTRAINT, DROP_WATERMARK, AS, COMMENT;
    `items` the columns/constraints/watermark of ADD and MODIFY, `names` the columns or keys it names."""

    arg_types = {"this": True, "kind": True, "action": True, "exists": False, "target": False, "items": False,
                 "names": False, "options": False, "expression": False}


class ColumnPosition(exp.Expression):
    """`FIRST` or `AFTER col` after a column in ALTER TABLE ADD/MODIFY."""

    arg_types = {"this": True, "after": False}


class AlterFunctionStatement(exp.Expression):
    """`ALTER [TEMPORARY|TEMPORARY SYSTEM] FUNCTION [IF EXISTS] f AS 'class' [LANGUAGE ..]`."""

    arg_types = {"this": True, "expression": True, "temporary": False, "system": False, "exists": False,
                 "language": False}


class CreateSystemFunction(exp.Expression):
    """`CREATE TEMPORARY SYSTEM FUNCTION [IF NOT EXISTS] f AS 'class' [LANGUAGE ..]`."""

    arg_types = {"this": True, "expression": True, "exists": False, "language": False}


class DropObject(exp.Expression):
    """`DROP CATALOG [IF EXISTS] c` and `DROP TEMPORARY SYSTEM FUNCTION [IF EXISTS] f`: `kind` says which."""

    arg_types = {"this": True, "kind": True, "exists": False}


class ExplainStatement(exp.Expression):
    """`EXPLAIN [PLAN FOR] [ESTIMATED_COST, CHANGELOG_MODE, JSON_EXECUTION_PLAN, PLAN_ADVICE] <statement>`."""

    arg_types = {"this": True, "details": False, "statement_set": False}


class SetStatement(exp.Expression):
    """`SET 'key' = 'value'`, or bare `SET` which lists the configuration."""

    arg_types = {"this": False, "expression": False}


class ResetStatement(exp.Expression):
    """`RESET ['key']`."""

    arg_types = {"this": False}


class DescribeStatement(exp.Expression):
    """`DESCRIBE|DESC [EXTENDED] t`, or `DESCRIBE CATALOG [EXTENDED] c` (kind CATALOG)."""

    arg_types = {"this": True, "kind": False, "extended": False}


class DescribeJobStatement(exp.Expression):
    """`DESCRIBE JOB 'id'`."""

    arg_types = {"this": True}


class ClientCommand(exp.Expression):
    """`HELP`, `QUIT` or `EXIT`: commands of the client rather than SQL."""

    arg_types = {"this": True}


class StopJobStatement(exp.Expression):
    """`STOP JOB 'id' [WITH SAVEPOINT]`."""

    arg_types = {"this": True, "savepoint": False}


class StatementSetBegin(exp.Expression):
    """`BEGIN STATEMENT SET` or `EXECUTE STATEMENT SET BEGIN [first insert]`: INSERTs up to END run as one job."""

    arg_types = {"this": False}


class StatementSetEnd(exp.Expression):
    """`END` closing a statement set."""

    arg_types = {}


class MatchRecognize(exp.MatchRecognize):
    """`MATCH_RECOGNIZE (..)` with Flink's `WITHIN INTERVAL ..` after the PATTERN."""

    arg_types = {**exp.MatchRecognize.arg_types, "within": False}


class JSONCall(exp.Expression, exp.Func):
    """`JSON_VALUE | JSON_QUERY | JSON_EXISTS(doc, path [RETURNING type] [wrapper] [behavior ON EMPTY] [behavior ON
    ERROR])`: `this` names the function; `wrapper` is WITHOUT, CONDITIONAL or UNCONDITIONAL; `on_empty` and
    `on_error` are NULL, ERROR, DEFAULT (with `empty_default` / `error_default`), EMPTY ARRAY, EMPTY OBJECT, TRUE,
    FALSE or UNKNOWN."""

    arg_types = {"this": True, "expressions": True, "returning": False, "wrapper": False, "on_empty": False,
                 "empty_default": False, "on_error": False, "error_default": False}
    is_var_len_args = True
