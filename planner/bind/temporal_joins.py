"""JOIN t FOR SYSTEM_TIME AS OF: a plain join with the table as of a time (a Snapshot), checked against the
catalog; the rules make an event-time temporal join or a processing-time lookup join of it."""
from __future__ import annotations

from sqlglot import exp

from sqlstream.core.errors import ValidationError
from sqlstream.plan import logical as L
from sqlstream.plan.expr import Ref
from sqlstream.planner.bind.conjuncts import split_equi_keys
from sqlstream.planner.bind.relation import Relation, streaming_shape
from sqlstream.planner.rules.lookup_join import stored_table
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
        event-time attribute); the left side must be append-only. As of a processing time, a lookup join."""
        table = join.this
        version = table.args["version"]
        try:
            time = ScalarBinder(left.scope).bind(version.expression)
        except ValidationError:
            if self._right_proctime(table, version.expression):
                return self._bind_lookup_join(left, join, jtype, None)  # processing time: now, whichever side says it
            raise
        if not isinstance(time, Ref) or time.type.time_attr is None:
            raise ValidationError(f"{_where(version)}FOR SYSTEM_TIME AS OF needs a time attribute of the left "
                                  f"table, got {version.expression.sql(dialect='flink')}")
        if jtype not in ("INNER", "LEFT"):
            raise ValidationError(f"{_where(join)}Temporal joins are INNER or LEFT joins, not {jtype}")
        if time.type.time_attr == "proctime":
            return self._bind_lookup_join(left, join, jtype, time)
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
        if not any(f.type.time_attr == "rowtime" for f in right.node.fields):
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
        return self._snapshot_join(left, right, scope, join, jtype, time, lkeys, rkeys, condition)

    def _right_proctime(self, table: exp.Table, e: exp.Expr) -> bool:
        """`FOR SYSTEM_TIME AS OF proctime` naming the looked-up table's own processing-time attribute."""
        if not isinstance(e, exp.Column) or e.table and e.table != table.alias_or_name:
            return False
        bare = table.copy()
        bare.set("version", None)
        right = self._bind_from_item(bare)
        return any(f.name == e.name and f.type.time_attr == "proctime" for f in right.node.fields)

    def _bind_lookup_join(self, left: Relation, join: exp.Join, jtype: str, time: Ref | None) -> Relation:
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
        try:
            stored_table(right.node)
        except ValidationError as e:
            raise ValidationError(f"{_where(table)}{e}") from None
        on = join.args.get("on")
        nl = len(left.node.fields)
        scope = Scope(left.scope.fields + right.scope.fields)
        lkeys, rkeys, condition = split_equi_keys(ScalarBinder(scope).bind(on), nl) if on is not None \
            else ([], [], None)
        return self._snapshot_join(left, right, scope, join, jtype, time, lkeys, rkeys, condition)

    def _snapshot_join(self, left: Relation, right: Relation, scope: Scope, join: exp.Join, jtype: str,
                       time: Ref | None, lkeys: list[int], rkeys: list[int], condition) -> Relation:
        """The plain join of the left side with the right table as of `time` (None: the table's own processing
        time), and the streaming join the rules make of it."""
        snapshot = L.Snapshot(list(right.node.fields), right.node.changelog, input=right.node, time=time,
                              table=join.this.name)
        rf = [L.Field(f.name, f.type.with_nullable(True) if jtype == "LEFT" else f.type) for f in right.node.fields]
        plain = L.Join(list(left.node.fields) + rf, L.RETRACT, left=left.node, right=snapshot, kind=jtype,
                       left_keys=lkeys, right_keys=rkeys, condition=condition)
        node = streaming_shape(join, plain)
        fields = [ScopeField(sf.qualifier, sf.name, f.type) for sf, f in zip(scope.fields, node.fields)]
        return Relation(node, Scope(fields))
