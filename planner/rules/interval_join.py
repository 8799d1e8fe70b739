"""Interval join: an inner or outer join of two insert-only inputs whose condition bounds one side's rowtime to an
interval around the other's (`r.ts BETWEEN l.ts - INTERVAL '5' SECOND AND l.ts + INTERVAL '1' MINUTE`) keeps
each side's rows only while the other side's watermark can still match them (Flink's IntervalJoin;
insert-only output)."""
from __future__ import annotations

from sqlstream.plan import logical as L
from sqlstream.plan.expr import Call, Expr, Lit, Ref
from sqlstream.planner.bind.conjuncts import expr_conjuncts


def rule(node: L.Node) -> L.Node | None:
    if type(node) is not L.Join or node.kind in ("SEMI", "ANTI") or node.null_aware or node.nulls_equal:
        return None
    if node.left.updating or node.right.updating:
        return None
    bounds = interval_bounds(node.condition, len(node.left.fields))
    if bounds is None:
        return None
    return L.IntervalJoin(node.fields, L.INSERT_ONLY, left=node.left, right=node.right, kind=node.kind,
                          left_keys=node.left_keys, right_keys=node.right_keys, condition=node.condition,
                          left_time=bounds[0], right_time=bounds[1], lower=bounds[2], upper=bounds[3])


def interval_bounds(cond: Expr | None, n_left: int) -> tuple[int, int, int, int] | None:
    """(left rowtime, right rowtime, lower, upper) when the condition bounds right.rowtime - left.rowtime to
    [lower, upper] ms (e.g. `r.ts BETWEEN l.ts - INTERVAL '5' SECOND AND l.ts + INTERVAL '1' MINUTE`)."""
    def linear(e: Expr) -> tuple[int, int] | None:
        """(rowtime column, offset ms) of `col`, `col + interval` or `col - interval`."""
        if isinstance(e, Ref) and e.type.time_attr == "rowtime":
            return e.index, 0
        if isinstance(e, Call) and e.fn in ("+", "-") and isinstance(e.args[1], Lit) and \
                e.args[1].type.name == "INTERVAL_DAY_TIME" and isinstance(e.args[0], Ref) and \
                e.args[0].type.time_attr == "rowtime":
            return e.args[0].index, e.args[1].value if e.fn == "+" else -e.args[1].value
        return None
    if cond is None:
        return None
    flip = {">=": "<=", ">": "<", "<=": ">=", "<": ">"}
    times, lower, upper = set(), None, None
    for c in expr_conjuncts(cond):
        if not (isinstance(c, Call) and c.fn in flip):
            continue
        a, b = linear(c.args[0]), linear(c.args[1])
        if a is None or b is None or (a[0] < n_left) == (b[0] < n_left):
            continue
        op = c.fn
        if a[0] < n_left:  # l + oa OP r + ob  <=>  r - l flip(OP) oa - ob
            (lt, lo), (rt, ro), op = a, b, flip[op]
            bound = lo - ro
        else:  # r + oa OP l + ob  <=>  r - l OP ob - oa
            (rt, ro), (lt, lo) = a, b
            bound = lo - ro
        times.add((lt, rt))
        if op in (">=", ">"):
            v = bound + (1 if op == ">" else 0)
            lower = v if lower is None else max(lower, v)
        else:
            v = bound - (1 if op == "<" else 0)
            upper = v if upper is None else min(upper, v)
    if lower is None or upper is None or len(times) != 1:
        return None
    lt, rt = times.pop()
    return lt, rt - n_left, lower, upper

