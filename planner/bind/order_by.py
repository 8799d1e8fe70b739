"""ORDER BY and LIMIT on a stream: a sort on a time attribute, or a global Top-N."""
from __future__ import annotations

from sqlglot import exp

from sqlstream.core.errors import ValidationError
from sqlstream.plan import logical as L
from sqlstream.planner.scalar_binder import _where


class OrderBy:
    """The Binder's ORDER BY and LIMIT."""

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
