"""ORDER BY and LIMIT on a stream: a sort on a time attribute, or a global Top-N."""
from __future__ import annotations

from sqlglot import exp

from sqlstream.core.errors import ValidationError
from sqlstream.plan import logical as L
from sqlstream.core.types import BIGINT, BOOLEAN
from sqlstream.plan.expr import Call, Lit, Ref
from sqlstream.planner.bind.aggregate_calls import contains_agg
from sqlstream.planner.bind.relation import identity, project, streaming_shape
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

    def _sorted_input(self, sel: exp.Select) -> tuple[exp.Select, L.Node, list[str], list[tuple[int, bool]]]:
        """The SELECT without ORDER BY / LIMIT / OFFSET, bound, with a hidden column for each ORDER BY key that is
        not a column of its result (a column not selected, an expression), when the SELECT neither aggregates
        nor is DISTINCT; (query, node, the visible columns' names, keys)."""
        order = sel.args.get("order")
        inner = sel.copy()
        for clause in ("order", "limit", "offset"):
            inner.set(clause, None)
        node = self.bind_query(inner)
        visible = list(node.names)
        if order is None:
            return inner, node, visible, []
        if not inner.args.get("distinct") and not inner.args.get("group") and \
                not any(contains_agg(e) for e in inner.expressions):
            hidden = []
            for i, o in enumerate(order.expressions):
                e = o.this
                selected = isinstance(e, exp.Column) and not e.table and e.name in node.names or \
                    isinstance(e, exp.Literal) and not e.is_string
                if not selected:
                    hidden.append(exp.alias_(e.copy(), f"$order{i}", quoted=True))
                    o = o.copy()
                    o.set("this", exp.column(f"$order{i}", quoted=True))
                order.expressions[i] = o
            if hidden:
                inner = inner.copy()
                inner.set("expressions", list(inner.expressions) + hidden)
                node = self.bind_query(inner)
        return inner, node, visible, self._order_keys(order, node)

    def _bind_temporal_sort(self, sel: exp.Select) -> L.Node:
        """ORDER BY on a stream: Flink allows it when the first key is a time attribute, ascending."""
        order = sel.args["order"]
        sel = sel.copy()
        inner, node, visible, keys = self._sorted_input(sel)
        order = sel.args["order"]
        first, desc = keys[0]
        attr = node.fields[first].type.time_attr
        if attr is None or desc:
            raise ValidationError(f"{_where(order)}Sort on a non-time-attribute field is not supported. (ORDER BY "
                                  f"on a stream needs a time attribute ascending as its first key, or a LIMIT)")
        if node.updating:
            raise ValidationError(f"{_where(order)}ORDER BY a time attribute needs an insert-only input")
        sort = L.TemporalSort(list(node.fields), L.INSERT_ONLY, input=node, time_index=first,
                              rowtime=attr == "rowtime", keys=keys[1:])
        if len(visible) == len(node.names):
            return sort
        return project(sort, [Ref(f.type, i, f.name) for i, f in enumerate(sort.fields[:len(visible)])], visible)

    def _bind_limit(self, sel: exp.Select) -> L.Node:
        """[ORDER BY ..] LIMIT n on a stream: Flink's global Top-N, ROW_NUMBER() OVER (ORDER BY ..) <= n over the
        query's rows (an updating result when ordered by anything but a time attribute)."""
        limit, offset = sel.args.get("limit"), sel.args.get("offset")
        if limit is None:
            raise ValidationError(f"{_where(offset)}OFFSET without LIMIT or FETCH is not supported on streams")
        n = limit.args.get("count") if isinstance(limit, exp.Fetch) else \
            limit.expression if isinstance(limit, exp.Limit) else limit
        if n is None and isinstance(limit, exp.Fetch):
            n = exp.Literal.number(1)  # FETCH FIRST ROW ONLY: one row
        skip = offset.expression if isinstance(offset, exp.Offset) else offset
        for clause, value in (("LIMIT", n), ("OFFSET", skip)):
            if value is not None and (not isinstance(value, exp.Literal) or not value.is_int):
                raise ValidationError(f"{_where(limit)}{clause} needs a whole number")
        sel = sel.copy()
        inner, node, visible, keys = self._sorted_input(sel)
        if int(n.this) == 0:  # no rows, as Flink prunes it
            return self.bind_query(exp.select(*[exp.column(c, quoted=True) for c in visible]).from_(
                exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier("$limited")))).where(
                exp.false()))
        first = int(skip.this) if skip is not None else 0
        if not keys:
            return self._arrival_limit(limit, node, first, int(n.this))
        alias = exp.TableAlias(this=exp.to_identifier("$limited"))
        cols = [exp.column(c, quoted=True) for c in node.names]
        over = exp.Window(this=exp.RowNumber(), order=exp.Order(expressions=[
            exp.Ordered(this=cols[i].copy(), desc=d) for i, d in keys]))
        ranked = exp.select(*[c.copy() for c in cols], exp.alias_(over, "$rn", quoted=True)).from_(
            exp.Subquery(this=inner, alias=alias))
        rn = exp.column("$rn", quoted=True)
        where = exp.LTE(this=rn.copy(), expression=exp.Literal.number(first + int(n.this)))
        if first:
            where = exp.and_(exp.GT(this=rn.copy(), expression=exp.Literal.number(first)), where)
        outer = exp.select(*[c.copy() for c in cols[:len(visible)]]).from_(
            exp.Subquery(this=ranked, alias=exp.TableAlias(this=exp.to_identifier("$ranked")))).where(where)
        return self.bind_query(outer)

    def _arrival_limit(self, limit: exp.Expr, node: L.Node, first: int, n: int) -> L.Node:
        """LIMIT n [OFFSET first] without ORDER BY: Flink's Limit, a global Top-N whose order is arrival (every
        row ties, so a row keeps its place until it is retracted): rows first + 1 .. first + n in arrival order.
        Built as the Top-N of ROW_NUMBER() OVER (ORDER BY ..) <= first + n, with no order key."""
        rank_field = L.Field("$rn", BIGINT.with_nullable(False))
        numbered = L.RowNumber(list(node.fields) + [rank_field], L.RETRACT, input=node, partition=[], order=[])
        rn = Ref(rank_field.type, len(node.fields), rank_field.name)
        cols = identity(node)
        ranked = streaming_shape(limit, project(numbered, cols + ([rn] if first else []),
                                                node.names + ([rn.name] if first else []),
                                                Call(BOOLEAN, "<=", (rn, Lit(BIGINT, first + n)))))
        if not first:
            return ranked
        rn = Ref(rank_field.type, len(node.fields), rank_field.name)
        return project(ranked, cols, node.names, Call(BOOLEAN, ">", (rn, Lit(BIGINT, first))))
