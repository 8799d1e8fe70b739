"""Top-N: a filter to the first N row numbers (`rn <= N`) over ROW_NUMBER() OVER (PARTITION BY .. ORDER BY ..) is a
Rank that keeps each partition's first N rows, updating them as rows arrive or leave (Flink's Rank). As in Flink,
the Rank gives its row numbers only when the filter passes them on; otherwise a row that leaves the top N is
deleted and the one that enters inserted. The Rank is then recognized in turn (a deduplication, a window Top-N)."""
from __future__ import annotations

from dataclasses import replace

from sqlstream.plan import logical as L
from sqlstream.plan.expr import Call, Lit, Ref, refs


def rule(node: L.Node) -> L.Node | None:
    if type(node) is not L.Calc or type(node.input) is not L.RowNumber:
        return None
    numbered = node.input
    rn = len(numbered.fields) - 1
    limit = row_number_limit(node.condition, rn)
    if limit is None:
        return None
    from sqlstream.planner.rules.streaming import recognize
    with_rank = any(rn in refs(e) for e in node.projections)
    # with no order (LIMIT without ORDER BY) every row ties: a row of an insert-only input never leaves
    changelog = L.INSERT_ONLY if not numbered.order and not numbered.input.updating else L.RETRACT
    rank = recognize(L.Rank(numbered.fields, changelog, input=numbered.input, partition=numbered.partition,
                            order=numbered.order, limit=limit, with_rank=with_rank))
    return replace(node, changelog=rank.changelog, input=rank, condition=None)


def row_number_limit(cond, rn: int) -> int | None:
    """N of a filter `rn <= N` on the row number column; None for any other filter."""
    if isinstance(cond, Call) and cond.fn == "<=" and isinstance(cond.args[0], Ref) and cond.args[0].index == rn \
            and isinstance(cond.args[1], Lit) and isinstance(cond.args[1].value, int):
        return cond.args[1].value
    return None
