"""Cascaded window aggregation: a GROUP BY over windowed insert-only rows (a window TVF's rows or a window
aggregation's results) that groups by their window_start and window_end is a window aggregation in Flink: each
group is final when the watermark passes its window_end, so the result is insert-only and state is freed per
window."""
from __future__ import annotations

from dataclasses import replace

from sqlstream.plan import logical as L
from sqlstream.planner.windowing import window_columns


def rule(node: L.Node) -> L.Node | None:
    if type(node) is not L.GroupAggregate or node.window_end is not None or node.grouping_sets is not None:
        return None
    end = window_end_key(node.input, node.keys)
    if end is None:
        return None
    return replace(node, changelog=L.INSERT_ONLY, window_end=end)


def window_end_key(node: L.Node, keys: list[int]) -> int | None:
    """The key position of window_end when the keys (columns of `node`) hold a window_start and a window_end of
    its insert-only windowed rows; None otherwise."""
    wc = window_columns(node) if not node.updating else None
    if wc is None or not any(k in wc[0] for k in keys):
        return None
    return next((i for i, k in enumerate(keys) if k in wc[1]), None)
