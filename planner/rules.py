"""Plan rewrites, one function each, applied after binding."""
from __future__ import annotations

from dataclasses import replace

from planner import logical as L
from planner.expr import Expr, and_expr, refs, remap, substitute


def optimize(root: L.Node) -> L.Node:
    root = push_filters_into_joins(root)
    root = merge_calcs(root)
    root, _ = prune_columns(root, list(range(len(root.fields))))
    return drop_identity_calcs(root)


def drop_identity_calcs(node: L.Node) -> L.Node:
    """A Calc that passes its input through unchanged (left behind by pruning) is removed."""
    from planner.expr import Ref
    kids = [drop_identity_calcs(c) for c in node.inputs()]
    node = _with_inputs(node, kids)
    if isinstance(node, L.Calc) and node.condition is None and \
            len(node.projections) == len(node.input.fields) and \
            all(isinstance(e, Ref) and e.index == i for i, e in enumerate(node.projections)) and \
            node.names == node.input.names and all(a.type == b.type for a, b in zip(node.fields, node.input.fields)):
        return node.input
    return node


def prune_columns(node: L.Node, needed: list[int]) -> tuple[L.Node, dict[int, int]]:
    """Projection pushdown: drop columns nobody reads, down to the scan (which then decodes fewer fields).

    Returns the rewritten node and where each needed output column moved to.
    Filters are not pushed below a WatermarkAssigner: rows a filter removes still advance the watermark.
    """
    if isinstance(node, L.Scan):
        keep = sorted(set(needed))
        fields = [node.fields[i] for i in keep]
        # metadata keeps every metadata column: the connector must know which columns are not in the payload
        return replace(node, fields=fields), {old: new for new, old in enumerate(keep)}
    if isinstance(node, L.Calc):
        keep = sorted(set(needed))
        projections = [node.projections[i] for i in keep]
        child_needed = set()
        for e in projections:
            child_needed |= refs(e)
        if node.condition is not None:
            child_needed |= refs(node.condition)
        child, m = prune_columns(node.input, sorted(child_needed))
        new = L.Calc([node.fields[i] for i in keep], node.changelog, input=child,
                     projections=[remap(e, m) for e in projections],
                     condition=remap(node.condition, m) if node.condition is not None else None)
        return new, {old: new_i for new_i, old in enumerate(keep)}
    if isinstance(node, L.WatermarkAssigner):
        child_needed = set(needed) | {node.rowtime} | refs(node.watermark)
        child, m = prune_columns(node.input, sorted(child_needed))
        order = sorted(m, key=m.get)
        fields = [node.fields[i] for i in order]
        new = L.WatermarkAssigner(fields, node.changelog, input=child, rowtime=m[node.rowtime],
                                  watermark=remap(node.watermark, m))
        return new, m
    if isinstance(node, L.Unnest):
        n_in = len(node.input.fields)
        child_needed = sorted({i for i in needed if i < n_in} | refs(node.array))
        child, m = prune_columns(node.input, child_needed)
        order = sorted(m, key=m.get)
        fields = [node.input.fields[i] for i in order] + node.fields[n_in:]
        new = L.Unnest(fields, node.changelog, input=child, array=remap(node.array, m))
        out = {old: m[old] for old in m}
        for j in range(len(node.fields) - n_in):
            out[n_in + j] = len(order) + j
        return new, out
    # operators that read all of their input: keep their outputs, prune below them
    kids = []
    for c in node.inputs():
        pruned, _ = prune_columns(c, list(range(len(c.fields))))
        kids.append(pruned)
    new = _with_inputs(node, kids)
    return new, {i: i for i in range(len(node.fields))}


def _with_inputs(node: L.Node, kids: list[L.Node]) -> L.Node:
    if isinstance(node, L.Union):
        return replace(node, children=kids)
    if isinstance(node, L.Join):
        return replace(node, left=kids[0], right=kids[1])
    if kids:
        return replace(node, input=kids[0])
    return node


def push_filters_into_joins(node: L.Node) -> L.Node:
    """WHERE over an INNER join (e.g. `FROM a, b WHERE a.k = b.k AND ..`): equalities between the two sides
    become join keys, other conjuncts the join condition, so the join never forms the cross product."""
    from planner.binder import split_equi_keys
    kids = [push_filters_into_joins(c) for c in node.inputs()]
    node = _with_inputs(node, kids)
    if not (isinstance(node, L.Calc) and node.condition is not None and isinstance(node.input, L.Join)
            and node.input.kind == "INNER"):
        return node
    join = node.input
    n_left = len(join.left.fields)
    lkeys, rkeys, rest = split_equi_keys(node.condition, n_left)
    cond = join.condition
    if rest is not None:
        cond = rest if cond is None else and_expr(cond, rest)
    new_join = replace(join, left_keys=list(join.left_keys) + lkeys, right_keys=list(join.right_keys) + rkeys,
                       condition=cond)
    return L.Calc(node.fields, node.changelog, input=new_join, projections=node.projections, condition=None)


def merge_calcs(node: L.Node) -> L.Node:
    """Calc over Calc becomes one Calc (one pass over the batch instead of two)."""
    kids = [merge_calcs(c) for c in node.inputs()]
    node = _with_inputs(node, kids)
    if isinstance(node, L.Calc) and isinstance(node.input, L.Calc):
        inner = node.input
        if all(_cheap(e) for e in inner.projections):
            projections = [substitute(e, inner.projections) for e in node.projections]
            cond = substitute(node.condition, inner.projections) if node.condition is not None else None
            if inner.condition is not None:
                cond = inner.condition if cond is None else and_expr(inner.condition, cond)
            return L.Calc(node.fields, node.changelog, input=inner.input, projections=projections, condition=cond)
    return node


def _cheap(e: Expr) -> bool:
    """Inlining must not evaluate an expensive or non-deterministic expression twice."""
    from planner.expr import Lit, Ref
    return isinstance(e, (Ref, Lit))
