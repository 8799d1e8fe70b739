"""Deduplication: ROW_NUMBER() OVER (PARTITION BY .. ORDER BY a time attribute) = 1 over an insert-only input.

Ascending keeps each key's first row (Flink's Deduplicate keep=FirstRow: insert-only, final once seen);
descending keeps the last row, replacing the kept one when a row's time is not older, so a tie goes to the newer
row (Flink's keep=LastRow: updating)."""
from __future__ import annotations

from dataclasses import replace

from sqlstream.plan import logical as L


def rule(node: L.Node) -> L.Node | None:
    if type(node) is not L.Rank or node.limit != 1 or len(node.order) != 1 or node.input.updating:
        return None
    column, descending = node.order[0]
    attr = node.input.fields[column].type.time_attr
    if attr not in ("rowtime", "proctime"):
        return None
    if descending:
        return None if node.newest_wins_ties else replace(node, newest_wins_ties=True)
    return L.FirstRowDeduplicate(node.fields, L.INSERT_ONLY, input=node.input, partition=node.partition,
                                 order=node.order, limit=1, with_rank=True, rowtime=attr == "rowtime")
