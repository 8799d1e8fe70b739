"""sqlglot statement trees -> logical plans: resolves names and types, tracks time attributes."""
from __future__ import annotations

import dataclasses

import itertools

from sqlglot import exp

from sqlstream.connectors import values as values_source
from sqlstream.plan import logical as L
from sqlstream.plan.expr import Call, Expr, Lit, Ref, and_expr, refs, remap
from sqlstream.planner.functions import aggregate_type
from sqlstream.planner.hints import check_query_hints, table_options
from sqlstream.planner.match_binder import bind_match_recognize
from sqlstream.planner.scalar_binder import (Scope, ScopeField, ScalarBinder, _statement_text, _where, cast, coerce_to,
                                   interval_value, session_zone)
from sqlstream.catalog import CatalogManager, TableDef, ViewDef
from sqlstream.dialect import expressions as fx
from sqlstream.core.errors import ValidationError
from sqlstream.core.types import BIGINT, INT, FlinkType, common_type

WINDOW_COLUMNS = ("window_start", "window_end", "window_time")
LEGACY_PROPS = {"START": "window_start", "END": "window_end", "ROWTIME": "window_time", "PROCTIME": "window_time"}


class Relation:
    """A bound FROM item: its plan node and the scope its columns are visible under."""

    def __init__(self, node: L.Node, scope: Scope, tvf: L.WindowTableFunction | None = None):
        self.node, self.scope, self.tvf = node, scope, tvf


def _row_numbers(count: int) -> L.Scan:
    """The planner's source of `count` rows numbered from 0 (VALUES, SELECT without FROM)."""
    f = L.Field(values_source.ROW, BIGINT.with_nullable(False))
    return L.Scan([f], L.INSERT_ONLY, table="<values>", connector=values_source.NAME, options={"rows": str(count)},
                  columns=[f])


def _fields_scope(node: L.Node, qualifier: str | None) -> Scope:
    return Scope([ScopeField(qualifier, f.name, f.type) for f in node.fields])


def project(node: L.Node, exprs: list[Expr], names: list[str], condition: Expr | None = None) -> L.Calc:
    fields = [L.Field(n, e.type) for n, e in zip(names, exprs)]
    return L.Calc(fields, node.changelog, input=node, projections=exprs, condition=condition)


def identity(node: L.Node) -> list[Expr]:
    return [Ref(f.type, i, f.name) for i, f in enumerate(node.fields)]


class Binder:
    def __init__(self, catalog: CatalogManager, functions: dict | None = None):
        self.catalog = catalog
        self.functions = functions if functions is not None else {}
        self.ctes: list[dict[str, exp.Expr]] = []  # WITH scopes, innermost last: name -> query (an inline view)

    # ---- statements -------------------------------------------------------------------------
    def bind_query(self, q: exp.Expr) -> L.Node:
        with_ = q.args.get("with_") if isinstance(q, exp.Query) else None
        if with_ is not None:
            return self._bind_with(q, with_)
        if isinstance(q, exp.Subquery):
            return self.bind_query(q.this)
        if isinstance(q, exp.Union):
            return self._bind_union(q)
        if isinstance(q, (exp.Intersect, exp.Except)):
            return self._bind_intersect_except(q)
        if isinstance(q, exp.Select):
            return self._bind_select(q)
        if isinstance(q, exp.Values):
            return self._bind_values(q)
        raise ValidationError(f"{_where(q)}Unsupported query: {q.sql(dialect='flink')[:80]}")

    def _bind_with(self, q: exp.Query, with_: exp.With) -> L.Node:
        """WITH name [(cols)] AS (query), ..: each name is an inline view for the query and the later CTEs."""
        if with_.args.get("recursive"):
            raise ValidationError(f"{_where(with_)}WITH RECURSIVE is not supported")
        body = q.copy()
        body.set("with_", None)
        scope: dict[str, exp.Expr] = {}
        self.ctes.append(scope)
        try:
            for cte in with_.expressions:
                query = cte.this
                cols = cte.args["alias"].columns if cte.args.get("alias") is not None else []
                if cols:
                    query = exp.select(*[exp.alias_(exp.column(n, quoted=True), c.name, quoted=True)
                                         for n, c in zip(self.bind_query(query).names, cols)]).from_(
                        exp.Subquery(this=query.copy(), alias=exp.TableAlias(this=exp.to_identifier("$cte"))))
                scope[cte.alias] = query
            return self.bind_query(body)
        finally:
            self.ctes.pop()

    def _cte(self, name: str) -> exp.Expr | None:
        for scope in reversed(self.ctes):
            if name in scope:
                return scope[name]
        return None

    def bind_insert(self, ins: exp.Insert) -> L.Sink:
        target = ins.this
        cols = None
        if isinstance(target, exp.Schema):
            cols = [c.name for c in target.expressions]
            target = target.this
        if not isinstance(target, (exp.Table, exp.Identifier)):
            raise ValidationError(f"{_where(ins)}INSERT INTO needs a table name before its query")
        tdef = self.catalog.lookup(target)
        name = tdef.qualified_name
        hinted = table_options(target, tdef)
        if isinstance(tdef, ViewDef):
            raise ValidationError(f"Cannot INSERT INTO view '{name}'")
        if hinted is not None:
            tdef = dataclasses.replace(tdef, options=hinted)
        query = self.bind_query(ins.expression)
        writable = [c for c in tdef.columns if c.kind == "physical" or (c.kind == "metadata" and not c.virtual)]
        if cols is not None:
            for c in cols:
                if not any(w.name == c for w in writable):
                    raise ValidationError(f"Unknown target column '{c}' in table '{name}'")
        static = self._static_partition(target, tdef)
        targets = [w for w in writable if (cols is None or w.name in cols) and w.name not in static]
        if len(query.fields) != len(targets):
            raise ValidationError(
                f"Column types of query result and sink for '{name}' do not match.\n"
                f"Cause: Different number of columns.\n\nQuery schema: "
                f"[{', '.join(f'{f.name}: {f.type}' for f in query.fields)}]\nSink schema:  "
                f"[{', '.join(f'{c.name}: {c.type}' for c in targets)}]")
        exprs: list[Expr] = []
        for i, (f, c) in enumerate(zip(query.fields, targets)):
            r: Expr = Ref(f.type, i, f.name)
            if f.type.without_time_attr().with_nullable(True) != c.type.with_nullable(True):
                if common_type(f.type, c.type) is None and not (c.type.is_string or f.type.name == "NULL"):
                    raise ValidationError(
                        f"Column types of query result and sink for '{name}' do not match: "
                        f"column '{c.name}' is {c.type} but the query produces {f.type.without_time_attr()}")
                r = cast(r, c.type)
            exprs.append(r)
        if cols is not None or static:
            full = []
            for c in writable:
                if c.name in static:
                    full.append(static[c.name])
                elif cols is None or c.name in cols:
                    full.append(exprs[[t.name for t in targets].index(c.name)])
                else:
                    full.append(Lit(c.type.with_nullable(True), None))
            exprs, targets = full, writable
        node = project(query, exprs, [c.name for c in targets])
        fields = [L.Field(c.name, c.type) for c in targets]
        return L.Sink(fields, query.changelog, input=node, table=name, connector=tdef.connector,
                      options=dict(tdef.options), columns=fields, primary_key=list(tdef.primary_key),
                      metadata={c.name: c.metadata_key for c in tdef.columns if c.kind == "metadata"},
                      partition_keys=list(tdef.partition_keys))

    # ---- FROM ---------------------------------------------------------------------------------
    def _bind_from(self, sel: exp.Select) -> Relation:
        frm = sel.args.get("from_") or sel.args.get("from")
        if frm is None:  # SELECT 1 + 1: one row, as in Flink
            if sel.args.get("joins"):
                raise ValidationError(f"{_where(sel)}JOIN without FROM")
            return Relation(_row_numbers(1), Scope([]))
        rel = self._bind_from_item(frm.this)
        if sel.args.get("match") is not None:
            if sel.args.get("joins"):
                raise ValidationError(f"{_where(sel.args['match'])}MATCH_RECOGNIZE cannot be combined with joins "
                                      f"in one FROM clause; join its result in an outer query")
            node, scope = bind_match_recognize(rel.node, rel.scope, sel.args["match"])
            rel = Relation(node, scope)
        for join in sel.args.get("joins") or []:
            rel = self._bind_join(rel, join)
        return rel

    def _bind_unnest(self, left: Relation, un: exp.Unnest) -> Relation:
        if len(un.expressions) != 1:
            raise ValidationError(f"{_where(un)}UNNEST takes one array")
        arr = ScalarBinder(left.scope).bind(un.expressions[0])
        if arr.type.name not in ("ARRAY", "MAP"):
            raise ValidationError(f"{_where(un)}UNNEST needs an ARRAY or MAP, got {arr.type}")
        alias = un.args.get("alias")
        qual = alias.name if alias is not None and alias.name else None
        cols = [c.name for c in alias.columns] if alias is not None and alias.columns else []
        if arr.type.name == "ARRAY":
            elem_types = [arr.type.children[0].with_nullable(True)]
        else:
            elem_types = [arr.type.children[0], arr.type.children[1].with_nullable(True)]
        names = cols or (["f0"] if len(elem_types) == 1 else ["f0", "f1"])
        if len(names) != len(elem_types):
            raise ValidationError(f"{_where(un)}UNNEST of {arr.type} gives {len(elem_types)} column(s), "
                                  f"the alias names {len(names)}")
        fields = list(left.node.fields) + [L.Field(n, t) for n, t in zip(names, elem_types)]
        node = L.Unnest(fields, left.node.changelog, input=left.node, array=arr)
        scope = Scope(left.scope.fields + [ScopeField(qual, n, t) for n, t in zip(names, elem_types)])
        return Relation(node, scope)

    def _bind_lateral_subquery(self, left: Relation, join: exp.Join, side: str) -> Relation:
        """`, LATERAL (SELECT .. FROM r WHERE r.k = l.k [AND ..] [ORDER BY .. LIMIT n])`: decorrelated as Flink
        does, into a join on the correlated keys with the subquery computed once for all keys (its LIMIT a
        Top-N per key)."""
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
        for c in _sql_conjuncts(query.args["where"].this) if query.args.get("where") else []:
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
            body.set("where", _where_clause([c.copy() for c in rest]))
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
        node = project(rel.node, [Ref(rel.node.fields[i].type, i, rel.node.names[i]) for i in keep],
                       [rel.node.names[i] for i in keep])
        return Relation(node, Scope([rel.scope.fields[i] for i in keep]))

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

    def _bind_join(self, left: Relation, join: exp.Join) -> Relation:
        side = (join.args.get("side") or "").upper()
        kind = (join.args.get("kind") or "").upper()
        if isinstance(join.this, exp.Unnest):
            return self._bind_unnest(left, join.this)
        if kind in ("SEMI", "ANTI") or join.args.get("method"):
            raise ValidationError(f"{_where(join)}{kind or join.args.get('method')} JOIN is not supported yet")
        if isinstance(join.this, exp.Lateral) and isinstance(join.this.this, (exp.Subquery, exp.Select)):
            return self._bind_lateral_subquery(left, join, side)
        if isinstance(join.this, exp.Lateral):
            return self._bind_lateral_table(left, join, side)
        if isinstance(join.this, exp.Unnest):
            raise ValidationError(f"{_where(join)}LATERAL/UNNEST joins are not supported yet")
        jtype = side if side in ("LEFT", "RIGHT", "FULL") else "INNER"
        if isinstance(join.this, exp.Table) and join.this.args.get("version") is not None:
            return self._bind_temporal_join(left, join, jtype)
        right = self._bind_from_item(join.this)
        nl = len(left.node.fields)
        scope = Scope(left.scope.fields + right.scope.fields)
        if join.args.get("using"):
            raise ValidationError(f"{_where(join)}JOIN .. USING is not supported yet; use ON")
        on = join.args.get("on")
        lkeys, rkeys, condition = [], [], None
        if on is not None:
            lkeys, rkeys, condition = split_equi_keys(ScalarBinder(scope).bind(on), nl)
        elif kind != "CROSS" and jtype != "INNER":
            raise ValidationError(f"{_where(join)}{jtype} JOIN needs an ON condition")
        lf = [L.Field(f.name, f.type.with_nullable(True) if jtype in ("RIGHT", "FULL") else f.type)
              for f in left.node.fields]
        rf = [L.Field(f.name, f.type.with_nullable(True) if jtype in ("LEFT", "FULL") else f.type)
              for f in right.node.fields]
        updating = left.node.updating or right.node.updating or jtype != "INNER"
        node = _streaming_shape(join, L.Join(lf + rf, L.RETRACT if updating else L.INSERT_ONLY, left=left.node,
                                             right=right.node, kind=jtype, left_keys=lkeys, right_keys=rkeys,
                                             condition=condition))
        fields = [ScopeField(sf.qualifier, sf.name, f.type) for sf, f in zip(scope.fields, node.fields)]
        return Relation(node, Scope(fields))

    def _bind_temporal_join(self, left: Relation, join: exp.Join, jtype: str) -> Relation:
        """`JOIN t FOR SYSTEM_TIME AS OF l.rowtime ON l.k = t.pk`: t is a versioned table (a primary key and an
        event-time attribute); the left side must be append-only."""
        table = join.this
        version = table.args["version"]
        try:
            time = ScalarBinder(left.scope).bind(version.expression)
        except ValidationError:
            if self._right_proctime(table, version.expression):
                return self._bind_lookup_join(left, join, jtype)  # processing time: now, whichever side says it
            raise
        if not isinstance(time, Ref) or time.type.time_attr is None:
            raise ValidationError(f"{_where(version)}FOR SYSTEM_TIME AS OF needs a time attribute of the left "
                                  f"table, got {version.expression.sql(dialect='flink')}")
        if jtype not in ("INNER", "LEFT"):
            raise ValidationError(f"{_where(join)}Temporal joins are INNER or LEFT joins, not {jtype}")
        if time.type.time_attr == "proctime":
            return self._bind_lookup_join(left, join, jtype)
        if left.node.updating:
            raise ValidationError(f"{_where(join)}The left input of an event-time temporal join must be "
                                  f"append-only, but it produces updates")
        bare = table.copy()
        bare.set("version", None)
        right = self._bind_from_item(bare)
        name = table.name
        pk = list(getattr(self.catalog.lookup(bare), "primary_key", [])) or _versioned_view_key(right.node)
        if not pk:
            raise ValidationError(f"{_where(table)}Temporal Table Join requires primary key in versioned table, but "
                                  f"no primary key can be found in '{name}'")
        rtimes = [i for i, f in enumerate(right.node.fields) if f.type.time_attr == "rowtime"]
        if not rtimes:
            raise ValidationError(f"{_where(table)}Event-time temporal table join requires both sides to have an "
                                  f"event-time attribute; '{name}' has no WATERMARK")
        on = join.args.get("on")
        if on is None:
            raise ValidationError(f"{_where(join)}A temporal join needs an ON condition with the primary key of "
                                  f"'{name}'")
        nl = len(left.node.fields)
        scope = Scope(left.scope.fields + right.scope.fields)
        lkeys, rkeys, condition = split_equi_keys(ScalarBinder(scope).bind(on), nl)
        rnames = [right.node.fields[k].name for k in rkeys]
        if not set(pk) <= set(rnames):
            raise ValidationError(f"{_where(join)}Temporal table join requires an equality condition on the "
                                  f"primary key ({', '.join(pk)}) of the versioned table '{name}'")
        rf = [L.Field(f.name, f.type.without_time_attr().with_nullable(True) if jtype == "LEFT"
                      else f.type.without_time_attr()) for f in right.node.fields]
        node = L.TemporalJoin(list(left.node.fields) + rf, L.INSERT_ONLY, left=left.node, right=right.node,
                              kind=jtype, left_keys=lkeys, right_keys=rkeys, condition=condition,
                              left_time=time.index, right_time=rtimes[0])
        fields = [ScopeField(sf.qualifier, sf.name, f.type) for sf, f in zip(scope.fields, node.fields)]
        return Relation(node, Scope(fields))

    def _right_proctime(self, table: exp.Table, e: exp.Expr) -> bool:
        """`FOR SYSTEM_TIME AS OF proctime` naming the looked-up table's own processing-time attribute."""
        if not isinstance(e, exp.Column) or e.table and e.table != table.alias_or_name:
            return False
        bare = table.copy()
        bare.set("version", None)
        right = self._bind_from_item(bare)
        return any(f.name == e.name and f.type.time_attr == "proctime" for f in right.node.fields)

    def _bind_lookup_join(self, left: Relation, join: exp.Join, jtype: str) -> Relation:
        """`JOIN dim FOR SYSTEM_TIME AS OF l.proctime ON l.k = dim.k`: a lookup into a table whose connector
        can look rows up (filesystem: the file, loaded once; jdbc: the batch's keys, queried or cached)."""
        table = join.this
        tdef = self.catalog.lookup(table)
        if not hasattr(tdef, "connector") or tdef.connector not in LOOKUP_CONNECTORS:
            raise ValidationError(f"{_where(table)}'{table.name}' cannot be looked up: processing-time temporal "
                                  f"joins need a table whose connector supports lookups "
                                  f"({', '.join(LOOKUP_CONNECTORS)})")
        bare = table.copy()
        bare.set("version", None)
        right = self._bind_from_item(bare)
        scan = right.node
        while not isinstance(scan, L.Scan):
            if isinstance(scan, L.Calc) and scan.condition is None and all(
                    isinstance(p, Ref) or isinstance(p, Call) and p.fn == "PROCTIME" for p in scan.projections):
                scan = scan.input  # a PROCTIME() column: the time of the lookup, computed after it
                continue
            if not isinstance(scan, L.WatermarkAssigner):
                raise ValidationError(f"{_where(table)}A lookup table cannot have computed columns yet")
            scan = scan.input
        on = join.args.get("on")
        nl = len(left.node.fields)
        scope = Scope(left.scope.fields + right.scope.fields)
        lkeys, rkeys, condition = split_equi_keys(ScalarBinder(scope).bind(on), nl) if on is not None \
            else ([], [], None)
        computed, rest = [], []  # `f(left columns) = dim.col`: the left side computes the lookup key
        for c in _conjuncts(condition) if condition is not None else []:
            pairs = ((c.args[0], c.args[1]), (c.args[1], c.args[0])) if isinstance(c, Call) and c.fn == "=" else ()
            sides = [(a, b) for a, b in pairs if isinstance(b, Ref) and b.index >= nl and refs(a)
                     and max(refs(a)) < nl]
            if sides:
                computed.append(sides[0])
            else:
                rest.append(c)
        if computed:
            condition = None
            for c in rest:
                condition = c if condition is None else and_expr(condition, c)
        if not lkeys and not computed:
            raise ValidationError(f"{_where(join)}A lookup join needs an equality between the left side and a "
                                  f"column of '{table.name}'")
        rf = [L.Field(f.name, f.type.without_time_attr().with_nullable(True) if jtype == "LEFT"
                      else f.type.without_time_attr()) for f in right.node.fields]
        below = left.node
        if computed:
            below = project(left.node, identity(left.node) + [a for a, _ in computed],
                            left.node.names + [f"$lookup{i}" for i in range(len(computed))])
            lkeys = lkeys + list(range(nl, nl + len(computed)))
            rkeys = rkeys + [b.index - nl for _, b in computed]
            if condition is not None:  # the condition's right columns move past the computed keys
                condition = remap(condition, {i: i if i < nl else i + len(computed) for i in refs(condition)})
        right_names = [f.name for f in right.node.fields]
        stored = [f.name for f in scan.fields]
        if right_names != stored:  # PROCTIME() columns: the join reads the stored ones, a Calc adds the time
            at = {name: i for i, name in enumerate(stored)}
            rkeys = [at[right_names[k]] for k in rkeys]
            width = len(below.fields)
            if condition is not None:
                condition = remap(condition, {i: i if i < width else width + at[right_names[i - width]]
                                              for i in refs(condition)})
            joined = L.LookupJoin(list(below.fields) + [rf[right_names.index(n)] for n in stored],
                                  left.node.changelog, input=below, kind=jtype, table=scan.table,
                                  connector=scan.connector, options=dict(scan.options), columns=list(scan.fields),
                                  left_keys=lkeys, right_keys=rkeys, condition=condition)
            proctime = FlinkType("TIMESTAMP_LTZ", 3, nullable=False, time_attr="proctime")
            exprs = identity(below) + [Ref(joined.fields[width + at[n]].type, width + at[n], n) if n in at
                                       else Call(proctime, "PROCTIME", ()) for n in right_names]
            node = project(joined, exprs, below.names + right_names)
        else:
            node = L.LookupJoin(list(below.fields) + rf, left.node.changelog, input=below, kind=jtype,
                                table=scan.table, connector=scan.connector, options=dict(scan.options),
                                columns=list(scan.fields), left_keys=lkeys, right_keys=rkeys, condition=condition)
        if computed:  # drop the computed keys again
            keep = list(range(nl)) + list(range(nl + len(computed), len(node.fields)))
            node = project(node, [Ref(node.fields[i].type, i, node.fields[i].name) for i in keep],
                           [node.fields[i].name for i in keep])
        fields = [ScopeField(sf.qualifier, sf.name, f.type) for sf, f in zip(scope.fields, node.fields)]
        return Relation(node, Scope(fields))

    def _bind_from_item(self, item: exp.Expr) -> Relation:
        alias = item.alias or None
        if isinstance(item, exp.Table):
            inner = item.this
            if isinstance(inner, exp.Anonymous) and inner.name.upper() == "TABLE" and len(inner.expressions) == 1:
                inner = inner.expressions[0]
            if isinstance(inner, (fx.WindowTVF, exp.Anonymous)):
                return self._bind_tvf_call(inner, alias)
            if isinstance(inner, exp.Func) and not isinstance(inner, exp.Identifier):
                raise ValidationError(f"{_where(item)}Unsupported table function {inner.sql(dialect='flink')}")
            return self._bind_named(item, alias or item.name, item)
        if isinstance(item, exp.Subquery):
            node = self.bind_query(item.this)
            return Relation(node, _fields_scope(node, alias))
        if isinstance(item, fx.WindowTVF):
            return self._bind_tvf_call(item, alias)
        if isinstance(item, exp.Values):
            node = self._bind_values(item)
            return Relation(node, _fields_scope(node, alias))
        if isinstance(item, exp.Lateral) or isinstance(item, exp.Unnest):
            raise ValidationError(f"{_where(item)}LATERAL/UNNEST is not supported yet")
        raise ValidationError(f"{_where(item)}Unsupported FROM item: {item.sql(dialect='flink')[:80]}")

    def _static_partition(self, target: exp.Expr, tdef: TableDef) -> dict[str, Expr]:
        """`INSERT INTO t PARTITION (k = 'v', ..)`: the partition columns given as constants (the query supplies the
        other columns), each cast to its column's type."""
        spec = target.args.get("partition")
        if spec is None:
            return {}
        out = {}
        for item in spec.expressions:
            if not isinstance(item, exp.EQ) or not isinstance(item.this, exp.Column):
                raise ValidationError(f"{_where(item)}A static partition is written `column = constant`")
            col = tdef.column(item.this.name)
            if col is None or col.name not in tdef.partition_keys:
                raise ValidationError(f"{_where(item)}'{item.this.name}' is not a partition column of table "
                                      f"'{tdef.name}' (partition keys: {', '.join(tdef.partition_keys) or 'none'})")
            value = ScalarBinder(Scope([])).bind(item.expression)
            out[col.name] = value if value.type == col.type else cast(value, col.type)
        return out

    def _bind_values(self, v: exp.Values) -> L.Node:
        """VALUES (..), (..): each column an expression over the row number, typed as the common type of its
        rows; named by the alias's column list, else EXPR$0, EXPR$1, .. as in Flink."""
        rows = [t.expressions if isinstance(t, exp.Tuple) else [t] for t in v.expressions]
        width = len(rows[0])
        if any(len(r) != width for r in rows):
            raise ValidationError(f"{_where(v)}Values passed to VALUES operator must have compatible types: every "
                                  f"row needs {width} value{'s' if width != 1 else ''}")
        alias = v.args.get("alias")
        names = [c.name for c in alias.columns] if alias is not None and alias.columns else \
            [f"EXPR${j}" for j in range(width)]
        if len(names) != width:
            raise ValidationError(f"{_where(v)}List of column aliases must have same degree as table; table has "
                                  f"{width} columns, whereas alias list has {len(names)} columns")
        node = _row_numbers(len(rows))
        binder = ScalarBinder(Scope.of([values_source.ROW], [BIGINT.with_nullable(False)]))
        row = exp.column(values_source.ROW, quoted=True)
        exprs = []
        for j in range(width):
            if len(rows) == 1:
                exprs.append(binder.bind(rows[0][j]))
                continue
            case = exp.Case(ifs=[exp.If(this=exp.EQ(this=row.copy(), expression=exp.Literal.number(i)),
                                        true=r[j].copy()) for i, r in enumerate(rows[:-1])],
                            default=rows[-1][j].copy())
            exprs.append(binder.bind(case))
        return project(node, exprs, names)

    def _bind_named(self, name: exp.Expr, qualifier: str, where: exp.Expr) -> Relation:
        simple = isinstance(name, exp.Identifier) or isinstance(name, exp.Table) and not name.args.get("db") \
            and not name.args.get("catalog")
        cte = self._cte(name.name) if simple else None
        if cte is not None:
            if where.args.get("hints"):
                raise ValidationError(f"{_where(where)}Hints can only be applied to tables: '{name.name}' is a WITH "
                                      f"query")
            node = self.bind_query(cte)
            return Relation(node, _fields_scope(node, qualifier))
        try:
            obj = self.catalog.lookup(name)
        except ValidationError as e:
            raise ValidationError(f"{_where(where)}{e}") from None
        hinted = table_options(where, obj) if isinstance(where, exp.Table) else None
        if isinstance(obj, ViewDef):
            node = self.bind_query(obj.query)
            return Relation(node, _fields_scope(node, qualifier))
        node = self.bind_table(obj if hinted is None else dataclasses.replace(obj, options=hinted))
        return Relation(node, _fields_scope(node, qualifier))

    def bind_table(self, t: TableDef) -> L.Node:
        """Scan -> computed columns -> watermark assigner, in the table's declared column order."""
        stored = [c for c in t.columns if c.kind != "computed"]
        scan_fields = [L.Field(c.name, c.type) for c in stored]
        changelog = L.INSERT_ONLY
        from sqlstream.connectors.registry import changelog_mode_of
        changelog = changelog_mode_of(t)
        metadata = {c.name: c.metadata_key for c in t.columns if c.kind == "metadata"}
        node: L.Node = L.Scan(scan_fields, changelog, table=t.qualified_name, connector=t.connector,
                              options=dict(t.options), columns=list(scan_fields), primary_key=list(t.primary_key),
                              partition_keys=list(t.partition_keys),
                              metadata=metadata)
        if changelog == "I,UA,D":
            keys = [[f.name for f in scan_fields].index(k) for k in t.primary_key]
            node = L.ChangelogNormalize(scan_fields, L.RETRACT, input=node, keys=keys)
        return self._computed_and_watermark(t, node, scan_fields)

    def check_schema(self, t: TableDef) -> L.Node:
        """Resolve a table's computed columns and watermark as Flink does at CREATE TABLE, so that an unknown
        function or a wrong type fails there rather than at the first query. The connector is not consulted
        (as in Flink, CREATE TABLE and DESCRIBE do not need it); returns the table's schema as a plan."""
        scan_fields = [L.Field(c.name, c.type) for c in t.columns if c.kind != "computed"]
        scan = L.Scan(scan_fields, L.INSERT_ONLY, table=t.name, connector=t.connector, options=dict(t.options),
                      columns=list(scan_fields))
        return self._computed_and_watermark(t, scan, scan_fields)

    def _computed_and_watermark(self, t: TableDef, node: L.Node, scan_fields: list[L.Field]) -> L.Node:
        if any(c.kind == "computed" for c in t.columns) or [c.name for c in t.columns] != [f.name for f in scan_fields]:
            scope = Scope.of([f.name for f in scan_fields], [f.type for f in scan_fields], t.name)
            binder = ScalarBinder(scope)
            exprs, names = [], []
            for c in t.columns:
                if c.kind == "computed":
                    e = binder.bind(c.expr)
                    c.type = e.type
                else:
                    i = [f.name for f in scan_fields].index(c.name)
                    e = Ref(scan_fields[i].type, i, c.name)
                exprs.append(e)
                names.append(c.name)
            node = project(node, exprs, names)
        if t.watermark_column is not None:
            idx = node.names.index(t.watermark_column)
            rt = node.fields[idx].type
            if not (rt.is_timestamp and rt.precision <= 3):
                raise ValidationError(
                    f"Invalid data type of time field for watermark definition. The field must be of type "
                    f"TIMESTAMP(p) or TIMESTAMP_LTZ(p), the supported precision 'p' is from 0 to 3, but the "
                    f"time field type is {rt}")
            scope = Scope.of(node.names, [f.type for f in node.fields], t.name)
            wm = ScalarBinder(scope).bind(t.watermark_expr)
            if not (wm.type.is_timestamp):
                raise ValidationError(f"Watermark strategy {t.watermark_expr.sql(dialect='flink')} must be of "
                                      f"type TIMESTAMP or TIMESTAMP_LTZ but is of type '{wm.type}'")
            fields = list(node.fields)
            fields[idx] = L.Field(fields[idx].name, rt.as_rowtime())
            node = L.WatermarkAssigner(fields, node.changelog, input=node, rowtime=idx, watermark=wm)
        return node

    def _bind_tvf_call(self, call: exp.Expr, alias: str | None) -> Relation:
        if not isinstance(call, fx.WindowTVF):
            raise ValidationError(f"{_where(call)}Unsupported table function {call.sql(dialect='flink')[:60]}")
        kind = call.this.name.upper()
        args = list(call.expressions)
        named = {a.this.name.upper(): a.expression for a in args if isinstance(a, exp.Kwarg)}
        positional = [a for a in args if not isinstance(a, exp.Kwarg)]
        order = {"TUMBLE": ["DATA", "TIMECOL", "SIZE", "OFFSET"],
                 "HOP": ["DATA", "TIMECOL", "SLIDE", "SIZE", "OFFSET"],
                 "CUMULATE": ["DATA", "TIMECOL", "STEP", "SIZE", "OFFSET"],
                 "SESSION": ["DATA", "TIMECOL", "GAP"]}[kind]
        params = dict(zip(order, positional))
        params.update(named)
        table_arg = params.get("DATA")
        if not isinstance(table_arg, fx.TableArgument):
            raise ValidationError(f"{_where(call)}{kind} expects TABLE <name> as its first argument")
        rel = self._bind_named(table_arg.this, alias or table_arg.this.name, table_arg)
        desc = params.get("TIMECOL")
        if not isinstance(desc, fx.Descriptor) or len(desc.expressions) != 1:
            raise ValidationError(f"{_where(call)}{kind} expects DESCRIPTOR(<time column>) as its second argument")
        tcol = desc.expressions[0].name
        ti = rel.scope.resolve(tcol, None, desc)
        ttype = rel.node.fields[ti].type
        if ttype.time_attr not in ("rowtime", "proctime"):
            raise ValidationError(
                f"{_where(desc)}The window function {kind}(TABLE {table_arg.this.name}, DESCRIPTOR({tcol}), ...) "
                f"requires the timecol to be a time attribute type, but is {ttype}.")
        _require_utc_windows(ttype, desc)

        def ms(key: str) -> int:
            v = params.get(key)
            if not isinstance(v, exp.Interval):
                raise ValidationError(f"{_where(call)}{kind} expects an INTERVAL for {key.lower()}")
            return interval_value(v)[0]
        partition = ()
        if kind == "TUMBLE":
            spec = L.WindowSpec("TUMBLE", ti, size=ms("SIZE"), offset=ms("OFFSET") if "OFFSET" in params else 0)
        elif kind == "HOP":
            spec = L.WindowSpec("HOP", ti, size=ms("SIZE"), slide=ms("SLIDE"),
                                offset=ms("OFFSET") if "OFFSET" in params else 0)
        elif kind == "CUMULATE":
            spec = L.WindowSpec("CUMULATE", ti, size=ms("SIZE"), step=ms("STEP"),
                                offset=ms("OFFSET") if "OFFSET" in params else 0)
            _require_positive_window(spec, call)
            if spec.size % spec.step:
                raise ValidationError(f"{_where(call)}CUMULATE table function based aggregate requires maxSize "
                                      f"must be an integral multiple of step, but got maxSize {spec.size} ms and "
                                      f"step {spec.step} ms.")
        else:
            if table_arg.args.get("partition_by"):
                columns = table_arg.args["partition_by"]
                if not all(isinstance(c, exp.Column) for c in columns):
                    raise ValidationError(f"{_where(call)}SESSION's PARTITION BY takes column names")
                partition = tuple(rel.scope.resolve(c.name, None, c) for c in columns)
            spec = L.WindowSpec("SESSION", ti, gap=ms("GAP"), partition=partition)
        _require_positive_window(spec, call)
        if ttype.time_attr == "proctime":
            if kind == "SESSION":
                raise ValidationError(f"{_where(call)}SESSION windows on a processing-time attribute are not "
                                      f"supported yet")
            spec = L.WindowSpec(spec.kind, spec.time_index, spec.size, spec.slide, spec.step, spec.gap, spec.offset,
                                spec.partition, proctime=True)
        ws_type = FlinkType("TIMESTAMP", 3, nullable=False)
        wt_type = FlinkType(ttype.name, 3, nullable=False, time_attr="rowtime")
        fields = [L.Field(f.name, f.type.without_time_attr() if i == ti else f.type)
                  for i, f in enumerate(rel.node.fields)]
        fields += [L.Field("window_start", ws_type), L.Field("window_end", ws_type),
                   L.Field("window_time", wt_type)]
        tvf = L.WindowTableFunction(fields, rel.node.changelog, input=rel.node, window=spec)
        return Relation(tvf, _fields_scope(tvf, alias or table_arg.this.name), tvf=tvf)

    # ---- SELECT -------------------------------------------------------------------------------
    def _bind_select(self, sel: exp.Select) -> L.Node:
        check_query_hints(sel)
        if sel.args.get("offset"):
            raise ValidationError(f"{_where(sel.args['offset'])}OFFSET is not supported yet")
        if sel.args.get("limit"):
            return self._bind_limit(sel)
        if sel.args.get("order"):
            return self._bind_temporal_sort(sel)
        sel = self._lift_scalar_subqueries(sel)
        if sel.args.get("distinct"):
            if sel.args.get("group") or any(_contains_agg(e) for e in sel.expressions):
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
        elif sel.args.get("where") is not None and _subquery_conjuncts(sel.args["where"].this):
            rel, where = self._bind_semi_anti(sel)
        else:
            if sel.args.get("windows") or any(e.find(exp.Window) for e in sel.expressions):
                return self._bind_over(sel)
            rel = self._bind_from(sel)
            where = sel.args.get("where")
        group = sel.args.get("group")
        having = sel.args.get("having")
        has_agg = bool(group) or any(_contains_agg(e) for e in sel.expressions) or having is not None
        if has_agg:
            return self._bind_aggregate(sel, rel, where, group, having)
        node, scope = rel.node, rel.scope
        binder = ScalarBinder(scope)
        cond = self._bind_condition(binder, where) if where is not None else None
        exprs, names = self._bind_projection(sel, binder, scope)
        if rel.tvf is not None and rel.tvf.window.kind == "SESSION":
            raise ValidationError(f"{_where(sel)}SESSION window table function without aggregation is not "
                                  f"supported yet")
        return project(node, exprs, names, cond)

    def _order_keys(self, order: exp.Order, node: L.Node) -> list[tuple[int, bool]]:
        """ORDER BY items as (output column, descending): each names a column of the SELECT's result."""
        keys = []
        for o in order.expressions:
            e = o.this
            name = e.name if isinstance(e, exp.Column) and not e.table else None
            if isinstance(e, exp.Literal) and not e.is_string and int(e.this) - 1 in range(len(node.names)):
                keys.append((int(e.this) - 1, bool(o.args.get("desc"))))
                continue
            if name is None or name not in node.names:
                raise ValidationError(f"{_where(o)}ORDER BY supports only columns of the SELECT list yet: "
                                      f"'{e.sql(dialect='flink')}' is not one")
            keys.append((node.names.index(name), bool(o.args.get("desc"))))
        return keys

    def _bind_temporal_sort(self, sel: exp.Select) -> L.Node:
        """ORDER BY on a stream: Flink allows it when the first key is a time attribute, ascending."""
        order = sel.args["order"]
        inner = sel.copy()
        inner.set("order", None)
        node = self.bind_query(inner)
        keys = self._order_keys(order, node)
        first, desc = keys[0]
        attr = node.fields[first].type.time_attr
        if attr is None or desc:
            raise ValidationError(f"{_where(order)}Sort on a non-time-attribute field is not supported. (ORDER BY "
                                  f"on a stream needs a time attribute ascending as its first key, or a LIMIT)")
        if node.updating:
            raise ValidationError(f"{_where(order)}ORDER BY a time attribute needs an insert-only input")
        return L.TemporalSort(list(node.fields), L.INSERT_ONLY, input=node, time_index=first,
                              rowtime=attr == "rowtime", keys=keys[1:])

    def _bind_limit(self, sel: exp.Select) -> L.Node:
        """[ORDER BY ..] LIMIT n on a stream: Flink's global Top-N, ROW_NUMBER() OVER (ORDER BY ..) <= n over the
        query's rows (an updating result when ordered by anything but a time attribute)."""
        limit = sel.args["limit"]
        n = limit.expression if isinstance(limit, exp.Limit) else limit
        if not isinstance(n, exp.Literal) or n.is_string:
            raise ValidationError(f"{_where(limit)}LIMIT needs a whole number")
        order = sel.args.get("order")
        inner = sel.copy()
        inner.set("order", None)
        inner.set("limit", None)
        node = self.bind_query(inner)
        if order is None:
            raise ValidationError(f"{_where(limit)}LIMIT without ORDER BY is not supported on streams yet")
        keys = self._order_keys(order, node)
        alias = exp.TableAlias(this=exp.to_identifier("$limited"))
        cols = [exp.column(c, quoted=True) for c in node.names]
        over = exp.Window(this=exp.RowNumber(), order=exp.Order(expressions=[
            exp.Ordered(this=cols[i].copy(), desc=d) for i, d in keys]))
        ranked = exp.select(*[c.copy() for c in cols], exp.alias_(over, "$rn", quoted=True)).from_(
            exp.Subquery(this=inner, alias=alias))
        outer = exp.select(*[c.copy() for c in cols]).from_(
            exp.Subquery(this=ranked, alias=exp.TableAlias(this=exp.to_identifier("$ranked")))).where(
            exp.LTE(this=exp.column("$rn", quoted=True), expression=n.copy()))
        return self.bind_query(outer)

    def _lift_scalar_subqueries(self, sel: exp.Select) -> exp.Select:
        """`(SELECT AGG(..) FROM ..)` used as a value becomes a column of a one-row relation LEFT JOINed ON TRUE
        (NULL until the aggregate has a row, then updated as it changes, as in Flink)."""
        found = []
        aggregating = bool(sel.args.get("group")) or any(_contains_agg(e) for e in sel.expressions)
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
                        any(isinstance(a, exp.Subquery) for a in _ancestors(sq, clause)):
                    continue
                found.append(sq)
        if not found:
            return sel
        sel = sel.copy()
        for n, sq in enumerate([s for s in sel.find_all(exp.Subquery) if any(s == f for f in found)]):
            inner = sq.this
            if not isinstance(inner, exp.Select) or len(inner.expressions) != 1 or inner.args.get("group") or \
                    not _contains_agg(inner.expressions[0]):
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

    # ---- Top-N / deduplication ---------------------------------------------------------------------
    def _try_top_n(self, sel: exp.Select):
        """SELECT .. FROM (SELECT .., ROW_NUMBER() OVER (PARTITION BY .. ORDER BY ..) AS rn FROM ..) WHERE rn <= N."""
        frm = sel.args.get("from_") or sel.args.get("from")
        if frm is None or sel.args.get("joins") or not isinstance(frm.this, exp.Subquery):
            return None
        inner = frm.this.this
        if not isinstance(inner, exp.Select):
            return None
        rank_pos = [i for i, e in enumerate(inner.expressions)
                    if isinstance(e, exp.Alias) and isinstance(e.this, exp.Window)
                    and isinstance(e.this.this, exp.RowNumber)]
        if len(rank_pos) != 1:
            return None
        win_alias = inner.expressions[rank_pos[0]]
        rn_name = win_alias.alias
        window = win_alias.this
        where = sel.args.get("where")
        conds = _sql_conjuncts(where.this) if where is not None else []
        first, limit, rest = 1, None, []
        for c in conds:
            bounds = _rank_bounds(c, rn_name)
            if bounds is None:
                rest.append(c)
                continue
            first = max(first, bounds[0])
            limit = bounds[1] if limit is None or bounds[1] is not None and bounds[1] < limit else limit
        if limit is None:
            raise ValidationError(f"{_where(window)}Rank end is not specified. Currently rank only support TopN, "
                                  f"which means the rank end must be specified: filter the subquery with "
                                  f"{rn_name} <= N (or {rn_name} BETWEEN M AND N)")
        if limit < 1:
            raise ValidationError(f"{_where(window)}Rank end should not less than zero, but now is {limit}")
        if first > 1:  # a rank range: the top `limit` are ranked, rows ranked before `first` filtered out
            rest.append(exp.GTE(this=exp.column(rn_name), expression=exp.Literal.number(first)))
        partition = list(window.args.get("partition_by") or [])
        order = window.args.get("order")
        if order is None:
            raise ValidationError(f"{_where(window)}Top-N needs ORDER BY in the OVER clause")
        ordered = list(order.expressions)
        base = inner.copy()
        placeholder = exp.alias_(exp.cast(exp.Literal.number(0), "BIGINT"), "$rank")
        projections = [placeholder if i == rank_pos[0] else e for i, e in enumerate(base.expressions)]
        extra = [exp.alias_(p.copy(), f"$p{i}") for i, p in enumerate(partition)] + \
                [exp.alias_(o.this.copy(), f"$o{i}") for i, o in enumerate(ordered)]
        base.set("expressions", projections + extra)
        node = self.bind_query(base)
        n_vis = len(node.fields) - len(extra)
        rank_at = node.names.index("$rank")
        pidx = list(range(n_vis, n_vis + len(partition)))
        oidx = [(n_vis + len(partition) + i, bool(o.args.get("desc"))) for i, o in enumerate(ordered)]
        from sqlstream.core.types import BIGINT
        rank_field = L.Field(rn_name, BIGINT.with_nullable(False))
        # Flink's Top-N changelog depends on whether the row number is read above it: per position (-U/+U) when
        # it is (or when the range has an offset), per row (-D of the row that leaves, +I of the one that enters)
        # when it is not
        with_rank = first > 1 or _reads_column([a for k, a in sel.args.items() if k not in ("where", "from_", "from")]
                                               + rest, rn_name)
        # a plain Top-N; rules make a window Top-N or a deduplication of it (planner/rules/streaming.py)
        rank = _streaming_shape(window, L.Rank(list(node.fields) + [rank_field], L.RETRACT, input=node,
                                               partition=pidx, order=oidx, limit=limit, with_rank=with_rank))
        exprs, names = [], []
        for j in range(n_vis):
            if j == rank_at:
                exprs.append(Ref(rank_field.type, len(node.fields), rn_name))
                names.append(rn_name)
            else:
                exprs.append(Ref(node.fields[j].type, j, node.fields[j].name))
                names.append(node.fields[j].name)
        out = project(rank, exprs, names)
        alias = frm.this.alias or None
        return Relation(out, _fields_scope(out, alias)), _where_clause(rest)

    def _bind_semi_anti(self, sel: exp.Select):
        """`x [NOT] IN (SELECT y ..)` conjuncts of WHERE become SEMI/ANTI joins on x = y."""
        rel = self._bind_from(sel)
        rest = []
        for c in _sql_conjuncts(sel.args["where"].this):
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
            kind = "ANTI" if neg else "SEMI"
            changelog = L.RETRACT if (rel.node.updating or sub.updating or kind == "ANTI") else L.INSERT_ONLY
            node = L.Join(list(rel.node.fields), changelog, left=rel.node, right=sub, kind=kind,
                          left_keys=[x.index], right_keys=[0], null_aware=neg)
            rel = Relation(node, rel.scope)
        return rel, _where_clause(rest)

    def _bind_exists(self, rel: Relation, exists: exp.Exists, negated: bool) -> Relation:
        """`[NOT] EXISTS (SELECT .. WHERE inner.a = outer.b AND ..)`: the equality correlations become the keys of
        a SEMI/ANTI join; the subquery's other conjuncts filter its rows first."""
        sub = exists.this.this if isinstance(exists.this, exp.Subquery) else exists.this
        if not isinstance(sub, exp.Select) or (sub.args.get("from_") or sub.args.get("from")) is None:
            raise ValidationError(f"{_where(exists)}EXISTS needs a SELECT .. FROM subquery")
        if sub.args.get("group") or sub.args.get("having") or any(_contains_agg(e) for e in sub.expressions):
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
        for c in _sql_conjuncts(cond.this) if cond is not None else []:
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
        inner.set("where", _where_clause([c.copy() for c in local]))
        right = self.bind_query(inner)
        left_keys = []
        for k, f in zip(outer_keys, right.fields):
            x = ScalarBinder(rel.scope).bind(k)
            if not isinstance(x, Ref):
                raise ValidationError(f"{_where(k)}EXISTS correlation needs an outer column, got {k.sql()}")
            if common_type(x.type, f.type) is None:
                raise ValidationError(f"{_where(k)}EXISTS correlation compares {x.type} with {f.type}")
            left_keys.append(x.index)
        kind = "ANTI" if negated else "SEMI"
        right_keys = list(range(len(left_keys)))
        changelog = L.RETRACT if (rel.node.updating or right.updating or negated) else L.INSERT_ONLY
        node = _streaming_shape(exists, L.Join(list(rel.node.fields), changelog, left=rel.node, right=right,
                                               kind=kind, left_keys=left_keys, right_keys=right_keys))
        return Relation(node, rel.scope)

    def _bind_over(self, sel: exp.Select) -> L.Node:
        """SELECT .., AGG(..) OVER (PARTITION BY .. ORDER BY rowtime ROWS|RANGE BETWEEN .. PRECEDING AND
        CURRENT ROW): input columns pass through, one column per aggregate is appended."""
        if sel.args.get("group") or sel.args.get("having"):
            raise ValidationError(f"{_where(sel)}OVER aggregation cannot be combined with GROUP BY")
        rel = self._bind_from(sel)
        node, scope = rel.node, rel.scope
        if node.updating:
            raise ValidationError(f"{_where(sel)}StreamPhysicalOverAggregate doesn't support consuming update and "
                                  f"delete changes which is produced by an updating input (OVER aggregation needs "
                                  f"an insert-only input)")
        binder = ScalarBinder(scope)
        where = sel.args.get("where")
        if where is not None:
            node = project(node, identity(node), node.names, self._bind_condition(binder, where))
        named = {w.this.name: w for w in (sel.args.get("windows") or [])}
        spec_key, spec = None, None
        calls: list[exp.Window] = [w for e in sel.expressions for w in e.find_all(exp.Window)]
        for w in calls:
            d = named.get(w.alias) if w.args.get("alias") is not None and not w.args.get("partition_by") \
                and not w.args.get("order") else w
            if d is None:
                raise ValidationError(f"{_where(w)}Window '{w.alias}' is not defined")
            if not isinstance(d, exp.Window):
                raise ValidationError(f"{_where(w)}OVER needs a window: OVER (PARTITION BY .. ORDER BY ..) or "
                                      f"the name of one defined in WINDOW")
            key = (tuple(p.sql() for p in d.args.get("partition_by") or []),
                   d.args["order"].sql() if d.args.get("order") else "")
            frame_key = _over_frame(w.this, d)
            if spec_key is not None and key != spec_key[0]:
                raise ValidationError(f"{_where(w)}All OVER aggregates of a SELECT must use the same window")
            if spec_key is not None and frame_key != spec_key[1]:
                raise ValidationError(f"{_where(w)}Over Agg: Unsupported use of OVER windows. All aggregates must be "
                                      f"computed on the same window. please re-check the over window statement.")
            spec_key, spec = (key, frame_key), d
        if spec is None:
            raise ValidationError(f"{_where(sel)}A WINDOW clause defines windows for OVER aggregates, and this "
                                  f"SELECT has none")
        partition = [binder.bind(p) for p in spec.args.get("partition_by") or []]
        order = spec.args.get("order")
        if order is None or len(order.expressions) != 1:
            raise ValidationError(f"{_where(spec)}OVER windows need ORDER BY on one time attribute")
        ordered = order.expressions[0]
        time_expr = binder.bind(ordered.this)
        if not isinstance(time_expr, Ref) or time_expr.type.time_attr is None or ordered.args.get("desc"):
            raise ValidationError(f"{_where(ordered)}OVER windows can only be ordered by a time attribute in "
                                  f"ascending order")
        frame, preceding = spec_key[1][0], None
        wspec = spec.args.get("spec")
        if wspec is not None:
            frame = wspec.args.get("kind", "ROWS").upper()
            start = wspec.args.get("start")
            end = wspec.args.get("end")
            if str(end).upper() != "CURRENT ROW":
                raise ValidationError(f"{_where(wspec)}OVER windows must end at CURRENT ROW")
            if isinstance(start, exp.Interval):
                preceding = interval_value(start)[0]
            elif isinstance(start, exp.Literal):
                preceding = int(start.this)
            elif str(start).upper() != "UNBOUNDED":
                raise ValidationError(f"{_where(wspec)}Unsupported OVER frame start {start}")
            if frame == "ROWS" and isinstance(start, exp.Interval) or frame == "RANGE" and isinstance(start, exp.Literal):
                raise ValidationError(f"{_where(wspec)}ROWS frames take a row count, RANGE frames an INTERVAL")
        pre = identity(node)
        n_in = len(pre)

        def arg_index(e: Expr) -> int:
            for i, p in enumerate(pre):
                if str(p) == str(e):
                    return i
            pre.append(e)
            return len(pre) - 1
        pidx = [arg_index(p) for p in partition]
        aggs: list[L.AggCall] = []

        def over_hook(n: exp.Expr) -> Expr | None:
            if not isinstance(n, exp.Window):
                return None
            name, distinct, arg_nodes = _agg_parts(n.this)
            if name.startswith("JSON_"):  # Flink's parser takes JSON_ARRAYAGG/JSON_OBJECTAGG only without OVER
                raise ValidationError(f"{_where(n)}Incorrect syntax near the keyword 'OVER': {name} is not an "
                                      f"OVER aggregate")
            if distinct and preceding is not None and name in ("ARRAY_AGG", "LISTAGG"):
                raise ValidationError(f"{_where(n)}{name}(DISTINCT ..) over a bounded OVER frame is not supported "
                                      f"yet (its order depends on the rows that left the frame)")
            if name in RANKING_OVER_FUNCTIONS:
                # the number of rows in the frame: ROW_NUMBER's is ROWS, RANK's and DENSE_RANK's RANGE, so rows
                # with equal timestamps share a rank (Flink's streaming ranks never compare order values)
                name = "COUNT"
            args = [binder.bind(a) for a in arg_nodes]
            t = aggregate_type(name, [a.type for a in args], distinct)
            aggs.append(L.AggCall(name, tuple(arg_index(a) for a in args), t, distinct))
            return Ref(t, -len(aggs), name)  # fixed up below once the input width is known
        post = ScalarBinder(scope, group_hook=over_hook)
        out_exprs, out_names = self._bind_projection(sel, post, scope)
        pre_calc = project(node, pre, [f"$f{i}" if i >= n_in else node.names[i] for i in range(len(pre))])
        fields = list(pre_calc.fields) + [L.Field(f"$agg{i}", a.type) for i, a in enumerate(aggs)]
        over = L.OverAggregate(fields, L.INSERT_ONLY, input=pre_calc, partition=pidx, time_index=time_expr.index,
                               frame=frame, preceding=preceding, aggs=aggs,
                               rowtime=time_expr.type.time_attr == "rowtime")
        width = len(pre)

        def fix(e: Expr) -> Expr:
            if isinstance(e, Ref) and e.index < 0:
                return Ref(e.type, width + (-e.index - 1), e.name)
            if isinstance(e, Call):
                return Call(e.type, e.fn, tuple(fix(a) for a in e.args))
            return e
        return project(over, [fix(e) for e in out_exprs], out_names)

    def _bind_condition(self, binder: ScalarBinder, where: exp.Expr) -> Expr:
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
                    if qual and f.qualifier != qual or not qual and (f.qualifier or "").startswith("$sq"):
                        continue  # `*` does not show the columns lifted scalar subqueries add
                    exprs.append(Ref(f.type, j, f.name))
                    names.append(f.name)
                continue
            e = binder.bind(item)
            exprs.append(e)
            names.append(_output_name(item, len(names)))
        dup = [n for n in names if names.count(n) > 1]
        if dup:
            names = _dedupe(names)
        return exprs, names

    # ---- aggregation -------------------------------------------------------------------------
    def _bind_aggregate(self, sel, rel: Relation, where, group, having) -> L.Node:
        group_items = list(group.expressions) if group else []
        sets_spec = _grouping_sets(group) if group else None
        legacy = [g for g in group_items if isinstance(g, exp.Anonymous)
                  and g.name.upper() in ("TUMBLE", "HOP", "SESSION")]
        tvf = rel.tvf
        scope = rel.scope
        names_in_group = {g.name for g in group_items if isinstance(g, exp.Column)}
        window_agg = tvf is not None and {"window_start", "window_end"} <= names_in_group
        if tvf is not None and not window_agg and tvf.window.kind == "SESSION":
            raise ValidationError(f"{_where(sel)}SESSION window aggregation must group by window_start and "
                                  f"window_end")
        input_node = rel.node
        if window_agg:
            input_node = tvf.input
            scope = Scope(rel.scope.fields[:len(tvf.input.fields)])
        if input_node.updating and (window_agg or legacy):
            raise ValidationError(
                "StreamPhysicalWindowAggregate doesn't support consuming update and delete changes which "
                "is produced by an updating input (window aggregation requires an insert-only input)")
        binder = ScalarBinder(scope)
        cond = self._bind_condition(binder, where) if where is not None else None
        spec: L.WindowSpec | None = None
        key_nodes: list[exp.Expr] = []
        props: list[str] = []
        for g in group_items:
            if g in legacy:
                spec = self._legacy_window(g, scope, input_node)
                continue
            if window_agg and isinstance(g, exp.Column) and g.name in WINDOW_COLUMNS:
                props.append(g.name)
                continue
            if isinstance(g, (exp.GroupingSets, exp.Rollup, exp.Cube)):
                continue
            key_nodes.append(g)
        if window_agg:
            spec = tvf.window
            if spec.kind == "HOP" and spec.size % spec.slide:  # rows of such windows are fine, aggregating is not
                raise ValidationError(f"{_where(sel)}HOP table function based aggregate requires size must be an "
                                      f"integral multiple of slide, but got size {spec.size} ms and slide "
                                      f"{spec.slide} ms")
        extra_keys = []
        if sets_spec is not None:
            for s in sets_spec["all"]:
                if not any(s == k for k in key_nodes) and not (window_agg and isinstance(s, exp.Column)
                                                               and s.name in WINDOW_COLUMNS):
                    extra_keys.append(s)
        key_nodes = key_nodes + extra_keys
        # pre-aggregation projection: keys, then aggregate arguments
        pre: list[Expr] = [binder.bind(k) for k in key_nodes]
        pre_keys = [str(e) for e in pre]
        aggs: list[L.AggCall] = []
        agg_index: dict[str, int] = {}
        nkeys = len(pre)
        has_sets = sets_spec is not None
        window_props = list(WINDOW_COLUMNS) if spec is not None else []
        nprops = len(window_props) + (1 if has_sets else 0)

        def arg_index(e: Expr) -> int:
            s = str(e)
            for i, p in enumerate(pre):
                if str(p) == s:
                    return i
            pre.append(e)
            return len(pre) - 1

        def agg_hook(node: exp.Expr) -> Expr:
            filt = None
            if isinstance(node, exp.Filter):
                filt = node.expression.this if isinstance(node.expression, exp.Where) else node.expression
                node = node.this
            name, distinct, arg_nodes = _agg_parts(node)
            args = [binder.bind(a) for a in arg_nodes]
            if any(_contains_agg(a) for a in arg_nodes):
                raise ValidationError(f"{_where(node)}Aggregate calls cannot be nested")
            try:
                t = aggregate_type(name, [a.type for a in args], distinct)
            except ValidationError as e:
                raise ValidationError(f"{_where(node)}{e}") from None
            idx = tuple(arg_index(a) for a in args)
            fidx = arg_index(self._bind_condition(binder, filt)) if filt is not None else None
            call = L.AggCall(name, idx, t, distinct, fidx)
            key = str(call)
            if key not in agg_index:
                agg_index[key] = len(aggs)
                aggs.append(call)
            return Ref(t, nkeys + nprops + agg_index[key], key)

        key_types = [e.type.with_nullable(True) if has_sets else e.type for e in pre[:nkeys]]

        def group_hook(node: exp.Expr) -> Expr | None:
            if isinstance(node, exp.Anonymous):
                fname = node.name.upper()
                parts = fname.split("_")
                if len(parts) == 2 and parts[0] in ("TUMBLE", "HOP", "SESSION") and parts[1] in LEGACY_PROPS:
                    if spec is None or not legacy or not _same_group_window(node, legacy[0], scope):
                        raise ValidationError(f"{_where(node)}Call to auxiliary group function '{fname}' must have "
                                              f"matching call to group function '${parts[0]}' in GROUP BY clause")
                    prop = LEGACY_PROPS[parts[1]]
                    attr = input_node.fields[spec.time_index].type.time_attr
                    if parts[1] in ("ROWTIME", "PROCTIME") and (attr == "proctime") != (parts[1] == "PROCTIME"):
                        raise ValidationError(f"{_where(node)}{fname} needs a window on a "
                                              f"{parts[1].lower()} attribute; this window is on {attr}")
                    i = nkeys + window_props.index(prop)
                    return Ref(_prop_type(prop, spec, input_node), i, prop)
            if isinstance(node, (exp.GroupingId, exp.Grouping)) or (
                    isinstance(node, exp.Anonymous) and node.name.upper() in ("GROUPING_ID", "GROUPING")):
                return self._grouping_id(node, key_nodes, sets_spec, nkeys + len(window_props), key_nodes, binder)
            if window_agg and isinstance(node, exp.Column) and node.name in props and not node.table:
                i = nkeys + window_props.index(node.name)
                return Ref(_prop_type(node.name, spec, input_node), i, node.name)
            if window_agg and isinstance(node, exp.Column) and node.name == "window_time" and not node.table:
                i = nkeys + window_props.index("window_time")
                return Ref(_prop_type("window_time", spec, input_node), i, "window_time")
            if _contains_agg(node) or isinstance(node, (exp.Literal, exp.Star)):
                return None
            try:
                e = ScalarBinder(scope).bind(node)
            except ValidationError:
                return None
            s = str(e)
            for i, k in enumerate(pre_keys):
                if k == s:
                    return Ref(key_types[i], i, _output_name(node, i))
            if isinstance(node, exp.Column):
                raise ValidationError(f"{_where(node)}Expression '{node.sql(dialect='flink')}' is not being grouped")
            return None

        post_binder = ScalarBinder(Scope([]), agg_hook=agg_hook, group_hook=group_hook)
        out_exprs, out_names = self._bind_projection(sel, post_binder, Scope([]))
        having_cond = self._bind_condition(post_binder, having) if having is not None else None
        # build: input -> pre Calc -> aggregate -> post Calc
        pre_names = [f"$f{i}" for i in range(len(pre))]
        pre_calc = project(input_node, pre, pre_names, cond)
        prop_fields = []
        for p in window_props:
            prop_fields.append(L.Field(p, _prop_type(p, spec, input_node)))
        if has_sets:
            prop_fields.append(L.Field("$grouping_set", INT.with_nullable(False)))
        fields = [L.Field(pre_names[i], key_types[i]) for i in range(nkeys)] + prop_fields + \
                 [L.Field(str(a), a.type) for a in aggs]
        grouping_sets = None
        if has_sets:
            grouping_sets = []
            for s in sets_spec["sets"]:
                members = []
                for m in s:
                    for i, k in enumerate(key_nodes):
                        if k == m:
                            members.append(i)
                grouping_sets.append(sorted(set(members)))
        if spec is not None:
            agg: L.Node = L.WindowAggregate(fields, L.INSERT_ONLY, input=pre_calc, window=spec,
                                            keys=list(range(nkeys)), aggs=aggs, grouping_sets=grouping_sets)
            if spec.kind == "SESSION" and not window_agg:  # legacy GROUP BY SESSION: sessions per group key
                spec = L.WindowSpec(spec.kind, spec.time_index, gap=spec.gap, partition=tuple(range(nkeys)))
                agg.window = spec
            elif spec.partition:
                agg.window = L.WindowSpec(spec.kind, spec.time_index, spec.size, spec.slide, spec.step,
                                          spec.gap, spec.offset, tuple(arg_index(Ref(input_node.fields[p].type, p,
                                                                                  input_node.fields[p].name))
                                                                       for p in spec.partition), spec.proctime)
            tpos = arg_index(Ref(input_node.fields[spec.time_index].type, spec.time_index,
                                 input_node.fields[spec.time_index].name))
            agg.window = L.WindowSpec(agg.window.kind, tpos, spec.size, spec.slide, spec.step, spec.gap,
                                      spec.offset, agg.window.partition, spec.proctime)
            pre_calc.projections = pre
            pre_calc.fields = [L.Field(f"$f{i}", e.type) for i, e in enumerate(pre)]
        else:
            pre_calc.projections = pre
            pre_calc.fields = [L.Field(f"$f{i}", e.type) for i, e in enumerate(pre)]
            mode = "I,UB,UA" if not input_node.updating else L.RETRACT
            # a plain GROUP BY; a rule makes a cascaded window aggregation of it (planner/rules/streaming.py)
            agg = _streaming_shape(sel, L.GroupAggregate(fields, mode, input=pre_calc, keys=list(range(nkeys)),
                                                         aggs=aggs, grouping_sets=grouping_sets))
        return project(agg, out_exprs, out_names, having_cond)

    def _legacy_window(self, g: exp.Anonymous, scope: Scope, node: L.Node) -> L.WindowSpec:
        kind = g.name.upper()
        args = g.expressions
        least = {"HOP": 3}.get(kind, 2)
        if len(args) < least:
            raise ValidationError(f"{_where(g)}Invalid number of arguments to function '{kind}'. Was expecting "
                                  f"{least} arguments")
        col = args[0]
        if not isinstance(col, exp.Column):
            raise ValidationError(f"{_where(g)}{kind} expects a time attribute column as its first argument")
        ti = scope.resolve(col.name, col.table or None, col)
        proctime = node.fields[ti].type.time_attr == "proctime"
        if node.fields[ti].type.time_attr != "rowtime" and not proctime:
            raise ValidationError(f"{_where(g)}Window can only be defined on a time attribute column, but is type "
                                  f"of {node.fields[ti].type}")
        _require_utc_windows(node.fields[ti].type, g)
        iv = [interval_value(a)[0] if isinstance(a, exp.Interval) else None for a in args[1:]]
        if None in iv or not iv:
            raise ValidationError(f"{_where(g)}{kind} expects INTERVAL arguments")
        if kind == "SESSION" and proctime:
            raise ValidationError(f"{_where(g)}SESSION windows on a processing-time attribute are not supported yet")
        if kind == "TUMBLE":
            if iv[0] <= 0:
                raise ValidationError(f"{_where(g)}TumblingWindowAssigner parameters must satisfy size > 0")
            return L.WindowSpec("TUMBLE", ti, size=iv[0], proctime=proctime)
        if kind == "HOP":
            if len(iv) < 2 or iv[0] <= 0 or iv[1] <= 0:
                raise ValidationError(f"{_where(g)}SlidingWindowAssigner parameters must satisfy slide > 0 and "
                                      f"size > 0")
            return L.WindowSpec("HOP", ti, slide=iv[0], size=iv[1], proctime=proctime)
        if iv[0] <= 0:
            raise ValidationError(f"{_where(g)}SessionWindowAssigner parameters must satisfy 0 < size")
        return L.WindowSpec("SESSION", ti, gap=iv[0])

    def _grouping_id(self, node, key_nodes, sets_spec, gs_index, _keys, binder) -> Expr:
        if sets_spec is None:
            return Lit(BIGINT.with_nullable(False), 0)
        args = list(node.expressions)
        ids = []
        for s in sets_spec["sets"]:
            v = 0
            for a in args:
                v = (v << 1) | (0 if any(a == m for m in s) else 1)
            ids.append(v)
        t = BIGINT.with_nullable(False) if isinstance(node, exp.GroupingId) or node.name.upper() == "GROUPING_ID" \
            else INT.with_nullable(False)
        return Call(t, "GROUPING_ID", (Ref(INT.with_nullable(False), gs_index, "$grouping_set"),
                                       Lit(t, tuple(ids))))

    def _bind_intersect_except(self, q: exp.Expr) -> L.Node:
        """INTERSECT / EXCEPT (distinct): the distinct left rows with (SEMI) or without (ANTI) an equal right row."""
        kind = "SEMI" if isinstance(q, exp.Intersect) else "ANTI"
        if q.args.get("distinct") is False:
            left, right = self.bind_query(q.this), self.bind_query(q.expression)
            _check_set_op_inputs(q, left, right)
            keys = list(range(len(left.fields)))
            return L.SetOpAll(list(left.fields), L.RETRACT, left=left, right=right,
                              kind="INTERSECT" if kind == "SEMI" else "EXCEPT", left_keys=keys, right_keys=keys,
                              nulls_equal=True)
        left_q = exp.Subquery(this=q.this.copy(), alias=exp.TableAlias(this=exp.to_identifier("$left")))
        left_node = self.bind_query(q.this)
        cols = [exp.column(n, quoted=True) for n in left_node.names]
        left = self.bind_query(exp.select(*cols).from_(left_q).group_by(*[c.copy() for c in cols]))
        right = self.bind_query(q.expression)
        _check_set_op_inputs(q, left, right)
        keys = list(range(len(left.fields)))
        return L.Join(list(left.fields), L.RETRACT, left=left, right=right, kind=kind, left_keys=keys,
                      right_keys=keys, nulls_equal=True)

    # ---- UNION ALL ----------------------------------------------------------------------------
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
        kids = [_flatten_union(k) for k in kids]
        flat = [c for k in kids for c in (k.children if isinstance(k, L.Union) else [k])]
        mode = L.INSERT_ONLY if all(not k.updating for k in flat) else L.RETRACT
        return L.Union([L.Field(n, t) for n, t in zip(left.names, types)], mode, children=flat)


def _subquery_conjuncts(e: exp.Expr) -> bool:
    for c in _sql_conjuncts(e):
        inn = c.this if isinstance(c, exp.Not) else c
        if isinstance(inn, exp.In) and inn.args.get("query") is not None or isinstance(inn, exp.Exists):
            return True
    return False


def _reads_column(parts: list, name: str) -> bool:
    """Whether any of these clause parts (expressions or lists of them) reads the column `name` or `*`."""
    for part in parts:
        for e in part if isinstance(part, list) else [part]:
            if isinstance(e, exp.Expr) and any(isinstance(x, exp.Star) or isinstance(x, exp.Column) and
                                               (x.name == name or isinstance(x.this, exp.Star)) for x in e.walk()):
                return True
    return False


def _where_clause(conjuncts: list[exp.Expr]) -> exp.Where | None:
    """The WHERE clause ANDing the conjuncts, or None when there are none."""
    if not conjuncts:
        return None
    combined = conjuncts[0]
    for c in conjuncts[1:]:
        combined = exp.and_(combined, c)
    return exp.Where(this=combined)


def _sql_conjuncts(e: exp.Expr) -> list[exp.Expr]:
    if isinstance(e, exp.And):
        return _sql_conjuncts(e.this) + _sql_conjuncts(e.expression)
    if isinstance(e, exp.Paren):
        return _sql_conjuncts(e.this)
    return [e]


def _rank_bounds(c: exp.Expr, rn: str) -> tuple[int, int | None] | None:
    """(lowest, highest or None) row number a conjunct on the row number `rn` admits: `rn <= N`, `rn < N`,
    `rn = N`, `rn >= M`, `rn > M`, `rn BETWEEN M AND N`, or the same with the operands swapped; None when the
    conjunct is not such a bound (it stays a filter)."""
    def is_rn(e):
        return isinstance(e, exp.Column) and e.name == rn and not e.table

    def num(e):
        return int(e.this) if isinstance(e, exp.Literal) and not e.is_string and e.this.isdigit() else None
    if isinstance(c, exp.Between) and is_rn(c.this) and not c.args.get("symmetric"):
        low, high = num(c.args["low"]), num(c.args["high"])
        return (max(low, 1), high) if low is not None and high is not None else None
    swapped = {exp.LTE: exp.GTE, exp.LT: exp.GT, exp.GTE: exp.LTE, exp.GT: exp.LT, exp.EQ: exp.EQ}
    for cls in swapped:
        if not isinstance(c, cls):
            continue
        if is_rn(c.this) and num(c.expression) is not None:
            op, n = cls, num(c.expression)
        elif is_rn(c.expression) and num(c.this) is not None:
            op, n = swapped[cls], num(c.this)
        else:
            return None
        return {exp.LTE: (1, n), exp.LT: (1, n - 1), exp.EQ: (max(n, 1), n), exp.GTE: (max(n, 1), None),
                exp.GT: (n + 1, None)}[op]
    return None


def _conjuncts(e: Expr) -> list[Expr]:
    if isinstance(e, Call) and e.fn == "AND":
        return _conjuncts(e.args[0]) + _conjuncts(e.args[1])
    return [e]


def split_equi_keys(cond: Expr, n_left: int) -> tuple[list[int], list[int], Expr | None]:
    """Equalities between a left and a right column become join keys (right keys relative to the right
    input); the other conjuncts stay as the join condition."""
    lkeys, rkeys, rest = [], [], None
    for c in _conjuncts(cond):
        pair = _equi_pair(c, n_left)
        if pair is not None:
            lkeys.append(pair[0])
            rkeys.append(pair[1] - n_left)
        else:
            rest = c if rest is None else and_expr(rest, c)
    return lkeys, rkeys, rest


def _require_positive_window(spec: L.WindowSpec, call: exp.Expr) -> None:
    """Window sizes, slides, steps and gaps must be positive (Flink's messages)."""
    k = spec.kind
    if k == "TUMBLE" and spec.size <= 0:
        msg = f"size to be positive, but got {spec.size} ms."
    elif k == "HOP" and (spec.slide <= 0 or spec.size <= 0):
        msg = f"slide and size to be positive, but got slide {spec.slide} ms and size {spec.size} ms."
    elif k == "CUMULATE" and (spec.size <= 0 or spec.step <= 0):
        msg = f"maxSize and step to be positive, but got maxSize {spec.size} ms and step {spec.step} ms."
    elif k == "SESSION" and spec.gap <= 0:
        msg = f"gap to be positive, but got gap {spec.gap} ms."
    else:
        return
    raise ValidationError(f"{_where(call)}{k} table function based aggregate requires {msg}")


def _same_group_window(aux: exp.Anonymous, group: exp.Anonymous, scope: Scope) -> bool:
    """TUMBLE_START(ts, INTERVAL ..) and its kin name the GROUP BY's window: same kind, column and intervals."""
    a, b = aux.expressions, group.expressions
    if aux.name.upper().split("_")[0] != group.name.upper() or len(a) != len(b) or not a:
        return False
    if not isinstance(a[0], exp.Column):
        return False
    if scope.resolve(a[0].name, a[0].table or None, a[0]) != scope.resolve(b[0].name, b[0].table or None, b[0]):
        return False
    for x, y in zip(a[1:], b[1:]):
        if not (isinstance(x, exp.Interval) and isinstance(y, exp.Interval)) or \
                interval_value(x)[0] != interval_value(y)[0]:
            return False
    return True


def _streaming_shape(where: exp.Expr, node: L.Node) -> L.Node:
    """The streaming operator the shape rules make of a node just bound; their errors point at `where`."""
    from sqlstream.planner.rules.streaming import recognize
    try:
        return recognize(node)
    except ValidationError as e:
        raise ValidationError(f"{_where(where)}{e}") from None


def _equi_pair(e: Expr, n_left: int) -> tuple[int, int] | None:
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


def _flatten_union(n: L.Node) -> L.Node:
    return n


def _prop_type(prop: str, spec: L.WindowSpec, node: L.Node) -> FlinkType:
    rt = node.fields[spec.time_index].type
    if prop == "window_time":
        return FlinkType(rt.name, 3, nullable=False, time_attr=rt.time_attr or "rowtime")
    return FlinkType("TIMESTAMP", 3, nullable=False)


LOOKUP_CONNECTORS = ("filesystem", "faker", "jdbc")


def _versioned_view_key(node: L.Node) -> list[str]:
    """The key of a versioned view: keep-last deduplication on rowtime (ROW_NUMBER() OVER (PARTITION BY k
    ORDER BY rowtime DESC) = 1) under projections; its partition columns, by the names the view shows."""
    shown = [f.name for f in node.fields]
    while isinstance(node, L.Calc):
        node = node.input
    if not (isinstance(node, L.Rank) and node.limit == 1 and len(node.order) == 1 and node.order[0][1]):
        return []

    def column(i: int) -> Ref | None:
        """The input column a partition/order position stands for (the binder adds them as projections)."""
        e = node.input.projections[i] if isinstance(node.input, L.Calc) else Ref(node.input.fields[i].type, i,
                                                                                   node.input.fields[i].name)
        return e if isinstance(e, Ref) else None
    order = column(node.order[0][0])
    keys = [column(i) for i in node.partition]
    if order is None or order.type.time_attr != "rowtime" or any(k is None for k in keys):
        return []
    names = [k.name for k in keys]
    return names if all(k in shown for k in names) else []


def _check_set_op_inputs(q: exp.Expr, left: L.Node, right: L.Node) -> None:
    op = type(q).__name__.upper() + ("" if q.args.get("distinct") else " ALL")
    if len(right.fields) != len(left.fields):
        raise ValidationError(f"{_where(q)}Column count mismatch in {op}: {len(left.fields)} vs {len(right.fields)}")
    for a, b in zip(left.fields, right.fields):
        if common_type(a.type, b.type) is None:
            raise ValidationError(f"{_where(q)}Type mismatch in {op}: column '{a.name}' is {a.type} on the left "
                                  f"and {b.type} on the right")


def _ancestors(node: exp.Expr, stop: exp.Expr):
    """The nodes between `node` (exclusive) and `stop` (inclusive)."""
    p = node.parent
    while p is not None:
        yield p
        if p is stop:
            return
        p = p.parent


RANKING_OVER_FUNCTIONS = ("ROW_NUMBER", "RANK", "DENSE_RANK")


def _over_frame(call: exp.Expr, window: exp.Window) -> tuple[str, str]:
    """(ROWS or RANGE, start) of an OVER call's frame: ORDER BY alone means RANGE from UNBOUNDED PRECEDING, and
    ROW_NUMBER counts ROWS; ranking functions take no frame of their own."""
    wspec = window.args.get("spec")
    ranking = isinstance(call, (exp.RowNumber, exp.Rank, exp.DenseRank))
    if ranking and wspec is not None:
        raise ValidationError(f"{_where(wspec)}ROW/RANGE not allowed with RANK, DENSE_RANK or ROW_NUMBER functions")
    if wspec is None:
        return ("ROWS" if isinstance(call, exp.RowNumber) else "RANGE"), "UNBOUNDED"
    return wspec.args.get("kind", "ROWS").upper(), str(wspec.args.get("start")).upper()


def _contains_agg(e: exp.Expr) -> bool:
    """An aggregate call in `e` itself (those inside a subquery belong to the subquery)."""
    from sqlstream.planner.functions import is_aggregate
    for n in e.walk(prune=lambda x: x is not e and isinstance(x, (exp.Subquery, exp.Select))):
        if isinstance(n, exp.AggFunc) or isinstance(n, exp.Filter):
            return True
        if isinstance(n, exp.Anonymous) and is_aggregate(n.name):
            return True
    return False


def _agg_parts(node: exp.Expr) -> tuple[str, bool, list[exp.Expr]]:
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
        if args and isinstance(args[0], exp.Distinct):  # LISTAGG(DISTINCT s [, sep])
            return node.name.upper(), True, list(args[0].expressions) + args[1:]
        return node.name.upper(), False, args
    if isinstance(node, exp.JSONObjectAgg):
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


def _key_sets(g: exp.Expr) -> list[list[exp.Expr]] | None:
    """The key sets one GROUP BY item stands for (None for a plain key)."""
    if isinstance(g, exp.GroupingSets):
        sets = []
        for s in g.expressions:
            if isinstance(s, exp.Tuple):
                sets.append(list(s.expressions))
            elif isinstance(s, exp.Paren):
                sets.append([s.this])
            else:
                sets.append([s])
        return sets
    if isinstance(g, exp.Rollup):
        cols = list(g.expressions)
        return [cols[:i] for i in range(len(cols), -1, -1)]
    if isinstance(g, exp.Cube):
        cols = list(g.expressions)
        return [[c for c, keep in zip(cols, mask) if keep] for mask in itertools.product([1, 0], repeat=len(cols))]
    return None


def _grouping_sets(group: exp.Group) -> dict | None:
    """Expand GROUPING SETS / ROLLUP / CUBE (combined with plain keys) into a list of key sets."""
    plain, multi = [], []
    for g in group.expressions:
        sets = _key_sets(g)
        if sets is None:
            plain.append(g)
        else:
            multi.append(sets)
    for key in ("grouping_sets", "rollup", "cube"):  # where sqlglot keeps them apart from the plain keys
        v = group.args.get(key)
        for g in (v if isinstance(v, list) else [v]) if v else []:
            sets = _key_sets(g)
            if sets is not None:
                multi.append(sets)
    if not multi:
        return None
    combos = [[]]
    for sets in multi:
        combos = [c + s for c in combos for s in sets]
    all_items = []
    for c in combos:
        for x in c:
            if not any(x == y for y in all_items):
                all_items.append(x)
    non_window_plain = [p for p in plain if not (isinstance(p, exp.Column) and p.name in WINDOW_COLUMNS)]
    sets = [non_window_plain + c for c in combos]
    return {"sets": sets, "all": all_items}


def _output_name(item: exp.Expr, position: int) -> str:
    if isinstance(item, exp.Alias):
        return item.alias
    if isinstance(item, exp.Column):
        return item.name
    return f"EXPR${position}"


def _dedupe(names: list[str]) -> list[str]:
    """Unique output names as Flink (Calcite) makes them: a repeated name gets the first free suffix 0, 1, .."""
    used: set[str] = set()
    out = []
    for n in names:
        if n in used:
            j = 0
            while f"{n}{j}" in used:
                j += 1
            n = f"{n}{j}"
        used.add(n)
        out.append(n)
    return out


UTC_ZONES = ("UTC", "GMT", "Etc/UTC", "Etc/GMT", "UCT", "Zulu", "+00:00", "-00:00")


def _require_utc_windows(time_type: FlinkType, node: exp.Expr) -> None:
    """Flink assigns windows over a TIMESTAMP_LTZ time attribute on the session zone's wall clock (window_start
    and window_end in local time); windows here are assigned in UTC, so any other zone is refused rather than
    giving other windows."""
    zone = session_zone()
    if time_type.name == "TIMESTAMP_LTZ" and zone not in UTC_ZONES:
        raise ValidationError(f"{_where(node)}Windows on a TIMESTAMP_LTZ time attribute in the session time zone "
                              f"'{zone}' are not supported yet (Flink assigns them on that zone's wall clock). "
                              f"Use SET 'table.local-time-zone' = 'UTC', or a TIMESTAMP(3) rowtime column.")
