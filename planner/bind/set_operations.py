"""UNION [ALL], INTERSECT [ALL] and EXCEPT [ALL]."""
from __future__ import annotations

from sqlglot import exp

from sqlstream.core.errors import ValidationError
from sqlstream.core.types import common_type
from sqlstream.plan import logical as L
from sqlstream.plan.expr import Ref
from sqlstream.planner.bind.relation import project
from sqlstream.planner.scalar_binder import coerce_to, _statement_text, _where


def check_set_op_inputs(q: exp.Expr, left: L.Node, right: L.Node) -> None:
    op = type(q).__name__.upper() + ("" if q.args.get("distinct") else " ALL")
    if len(right.fields) != len(left.fields):
        raise ValidationError(f"{_where(q)}Column count mismatch in {op}: {len(left.fields)} vs {len(right.fields)}")
    for a, b in zip(left.fields, right.fields):
        if common_type(a.type, b.type) is None:
            raise ValidationError(f"{_where(q)}Type mismatch in {op}: column '{a.name}' is {a.type} on the left "
                                  f"and {b.type} on the right")


class SetOperations:
    """The Binder's set operations."""

    def _bind_intersect_except(self, q: exp.Expr) -> L.Node:
        """INTERSECT / EXCEPT (distinct): the distinct left rows with (SEMI) or without (ANTI) an equal right row."""
        kind = "SEMI" if isinstance(q, exp.Intersect) else "ANTI"
        if q.args.get("distinct") is False:
            left, right = self.bind_query(q.this), self.bind_query(q.expression)
            check_set_op_inputs(q, left, right)
            keys = list(range(len(left.fields)))
            return L.SetOpAll(list(left.fields), L.RETRACT, left=left, right=right,
                              kind="INTERSECT" if kind == "SEMI" else "EXCEPT", left_keys=keys, right_keys=keys,
                              nulls_equal=True)
        left_q = exp.Subquery(this=q.this.copy(), alias=exp.TableAlias(this=exp.to_identifier("$left")))
        left_node = self.bind_query(q.this)
        cols = [exp.column(n, quoted=True) for n in left_node.names]
        left = self.bind_query(exp.select(*cols).from_(left_q).group_by(*[c.copy() for c in cols]))
        right = self.bind_query(q.expression)
        check_set_op_inputs(q, left, right)
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
        left, right = self.bind_query(u.this), self.bind_query(u.expression)
        op = u.meta.get("written", "UNION ALL")
        if len(left.fields) != len(right.fields):
            raise ValidationError(f"{_where(u)}Column count mismatch in {op}: {len(left.fields)} vs "
                                  f"{len(right.fields)}")
        types = []
        for a, b in zip(left.fields, right.fields):
            c = common_type(a.type, b.type)
            if c is None:
                raise ValidationError(f"{_where(u)}Type mismatch in {op}: column '{a.name}' is {a.type} on "
                                      f"the left and {b.type} on the right")
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
        flat = [c for k in kids for c in (k.children if isinstance(k, L.Union) else [k])]
        mode = L.INSERT_ONLY if all(not k.updating for k in flat) else L.RETRACT
        return L.Union([L.Field(n, t) for n, t in zip(left.names, types)], mode, children=flat)
