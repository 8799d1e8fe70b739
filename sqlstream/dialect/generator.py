"""Flink SQL generator: turns trees back into Flink SQL (round-trips what FlinkParser reads)."""
from __future__ import annotations

from sqlglot import exp, generator

from sqlstream.dialect import expressions as fx


def _csv(gen: generator.Generator, nodes) -> str:
    return ", ".join(gen.sql(n) for n in nodes or [])


def _partition_sql(gen: generator.Generator, e) -> str:
    keys = e.args.get("partition_by")
    if not keys:
        return ""
    return " PARTITION BY " + (_csv(gen, keys) if len(keys) == 1 else f"({_csv(gen, keys)})")


class FlinkGenerator(generator.Generator):
    """Generates Flink SQL; our own node classes are listed in TRANSFORMS (no auto-discovery for them)."""

    TYPE_MAPPING = {
        **generator.Generator.TYPE_MAPPING,
        exp.DType.TEXT: "STRING",
        exp.DType.TIMESTAMPLTZ: "TIMESTAMP_LTZ",
        exp.DType.VARBINARY: "VARBINARY",
        exp.DType.STRUCT: "ROW",
    }

    TRANSFORMS = {
        **generator.Generator.TRANSFORMS,
        fx.TableArgument: lambda self, e: "TABLE " + self.sql(e, "this") + _partition_sql(self, e),
        fx.JSONCall: lambda self, e: _json_call_sql(self, e),
        fx.Descriptor: lambda self, e: f"DESCRIPTOR({_csv(self, e.expressions)})",
        fx.WindowTVF: lambda self, e: f"{e.this.name}({_csv(self, e.expressions)})",
        fx.ShowStatement: lambda self, e: f"SHOW {e.this.name}" + (f" {self.sql(e, 'target')}" if e.args.get(
            "target") else "") + (f" LIKE {self.sql(e, 'like')}" if e.args.get("like") else ""),
        fx.UseStatement: lambda self, e: f"USE {e.args['kind'].name} {self.sql(e, 'this')}",
        fx.CatalogStatement: lambda self, e: f"{e.args['action'].name} {self.sql(e, 'this')}",
        fx.AlterTableStatement: lambda self, e: f"ALTER {e.args['kind'].name} {self.sql(e, 'this')} "
                                                f"{e.args['action'].name}",
        fx.AlterFunctionStatement: lambda self, e: f"ALTER FUNCTION {self.sql(e, 'this')} AS "
                                                   f"{self.sql(e, 'expression')}",
        fx.CreateSystemFunction: lambda self, e: f"CREATE TEMPORARY SYSTEM FUNCTION {self.sql(e, 'this')} AS "
                                                 f"{self.sql(e, 'expression')}",
        fx.DropObject: lambda self, e: f"DROP {e.args['kind'].name} {self.sql(e, 'this')}",
        fx.ColumnPosition: lambda self, e: self.sql(e, "this") + (
            f" AFTER {self.sql(e, 'after')}" if e.args.get("after") else " FIRST"),
        fx.ExplainStatement: lambda self, e: "EXPLAIN " + (f"{e.args['details'].name} " if e.args.get("details")
                                                             else "") +
        ("STATEMENT SET BEGIN " if e.args.get("statement_set") else "") + self.sql(e, "this"),
        fx.SetStatement: lambda self, e: "SET" if not e.this else
            f"SET {self.sql(e, 'this')} = {self.sql(e, 'expression')}",
        fx.ResetStatement: lambda self, e: "RESET" + (f" {self.sql(e, 'this')}" if e.this else ""),
        fx.DescribeStatement: lambda self, e: f"DESCRIBE {self.sql(e, 'this')}",
        fx.DescribeJobStatement: lambda self, e: f"DESCRIBE JOB {self.sql(e, 'this')}",
        fx.ClientCommand: lambda self, e: e.this.name,
        fx.StopJobStatement: lambda self, e: f"STOP JOB {self.sql(e, 'this')}" + (
            " WITH SAVEPOINT" if e.args.get("savepoint") else ""),
        fx.StatementSetBegin: lambda self, e: "EXECUTE STATEMENT SET BEGIN " + self.sql(e, "this")
            if e.this else "BEGIN STATEMENT SET",
        fx.StatementSetEnd: lambda self, e: "END",
        exp.Kwarg: lambda self, e: f"{e.this.name} => {self.sql(e, 'expression')}",
        fx.MatchRecognize: lambda self, e: self.match_recognize_sql(e),
    }

    def match_recognize_sql(self, expression: fx.MatchRecognize) -> str:
        sql = self.matchrecognize_sql(expression)
        within = expression.args.get("within")
        if within is None:
            return sql
        pattern = f"PATTERN ({self.sql(expression, 'pattern')})"
        return sql.replace(pattern, f"{pattern} WITHIN {self.sql(within)}", 1)

    def property_sql(self, expression: exp.Property) -> str:
        key = expression.this
        name = key.name if isinstance(key, (exp.Literal, exp.Var, exp.Identifier)) else self.sql(key)
        return f"'{name}' = {self.sql(expression, 'value')}"

    def columnconstraint_sql(self, expression: exp.ColumnConstraint) -> str:
        kind = expression.args.get("kind")
        if isinstance(kind, exp.Var) and kind.name == "METADATA":
            out = "METADATA"
            if expression.this:
                out += f" FROM {self.sql(expression, 'this')}"
            if expression.expression == exp.true():
                out += " VIRTUAL"
            return out
        return super().columnconstraint_sql(expression)

    def table_sql(self, expression: exp.Table, sep: str = " AS ") -> str:
        """A table hint goes right after the table name, before its alias (Flink's order)."""
        hints, alias = expression.args.get("hints"), expression.args.get("alias")
        if not hints:
            return super().table_sql(expression, sep)
        bare = expression.copy()
        bare.set("hints", None)
        bare.set("alias", None)
        sql = f"{super().table_sql(bare, sep)} {' '.join(self.sql(h).strip() for h in hints)}"
        return sql + (f"{sep}{self.sql(alias)}" if alias else "")

    def strposition_sql(self, expression: exp.StrPosition) -> str:
        return f"POSITION({self.sql(expression, 'substr')} IN {self.sql(expression, 'this')})"


def _json_call_sql(self, e) -> str:
    parts = [_csv(self, e.expressions)]
    if e.args.get("returning"):
        parts.append(f"RETURNING {self.sql(e, 'returning')}")
    wrapper = e.args.get("wrapper")
    if wrapper is not None:
        parts.append("WITHOUT ARRAY WRAPPER" if wrapper.name == "WITHOUT" else f"WITH {wrapper.name} ARRAY WRAPPER")
    for where in ("empty", "error"):
        behavior = e.args.get(f"on_{where}")
        if behavior is not None:
            default = f" {self.sql(e, where + '_default')}" if behavior.name == "DEFAULT" else ""
            parts.append(f"{behavior.name}{default} ON {where.upper()}")
    return f"{e.this.name}({' '.join(parts)})"
