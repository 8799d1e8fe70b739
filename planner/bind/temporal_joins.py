"""JOIN t FOR SYSTEM_TIME AS OF: event-time temporal joins on a versioned table and processing-time lookup joins."""
from __future__ import annotations

from sqlglot import exp

from sqlstream.core.errors import ValidationError
from sqlstream.core.types import FlinkType
from sqlstream.plan import logical as L
from sqlstream.plan.expr import and_expr, Call, Ref, refs, remap
from sqlstream.planner.bind.conjuncts import expr_conjuncts, split_equi_keys
from sqlstream.planner.bind.relation import identity, project, Relation
from sqlstream.planner.scalar_binder import ScalarBinder, Scope, ScopeField, _where

LOOKUP_CONNECTORS = ("filesystem", "faker", "jdbc")


def versioned_view_key(node: L.Node) -> list[str]:
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


class TemporalJoins:
    """The Binder's joins on a table's version at a time."""

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
        pk = list(getattr(self.catalog.lookup(bare), "primary_key", [])) or versioned_view_key(right.node)
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
        for c in expr_conjuncts(condition) if condition is not None else []:
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
