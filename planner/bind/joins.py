"""JOIN .. ON | USING: a plain join of two relations on their equi-keys; rules make the streaming joins of it."""
from __future__ import annotations

from sqlglot import exp

from sqlstream.core.errors import ValidationError
from sqlstream.plan import logical as L
from sqlstream.planner.bind.conjuncts import split_equi_keys
from sqlstream.plan.expr import Ref
from sqlstream.planner.bind.relation import project, Relation, streaming_shape
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
        using = [u.name for u in join.args.get("using") or []]
        on = join.args.get("on") if not using else self._using_condition(left, right, using, join)
        lkeys, rkeys, condition = [], [], None
        if on is not None:
            # USING's condition names the joined row's columns by position
            bound = ScalarBinder(_positions(scope) if using else scope).bind(on)
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
        fields = [ScopeField(sf.qualifier, sf.name, f.type, sf.using) for sf, f in zip(scope.fields, node.fields)]
        rel = Relation(node, Scope(fields))
        return self._merge_using_columns(rel, nl, using, jtype) if using else rel

    def _using_condition(self, left: Relation, right: Relation, using: list[str], join: exp.Join) -> exp.Expr:
        """`JOIN .. USING (c, ..)`: ON left.c = right.c AND .., each side's c the one its scope names c."""
        nl = len(left.scope.fields)
        pairs = [(left.scope.resolve(c, None, join), nl + right.scope.resolve(c, None, join)) for c in using]
        return exp.and_(*[exp.EQ(this=_position(a), expression=_position(b)) for a, b in pairs])

    def _merge_using_columns(self, rel: Relation, nl: int, using: list[str], jtype: str) -> Relation:
        """The columns USING names once, first, as Calcite's `*` gives them: the left side's (the right's of a
        RIGHT JOIN, either of a FULL one: COALESCE); both sides' stay reachable with their qualifier."""
        fields = rel.scope.fields
        left_scope, right_scope = Scope(fields[:nl]), Scope(fields[nl:])
        positional = _positions(rel.scope)
        merged = []
        for c in using:
            a, b = left_scope.resolve(c, None), nl + right_scope.resolve(c, None)
            value = {"RIGHT": _position(b), "FULL": exp.func("COALESCE", _position(a), _position(b))}.get(
                jtype, _position(a))
            merged.append(ScalarBinder(positional).bind(value))
        exprs = merged + [Ref(f.type, i, f.name) for i, f in enumerate(rel.node.fields)]
        node = project(rel.node, exprs, using + [f.name for f in fields])
        scope = [ScopeField(None, c, e.type, "merged") for c, e in zip(using, merged)] + [
            ScopeField(f.qualifier, f.name, f.type, "side" if f.name in using else f.using) for f in fields]
        return Relation(node, Scope(scope))


def _position(i: int) -> exp.Column:
    """Column i of a join's row, by position (`$p{i}` in the scope `_merge_using_columns` binds with)."""
    return exp.column(f"$p{i}", quoted=True)


def _positions(scope: Scope) -> Scope:
    """The scope's columns named by position, `$p0`, `$p1` .., whatever their names and qualifiers."""
    return Scope([ScopeField(None, f"$p{i}", f.type) for i, f in enumerate(scope.fields)])
