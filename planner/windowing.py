"""Window properties carried through a plan: which output columns of a node are the window_start and
window_end of the window its rows belong to (rows of a window TVF, results of a window aggregation, and
projections or filters of those). Operators over such columns can work window by window, as Flink's
window join does."""
from __future__ import annotations

from sqlstream.plan import logical as L
from sqlstream.plan.expr import Ref


def window_bounds(node: L.Node) -> tuple[int, int, L.WindowSpec] | None:
    """(window_start column, window_end column, window) of a node's rows, or None."""
    cols = window_columns(node)
    return (min(cols[0]), min(cols[1]), cols[2]) if cols is not None else None


def window_columns(node: L.Node) -> tuple[set[int], set[int], L.WindowSpec] | None:
    """(every column holding window_start, every column holding window_end, window) of a node's rows."""
    if isinstance(node, L.WindowTableFunction):
        n = len(node.input.fields)
        # a SESSION TVF puts out a session's rows once the watermark closes it: their bounds are final too
        final = _closes_by_watermark(node.window) or node.window.kind == "SESSION" and not node.window.proctime
        return ({n}, {n + 1}, node.window) if final else None
    if isinstance(node, L.WindowAggregate):  # keys..., window_start, window_end, window_time, aggregates...
        k = len(node.keys)
        if node.names[k:k + 2] == ["window_start", "window_end"] and _closes_by_watermark(node.window):
            return {k}, {k + 1}, node.window
        return None
    if isinstance(node, L.Calc):
        inner = window_columns(node.input)
        if inner is None:
            return None
        ws = {j for j, e in enumerate(node.projections) if isinstance(e, Ref) and e.index in inner[0]}
        we = {j for j, e in enumerate(node.projections) if isinstance(e, Ref) and e.index in inner[1]}
        return (ws, we, inner[2]) if ws and we else None
    if isinstance(node, (L.WatermarkAssigner, L.WindowRank)):  # rows pass through (a rank is appended)
        return window_columns(node.input)
    if isinstance(node, L.WindowJoin):
        left = window_columns(node.left)
        if node.kind in ("SEMI", "ANTI"):
            return left
        right = window_columns(node.right)
        if left is None or right is None:
            return None
        n = len(node.left.fields)
        return left[0] | {n + i for i in right[0]}, left[1] | {n + i for i in right[1]}, left[2]
    if isinstance(node, L.GroupAggregate) and node.window_end is not None:  # keys come first, as they were
        inner = window_columns(node.input)
        if inner is None:
            return None
        k = len(node.keys)
        ws, we = {i for i in inner[0] if i < k}, {i for i in inner[1] if i < k}
        return (ws, we, inner[2]) if ws and we else None
    return None


def is_window_rowtime(node: L.Node, i: int) -> bool:
    """Whether column i of a node's rows is, through projections, the rowtime a window TVF assigned its
    windows on (the DESCRIPTOR column, which the TVF's rows carry as a plain timestamp, or window_time)."""
    while isinstance(node, (L.Calc, L.WatermarkAssigner)):
        if isinstance(node, L.Calc):
            e = node.projections[i]
            if not isinstance(e, Ref):
                return False
            i = e.index
        node = node.input
    if not isinstance(node, L.WindowTableFunction) or node.window.proctime:
        return False
    return i in (node.window.time_index, len(node.input.fields) + 2)


def _closes_by_watermark(window: L.WindowSpec) -> bool:
    """Windows whose bounds are final when a row gets them (not SESSION) and that close by event time."""
    return window.kind in ("TUMBLE", "HOP", "CUMULATE") and not window.proctime


def same_windows(a: L.WindowSpec, b: L.WindowSpec) -> bool:
    return (a.kind, a.size, a.slide, a.step, a.offset) == (b.kind, b.size, b.slide, b.step, b.offset)
