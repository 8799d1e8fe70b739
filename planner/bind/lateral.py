"""Lateral FROM items: UNNEST, LATERAL subqueries (decorrelated into joins) and LATERAL TABLE functions."""
from __future__ import annotations

from sqlglot import exp

from sqlstream.core.errors import ValidationError
from sqlstream.core.types import INT
from sqlstream.plan import logical as L
from sqlstream.plan.expr import Call, Lit, Ref
from sqlstream.planner.bind.aggregate_calls import contains_agg
from sqlstream.planner.bind.conjuncts import sql_conjuncts, where_clause
from sqlstream.planner.bind.relation import project, Relation
from sqlstream.planner.scalar_binder import ScalarBinder, Scope, ScopeField, _where


class Lateral:
    """The Binder's lateral FROM items."""

    def _bind_unnest(self, left: Relation, un: exp.Unnest, join: exp.Join | None = None) -> Relation:
        """UNNEST as a FROM item or joined: CROSS JOIN / `,` / [INNER] JOIN .. ON, or LEFT JOIN .. ON, which
        keeps the rows none of whose elements meets the ON (an empty or NULL array too) once, padded."""
        side = ((join.args.get("side") or "") if join is not None else "").upper()
        if side in ("RIGHT", "FULL"):
            raise ValidationError(f"{_where(join)}{side} JOIN UNNEST is not supported: use CROSS JOIN UNNEST or "
                                  f"LEFT JOIN UNNEST .. ON TRUE")
        outer = side == "LEFT"
        on = join.args.get("on") if join is not None else None
        if len(un.expressions) != 1:
            raise ValidationError(f"{_where(un)}UNNEST takes one array")
        arr = ScalarBinder(left.scope).bind(un.expressions[0])
        if arr.type.name not in ("ARRAY", "MAP"):
            raise ValidationError(f"{_where(un)}UNNEST needs an ARRAY or MAP, got {arr.type}")
        alias = un.args.get("alias")
        qual = alias.name if alias is not None and alias.name else None
        cols = [c.name for c in alias.columns] if alias is not None and alias.columns else []
        elem = arr.type.children[0]
        if arr.type.name == "ARRAY" and elem.name == "ROW":  # a column per field
            elem_types = [t.with_nullable(True) for t in elem.children]
            names = cols or list(elem.field_names)
        elif arr.type.name == "ARRAY":
            elem_types = [elem.with_nullable(True)]
            names = cols or ["f0"]
        else:
            elem_types = [elem, arr.type.children[1].with_nullable(True)]
            names = cols or ["f0", "f1"]
        ordinality = un.args.get("offset")
        if ordinality:  # WITH ORDINALITY: the alias's last name (sqlglot's `offset`) is the position's
            names = names + [ordinality.name if isinstance(ordinality, exp.Expr) else "ORDINALITY"]
            elem_types = elem_types + [INT.with_nullable(outer)]
        if len(names) != len(elem_types):
            raise ValidationError(f"{_where(un)}UNNEST of {arr.type} gives {len(elem_types)} column(s), "
                                  f"the alias names {len(names)}")
        fields = list(left.node.fields) + [L.Field(n, t) for n, t in zip(names, elem_types)]
        scope = Scope(left.scope.fields + [ScopeField(qual, n, t) for n, t in zip(names, elem_types)])
        condition = None
        if on is not None and not (isinstance(on, exp.Boolean) and on.this):
            condition = ScalarBinder(scope).bind(on)
            if condition.type.name not in ("BOOLEAN", "NULL"):
                raise ValidationError(f"{_where(on)}ON clause must be a condition: "
                                      f"'{on.sql(dialect='flink')}' is {condition.type}, not BOOLEAN")
        node = L.Unnest(fields, left.node.changelog, input=left.node, array=arr, outer=outer,
                        ordinality=bool(ordinality), condition=condition)
        return Relation(node, scope)

    def _bind_lateral_subquery(self, left: Relation, join: exp.Join, side: str) -> Relation:
        """`, LATERAL (SELECT .. FROM r WHERE r.k = l.k [AND ..] [ORDER BY .. LIMIT n])`: decorrelated as Flink
        does, into a join on the correlated keys with the subquery computed once for all keys (its LIMIT a
        Top-N per key). A SELECT of aggregate calls is grouped by the keys and LEFT JOINed (an aggregation
        without GROUP BY has one row for every outer row: NULLs, and 0 for a COUNT, where the key has no rows)."""
        lat = join.this
        query = lat.this.this if isinstance(lat.this, exp.Subquery) else lat.this
        if not isinstance(query, exp.Select) or query.args.get("group") or query.args.get("joins") or \
                query.args.get("offset"):
            raise ValidationError(f"{_where(lat)}LATERAL supports a SELECT .. FROM one table WHERE .. [ORDER BY .. "
                                  f"LIMIT n] correlated by equalities yet")
        outer = {f.qualifier for f in left.scope.fields if f.qualifier}
        inner = {query.args["from_"].this.alias_or_name} if query.args.get("from_") else set()
        outer -= inner

        def correlated(e: exp.Expr) -> bool:
            return any(c.table in outer for c in e.find_all(exp.Column))
        keys, rest = [], []
        for c in sql_conjuncts(query.args["where"].this) if query.args.get("where") else []:
            if isinstance(c, exp.EQ) and correlated(c.expression) != correlated(c.this):
                keys.append((c.this, c.expression) if correlated(c.expression) else (c.expression, c.this))
            elif correlated(c):
                raise ValidationError(f"{_where(c)}LATERAL subqueries are correlated only by equalities yet")
            else:
                rest.append(c)
        if not keys or any(correlated(e) for e in query.expressions):
            raise ValidationError(f"{_where(lat)}A LATERAL subquery needs an equality with the outer query in its "
                                  f"WHERE clause, and only there")
        key_names = [f"$lateral_key{i}" for i in range(len(keys))]
        body = exp.select(*[e.copy() for e in query.expressions],
                          *[exp.alias_(k.copy(), n, quoted=True) for (k, _), n in zip(keys, key_names)])
        body.set("from_", query.args["from_"].copy())
        if rest:
            body.set("where", where_clause([c.copy() for c in rest]))
        counts = None
        if any(contains_agg(e) for e in query.expressions):
            calls = [e.this if isinstance(e, exp.Alias) else e for e in query.expressions]
            if not all(isinstance(c, exp.AggFunc) for c in calls) or query.args.get("limit") or \
                    query.args.get("having"):
                raise ValidationError(f"{_where(lat)}An aggregating LATERAL subquery is a SELECT of aggregate calls "
                                      f"correlated by equalities yet")
            body.set("group", exp.Group(expressions=[k.copy() for k, _ in keys]))
            counts = [i for i, c in enumerate(calls) if isinstance(c, exp.Count)]
            # joined (not LEFT): Flink joins the outer rows with the aggregates of their keys' distinct values,
            # so a row whose key is NULL has none
            inner_join, side = side == "", "LEFT"
        if query.args.get("limit") or query.args.get("order"):
            if not query.args.get("limit"):
                raise ValidationError(f"{_where(query)}ORDER BY in a LATERAL subquery needs a LIMIT")
            n = query.args["limit"].expression
            rn = exp.Window(this=exp.RowNumber(), partition_by=[k.copy() for k, _ in keys],
                            order=query.args["order"].copy() if query.args.get("order") else None)
            ranked = body.copy().select(exp.alias_(rn, "$rn", quoted=True))
            names = [e.alias_or_name for e in query.expressions] + key_names
            body = exp.select(*[exp.column(c, quoted=True) for c in names]).from_(
                exp.Subquery(this=ranked, alias=exp.TableAlias(this=exp.to_identifier("$ranked")))).where(
                exp.LTE(this=exp.column("$rn", quoted=True), expression=n.copy()))
        alias = lat.args.get("alias")
        qualifier = alias.name if alias is not None and alias.name else "$lateral"
        on = exp.and_(*[exp.EQ(this=o.copy(), expression=exp.column(n, table=qualifier, quoted=True))
                        for (_, o), n in zip(keys, key_names)])
        sub = exp.Subquery(this=body, alias=exp.TableAlias(this=exp.to_identifier(qualifier)))
        if side not in ("", "LEFT"):
            raise ValidationError(f"{_where(join)}A LATERAL subquery join is INNER or LEFT")
        rewritten = exp.Join(this=sub, on=on, side=side or None)
        rel = self._bind_join(left, rewritten)
        keep = [i for i, f in enumerate(rel.scope.fields) if f.name not in key_names]
        exprs = [Ref(rel.node.fields[i].type, i, rel.node.names[i]) for i in keep]
        cond = None
        if counts is not None:
            # the outer row's key is one of the distinct values the aggregates are computed for (a NULL one is not)
            known = ScalarBinder(rel.scope).bind(exp.and_(*[
                exp.Not(this=exp.Is(this=o.copy(), expression=exp.Null())) for _, o in keys]))
            cond = known if inner_join else None
        for j in counts or []:  # a known key without rows counts 0
            i = len(left.scope.fields) + j
            t = exprs[i].type.with_nullable(False)
            counted = Call(t, "COALESCE", (exprs[i], Lit(t, 0)))
            exprs[i] = counted if inner_join else Call(t.with_nullable(True), "CASE", (
                known, counted, Lit(t.with_nullable(True), None)))
        node = project(rel.node, exprs, [rel.node.names[i] for i in keep], cond)
        return Relation(node, Scope([ScopeField(rel.scope.fields[i].qualifier, rel.scope.fields[i].name, e.type)
                                     for i, e in zip(keep, exprs)]))

    def _bind_lateral_table(self, left: Relation, join: exp.Join, side: str) -> Relation:
        """[LEFT] JOIN LATERAL TABLE(f(args)) [AS T(c1, ..)] [ON TRUE]: a Python table function per row."""
        from sqlstream.core.udf import REGISTRY, PythonTableFunction
        lat = join.this
        call = lat.this
        if isinstance(call, exp.Anonymous) and call.name.upper() == "TABLE" and len(call.expressions) == 1:
            call = call.expressions[0]
        if not isinstance(call, exp.Anonymous):
            raise ValidationError(f"{_where(lat)}LATERAL TABLE needs a registered table function call, got "
                                  f"{call.sql(dialect='flink')[:60]}")
        fn = REGISTRY.get(call.name.upper())
        if not isinstance(fn, PythonTableFunction):
            raise ValidationError(f"{_where(call)}No table function named '{call.name}'; register one with "
                                  f"CREATE FUNCTION .. AS 'module.f' for a function declared with @udtf")
        if side not in ("", "LEFT") or side == "LEFT" and join.args.get("on") != exp.true():
            raise ValidationError(f"{_where(join)}A LATERAL TABLE join is INNER or LEFT JOIN .. ON TRUE")
        args = [ScalarBinder(left.scope).bind(a) for a in call.expressions]
        alias = lat.args.get("alias")
        names = [c.name for c in alias.columns] if alias is not None and alias.columns else \
            [f"f{i}" for i in range(len(fn.result_types))]
        if len(names) != len(fn.result_types):
            raise ValidationError(f"{_where(lat)}{call.name} returns {len(fn.result_types)} column(s), the alias "
                                  f"names {len(names)}")
        outer = side == "LEFT"
        types = [t.with_nullable(True) if outer else t for t in fn.result_types]
        fields = list(left.node.fields) + [L.Field(n, t) for n, t in zip(names, types)]
        node = L.Correlate(fields, left.node.changelog, input=left.node, function=fn.name, args=args, left=outer)
        qual = alias.name if alias is not None and alias.name else None
        return Relation(node, Scope(left.scope.fields + [ScopeField(qual, n, t) for n, t in zip(names, types)]))
