"""UNION [ALL], INTERSECT [ALL] and EXCEPT [ALL]."""
from __future__ import annotations

from sqlglot import exp

from sqlstream.core.errors import ValidationError
from sqlstream.core.types import FlinkType, common_type
from sqlstream.plan import logical as L
from sqlstream.plan.expr import Ref
from sqlstream.planner.bind.relation import project
from sqlstream.planner.scalar_binder import coerce_to, _statement_text, _where


def set_op_name(q: exp.Expr) -> str:
    return q.meta.get("written") or type(q).__name__.upper() + ("" if q.args.get("distinct") else " ALL")


def widen_inputs(q: exp.Expr, left: L.Node, right: L.Node) -> tuple[list[FlinkType], L.Node, L.Node]:
    """The column types of a set operation (each the least restrictive of its two inputs', as Flink derives
    them for UNION, INTERSECT and EXCEPT alike), and the two inputs cast to them where they differ."""
    op = set_op_name(q)
    if len(right.fields) != len(left.fields):
        raise ValidationError(f"{_where(q)}Column count mismatch in {op}: {len(left.fields)} vs {len(right.fields)}")
    types = []
    for a, b in zip(left.fields, right.fields):
        c = common_type(a.type, b.type)
        if c is None:
            raise ValidationError(f"{_where(q)}Type mismatch in {op}: column '{a.name}' is {a.type} on the left "
                                  f"and {b.type} on the right")
        if a.type.time_attr == "rowtime" and b.type.time_attr == "rowtime":
            c = c.as_rowtime()
        types.append(c)
    kids = []
    for side in (left, right):
        exprs = []
        for i, (f, t) in enumerate(zip(side.fields, types)):
            r = Ref(f.type, i, f.name)
            exprs.append(r if f.type.without_time_attr() == t.without_time_attr() else coerce_to(r, t))
        kids.append(project(side, exprs, left.names) if any(not isinstance(e, Ref) for e in exprs) else side)
    return types, kids[0], kids[1]


class SetOperations:
    """The Binder's set operations."""

    def _bind_intersect_except(self, q: exp.Expr) -> L.Node:
        """INTERSECT / EXCEPT (distinct): the distinct left rows with (SEMI) or without (ANTI) an equal right row."""
        kind = "SEMI" if isinstance(q, exp.Intersect) else "ANTI"
        if q.args.get("distinct") is False:
            _, left, right = widen_inputs(q, self.bind_query(q.this), self.bind_query(q.expression))
            keys = list(range(len(left.fields)))
            return L.SetOpAll(list(left.fields), L.RETRACT, left=left, right=right,
                              kind="INTERSECT" if kind == "SEMI" else "EXCEPT", left_keys=keys, right_keys=keys,
                              nulls_equal=True)
        left_q = exp.Subquery(this=q.this.copy(), alias=exp.TableAlias(this=exp.to_identifier("$left")))
        left_node = self.bind_query(q.this)
        cols = [exp.column(n, quoted=True) for n in left_node.names]
        left = self.bind_query(exp.select(*cols).from_(left_q).group_by(*[c.copy() for c in cols]))
        _, left, right = widen_inputs(q, left, self.bind_query(q.expression))
        keys = list(range(len(left.fields)))
        return L.Join(list(left.fields), L.RETRACT, left=left, right=right, kind=kind, left_keys=keys,
                      right_keys=keys, nulls_equal=True)

    def _bind_union(self, u: exp.Union) -> L.Node:
        if u.args.get("distinct"):
            all_ = u.copy()
            all_.set("distinct", False)
            all_.meta.update(written="UNION", sql=_statement_text(u))  # errors name what the user wrote
            node = self._bind_union(all_)
            sub = exp.Subquery(this=all_, alias=exp.TableAlias(this=exp.to_identifier("$union")))
            cols = [exp.column(n, quoted=True) for n in node.names]
            return self.bind_query(exp.select(*cols).from_(sub).group_by(*[c.copy() for c in cols]))
        types, *kids = widen_inputs(u, self.bind_query(u.this), self.bind_query(u.expression))
        flat = [c for k in kids for c in (k.children if isinstance(k, L.Union) else [k])]
        mode = L.INSERT_ONLY if all(not k.updating for k in flat) else L.RETRACT
        return L.Union([L.Field(n, t) for n, t in zip(kids[0].names, types)], mode, children=flat)
