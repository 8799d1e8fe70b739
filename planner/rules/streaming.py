"""Streaming shapes, recognized by rules: the binder builds a plain relational node (a Rank for ROW_NUMBER .. <= N,
a Join) over inputs that are already final, and these rules, run in the declared order, replace it with the
operator Flink plans for that shape. The first rule that matches wins; each rule is one module."""
from __future__ import annotations

from sqlstream.plan import logical as L
from sqlstream.planner.rules import (cascaded_window_aggregate, deduplicate, interval_join, lookup_join, temporal_join,
                                     window_join, window_rank)

# the order matters where shapes overlap: a join with a table as of a time is a temporal or lookup join whatever
# its condition bounds; a window Top-N of one row per window is a window rank, not a deduplication; a join of two
# windows on their bounds is a window join even when its condition bounds times
RULES = (
    temporal_join.rule,
    lookup_join.rule,
    window_rank.rule,
    deduplicate.rule,
    window_join.rule,
    interval_join.rule,
    cascaded_window_aggregate.rule,
)


def recognize(node: L.Node) -> L.Node:
    """`node`, or what the first matching rule makes of it."""
    for rule in RULES:
        found = rule(node)
        if found is not None:
            return found
    return node
