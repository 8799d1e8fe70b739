"""Subqueries in WHERE and SELECT: IN / EXISTS as filters on a subquery predicate (rules make semi/anti joins of
them), scalar subqueries as joined one-row relations."""
from __future__ import annotations

from sqlglot import exp

from sqlstream.core.errors import ValidationError
from sqlstream.core.types import BOOLEAN, common_type
from sqlstream.plan.expr import Ref, SubqueryPredicate
from sqlstream.planner.bind.aggregate_calls import contains_agg
from sqlstream.planner.bind.conjuncts import ancestors, sql_conjuncts, where_clause
from sqlstream.planner.bind.relation import identity, project, Relation, streaming_shape
from sqlstream.planner.scalar_binder import ScalarBinder, _where


class Subqueries:
    """The Binder's subqueries in WHERE and SELECT."""

    def _lift_scalar_subqueries(self, sel: exp.Select) -> exp.Select:
        """`(SELECT AGG(..) FROM ..)` used as a value becomes a column of a one-row relation LEFT JOINed ON TRUE
        (NULL until the aggregate has a row, then updated as it changes, as in Flink)."""
        found = []
        aggregating = bool(sel.args.get("group")) or any(contains_agg(e) for e in sel.expressions)
        clauses = [sel.args.get("where")] + ([] if aggregating else list(sel.expressions))
        for clause in [sel.args.get("having")] + ([list(sel.expressions)] if aggregating else []):
            for c in clause if isinstance(clause, list) else [clause] if clause is not None else []:
                sq = next((q for q in c.find_all(exp.Subquery)
                           if not isinstance(q.parent, (exp.In, exp.Exists))), None)
                if sq is not None:
                    raise ValidationError(f"{_where(sq)}Scalar subqueries are supported in WHERE, and in SELECT "
                                          f"without aggregation; not in HAVING or next to aggregates yet")
        for clause in clauses:
            for sq in clause.find_all(exp.Subquery) if clause is not None else []:
                if isinstance(sq.parent, (exp.In, exp.Exists, exp.From, exp.Join)) or \
                        any(isinstance(a, exp.Subquery) for a in ancestors(sq, clause)):
                    continue
                found.append(sq)
        if not found:
            return sel
        sel = sel.copy()
        for n, sq in enumerate([s for s in sel.find_all(exp.Subquery) if any(s == f for f in found)]):
            inner = sq.this
            if not isinstance(inner, exp.Select) or len(inner.expressions) != 1 or inner.args.get("group") or \
                    not contains_agg(inner.expressions[0]):
                raise ValidationError(f"{_where(sq)}A scalar subquery must be one aggregate without GROUP BY "
                                      f"(so that it has one row), e.g. (SELECT MAX(x) FROM t)")
            try:
                self.bind_query(inner)
            except ValidationError as e:
                raise ValidationError(f"{_where(sq)}Correlated scalar subqueries are not supported yet ({e})") \
                    from None
            name = f"$sq{n}"
            value = inner.copy()
            value.set("expressions", [exp.alias_(inner.expressions[0].copy(), "$v", quoted=True)])
            sq.replace(exp.column("$v", table=name, quoted=True))
            sel = sel.join(exp.Subquery(this=value, alias=exp.TableAlias(this=exp.to_identifier(name, quoted=True))),
                           on=exp.true(), join_type="left", copy=False)
        return sel

    def _lift_in_subqueries(self, sel: exp.Select) -> exp.Select:
        """`x IN (SELECT y ..)` used as a value in SELECT (Flink's SubQueryRemoveRule): the subquery's distinct
        values LEFT JOINed on `x = y` mark the rows that find theirs, and a one-row relation says whether the
        subquery holds a NULL, for SQL's three-valued answer: NULL for a NULL x or when x is not found among
        values with a NULL, else whether x was found."""
        found = [i for e in sel.expressions for i in e.find_all(exp.In)
                 if i.args.get("query") is not None and not any(isinstance(a, exp.Subquery) for a in
                                                                   ancestors(i, e))]
        if not found:
            return sel
        if sel.args.get("group") or any(contains_agg(e) for e in sel.expressions) or \
                any(isinstance(e, exp.Star) or isinstance(e, exp.Column) and isinstance(e.this, exp.Star)
                    for e in sel.expressions):
            raise ValidationError(f"{_where(found[0])}IN (subquery) in SELECT is supported without aggregation "
                                  f"and without *; not here yet")
        sel = sel.copy()
        targets = [i for e in sel.expressions for i in e.find_all(exp.In) if i.args.get("query") is not None
                   and not any(isinstance(a, exp.Subquery) for a in ancestors(i, e))]
        for n, inn in enumerate(targets):
            name = f"$in{n}"
            values = _one_column_values(inn)

            def over_values(*columns: exp.Expr) -> exp.Select:
                return exp.select(*columns).from_(exp.Subquery(this=values.copy(), alias=exp.TableAlias(
                    this=exp.to_identifier("$q", quoted=True))))
            c = exp.column("$c", quoted=True)
            keys = over_values(exp.alias_(c.copy(), "$k", quoted=True), exp.alias_(exp.true(), "$hit", quoted=True)
                               ).group_by(c.copy())
            # one row per subquery, JOINed (not LEFT JOINed) ON TRUE as Flink plans it: no row while the subquery
            # has none, so an empty subquery gives no rows in a stream (Flink 2.3). BOOL_OR changes at most once,
            # so the joined rows are not updated for every new subquery row.
            counts = over_values(exp.alias_(exp.func("BOOL_OR", exp.Is(this=c.copy(), expression=exp.Null())),
                                            "$nul", quoted=True))
            x = inn.this.copy()
            unknown = exp.Cast(this=exp.Null(), to=exp.DataType.build("BOOLEAN"))
            answer = exp.Case(ifs=[
                exp.If(this=exp.Is(this=x.copy(), expression=exp.Null()), true=unknown.copy()),
                exp.If(this=exp.column("$hit", table=name, quoted=True), true=exp.true()),
                exp.If(this=exp.column("$nul", table=name + "n", quoted=True), true=unknown.copy())],
                default=exp.false())
            inn.replace(exp.Paren(this=answer))
            sel = sel.join(exp.Subquery(this=counts, alias=exp.TableAlias(this=exp.to_identifier(name + "n",
                                                                                                  quoted=True))),
                           on=exp.true(), join_type="inner", copy=False)
            sel = sel.join(exp.Subquery(this=keys, alias=exp.TableAlias(this=exp.to_identifier(name, quoted=True))),
                           on=exp.EQ(this=x, expression=exp.column("$k", table=name, quoted=True)),
                           join_type="left", copy=False)
        return sel

    def _bind_semi_anti(self, sel: exp.Select):
        """`x [NOT] IN (SELECT y ..)` and `[NOT] EXISTS (..)` conjuncts of WHERE filter the FROM's rows, one after
        the other."""
        rel = self._bind_from(sel)
        rest = []
        for c in sql_conjuncts(sel.args["where"].this):
            if isinstance(c, exp.Exists) or isinstance(c, exp.Not) and isinstance(c.this, exp.Exists):
                rel = self._bind_exists(rel, c.this if isinstance(c, exp.Not) else c, isinstance(c, exp.Not))
                continue
            neg = isinstance(c, exp.Not) and isinstance(c.this, exp.In) and c.this.args.get("query") is not None
            inn = c.this if neg else c
            if not (isinstance(inn, exp.In) and inn.args.get("query") is not None):
                rest.append(c)
                continue
            x = ScalarBinder(rel.scope).bind(inn.this)
            sub = self.bind_query(inn.args["query"].this if isinstance(inn.args["query"], exp.Subquery)
                                  else inn.args["query"])
            if len(sub.fields) != 1:
                raise ValidationError(f"{_where(inn)}The IN subquery must return exactly one column")
            if not isinstance(x, Ref):
                raise ValidationError(f"{_where(inn)}IN (subquery) needs a column on its left side")
            if common_type(x.type, sub.fields[0].type) is None:
                raise ValidationError(f"{_where(inn)}IN compares {x.type} with {sub.fields[0].type}")
            rel = self._filter_by_subquery(inn, rel, SubqueryPredicate(BOOLEAN, (x,), sub, neg, null_aware=neg))
        return rel, where_clause(rest)

    def _bind_exists(self, rel: Relation, exists: exp.Exists, negated: bool) -> Relation:
        """`[NOT] EXISTS (SELECT .. WHERE inner.a = outer.b AND ..)`: the equality correlations become the keys of
        the predicate (inner columns as the subquery's columns); the subquery's other conjuncts filter its rows
        first."""
        sub = exists.this.this if isinstance(exists.this, exp.Subquery) else exists.this
        if not isinstance(sub, exp.Select) or (sub.args.get("from_") or sub.args.get("from")) is None:
            raise ValidationError(f"{_where(exists)}EXISTS needs a SELECT .. FROM subquery")
        if sub.args.get("group") or sub.args.get("having") or any(contains_agg(e) for e in sub.expressions):
            raise ValidationError(f"{_where(exists)}EXISTS over an aggregating subquery is not supported yet")
        inner_scope = self._bind_from(sub).scope

        def side(e: exp.Expr) -> str:
            """'inner', 'outer' or 'mixed': where the columns of a subquery expression resolve."""
            where = set()
            for col in e.find_all(exp.Column):
                q = col.table or None
                if any(f.name == col.name and (q is None or f.qualifier == q) for f in inner_scope.fields):
                    where.add("inner")
                elif any(f.name == col.name and (q is None or f.qualifier == q) for f in rel.scope.fields):
                    where.add("outer")
                else:
                    where.add("inner")  # let binding the subquery report the unknown column
            return where.pop() if len(where) == 1 else ("inner" if not where else "mixed")

        local, inner_keys, outer_keys = [], [], []
        cond = sub.args.get("where")
        for c in sql_conjuncts(cond.this) if cond is not None else []:
            if side(c) == "inner":
                local.append(c)
                continue
            if isinstance(c, exp.EQ) and {side(c.this), side(c.expression)} == {"inner", "outer"}:
                a, b = (c.this, c.expression) if side(c.this) == "inner" else (c.expression, c.this)
                inner_keys.append(a)
                outer_keys.append(b)
                continue
            raise ValidationError(f"{_where(c)}EXISTS supports only equality correlation "
                                  f"(inner.column = outer.column); got {c.sql()}")
        if not inner_keys:
            raise ValidationError(f"{_where(exists)}Uncorrelated EXISTS is not supported yet: correlate the "
                                  f"subquery with the outer query by an equality")
        inner = sub.copy()
        inner.set("expressions", [exp.alias_(k.copy(), f"$k{i}") for i, k in enumerate(inner_keys)])
        inner.set("distinct", None)
        inner.set("where", where_clause([c.copy() for c in local]))
        right = self.bind_query(inner)
        keys = []
        for k, f in zip(outer_keys, right.fields):
            x = ScalarBinder(rel.scope).bind(k)
            if not isinstance(x, Ref):
                raise ValidationError(f"{_where(k)}EXISTS correlation needs an outer column, got {k.sql()}")
            if common_type(x.type, f.type) is None:
                raise ValidationError(f"{_where(k)}EXISTS correlation compares {x.type} with {f.type}")
            keys.append(x)
        return self._filter_by_subquery(exists, rel, SubqueryPredicate(BOOLEAN, tuple(keys), right, negated))

    def _filter_by_subquery(self, where: exp.Expr, rel: Relation, predicate: SubqueryPredicate) -> Relation:
        """The rows of `rel` the subquery predicate admits: a plain filter, which a rule makes a semi/anti join."""
        node = streaming_shape(where, project(rel.node, identity(rel.node), rel.node.names, predicate))
        return Relation(node, rel.scope)


def _one_column_values(inn: exp.In) -> exp.Select:
    """The values of an IN subquery as one column named $c: a SELECT's one expression renamed, a set operation
    (UNION ..) read through a derived table by its first branch's column name."""
    query = inn.args["query"]
    inner = query.this if isinstance(query, exp.Subquery) else query
    selects = inner.selects if isinstance(inner, (exp.Select, exp.SetOperation)) else []
    if len(selects) != 1 or isinstance(selects[0], exp.Star) or \
            isinstance(selects[0], exp.Column) and isinstance(selects[0].this, exp.Star):
        raise ValidationError(f"{_where(inn)}The IN subquery must return exactly one column, named in its "
                              f"SELECT list (not *)")
    _refuse_correlation(inn, inner)
    if isinstance(inner, exp.Select):
        values = inner.copy()
        values.set("expressions", [exp.alias_(inner.expressions[0].copy(), "$c", quoted=True)])
        return values
    column = selects[0].alias_or_name
    if not column:
        raise ValidationError(f"{_where(inn)}Name the IN subquery's column with AS in its first SELECT")
    return exp.select(exp.alias_(exp.column(column, table="$u", quoted=True), "$c", quoted=True)).from_(
        exp.Subquery(this=inner.copy(), alias=exp.TableAlias(this=exp.to_identifier("$u", quoted=True))))


def _refuse_correlation(inn: exp.In, inner: exp.Expr) -> None:
    """A column qualified by a table the subquery does not read refers to the outer row: not supported here."""
    own = {t.alias_or_name for t in inner.find_all(exp.Table)} | \
        {sq.alias for sq in inner.find_all(exp.Subquery) if sq.alias}
    for col in inner.find_all(exp.Column):
        if col.table and col.table not in own:
            raise ValidationError(f"{_where(col)}A correlated IN subquery in SELECT (one that reads the outer "
                                  f"row's '{col.table}.{col.name}') is not supported yet")
