"""JOIN .. ON: a plain join of two relations on their equi-keys; rules make the streaming joins of it."""
from __future__ import annotations

from sqlglot import exp

from sqlstream.core.errors import ValidationError
from sqlstream.plan import logical as L
from sqlstream.planner.bind.conjuncts import split_equi_keys
from sqlstream.planner.bind.relation import Relation, streaming_shape
from sqlstream.planner.scalar_binder import ScalarBinder, Scope, ScopeField, _where


class Joins:
    """The Binder's JOIN .. ON."""

    def _bind_join(self, left: Relation, join: exp.Join,
                   state_ttl: tuple[int | None, int | None] | None = None) -> Relation:
        side = (join.args.get("side") or "").upper()
        kind = (join.args.get("kind") or "").upper()
        if isinstance(join.this, exp.Unnest):
            return self._bind_unnest(left, join.this, join)
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
            bound = ScalarBinder(scope).bind(on)
            if bound.type.name not in ("BOOLEAN", "NULL"):
                raise ValidationError(f"{_where(on)}ON clause must be a condition: "
                                      f"'{on.sql(dialect='flink')}' is {bound.type}, not BOOLEAN")
            lkeys, rkeys, condition = split_equi_keys(bound, nl)
        elif kind != "CROSS" and jtype != "INNER":
            raise ValidationError(f"{_where(join)}{jtype} JOIN needs an ON condition")
        lf = [L.Field(f.name, f.type.with_nullable(True) if jtype in ("RIGHT", "FULL") else f.type)
              for f in left.node.fields]
        rf = [L.Field(f.name, f.type.with_nullable(True) if jtype in ("LEFT", "FULL") else f.type)
              for f in right.node.fields]
        updating = left.node.updating or right.node.updating or jtype != "INNER"
        node = streaming_shape(join, L.Join(lf + rf, L.RETRACT if updating else L.INSERT_ONLY, left=left.node,
                                             right=right.node, kind=jtype, left_keys=lkeys, right_keys=rkeys,
                                             condition=condition, state_ttl=state_ttl))
        fields = [ScopeField(sf.qualifier, sf.name, f.type) for sf, f in zip(scope.fields, node.fields)]
        return Relation(node, Scope(fields))
