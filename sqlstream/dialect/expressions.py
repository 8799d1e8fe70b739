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
    """`SHOW TABLES|VIEWS|FUNCTIONS|JOBS`."""

    arg_types = {"this": True}


class ExplainStatement(exp.Expression):
    """`EXPLAIN [PLAN FOR] [ESTIMATED_COST, CHANGELOG_MODE, JSON_EXECUTION_PLAN, PLAN_ADVICE] <statement>`."""

    arg_types = {"this": True, "details": False}


class SetStatement(exp.Expression):
    """`SET 'key' = 'value'`, or bare `SET` which lists the configuration."""

    arg_types = {"this": False, "expression": False}


class ResetStatement(exp.Expression):
    """`RESET ['key']`."""

    arg_types = {"this": False}


class DescribeStatement(exp.Expression):
    """`DESCRIBE|DESC t`."""

    arg_types = {"this": True}


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
