"""Streaming shapes, recognized by rules: the binder builds a plain relational node (a filter on an IN / EXISTS
subquery or on row numbers, a Join, a GROUP BY) over inputs that are already final, and these rules, run in the
declared order, replace it with the operator Flink plans for that shape. The first rule that matches wins, and
what it makes is tried again (a semi join made of an IN subquery can be a window semi join); each rule is one
module and leaves alone what it made itself."""
from __future__ import annotations

from sqlstream.plan import logical as L
from sqlstream.planner.rules import (cascaded_window_aggregate, deduplicate, interval_join, lookup_join, semi_anti_join,
                                     temporal_join, top_n, window_aggregate, window_join, window_rank)

# the order matters where shapes overlap: a join with a table as of a time is a temporal or lookup join whatever
# its condition bounds; a window Top-N of one row per window is a window rank, not a deduplication; a join of two
# windows on their bounds is a window join even when its condition bounds times; a GROUP BY of a window table
# function's window is a window aggregation, and only one over windowed results a cascaded one
RULES = (
    semi_anti_join.rule,
    temporal_join.rule,
    lookup_join.rule,
    top_n.rule,
    window_rank.rule,
    deduplicate.rule,
    window_join.rule,
    interval_join.rule,
    window_aggregate.rule,
    cascaded_window_aggregate.rule,
)


def recognize(node: L.Node) -> L.Node:
    """`node`, or what the rules make of it: the first matching rule's result, recognized in turn."""
    while True:
        found = next((made for made in (rule(node) for rule in RULES) if made is not None), None)
        if found is None:
            return node
        node = found
