"""SELECT: the projection and WHERE of a query block, and where a block goes when it aggregates, ranks, windows or has subqueries."""
from __future__ import annotations

from sqlglot import exp

from sqlstream.core.errors import ValidationError
from sqlstream.plan import logical as L
from sqlstream.plan.expr import Expr, Ref
from sqlstream.planner.bind.aggregate_calls import contains_agg
from sqlstream.planner.bind.conjuncts import has_subquery_conjunct
from sqlstream.planner.bind.relation import dedupe_names, output_name, project
from sqlstream.planner.hints import check_hint_names, query_hints
from sqlstream.planner.scalar_binder import ScalarBinder, Scope, _where


def hinted_inputs(sel: exp.Select) -> list[str] | None:
    """The input names a query hint of the block may give: its FROM items' (alias, else table name) when it
    joins, the one FROM item's when it aggregates; none otherwise (any name goes)."""
    frm = sel.args.get("from_")
    items = ([frm.this] if frm is not None else []) + [j.this for j in sel.args.get("joins") or []]
    names = [i.alias_or_name for i in items if isinstance(i, (exp.Table, exp.Subquery)) and i.alias_or_name]
    if sel.args.get("joins"):
        return names
    if sel.args.get("group") or sel.args.get("having") or any(contains_agg(e) for e in sel.expressions):
        return names
    return None


# the relations subqueries used as values are joined as (scalar, IN, EXISTS)
LIFTED = ("$sq", "$in", "$ex")


class SelectClause:
    """The Binder's SELECT blocks."""

    def _bind_select(self, sel: exp.Select) -> L.Node:
        hints = query_hints(sel)
        if hints.names:
            check_hint_names(sel, hints, hinted_inputs(sel))
        if sel.args.get("limit") or sel.args.get("offset"):
            return self._bind_limit(sel)
        if sel.args.get("order"):
            return self._bind_temporal_sort(sel)
        sel = self._lift_scalar_subqueries(self._lift_in_subqueries(self._lift_exists_values(sel)))
        if sel.args.get("distinct"):
            if sel.args.get("group") or any(contains_agg(e) for e in sel.expressions):
                raise ValidationError(f"{_where(sel)}SELECT DISTINCT with GROUP BY or aggregates is not supported yet")
            inner = sel.copy()
            inner.set("distinct", None)
            sub = exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier("$distinct")))
            node = self.bind_query(inner)
            cols = [exp.column(n, quoted=True) for n in node.names]
            return self.bind_query(exp.select(*cols).from_(sub).group_by(*[c.copy() for c in cols]))
        topn = self._try_top_n(sel)
        if topn is not None:
            rel, where = topn
        elif sel.args.get("where") is not None and has_subquery_conjunct(sel.args["where"].this):
            rel, where = self._bind_semi_anti(sel)
        else:
            if sel.args.get("windows") or any(e.find(exp.Window) for e in sel.expressions):
                return self._bind_over(sel)
            rel = self._bind_from(sel)
            where = sel.args.get("where")
        group = sel.args.get("group")
        having = sel.args.get("having")
        has_agg = bool(group) or any(contains_agg(e) for e in sel.expressions) or having is not None
        if has_agg:
            return self._bind_aggregate(sel, rel, where, group, having)
        node, scope = rel.node, rel.scope
        binder = ScalarBinder(scope)
        cond = self._bind_condition(binder, where) if where is not None else None
        exprs, names = self._bind_projection(sel, binder, scope)
        return project(node, exprs, names, cond)

    def _bind_condition(self, binder: ScalarBinder, where: exp.Expr) -> Expr:
        if isinstance(where, exp.Where):
            binder = ScalarBinder(binder.scope.in_where(), binder.agg_hook, binder.group_hook)
        node = where.this if isinstance(where, (exp.Where, exp.Having)) else where
        c = binder.bind(node)
        if c.type.name not in ("BOOLEAN", "NULL"):
            raise ValidationError(f"{_where(node)}Filter condition must be BOOLEAN, not {c.type}")
        return c

    def _bind_projection(self, sel: exp.Select, binder: ScalarBinder, scope: Scope):
        exprs, names = [], []
        for i, item in enumerate(sel.expressions):
            if isinstance(item, exp.Star) or (isinstance(item, exp.Column) and isinstance(item.this, exp.Star)):
                qual = item.table if isinstance(item, exp.Column) else None
                for j, f in enumerate(scope.fields):
                    if qual and f.qualifier != qual or not qual and ((f.qualifier or "").startswith(LIFTED)
                                                                     or f.using == "side"):
                        continue  # `*` does not show the columns lifted subqueries add
                    exprs.append(Ref(f.type, j, f.name))
                    names.append(f.name)
                continue
            e = binder.bind(item)
            exprs.append(e)
            names.append(output_name(item, len(names)))
        dup = [n for n in names if names.count(n) > 1]
        if dup:
            names = dedupe_names(names)
        return exprs, names
