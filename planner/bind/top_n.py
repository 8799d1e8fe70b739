"""ROW_NUMBER() OVER (..) filtered to rn <= N: a plain row numbering and filter (rules make a Top-N of it, and
deduplications and window Top-Ns of that)."""
from __future__ import annotations

from sqlglot import exp

from sqlstream.core.errors import ValidationError
from sqlstream.plan import logical as L
from sqlstream.core.types import BIGINT, BOOLEAN
from sqlstream.plan.expr import Call, Lit, Ref
from sqlstream.planner.bind.conjuncts import reads_column, sql_conjuncts, where_clause
from sqlstream.planner.bind.relation import fields_scope, project, Relation, streaming_shape
from sqlstream.planner.scalar_binder import _where


def rank_bounds(c: exp.Expr, rn: str) -> tuple[int, int | None] | None:
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


class TopN:
    """The Binder's Top-N."""

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
        conds = sql_conjuncts(where.this) if where is not None else []
        first, limit, rest = 1, None, []
        for c in conds:
            bounds = rank_bounds(c, rn_name)
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
        rank_field = L.Field(rn_name, BIGINT.with_nullable(False))
        # Flink's Top-N changelog depends on whether the row number is read above it: per position (-U/+U) when
        # it is (or when the range has an offset), per row (-D of the row that leaves, +I of the one that enters)
        # when it is not; an unread row number is not passed on, which tells the rule
        with_rank = first > 1 or reads_column([a for k, a in sel.args.items() if k not in ("where", "from_", "from")]
                                               + rest, rn_name)
        numbered = L.RowNumber(list(node.fields) + [rank_field], L.RETRACT, input=node, partition=pidx, order=oidx)
        rn = Ref(rank_field.type, len(node.fields), rn_name)
        exprs, names = [], []
        for j in range(n_vis):
            if j != rank_at:
                exprs.append(Ref(node.fields[j].type, j, node.fields[j].name))
                names.append(node.fields[j].name)
            elif with_rank:
                exprs.append(rn)
                names.append(rn_name)
        # a plain filter on the row number; rules make a Top-N of it, then a window Top-N or a deduplication
        # (planner/rules/streaming.py)
        out = streaming_shape(window, project(numbered, exprs, names, Call(BOOLEAN, "<=", (rn, Lit(BIGINT, limit)))))
        alias = frm.this.alias or None
        return Relation(out, fields_scope(out, alias)), where_clause(rest)
