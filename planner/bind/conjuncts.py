"""Conditions taken apart: the conjuncts of SQL and bound conditions, and a join condition's equi-keys."""
from __future__ import annotations

from sqlglot import exp

from sqlstream.plan.expr import and_expr, Call, Expr, Ref


def sql_conjuncts(e: exp.Expr) -> list[exp.Expr]:
    if isinstance(e, exp.And):
        return sql_conjuncts(e.this) + sql_conjuncts(e.expression)
    if isinstance(e, exp.Paren):
        return sql_conjuncts(e.this)
    return [e]


def where_clause(conjuncts: list[exp.Expr]) -> exp.Where | None:
    """The WHERE clause ANDing the conjuncts, or None when there are none."""
    if not conjuncts:
        return None
    combined = conjuncts[0]
    for c in conjuncts[1:]:
        combined = exp.and_(combined, c)
    return exp.Where(this=combined)


def expr_conjuncts(e: Expr) -> list[Expr]:
    if isinstance(e, Call) and e.fn == "AND":
        return expr_conjuncts(e.args[0]) + expr_conjuncts(e.args[1])
    return [e]


def split_equi_keys(cond: Expr, n_left: int) -> tuple[list[int], list[int], Expr | None]:
    """Equalities between a left and a right column become join keys (right keys relative to the right
    input); the other conjuncts stay as the join condition."""
    lkeys, rkeys, rest = [], [], None
    for c in expr_conjuncts(cond):
        pair = equi_pair(c, n_left)
        if pair is not None:
            lkeys.append(pair[0])
            rkeys.append(pair[1] - n_left)
        else:
            rest = c if rest is None else and_expr(rest, c)
    return lkeys, rkeys, rest


def equi_pair(e: Expr, n_left: int) -> tuple[int, int] | None:
    """(left column, right column) of an equality between one column of each side with the same type."""
    if not (isinstance(e, Call) and e.fn == "=" and all(isinstance(a, Ref) for a in e.args)):
        return None
    a, b = e.args
    if a.type.without_time_attr().with_nullable(True) != b.type.without_time_attr().with_nullable(True):
        return None
    if a.index < n_left <= b.index:
        return a.index, b.index
    if b.index < n_left <= a.index:
        return b.index, a.index
    return None


def has_subquery_conjunct(e: exp.Expr) -> bool:
    for c in sql_conjuncts(e):
        inn = c.this if isinstance(c, exp.Not) else c
        if isinstance(inn, exp.In) and inn.args.get("query") is not None or isinstance(inn, exp.Exists):
            return True
    return False


def reads_column(parts: list, name: str) -> bool:
    """Whether any of these clause parts (expressions or lists of them) reads the column `name` or `*`."""
    for part in parts:
        for e in part if isinstance(part, list) else [part]:
            if isinstance(e, exp.Expr) and any(isinstance(x, exp.Star) or isinstance(x, exp.Column) and
                                               (x.name == name or isinstance(x.this, exp.Star)) for x in e.walk()):
                return True
    return False


def ancestors(node: exp.Expr, stop: exp.Expr):
    """The nodes between `node` (exclusive) and `stop` (inclusive)."""
    p = node.parent
    while p is not None:
        yield p
        if p is stop:
            return
        p = p.parent
