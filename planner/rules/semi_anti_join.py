"""Semi and anti joins: a filter on `x [NOT] IN (subquery)` or `[NOT] EXISTS (correlated subquery)` is decorrelated
into a SEMI (IN, EXISTS) or ANTI (NOT IN, NOT EXISTS) join of its input with the subquery on the predicate's keys,
as Flink's sub-query removal does; NOT IN keeps its NULL semantics (null-aware). The join is then a plain join for
the rules after this one (a window semi/anti join when it matches window bounds)."""
from __future__ import annotations

from sqlstream.plan import logical as L
from sqlstream.plan.expr import Ref, SubqueryPredicate


def rule(node: L.Node) -> L.Node | None:
    if type(node) is not L.Calc or not isinstance(node.condition, SubqueryPredicate) or not passes_through(node):
        return None
    pred, left = node.condition, node.input
    kind = "ANTI" if pred.negated else "SEMI"
    changelog = L.RETRACT if (left.updating or pred.query.updating or pred.negated) else L.INSERT_ONLY
    return L.Join(list(left.fields), changelog, left=left, right=pred.query, kind=kind,
                  left_keys=[k.index for k in pred.keys], right_keys=list(range(len(pred.keys))),
                  condition=pred.condition, null_aware=pred.null_aware)


def passes_through(calc: L.Calc) -> bool:
    """The Calc keeps its input's columns as they are (it only filters)."""
    return len(calc.projections) == len(calc.input.fields) and all(
        isinstance(e, Ref) and e.index == i for i, e in enumerate(calc.projections))
