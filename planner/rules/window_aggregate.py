"""Window aggregation: a GROUP BY whose last keys are the window_start, window_end and window_time of a window,
either the columns a window table function adds (`GROUP BY window_start, window_end` over TABLE(TUMBLE(..))) or
the bounds of a group window (`GROUP BY TUMBLE(ts, INTERVAL ..)`), aggregates each window once, when the watermark
(or, on a processing-time attribute, the wall clock) passes its end (Flink's WindowAggregate; insert-only output,
state freed per window). The output keeps the GROUP BY's layout (keys, the three window columns, aggregates), so
what the SELECT above reads through the group keys it now reads from the window aggregation."""
from __future__ import annotations

from dataclasses import replace

from sqlstream.plan import logical as L
from sqlstream.plan.expr import Expr, Ref, WindowBound

PROPS = ("window_start", "window_end", "window_time")


def rule(node: L.Node) -> L.Node | None:
    if type(node) is not L.GroupAggregate or node.window_end is not None or type(node.input) is not L.Calc:
        return None
    pre = node.input
    n = len(node.keys) - len(PROPS)
    if n < 0:
        return None
    window_keys = node.keys[n:]
    found = grouped_window(pre, [pre.projections[k] for k in window_keys])
    if found is None:
        return None
    window, source = found
    # the window is assigned on the rows' time attribute: the pre-aggregation projection now gives the keys, the
    # aggregates' arguments and the columns the window reads, and no window columns
    kept = [j for j in range(len(pre.projections)) if j not in window_keys]
    position = {j: i for i, j in enumerate(kept)}
    exprs = [pre.projections[j] for j in kept]

    def column(i: int) -> int:
        ref = Ref(source.fields[i].type, i, source.fields[i].name)
        for j, e in enumerate(exprs):
            if str(e) == str(ref):
                return j
        exprs.append(ref)
        return len(exprs) - 1

    aggs = [replace(a, args=tuple(position[i] for i in a.args),
                    filter=None if a.filter is None else position[a.filter]) for a in node.aggs]
    keys = [position[k] for k in node.keys[:n]]
    if window.kind == "SESSION" and isinstance(pre.projections[window_keys[0]], WindowBound):
        partition = tuple(keys)  # GROUP BY k, SESSION(ts, ..): each key's rows have their own sessions
    else:
        partition = tuple(column(p) for p in window.partition)
    window = replace(window, time_index=column(window.time_index), partition=partition)
    fields = [L.Field(f"$f{i}", e.type) for i, e in enumerate(exprs)]
    calc = L.Calc(fields, pre.changelog, input=source, projections=exprs, condition=pre.condition)
    sets = None if node.grouping_sets is None else [[k for k in s if k < n] for s in node.grouping_sets]
    return L.WindowAggregate(node.fields, L.INSERT_ONLY, input=calc, window=window, keys=keys, aggs=aggs,
                             grouping_sets=sets)


def grouped_window(pre: L.Calc, keys: list[Expr]) -> tuple[L.WindowSpec, L.Node] | None:
    """(the window, the rows it is assigned on) when the keys are a window's start, end and time, in that order:
    the columns of a window table function, or a group window's bounds; None otherwise."""
    if all(isinstance(k, WindowBound) and k.prop == p and k.window == keys[0].window for k, p in zip(keys, PROPS)):
        return keys[0].window, pre.input
    tvf = pre.input
    if type(tvf) is not L.WindowTableFunction:
        return None
    first = len(tvf.input.fields)
    if all(isinstance(k, Ref) and k.index == first + i for i, k in enumerate(keys)):
        return tvf.window, tvf.input
    return None
