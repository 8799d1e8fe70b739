"""Which Top-N a Rank over an updating input runs, as Flink's RankProcessStrategy chooses it.

When the input has a unique key that contains the partition key and every ORDER BY column only moves in its sort
direction (a COUNT or MAX ordered DESC, a MIN ordered ASC, a group key), Flink takes the update-fast Top-N: the
input's -U rows are not produced, each +U updates the row of its unique key in place, and a row that falls out of
the top N is forgotten. Its changelog differs from the retracting Top-N's, so the choice is Flink's exactly.
"""
from __future__ import annotations

from sqlstream.plan import logical as L
from sqlstream.plan.expr import Ref
from sqlstream.planner.monotonicity import CONSTANT, DECREASING, INCREASING, modified_monotonicity


def update_fast_key(node: L.Rank) -> list[int] | None:
    """The unique key (input columns) the update-fast Top-N keys its rows by; None when Flink retracts."""
    if not node.input.updating or not node.order:
        return None
    keys = unique_key(node.input)
    if keys is None or not {_source(node.input, c) for c in node.partition} <= {_source(node.input, c) for c in keys}:
        return None
    mono = modified_monotonicity(node.input)
    if mono is None:
        return None
    moves = {True: INCREASING, False: DECREASING}
    if all(mono[c] in (CONSTANT, moves[desc]) for c, desc in node.order):
        return keys
    return None


def unique_key(node: L.Node) -> list[int] | None:
    """Columns no two live rows share: a GROUP BY's keys, as a projection passes them on."""
    if type(node) is L.GroupAggregate and node.grouping_sets is None and node.window_end is None:
        return list(range(len(node.keys)))
    if type(node) is L.Calc:
        below = unique_key(node.input)
        if below is None:
            return None
        out = []
        for k in below:
            j = next((j for j, e in enumerate(node.projections) if isinstance(e, Ref) and e.index == k), None)
            if j is None:
                return None
            out.append(j)
        return out
    return None


def _source(node: L.Node, col: int) -> tuple:
    """What a column holds, so that two columns a projection copies from one compare equal."""
    if type(node) is L.Calc and isinstance(node.projections[col], Ref):
        return "input", node.projections[col].index
    return "own", col
