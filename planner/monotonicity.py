"""How each column of a plan node's output can change, as Flink's modified monotonicity tells it.

Per column: CONSTANT (a row, once out, keeps its value: an insert-only input, a group key), INCREASING or
DECREASING (updates only raise or only lower it: a COUNT or MAX, a MIN), NOT_MONOTONIC; None for the whole node
when it may delete rows or is not analysed here. Flink decides by it that a MAX over an INCREASING column (MIN over
a DECREASING one) of an updating input needs no retraction: its runtime ignores the -U of such a column, and
the results in between differ from a MAX that takes the old value back.

Only the nodes below are analysed; any other gives None, which makes every aggregate above it retract as before.
"""
from __future__ import annotations

from sqlstream.plan import logical as L
from sqlstream.plan.expr import Call, Expr, Ref, refs

CONSTANT, INCREASING, DECREASING, NOT_MONOTONIC = "CONSTANT", "INCREASING", "DECREASING", "NOT_MONOTONIC"


def modified_monotonicity(node: L.Node) -> list[str] | None:
    if isinstance(node, L.Scan):
        return [NOT_MONOTONIC if node.updating else CONSTANT] * len(node.fields)
    if isinstance(node, L.WatermarkAssigner):
        below = modified_monotonicity(node.input)
        if below is None:
            return None
        return [CONSTANT if _all_append(below) else NOT_MONOTONIC] * len(node.fields)
    if type(node) is L.Calc:
        return _calc(node)
    if type(node) is L.GroupAggregate and node.grouping_sets is None and node.window_end is None:
        return _group_aggregate(node)
    if type(node) is L.Union:
        each = [modified_monotonicity(c) for c in node.children]
        if any(m is None for m in each):
            return None
        return each[0] if all(m == each[0] for m in each) else [NOT_MONOTONIC] * len(node.fields)
    return None


def _all_append(mono: list[str]) -> bool:
    return all(m == CONSTANT for m in mono)


def _calc(node: L.Calc) -> list[str] | None:
    below = modified_monotonicity(node.input)
    if below is None:
        return None
    if _all_append(below):
        return [CONSTANT] * len(node.fields)
    out = [_column(e, below) for e in node.projections]
    changing = {i: m for i, m in enumerate(below) if m != CONSTANT}
    if node.condition is not None and _filter_retracts(node.condition, changing):
        out = [NOT_MONOTONIC] * len(out)
    return out


def _column(e: Expr, below: list[str]) -> str:
    """A column passed through (or CAST) keeps its input's monotonicity; anything computed is NOT_MONOTONIC."""
    e = _uncast(e)
    return below[e.index] if isinstance(e, Ref) else NOT_MONOTONIC


def _uncast(e: Expr) -> Expr:
    while isinstance(e, Call) and e.fn == "CAST":
        e = e.args[0]
    return e


def _filter_retracts(e: Expr, changing: dict[int, str]) -> bool:
    """Whether the filter can drop a row it let through before, once a changing column of it is updated, as
    Flink 2.3 decides it: a conjunction or disjunction of comparisons of a changing column itself (or its CAST)
    with what does not change keeps the rows when the column moves the comparison's way (`c > x`, `c >= x` for an
    INCREASING c, `<` for a DECREASING one; Flink reads the operator as written, so `3 > c` too); any other
    condition that reads a changing column (`c + 0 < 3`, `MOD(c, 2) = 0`, `NOT (c >= 3)`, an equality) may
    drop them."""
    if not refs(e) & changing.keys():
        return False
    if not isinstance(e, Call):
        return True
    if e.fn in ("AND", "OR"):
        return any(_filter_retracts(a, changing) for a in e.args)
    if e.fn not in (">", ">=", "<", "<=") or len(e.args) != 2:
        return True
    moving = [a for a in map(_uncast, e.args) if isinstance(a, Ref) and a.index in changing]
    if len(moving) != 1 or sum(bool(refs(a) & changing.keys()) for a in e.args) != 1:
        return True
    return changing[moving[0].index] != (INCREASING if e.fn in (">", ">=") else DECREASING)


def _group_aggregate(node: L.GroupAggregate) -> list[str] | None:
    below = modified_monotonicity(node.input)
    if below is None or any(below[k] != CONSTANT for k in node.keys):
        return None
    n_fixed = len(node.fields) - len(node.aggs)
    out = [CONSTANT] * n_fixed + [_call(a) for a in node.aggs]
    if not _all_append(below):
        for j, a in enumerate(node.aggs):
            if len(a.args) > 1 or len(a.args) == 1 and a.fn != "COUNT" and below[a.args[0]] != out[n_fixed + j]:
                out[n_fixed + j] = NOT_MONOTONIC
    return out


def _call(a: L.AggCall) -> str:
    # SUM is INCREASING in Flink when its argument is known not negative (a column interval it derives from
    # filters and literals); without that analysis here it stays NOT_MONOTONIC, so its MAX keeps retracting
    return {"COUNT": INCREASING, "MAX": INCREASING, "MIN": DECREASING}.get(a.fn, NOT_MONOTONIC)
