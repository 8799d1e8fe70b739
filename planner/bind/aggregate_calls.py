"""Aggregate calls in SQL: whether an expression aggregates, and a call's name, DISTINCT and arguments."""
from __future__ import annotations

from sqlglot import exp

from sqlstream.core.errors import ValidationError
from sqlstream.planner.scalar_binder import _where


def contains_agg(e: exp.Expr) -> bool:
    """An aggregate call in `e` itself (those inside a subquery belong to the subquery)."""
    from sqlstream.planner.functions import is_aggregate
    for n in e.walk(prune=lambda x: x is not e and isinstance(x, (exp.Subquery, exp.Select))):
        if isinstance(n, exp.AggFunc) or isinstance(n, exp.Filter):
            return True
        if isinstance(n, exp.Anonymous) and is_aggregate(n.name):
            return True
    return False


def agg_parts(node: exp.Expr) -> tuple[str, bool, list[exp.Expr]]:
    """(name, DISTINCT?, argument nodes); a Python aggregate function's name is `UDAF:<NAME>` (it may shadow a
    built-in name sqlglot knows, such as MEDIAN)."""
    from sqlstream.core.udf import python_aggregate
    fname = node.name.upper() if isinstance(node, exp.Anonymous) else \
        (node.sql_name() if isinstance(node, exp.Func) else "")
    if python_aggregate(fname) is not None:
        args = list(node.expressions) if isinstance(node, exp.Anonymous) else \
            [a for a in [node.this, *(node.expressions or [])] if a is not None]
        if any(isinstance(a, exp.Distinct) for a in args):
            raise ValidationError(f"{_where(node)}DISTINCT is not supported for Python aggregate functions")
        return "UDAF:" + fname, False, args
    if isinstance(node, exp.Anonymous):
        args = list(node.expressions)
        distinct = bool(args) and isinstance(args[0], exp.Distinct)
        if distinct:  # LISTAGG(DISTINCT s [, sep])
            args = list(args[0].expressions) + args[1:]
        if node.name.upper() == "LISTAGG" and len(args) == 2 and not isinstance(args[1], exp.Literal):
            raise ValidationError(f"{_where(node)}Argument to function 'LISTAGG' must be a literal: its separator is "
                                  f"a string constant, as LISTAGG(s, ';')")
        return node.name.upper(), distinct, args
    if isinstance(node, exp.JSONObjectAgg):
        if len(node.expressions) != 1:
            raise ValidationError(f"{_where(node)}JSON_OBJECTAGG takes one KEY k VALUE v pair, as "
                                  f"JSON_OBJECTAGG(KEY name VALUE amount)")
        pair = node.expressions[0]
        absent = str(node.args.get("null_handling") or "").upper() == "ABSENT ON NULL"
        return "JSON_OBJECTAGG" + ("_ABSENT_ON_NULL" if absent else ""), False, [pair.this, pair.expression]
    if isinstance(node, (exp.Lead, exp.PercentRank, exp.CumeDist, exp.Ntile)):
        fname = {"Lead": "LEAD", "PercentRank": "PERCENT_RANK", "CumeDist": "CUME_DIST", "Ntile": "NTILE"}[
            type(node).__name__]
        raise ValidationError(f"{_where(node)}{fname} Function is not supported in stream mode.")
    if isinstance(node, (exp.RowNumber, exp.Rank, exp.DenseRank)):
        return {"RowNumber": "ROW_NUMBER", "Rank": "RANK", "DenseRank": "DENSE_RANK"}[type(node).__name__], False, []
    if isinstance(node, exp.Lag):
        return "LAG", False, [a for a in (node.this, node.args.get("offset"), node.args.get("default")) if a is not None]
    name = {"Count": "COUNT", "Sum": "SUM", "Avg": "AVG", "Min": "MIN", "Max": "MAX",
            "Stddev": "STDDEV_SAMP", "StddevPop": "STDDEV_POP", "StddevSamp": "STDDEV_SAMP",
            "Variance": "VAR_SAMP", "VariancePop": "VAR_POP", "FirstValue": "FIRST_VALUE",
            "LastValue": "LAST_VALUE", "GroupConcat": "LISTAGG", "LogicalAnd": "BOOL_AND",
            "LogicalOr": "BOOL_OR", "ArrayAgg": "ARRAY_AGG"}.get(type(node).__name__)
    if name is None:
        text = node.sql(dialect="flink")
        written = {"ApproxDistinct": "APPROX_COUNT_DISTINCT"}.get(type(node).__name__)  # sqlglot's name is not Flink's
        if written and "(" in text:
            text = written + text[text.index("("):]
        raise ValidationError(f"{_where(node)}Unsupported aggregate function {text}")
    this = node.this
    distinct = False
    if isinstance(this, exp.Distinct):
        distinct = True
        args = list(this.expressions)
    elif isinstance(this, exp.Star) or this is None:
        args = []
    else:
        args = [this] + [e for e in (node.expressions or []) if isinstance(node, exp.Count) is False]
    if name == "COUNT" and len(args) > 1:
        raise ValidationError(f"{_where(node)}COUNT with several arguments is not supported")
    return name, distinct, args
