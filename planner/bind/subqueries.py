"""Subqueries in WHERE and SELECT: IN / EXISTS as filters on a subquery predicate (rules make semi/anti joins of
them), scalar subqueries as joined one-row relations."""
from __future__ import annotations

from sqlglot import exp

from sqlstream.core.errors import ValidationError
from sqlstream.core.types import BOOLEAN, common_type
from sqlstream.plan.expr import Ref, SubqueryPredicate
from sqlstream.planner.bind.aggregate_calls import contains_agg
from sqlstream.planner.bind.conjuncts import ancestors, sql_conjuncts, where_clause
from sqlstream.planner.bind.relation import identity, output_name, project, Relation, streaming_shape
from sqlstream.planner.scalar_binder import ScalarBinder, Scope, ScopeField, _where


class Subqueries:
    """The Binder's subqueries in WHERE and SELECT."""

    def _lift_scalar_subqueries(self, sel: exp.Select) -> exp.Select:
        """`(SELECT AGG(..) FROM ..)` used as a value becomes a column of a one-row relation LEFT JOINed ON TRUE
        (NULL until the aggregate has a row, then updated as it changes, as in Flink)."""
        found = []
        aggregating = bool(sel.args.get("group")) or any(contains_agg(e) for e in sel.expressions)
        clauses = [sel.args.get("where")] + ([] if aggregating else list(sel.expressions))
        having = sel.args.get("having")
        above = ([having.this] if having is not None else []) + (list(sel.expressions) if aggregating else [])
        beside = [q for c in above for q in _scalar_subqueries(c)]
        if beside:
            # next to aggregates or in HAVING: values of the aggregation's rows, as Flink plans them
            for q in beside:
                if _reads_outer(q) or any(isinstance(a, (exp.AggFunc, exp.Filter)) for c in above
                                          for a in ancestors(q, c)):
                    raise ValidationError(f"{_where(q)}A scalar subquery next to aggregates or in HAVING is "
                                          f"supported uncorrelated and outside aggregate calls; not here yet")
            return self._lift_scalar_subqueries(_aggregate_below(sel))
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
            name = f"$sq{n}"
            correlated = _correlated_scalar(inner, sel, name)
            if correlated is not None:
                value, on, replacement = correlated
                sq.replace(replacement)
                sel = sel.join(exp.Subquery(this=value, alias=exp.TableAlias(this=exp.to_identifier(name,
                                                                                                    quoted=True))),
                               on=on, join_type="left", copy=False)
                continue
            try:
                self.bind_query(inner)
            except ValidationError as e:
                raise ValidationError(f"{_where(sq)}Correlated scalar subqueries are not supported yet ({e})") \
                    from None
            value = inner.copy()
            value.set("expressions", [exp.alias_(inner.expressions[0].copy(), "$v", quoted=True)])
            sq.replace(exp.column("$v", table=name, quoted=True))
            sel = sel.join(exp.Subquery(this=value, alias=exp.TableAlias(this=exp.to_identifier(name, quoted=True))),
                           on=exp.true(), join_type="left", copy=False)
        return sel

    def _lift_exists_values(self, sel: exp.Select) -> exp.Select:
        """`EXISTS (..)` as a value (in SELECT, or in WHERE under OR, NOT, CASE ..), as Flink's SubQueryRemoveRule
        rewrites it: the subquery's distinct correlation keys with a marker `$hit`, LEFT JOINed on the equality
        correlations (uncorrelated, its one distinct row ON TRUE); EXISTS is then `$hit IS NOT NULL`."""
        where = sel.args.get("where")
        aggregating = bool(sel.args.get("group")) or any(contains_agg(e) for e in sel.expressions)
        having = sel.args.get("having")
        if aggregating and any(_exists_values(e) for e in sel.expressions + ([having.this] if having else [])):
            return self._lift_exists_values(_aggregate_below(sel))  # values over the aggregation's rows
        in_select = [] if aggregating else [x for e in sel.expressions for x in e.find_all(exp.Exists)
                                            if not any(isinstance(a, exp.Subquery) for a in ancestors(x, e))]
        if not in_select and not any(isinstance(x, exp.Exists) for x in _nested_in_where(where)):
            return sel
        outer = self._bind_from(sel).scope
        sel = sel.copy()
        found = [x for e in sel.expressions for x in e.find_all(exp.Exists)
                 if not any(isinstance(a, exp.Subquery) for a in ancestors(x, e))] if in_select else []
        found += [x for x in _nested_in_where(sel.args.get("where")) if isinstance(x, exp.Exists)]
        for n, exists in enumerate(found):
            inner = exists.this.this if isinstance(exists.this, exp.Subquery) else exists.this
            if not isinstance(inner, exp.Select) or inner.args.get("from_") is None:
                raise ValidationError(f"{_where(exists)}EXISTS needs a SELECT .. FROM subquery")
            if inner.args.get("group") or inner.args.get("having") or any(contains_agg(e) for e in inner.expressions):
                raise ValidationError(f"{_where(exists)}EXISTS over an aggregating subquery is not supported yet")
            own = self._bind_from(inner).scope

            keys, rest, _ = _correlation(inner.args.get("where"), lambda c: _outer_column(c, inner, own, outer),
                                         "EXISTS as a value (in SELECT, or under OR or NOT) is correlated only by "
                                         "equalities of an outer-row expression with a subquery expression yet")
            name = f"$ex{n}"
            marks = inner.copy()
            js = [exp.alias_(k.copy(), f"$j{i}", quoted=True) for i, (k, _) in enumerate(keys)]
            marks.set("expressions", js + [exp.alias_(exp.true(), "$hit", quoted=True)])
            marks.set("where", where_clause([c.copy() for c in rest]))
            marks.set("distinct", exp.Distinct())
            on = exp.and_(*[exp.EQ(this=exp.column(f"$j{i}", table=name, quoted=True), expression=o.copy())
                            for i, (_, o) in enumerate(keys)]) if keys else exp.true()
            exists.replace(exp.Paren(this=exp.Not(this=exp.Is(this=exp.column("$hit", table=name, quoted=True),
                                                              expression=exp.Null()))))
            sel = sel.join(exp.Subquery(this=marks, alias=exp.TableAlias(this=exp.to_identifier(name, quoted=True))),
                           on=on, join_type="left", copy=False)
        return sel

    def _lift_in_subqueries(self, sel: exp.Select) -> exp.Select:
        """`x IN (SELECT y ..)` used as a value in SELECT (Flink's SubQueryRemoveRule): the subquery's distinct
        values LEFT JOINed on `x = y` mark the rows that find theirs, and a one-row relation says whether the
        subquery holds a NULL, for SQL's three-valued answer: NULL for a NULL x or when x is not found among
        values with a NULL, else whether x was found. Correlated by equalities (`WHERE r.y = o.b`), both
        relations are grouped by r's side of them too and LEFT JOINed on them as well: a key the subquery has no
        rows for answers FALSE (NULL for a NULL x). A correlated NOT IN conjunct of WHERE is such a value too
        (there an empty subquery passes even a NULL x, as in Flink)."""
        having = sel.args.get("having")
        if any(isinstance(a, (exp.AggFunc, exp.Filter)) for e in sel.expressions + ([having] if having else [])
               for i in _in_subqueries(e) for a in ancestors(i, e)):
            sel = self._in_below_aggregates(sel)
        found = [i for e in sel.expressions for i in _in_subqueries(e)]
        where = sel.args.get("where")
        negated = [c for c in sql_conjuncts(where.this) if isinstance(c, exp.Not) and isinstance(c.this, exp.In)
                   and c.this.args.get("query") is not None] if where is not None else []
        outer = None
        if negated:
            outer = self._bind_from(sel).scope
            negated = [c for c in negated if not isinstance(c.this.this, exp.Tuple) and
                       self._decorrelated_values(c.this, outer)[1]]
        having = sel.args.get("having")
        in_having = _in_subqueries(having.this) if having is not None else []
        nested = [i for i in _nested_in_where(where) if isinstance(i, exp.In) and not isinstance(i.this, exp.Tuple)]
        if not found and not negated and not in_having and not nested:
            return sel
        if (found or in_having) and any(isinstance(e, exp.Star) or isinstance(e, exp.Column) and
                                        isinstance(e.this, exp.Star) for e in sel.expressions) or \
                any(isinstance(a, (exp.AggFunc, exp.Window)) for i in found + in_having for a in ancestors(i, sel)):
            raise ValidationError(f"{_where((found + in_having)[0])}IN (subquery) in SELECT is supported outside OVER "
                                  f"windows and without *; not here yet")
        outer = outer or self._bind_from(sel).scope
        aggregating = sel.args.get("group") or sel.args.get("having") or any(contains_agg(e) for e in sel.expressions)
        for inn in found + in_having + nested:
            values, pairs = self._decorrelated_values(inn, outer)
            if pairs and aggregating and not any(inn is i for i in nested):
                raise ValidationError(f"{_where(inn)}A correlated IN subquery next to aggregates is not "
                                      f"supported yet")
            self._refuse_unqualified_correlation(sel, inn, values)
        if found and aggregating or in_having:
            return self._lift_in_subqueries(_aggregate_below(sel))
        sel = sel.copy()
        targets = [(i, False) for e in sel.expressions for i in _in_subqueries(e)]
        if negated:
            targets += [(c.this, True) for c in sql_conjuncts(sel.args["where"].this)
                        if any(c == n for n in negated)]
        # under OR, NOT, CASE .. in WHERE: the value SELECT gives (an empty uncorrelated subquery leaves no rows)
        targets += [(i, False) for i in _nested_in_where(sel.args.get("where"))
                    if isinstance(i, exp.In) and not isinstance(i.this, exp.Tuple)]
        for n, (inn, in_where) in enumerate(targets):
            name = f"$in{n}"
            values, pairs = self._decorrelated_values(inn, outer)
            js = [exp.column(f"$j{i}", quoted=True) for i in range(len(pairs))]

            def over_values(*columns: exp.Expr) -> exp.Select:
                return exp.select(*columns).from_(exp.Subquery(this=values.copy(), alias=exp.TableAlias(
                    this=exp.to_identifier("$q", quoted=True))))
            c = exp.column("$c", quoted=True)
            keys = over_values(exp.alias_(c.copy(), "$k", quoted=True), *[j.copy() for j in js],
                               exp.alias_(exp.true(), "$hit", quoted=True)).group_by(c.copy(), *[j.copy() for j in js])
            # uncorrelated, one row per subquery, JOINed (not LEFT JOINed) ON TRUE as Flink plans it: no row while
            # the subquery has none, so an empty subquery gives no rows in a stream (Flink 2.3). BOOL_OR changes
            # at most once, so the joined rows are not updated for every new subquery row.
            counts = over_values(*[j.copy() for j in js], exp.alias_(exp.func(
                "BOOL_OR", exp.Is(this=c.copy(), expression=exp.Null())), "$nul", quoted=True))
            if pairs:
                counts = counts.group_by(*[j.copy() for j in js])
            x = inn.this.copy()
            unknown = exp.Cast(this=exp.Null(), to=exp.DataType.build("BOOLEAN"))
            nul = exp.column("$nul", table=name + "n", quoted=True)
            answer = exp.Case(ifs=([exp.If(this=exp.Is(this=nul.copy(), expression=exp.Null()), true=exp.false())]
                                   if in_where else []) + [
                exp.If(this=exp.Is(this=x.copy(), expression=exp.Null()), true=unknown.copy()),
                exp.If(this=exp.column("$hit", table=name, quoted=True), true=exp.true()),
                exp.If(this=nul, true=unknown.copy())],
                default=exp.false())
            inn.replace(exp.Paren(this=answer))

            def on(table: str, *first: exp.Expr) -> exp.Expr:
                return exp.and_(*first, *[exp.EQ(this=exp.column(f"$j{i}", table=table, quoted=True),
                                                 expression=o.copy()) for i, o in enumerate(pairs)]) \
                    if first or pairs else exp.true()
            sel = sel.join(exp.Subquery(this=counts, alias=exp.TableAlias(this=exp.to_identifier(name + "n",
                                                                                                  quoted=True))),
                           on=on(name + "n"), join_type="left" if pairs else "inner", copy=False)
            sel = sel.join(exp.Subquery(this=keys, alias=exp.TableAlias(this=exp.to_identifier(name, quoted=True))),
                           on=on(name, exp.EQ(this=x, expression=exp.column("$k", table=name, quoted=True))),
                           join_type="left", copy=False)
        return sel

    def _in_below_aggregates(self, sel: exp.Select) -> exp.Select:
        """IN subqueries inside aggregate calls (`SUM(CASE WHEN v IN (SELECT ..) ..)`) are values of the rows
        aggregated, as Flink plans them: a SELECT of the FROM's columns and of each such IN (lifted as a value
        there) under the aggregating SELECT, whose columns then read it."""
        fields = self._bind_from(sel).scope.fields
        inner = sel.copy()
        outer = sel.copy()
        for key in ("where", "joins", "group", "having"):
            inner.set(key, None)
        outer.set("where", None)
        outer.set("joins", None)
        outer.set("expressions", [e if isinstance(e, exp.Alias) else exp.alias_(e, output_name(e, i), quoted=True)
                                  for i, e in enumerate(outer.expressions)])
        rows = "$rows"
        below: list[exp.Expr] = []
        for clause in outer.expressions + [outer.args.get("having")]:
            for inn in _in_subqueries(clause) if clause is not None else []:
                if any(isinstance(a, (exp.AggFunc, exp.Filter)) for a in ancestors(inn, clause)):
                    below.append(exp.alias_(inn.copy(), f"$i{len(below)}", quoted=True))
                    inn.replace(exp.column(f"$i{len(below) - 1}", table=rows, quoted=True))

        def to_row_column(node: exp.Expr) -> exp.Expr:
            if isinstance(node, exp.Column) and not isinstance(node.this, exp.Star) and node.table != rows and \
                    not any(isinstance(a, exp.Subquery) for a in ancestors(node, None)):
                at = next((i for i, f in enumerate(fields) if f.name == node.name and
                           (not node.table or f.qualifier == node.table)), None)
                if at is not None:
                    return exp.column(f"$f{at}", table=rows, quoted=True)
            return node
        for key in ("expressions", "group", "having"):
            value = outer.args.get(key)
            if isinstance(value, list):
                outer.set(key, [v.transform(to_row_column) for v in value])
            elif value is not None:
                outer.set(key, value.transform(to_row_column))
        inner.set("expressions", [exp.alias_(exp.column(f.name, table=f.qualifier, quoted=True), f"$f{i}",
                                             quoted=True) for i, f in enumerate(fields)] + below)
        inner.set("where", sel.args.get("where").copy() if sel.args.get("where") else None)
        inner.set("joins", [j.copy() for j in sel.args.get("joins") or []])
        outer.set("from_", exp.From(this=exp.Subquery(this=inner, alias=exp.TableAlias(
            this=exp.to_identifier(rows, quoted=True)))))
        return outer

    def _decorrelated_values(self, inn: exp.In, outer: Scope) -> tuple[exp.Select, list[exp.Expr]]:
        """The values of an IN subquery as one column $c and, when its WHERE is correlated with the outer row by
        equalities (`r.y = o.b`, or `y = b` with b a column only the outer row has), r's side of each as $j0,
        $j1 .. with the outer side's expressions. A correlation that is not an equality is refused."""
        query = inn.args["query"]
        inner = query.this if isinstance(query, exp.Subquery) else query
        where = inner.args.get("where") if isinstance(inner, exp.Select) else None
        if where is None or not self._reads_outer_row(inner, outer):
            return _one_column_values(inn), []
        inner = self._grouped_by_correlation(inner, outer)
        where = inner.args.get("where")
        inn = exp.In(this=inn.this.copy(), query=exp.Subquery(this=inner))
        own = self._bind_from(inner).scope

        def outer_col(c: exp.Column) -> bool:
            return _outer_column(c, inner, own, outer)
        keys, rest, _ = _correlation(where, outer_col, "A correlated IN subquery is correlated only by equalities "
                                                       "of an outer-row expression with a subquery expression yet")
        if _reads(inner.expressions[0], outer_col) or inner.args.get("group") or inner.args.get("having") or \
                any(isinstance(x, exp.AggFunc) for e in inner.expressions for x in e.find_all(exp.AggFunc)):
            raise ValidationError(f"{_where(inn)}A correlated IN subquery reads the outer row in its WHERE only, "
                                  f"without GROUP BY or aggregates, yet")
        stripped = inner.copy()
        stripped.set("where", where_clause([c.copy() for c in rest]))
        values = _one_column_values(exp.In(this=inn.this.copy(), query=exp.Subquery(this=stripped)))
        values.set("expressions", values.expressions + [exp.alias_(k.copy(), f"$j{i}", quoted=True)
                                                        for i, (k, _) in enumerate(keys)])
        return values, [o for _, o in keys]

    def _reads_outer_row(self, inner: exp.Expr, outer: Scope) -> bool:
        """The WHERE of a subquery SELECT reads a column of the outer row (qualified or not)."""
        where = inner.args.get("where") if isinstance(inner, exp.Select) else None
        if where is None:
            return False
        own = self._bind_from(inner).scope
        return any(_outer_column(c, inner, own, outer) for c in where.find_all(exp.Column))

    def _refuse_unqualified_correlation(self, sel: exp.Select, inn: exp.In, values: exp.Select) -> None:
        """An IN subquery naming, unqualified, a column only the outer FROM has outside the equalities of its
        WHERE reads the outer row: refused (its binding alone would say the column is not found)."""
        try:
            self.bind_query(values)
        except ValidationError as e:
            missing = [c for c in values.find_all(exp.Column) if not c.table and f"Column '{c.name}' not found"
                       in str(e)]
            if not missing:
                raise
            outer = exp.select(exp.column(missing[0].name, quoted=True))
            outer.set("from_", sel.args["from_"].copy())
            outer.set("joins", [j.copy() for j in sel.args.get("joins") or []])
            try:
                self.bind_query(outer)
            except ValidationError:
                raise e from None
            raise ValidationError(f"{_where(missing[0])}A correlated IN subquery in SELECT (one that reads the outer "
                                  f"row's '{missing[0].name}') is not supported yet") from None

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
            query = inn.args["query"].this if isinstance(inn.args["query"], exp.Subquery) else inn.args["query"]
            if isinstance(inn.this, exp.Tuple) or _reads_outer(query) or self._reads_outer_row(query, rel.scope):
                if neg:
                    raise ValidationError(f"{_where(inn)}NOT IN of a correlated subquery or of a row of values is not "
                                          f"supported yet; NOT EXISTS (SELECT .. WHERE inner = outer ..) is")
                query = self._grouped_by_correlation(query, rel.scope)
                rel = self._bind_exists(rel, _in_as_exists(inn, query, rel.scope), False)
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

    def _grouped_by_correlation(self, query: exp.Expr, outer: Scope) -> exp.Expr:
        """`x IN (SELECT AGG(..) FROM r WHERE r.k = o.k ..)`, an aggregate correlated by equalities, as Flink
        decorrelates it: the aggregate grouped by r's side of the equalities, read where the group's keys equal
        the outer row's (`SELECT $v FROM (SELECT r.k AS $k0, AGG(..) AS $v .. GROUP BY r.k) $g WHERE $g.$k0 =
        o.k`); a semi join on the keys and the value then. An outer row whose key has no rows gets no value, so a
        COUNT, which would be 0 there, is refused. Any other query is returned as it is."""
        if not isinstance(query, exp.Select) or query.args.get("group") or query.args.get("having") or \
                len(query.expressions) != 1 or not contains_agg(query.expressions[0]):
            return query
        value = query.expressions[0]
        value = value.this if isinstance(value, exp.Alias) else value
        own = self._bind_from(query).scope

        def outer_col(c: exp.Column) -> bool:
            return _outer_column(c, query, own, outer)
        keys, rest, _ = _correlation(query.args.get("where"), outer_col,
                                     "A correlated IN over an aggregate is correlated only by equalities of an "
                                     "outer-row expression with a subquery expression yet")
        if not keys:
            return query
        if _reads(value, outer_col) or any(value.find_all(exp.Count)):
            raise ValidationError(f"{_where(query)}A correlated IN over an aggregate of the subquery's own columns, "
                                  f"other than COUNT, is supported; not {value.sql(dialect='flink')} yet")
        grouped = query.copy()
        grouped.set("expressions", [exp.alias_(k.copy(), f"$k{i}", quoted=True) for i, (k, _) in enumerate(keys)]
                    + [exp.alias_(value.copy(), "$v", quoted=True)])
        grouped.set("where", where_clause([c.copy() for c in rest]))
        grouped.set("group", exp.Group(expressions=[k.copy() for k, _ in keys]))
        out = exp.select(exp.column("$v", table="$g", quoted=True)).from_(exp.Subquery(
            this=grouped, alias=exp.TableAlias(this=exp.to_identifier("$g", quoted=True))))
        return out.where(exp.and_(*[exp.EQ(this=exp.column(f"$k{i}", table="$g", quoted=True), expression=o.copy())
                                    for i, (_, o) in enumerate(keys)]), copy=False)

    def _bind_exists(self, rel: Relation, exists: exp.Exists, negated: bool) -> Relation:
        """`[NOT] EXISTS (SELECT .. WHERE inner.a = outer.b AND ..)`: the equality correlations become the keys of
        the predicate (inner columns as the subquery's columns); the subquery's other conjuncts filter its rows
        first."""
        sub = exists.this.this if isinstance(exists.this, exp.Subquery) else exists.this
        if not isinstance(sub, exp.Select) or (sub.args.get("from_") or sub.args.get("from")) is None:
            raise ValidationError(f"{_where(exists)}EXISTS needs a SELECT .. FROM subquery")
        if sub.args.get("group") or sub.args.get("having") or any(contains_agg(e) for e in sub.expressions):
            raise ValidationError(f"{_where(exists)}EXISTS or a correlated IN over an aggregating subquery is not supported yet")
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

        local, inner_keys, outer_keys, mixed = [], [], [], []
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
            mixed.append(c)  # another correlated conjunct: the join's condition
        inner = sub.copy()
        # the inner columns the other correlated conjuncts read, as columns of the subquery after its keys
        used: list[exp.Column] = []
        for c in mixed:
            for col in c.find_all(exp.Column):
                if side(col) == "inner" and not any(col == u for u in used):
                    used.append(col)
        # uncorrelated: a semi/anti join without keys (every row joins any row of the subquery)
        inner.set("expressions", [exp.alias_(k.copy(), f"$k{i}") for i, k in enumerate(inner_keys)] +
                  [exp.alias_(u.copy(), f"$c{j}") for j, u in enumerate(used)] or [exp.alias_(exp.true(), "$any")])
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
        condition = None
        if mixed:
            def to_subquery_column(node: exp.Expr) -> exp.Expr:
                if isinstance(node, exp.Column) and side(node) == "inner":
                    j = next(j for j, u in enumerate(used) if u == node)
                    return exp.column(f"$c{j}", table="$exists", quoted=True)
                return node
            scope = Scope(rel.scope.fields + [ScopeField("$exists", f.name, f.type) for f in right.fields])
            condition = ScalarBinder(scope).bind(exp.and_(*[c.copy().transform(to_subquery_column) for c in mixed]))
        return self._filter_by_subquery(exists, rel, SubqueryPredicate(BOOLEAN, tuple(keys), right, negated,
                                                                       condition=condition))

    def _filter_by_subquery(self, where: exp.Expr, rel: Relation, predicate: SubqueryPredicate) -> Relation:
        """The rows of `rel` the subquery predicate admits: a plain filter, which a rule makes a semi/anti join."""
        node = streaming_shape(where, project(rel.node, identity(rel.node), rel.node.names, predicate))
        return Relation(node, rel.scope)


def _nested_in_where(where: exp.Where | None) -> list[exp.Expr]:
    """The IN and EXISTS subqueries of WHERE that are not its conjuncts (nor NOT of one): under OR, NOT, CASE ..
    They are values of the row, as in SELECT (conjuncts are semi/anti joins)."""
    if where is None:
        return []
    root = where.this
    top = {id(c.this if isinstance(c, exp.Not) else c) for c in sql_conjuncts(root)}
    out = []
    for node in root.find_all(exp.In, exp.Exists):
        if isinstance(node, exp.In) and node.args.get("query") is None or id(node) in top or \
                any(isinstance(a, exp.Subquery) for a in ancestors(node, root)):
            continue
        out.append(node)
    return out


def _exists_values(e: exp.Expr) -> list[exp.Exists]:
    """The EXISTS of an expression (not those inside a subquery of it)."""
    return [x for x in e.find_all(exp.Exists) if not any(isinstance(a, exp.Subquery) for a in ancestors(x, e))]


def _scalar_subqueries(e: exp.Expr) -> list[exp.Subquery]:
    """The scalar subqueries of an expression (not IN's or EXISTS's, nor those inside a subquery of it)."""
    return [q for q in e.find_all(exp.Subquery) if not isinstance(q.parent, (exp.In, exp.Exists)) and
            not any(isinstance(a, exp.Subquery) for a in ancestors(q, e))]


def _in_subqueries(e: exp.Expr) -> list[exp.In]:
    """The `x IN (SELECT ..)` of an expression, not those inside a subquery of it."""
    return [i for i in e.find_all(exp.In) if i.args.get("query") is not None and
            not any(isinstance(a, exp.Subquery) for a in ancestors(i, e))]


def _aggregate_below(sel: exp.Select) -> exp.Select:
    """An aggregating SELECT with IN (subquery) or scalar subquery values, or such subqueries in HAVING, as Flink
    plans it: the aggregation first, giving every part of the SELECT list and HAVING that holds no subquery (and
    each IN's left operand) as a column, then the same list over its rows, each IN's left operand now that
    column, and HAVING as its WHERE. Output names stay the SELECT list's."""
    inner = sel.copy()
    pushed: list[exp.Expr] = []
    outer_names = _from_names(sel)

    def push(e: exp.Expr) -> exp.Column:
        name = f"$a{len(pushed)}"
        pushed.append(exp.alias_(e, name, quoted=True))
        return exp.column(name, table="$agg", quoted=True)

    def split(e: exp.Expr) -> exp.Expr:
        if not _in_subqueries(e) and not _scalar_subqueries(e) and not _exists_values(e):
            return push(e)
        if isinstance(e, exp.Exists):  # the outer columns it reads (group keys) become the aggregation's columns
            query = e.this.this if isinstance(e.this, exp.Subquery) else e.this
            reads = outer_names - (_from_names(query) if isinstance(query, exp.Select) else set())
            for col in list(e.find_all(exp.Column)):
                if col.table in reads:
                    col.replace(push(col.copy()))
            return e
        if isinstance(e, exp.In) and e.args.get("query") is not None:
            e.set("this", push(e.this))
            return e
        if isinstance(e, exp.Subquery):  # an uncorrelated scalar subquery: a value above the aggregation
            return e
        for key, value in list(e.args.items()):
            if isinstance(value, exp.Expr):
                e.set(key, split(value))
            elif isinstance(value, list):
                e.set(key, [split(v) if isinstance(v, exp.Expr) else v for v in value])
        return e

    outer = []
    for position, item in enumerate(sel.expressions):
        body = item.this if isinstance(item, exp.Alias) else item
        # exp.Alias itself: alias_ of a subquery would name the subquery, not the column
        outer.append(exp.Alias(this=split(body.copy()), alias=exp.to_identifier(output_name(item, position),
                                                                                quoted=True)))
    having = sel.args.get("having")
    condition = None
    if having is not None and (_in_subqueries(having.this) or _scalar_subqueries(having.this) or
                               _exists_values(having.this)):
        condition = split(having.this.copy())  # filters the aggregation's rows, a semi/anti join as in Flink
        inner.set("having", None)
    inner.set("expressions", pushed)
    lifted = exp.select(*outer).from_(exp.Subquery(this=inner, alias=exp.TableAlias(
        this=exp.to_identifier("$agg", quoted=True))))
    return lifted.where(condition, copy=False) if condition is not None else lifted


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


def _outer_column(col: exp.Column, inner: exp.Select, own: Scope, outer: Scope) -> bool:
    """Whether a column of a subquery's WHERE is the outer row's: qualified by a name the subquery's FROM does not
    give, or unqualified and a column of the outer FROM only."""
    if col.table:
        return col.table not in _from_names(inner) and any(f.qualifier == col.table for f in outer.fields)
    return not any(f.name == col.name for f in own.fields) and any(f.name == col.name for f in outer.fields)


def _from_names(sel: exp.Select) -> set[str]:
    """The names the FROM items of `sel` are referred to by (alias or table name)."""
    items = ([sel.args["from_"].this] if sel.args.get("from_") else []) + [j.this for j in sel.args.get("joins") or []]
    return {i.alias_or_name for i in items if isinstance(i, (exp.Table, exp.Subquery))}


def _top_aggregates(e: exp.Expr) -> list[exp.Expr]:
    """The aggregate calls of `e` not inside another one (an aggregate's FILTER clause with it)."""
    if isinstance(e, exp.Filter):
        return [e]
    if not isinstance(e, exp.Subquery) and contains_agg(e) and \
            not any(contains_agg(c) for c in e.iter_expressions() if not isinstance(c, exp.Subquery)):
        return [e]
    return [a for c in e.iter_expressions() if not isinstance(c, exp.Subquery) for a in _top_aggregates(c)]


def _correlated_scalar(inner: exp.Select, sel: exp.Select, name: str):
    """`(SELECT AGG(..) FROM r WHERE r.k = o.k [AND r.v < o.v ..])`, correlated with the outer query,
    decorrelated as Flink does: the aggregates grouped by r's side of the equalities, LEFT JOINed on them
    (value subquery, ON condition, the expression replacing the subquery). A COUNT of a group without rows is
    0, others NULL. Correlated by comparisons too (`r.v < o.v`), the outer columns they read come from the
    outer FROM's distinct values of them (Calcite's value generator), joined to r under the comparisons,
    grouped by too and LEFT JOINed on. None when the subquery is not correlated."""
    outer = _from_names(sel) - _from_names(inner)

    def outer_col(c: exp.Column) -> bool:
        return c.table in outer
    keys, rest, compared = _correlation(inner.args.get("where"), outer_col,
                                        "A correlated scalar subquery is correlated only by comparisons of an "
                                        "outer-row expression with a subquery expression yet", comparisons=True)
    if not keys and not compared:
        return None
    generated = _generated_values(compared, outer, sel)
    if generated is not None:
        values, columns = generated
        rest = rest + [c.copy().transform(lambda n: exp.column(f"$d{columns.index(n)}", table="$dv", quoted=True)
                                          if isinstance(n, exp.Column) and n in columns else n) for c in compared]
        keys = keys + [(exp.column(f"$d{i}", table="$dv", quoted=True), col) for i, col in enumerate(columns)]
    result = inner.expressions[0].copy()
    if isinstance(result, exp.Alias):
        result = result.this
    aggregates = _top_aggregates(result)
    if any(_reads(a, outer_col) for a in aggregates) or inner.args.get("having") or inner.args.get("order") or \
            inner.args.get("limit"):
        raise ValidationError(f"{_where(inner)}A correlated scalar subquery is one aggregate of the inner "
                              f"query's columns, correlated in WHERE, yet")
    value = inner.copy()
    if generated is not None:
        value.set("joins", (value.args.get("joins") or []) + [exp.Join(this=exp.Subquery(
            this=generated[0], alias=exp.TableAlias(this=exp.to_identifier("$dv", quoted=True))), on=exp.true())])
    value.set("expressions", [exp.alias_(k.copy(), f"$k{i}", quoted=True) for i, (k, _) in enumerate(keys)] +
              [exp.alias_(a.copy(), f"$a{j}", quoted=True) for j, a in enumerate(aggregates)])
    value.set("where", where_clause(rest))
    value.set("group", exp.Group(expressions=[k.copy() for k, _ in keys]))
    for j, a in enumerate(aggregates):
        column = exp.column(f"$a{j}", table=name, quoted=True)
        counted = isinstance(a, exp.Count) or isinstance(a, exp.Filter) and isinstance(a.this, exp.Count)
        new = exp.Case(ifs=[exp.If(this=exp.Is(this=column.copy(), expression=exp.Null()),
                                   true=exp.cast(exp.Literal.number(0), "BIGINT"))], default=column) \
            if counted else column
        result = new if a is result else result
        a.replace(new)
    on = exp.and_(*[exp.EQ(this=exp.column(f"$k{i}", table=name, quoted=True), expression=o.copy())
                    for i, (_, o) in enumerate(keys)])
    return value, on, exp.Paren(this=result) if not isinstance(result, (exp.Column, exp.Case)) else result


COMPARISONS = (exp.EQ, exp.NEQ, exp.LT, exp.LTE, exp.GT, exp.GTE)


def _generated_values(compared: list[exp.Expr], outer: set[str], sel: exp.Select):
    """The distinct values of the outer columns that correlating comparisons read, over the outer FROM:
    (the SELECT DISTINCT of them as $d0, $d1 .., those columns); None without such comparisons."""
    columns: list[exp.Column] = []
    for c in compared:
        for col in c.find_all(exp.Column):
            if col.table in outer and not any(col == seen for seen in columns):
                columns.append(col)
    if not columns:
        return None
    values = exp.select(*[exp.alias_(col.copy(), f"$d{i}", quoted=True) for i, col in enumerate(columns)])
    values.set("from_", sel.args["from_"].copy())
    values.set("joins", [j.copy() for j in sel.args.get("joins") or []])
    values.set("distinct", exp.Distinct())
    return values, columns


def _reads_outer(query: exp.Expr) -> bool:
    """The subquery names a column of a table it does not read (the outer query's)."""
    own = {t.alias_or_name for t in query.find_all(exp.Table)} | \
        {n.alias for n in query.find_all(exp.Subquery, exp.Unnest, exp.Lateral) if n.alias}
    return any(col.table and col.table not in own for col in query.find_all(exp.Column))


def _in_as_exists(inn: exp.In, query: exp.Expr, outer) -> exp.Exists:
    """`x IN (SELECT y FROM r WHERE <correlated>)` and `(x1, x2) IN (SELECT y1, y2 ..)` as `EXISTS (SELECT y ..
    WHERE <correlated> AND y = x ..)` (the same rows pass: a semi join on the values and the correlations); the
    outer values' unqualified columns are qualified with their table, so the subquery's columns do not hide
    them."""
    values = list(inn.this.expressions) if isinstance(inn.this, exp.Tuple) else [inn.this]
    if not isinstance(query, exp.Select) or len(query.expressions) != len(values) or \
            any(isinstance(e, exp.Star) for e in query.expressions):
        raise ValidationError(f"{_where(inn)}The IN subquery must return as many columns as the values before IN "
                              f"({len(values)})")

    def qualified(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Column) and not node.table:
            field = next((f for f in outer.fields if f.name == node.name and f.qualifier), None)
            if field is not None:
                return exp.column(node.name, table=field.qualifier)
        return node
    sub = query.copy()
    equal = [exp.EQ(this=(e.this if isinstance(e, exp.Alias) else e).copy(), expression=v.copy().transform(qualified))
             for e, v in zip(query.expressions, values)]
    where = sub.args.get("where")
    sub.set("where", where_clause(([where.this.copy()] if where is not None else []) + equal))
    return exp.Exists(this=sub)


def _reads(e: exp.Expr, outer_col) -> bool:
    """Whether `e` reads a column of the outer row (`outer_col` tells one)."""
    return any(outer_col(c) for c in e.find_all(exp.Column))


def _correlation(where: exp.Where | None, outer_col, refusal: str, comparisons: bool = False):
    """A subquery's WHERE split by how it reads the outer row: (keys, rest, compared). keys: the equalities of a
    subquery expression with an outer-row expression, as (subquery side, outer side); rest: the conjuncts that
    read no outer column; compared (with `comparisons`): comparisons of an outer-row expression with a subquery
    expression. Any other conjunct that reads the outer row is refused, `refusal` saying what is supported."""
    keys, rest, compared = [], [], []
    for c in sql_conjuncts(where.this) if where is not None else []:
        if not _reads(c, outer_col):
            rest.append(c)
            continue
        left, right = (_reads(c.this, outer_col), _reads(c.expression, outer_col)) if isinstance(c, exp.Binary) \
            else (True, True)
        if isinstance(c, exp.EQ) and left != right and \
                all(outer_col(x) for x in (c.this if left else c.expression).find_all(exp.Column)):
            keys.append((c.expression, c.this) if left else (c.this, c.expression))
        elif comparisons and isinstance(c, COMPARISONS) and not (left and right):
            compared.append(c)  # a NULL outer value makes it unknown: no rows, as no generated value joins
        else:
            raise ValidationError(f"{_where(c)}{refusal}; got {c.sql(dialect='flink')}")
    return keys, rest, compared
