"""A bound FROM item and the small plan-building helpers every clause uses."""
from __future__ import annotations

from sqlglot import exp

from sqlstream.connectors import values as values_source
from sqlstream.core.errors import ValidationError
from sqlstream.core.types import BIGINT
from sqlstream.plan import logical as L
from sqlstream.plan.expr import Expr, Ref
from sqlstream.planner.scalar_binder import Scope, ScopeField, _where


class Relation:
    """A bound FROM item: its plan node and the scope its columns are visible under."""

    def __init__(self, node: L.Node, scope: Scope, tvf: L.WindowTableFunction | None = None):
        self.node, self.scope, self.tvf = node, scope, tvf


def row_numbers(count: int) -> L.Scan:
    """The planner's source of `count` rows numbered from 0 (VALUES, SELECT without FROM)."""
    f = L.Field(values_source.ROW, BIGINT.with_nullable(False))
    return L.Scan([f], L.INSERT_ONLY, table="<values>", connector=values_source.NAME, options={"rows": str(count)},
                  columns=[f])


def fields_scope(node: L.Node, qualifier: str | None) -> Scope:
    return Scope([ScopeField(qualifier, f.name, f.type) for f in node.fields])


def project(node: L.Node, exprs: list[Expr], names: list[str], condition: Expr | None = None) -> L.Calc:
    fields = [L.Field(n, e.type) for n, e in zip(names, exprs)]
    return L.Calc(fields, node.changelog, input=node, projections=exprs, condition=condition)


def identity(node: L.Node) -> list[Expr]:
    return [Ref(f.type, i, f.name) for i, f in enumerate(node.fields)]


def output_name(item: exp.Expr, position: int) -> str:
    if isinstance(item, exp.Alias):
        return item.alias
    if isinstance(item, exp.Column):
        return item.name
    return f"EXPR${position}"


def dedupe_names(names: list[str]) -> list[str]:
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


def streaming_shape(where: exp.Expr, node: L.Node) -> L.Node:
    """The streaming operator the shape rules make of a node just bound; their errors point at `where`."""
    from sqlstream.planner.rules.streaming import recognize
    try:
        return recognize(node)
    except ValidationError as e:
        raise ValidationError(f"{_where(where)}{e}") from None
