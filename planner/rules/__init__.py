"""Plan rewrites, one function each, applied after binding."""
from __future__ import annotations

from dataclasses import replace

from sqlstream.connectors.registry import nested_projection
from sqlstream.plan import logical as L
from sqlstream.plan.expr import Call, Expr, Lit, Ref, and_expr, is_deterministic, refs, remap, substitute


def optimize(root: L.Node) -> L.Node:
    root = push_filters_into_joins(root)
    root = push_join_conditions_into_inputs(root)
    root = merge_calcs(root)
    root, _ = prune_columns(root, list(range(len(root.fields))))
    root = prune_row_fields(root)
    root = extremes_without_retraction(root)
    return reuse_subplans(drop_identity_calcs(root))


def extremes_without_retraction(node: L.Node) -> L.Node:
    """A GROUP BY over an updating input whose MAX reads a column that only increases (MIN: only decreases), by
    Flink's modified monotonicity (`planner/monotonicity.py`), ignores that column's retractions as Flink's MAX
    (not MAX_RETRACT) does: SELECT k, MAX(c) FROM (SELECT id, k, COUNT(*) c .. GROUP BY id, k) GROUP BY k keeps
    the old maximum while an id's count goes from 3 to 4 (-U 3, +U 4) instead of dropping to the next one."""
    from sqlstream.planner.monotonicity import DECREASING, INCREASING, modified_monotonicity
    node = _with_inputs(node, [extremes_without_retraction(c) for c in node.inputs()])
    if not (type(node) is L.GroupAggregate and node.input.updating and node.grouping_sets is None
            and node.window_end is None):
        return node
    mono = modified_monotonicity(node)
    if mono is None:
        return node
    n_fixed = len(node.fields) - len(node.aggs)
    keeps = {"MAX": INCREASING, "MIN": DECREASING}
    aggs = [replace(a, retracts=False) if keeps.get(a.fn) == mono[n_fixed + j] else a
            for j, a in enumerate(node.aggs)]
    return node if aggs == node.aggs else replace(node, aggs=aggs)


def reuse_subplans(root: L.Node) -> L.Node:
    """Identical subtrees become one node with several consumers (as Flink's sub-plan reuse does), so a
    query that states the same aggregation twice (nexmark q5) reads and aggregates once."""
    import dataclasses
    seen: dict[str, L.Node] = {}
    keys: dict[int, str] = {}

    def walk(node: L.Node) -> L.Node:
        kids = [walk(c) for c in node.inputs()]
        node = _with_inputs(node, kids) if kids else node
        parts = [type(node).__name__]
        for f in dataclasses.fields(node):
            v = getattr(node, f.name)
            if isinstance(v, L.Node):
                parts.append(f"{f.name}=#{keys[id(v)]}")
            elif isinstance(v, list) and v and isinstance(v[0], L.Node):
                parts.append(f"{f.name}=[" + ",".join(keys[id(c)] for c in v) + "]")
            else:
                parts.append(f"{f.name}={v!r}")
        key = "|".join(parts)
        if key in seen:
            return seen[key]
        seen[key] = node
        keys[id(node)] = str(len(seen))
        return node
    return walk(root)


def drop_identity_calcs(node: L.Node) -> L.Node:
    """A Calc that passes its input through unchanged (left behind by pruning) is removed."""
    from sqlstream.plan.expr import Ref
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
        cond_refs = refs(node.condition) if node.condition is not None else set()
        child_needed = sorted({i for i in set(needed) | cond_refs if i < n_in} | refs(node.array))
        child, m = prune_columns(node.input, child_needed)
        order = sorted(m, key=m.get)
        fields = [node.input.fields[i] for i in order] + node.fields[n_in:]
        out = {old: m[old] for old in m}
        for j in range(len(node.fields) - n_in):
            out[n_in + j] = len(order) + j
        new = L.Unnest(fields, node.changelog, input=child, array=remap(node.array, m), outer=node.outer,
                       ordinality=node.ordinality,
                       condition=None if node.condition is None else remap(node.condition, out))
        return new, out
    if type(node) in (L.Join, L.WindowJoin, L.IntervalJoin) and not node.null_aware and not node.nulls_equal:
        return _prune_join(node, needed)
    if type(node) is L.GroupAggregate and node.grouping_sets is None and node.window_end is None:
        return _prune_group_aggregate(node, needed)
    # operators that read all of their input: keep their outputs, prune below them
    kids = []
    for c in node.inputs():
        pruned, _ = prune_columns(c, list(range(len(c.fields))))
        kids.append(pruned)
    new = _with_inputs(node, kids)
    return new, {i: i for i in range(len(node.fields))}


def prune_row_fields(root: L.Node) -> L.Node:
    """Nested projection pushdown: a ROW column of a scan whose every use (through Calcs and watermark
    assigners) reads fields of it by name is narrowed to those fields, so the source does not make the rest
    (for a source that can: `registry.nested_projection`, the generator and JSON). Scans of one table that are
    alike (a self join's two sides) are narrowed to the fields all of them read, so they stay one shared scan.
    The scan's `columns` keep their whole types: they describe the table's records, read or not."""
    uses: dict[str, dict[int, set[str] | None]] = {}
    _row_field_uses(root, {i: None for i in range(len(root.fields))}, uses)
    return _narrow_scans(root, uses)


def _scan_key(scan: L.Scan) -> str:
    return repr((scan.table, scan.connector, scan.options, scan.fields, scan.metadata))


def _row_field_uses(node: L.Node, usage: dict[int, set[str] | None],
                    uses: dict[str, dict[int, set[str] | None]]) -> None:
    """Adds to `uses` (per scan) the ROW fields read of each of its columns; `usage` maps an output column of
    `node` to the ROW fields read from it, or None when it is used whole."""
    if isinstance(node, L.Scan):
        if nested_projection(node.connector, node.options):
            found = uses.setdefault(_scan_key(node), {})
            for i, names in usage.items():
                found[i] = None if names is None or found.get(i, set()) is None else found.get(i, set()) | names
        return
    if isinstance(node, (L.Calc, L.WatermarkAssigner)):
        below: dict[int, set[str] | None] = {}

        def use(i: int, names: set[str] | None) -> None:
            if i in below and below[i] is None or names is None:
                below[i] = None
            else:
                below[i] = below.get(i, set()) | names

        def visit(e: Expr) -> None:
            if isinstance(e, Call) and e.fn == "FIELD" and isinstance(e.args[0], Ref) and isinstance(e.args[1], Lit):
                use(e.args[0].index, {e.args[1].value})
                return
            if isinstance(e, Ref):
                use(e.index, None)
            for c in e.children():
                visit(c)
        if isinstance(node, L.Calc):
            for j, e in enumerate(node.projections):
                if isinstance(e, Ref):
                    use(e.index, usage.get(j, set()))  # passed through: used as its consumers use it
                else:
                    visit(e)
            if node.condition is not None:
                visit(node.condition)
        else:
            for i, names in usage.items():
                use(i, names)
            use(node.rowtime, None)
            visit(node.watermark)
        _row_field_uses(node.input, below, uses)
        return
    for c in node.inputs():
        _row_field_uses(c, {i: None for i in range(len(c.fields))}, uses)


def _narrow_scans(node: L.Node, uses: dict[str, dict[int, set[str] | None]]) -> L.Node:
    if isinstance(node, L.Scan):
        found = uses.get(_scan_key(node))
        if not found:
            return node
        fields = list(node.fields)
        for i, names in found.items():
            t = fields[i].type
            if names is None or t.name != "ROW":
                continue
            keep = [j for j, f in enumerate(t.field_names) if f in names]
            fields[i] = L.Field(fields[i].name, replace(t, children=tuple(t.children[j] for j in keep),
                                                          field_names=tuple(t.field_names[j] for j in keep)))
        return node if fields == node.fields else replace(node, fields=fields)
    return _with_inputs(node, [_narrow_scans(c, uses) for c in node.inputs()])


def _prune_join(node: L.Join, needed: list[int]) -> tuple[L.Node, dict[int, int]]:
    """A join needs from each side the columns read above it plus its keys, condition and time columns."""
    nl = len(node.left.fields)
    semi = node.kind in ("SEMI", "ANTI")
    cond = refs(node.condition) if node.condition is not None else set()
    left_need = {i for i in needed if i < nl} | set(node.left_keys) | {i for i in cond if i < nl}
    right_need = ({i - nl for i in needed if i >= nl} if not semi else set()) | set(node.right_keys) | \
        {i - nl for i in cond if i >= nl}
    if isinstance(node, L.WindowJoin):
        left_need.add(node.left_end)
        right_need.add(node.right_end)
    if isinstance(node, L.IntervalJoin):
        left_need.add(node.left_time)
        right_need.add(node.right_time)
    left, ml = prune_columns(node.left, sorted(left_need))
    right, mr = prune_columns(node.right, sorted(right_need))
    nl2 = len(left.fields)
    joined = dict(ml)
    joined.update({nl + old: nl2 + new for old, new in mr.items()})
    lorder = sorted(ml, key=ml.get)
    fields = [node.fields[i] for i in lorder]
    if not semi:
        fields += [node.fields[nl + i] for i in sorted(mr, key=mr.get)]
    extra = {}
    if isinstance(node, L.WindowJoin):
        extra = {"left_end": ml[node.left_end], "right_end": mr[node.right_end]}
    if isinstance(node, L.IntervalJoin):
        extra = {"left_time": ml[node.left_time], "right_time": mr[node.right_time]}
    new = replace(node, fields=fields, left=left, right=right, left_keys=[ml[k] for k in node.left_keys],
                  right_keys=[mr[k] for k in node.right_keys],
                  condition=remap(node.condition, joined) if node.condition is not None else None, **extra)
    return new, (dict(ml) if semi else joined)


def _prune_group_aggregate(node: L.GroupAggregate, needed: list[int]) -> tuple[L.Node, dict[int, int]]:
    """Aggregate calls nobody reads are dropped, as Flink trims them: a group whose read results stay the same
    then emits no -U/+U pair (an update of an unread LAST_VALUE would otherwise retract and re-add equal rows
    downstream). A global aggregate keeps one call: it must still emit its single row."""
    n_fixed = len(node.fields) - len(node.aggs)
    kept = [j for j in range(len(node.aggs)) if n_fixed + j in needed]
    if not kept and not node.keys and node.aggs:
        kept = [0]
    aggs = [node.aggs[j] for j in kept]
    child_needed = set(node.keys)
    for a in aggs:
        child_needed |= set(a.args) | ({a.filter} if a.filter is not None else set())
    child, m = prune_columns(node.input, sorted(child_needed))
    aggs = [replace(a, args=tuple(m[i] for i in a.args), filter=None if a.filter is None else m[a.filter])
            for a in aggs]
    out = list(range(n_fixed)) + [n_fixed + j for j in kept]
    new = replace(node, fields=[node.fields[i] for i in out], input=child, keys=[m[k] for k in node.keys],
                  aggs=aggs)
    return new, {old: new_i for new_i, old in enumerate(out)}


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
    from sqlstream.planner.bind.conjuncts import split_equi_keys
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


def push_join_conditions_into_inputs(node: L.Node) -> L.Node:
    """Conjuncts of an INNER join's condition that read one side only filter that side before the join (as
    Flink pushes `WHERE a.category = 10` below the join), so the join keeps and probes only rows that can pass.
    Only deterministic built-in calls move: a Python UDF stays where the query put it."""
    from sqlstream.planner.bind.conjuncts import expr_conjuncts
    kids = [push_join_conditions_into_inputs(c) for c in node.inputs()]
    node = _with_inputs(node, kids)
    if not (type(node) is L.Join and node.kind == "INNER" and node.condition is not None
            and not node.null_aware and not node.nulls_equal):
        return node
    n_left = len(node.left.fields)
    sides: tuple[list[Expr], list[Expr]] = ([], [])
    rest = None
    for c in expr_conjuncts(node.condition):
        used = refs(c)
        side = None
        if used and _pushable(c):
            side = 0 if max(used) < n_left else 1 if min(used) >= n_left else None
            if side is not None and not _takes_filters((node.left, node.right)[side]):
                side = None
        if side is None:
            rest = c if rest is None else and_expr(rest, c)
        else:
            sides[side].append(c if side == 0 else remap(c, {i: i - n_left for i in used}))
    if not sides[0] and not sides[1]:
        return node
    left, right = (_filtered(child, conds) for child, conds in zip((node.left, node.right), sides))
    return replace(node, left=left, right=right, condition=rest)


def _takes_filters(node: L.Node) -> bool:
    """Whether a filter below the join is the filter above it: not for an upsert stream (updates without their
    before-image), where a change that no longer passes would leave the old version in the join."""
    return not node.updating or "UB" in node.changelog.split(",")


def _pushable(e: Expr) -> bool:
    if isinstance(e, Call) and (e.fn.startswith("UDF:") or not is_deterministic(e)):
        return False
    return isinstance(e, (Ref, Lit)) or isinstance(e, Call) and all(_pushable(c) for c in e.args)


def _filtered(node: L.Node, conds: list[Expr]) -> L.Node:
    """`node` keeping only rows where every condition holds: in its own Calc's condition when the condition
    reads columns that Calc passes through or takes out of a ROW, else in a Calc above it. An upsert stream
    (updates without their before-image) is not filtered (`_takes_filters`)."""
    if not conds:
        return node
    cond = conds[0]
    for c in conds[1:]:
        cond = and_expr(cond, c)
    if isinstance(node, L.Calc) and all(_field_access(node.projections[i]) for i in refs(cond)):
        inner = substitute(cond, node.projections)
        both = inner if node.condition is None else and_expr(node.condition, inner)
        return replace(node, condition=both)
    identity = [Ref(f.type, i, f.name) for i, f in enumerate(node.fields)]
    return L.Calc(node.fields, node.changelog, input=node, projections=identity, condition=cond)


def _field_access(e: Expr) -> bool:
    """A column passed through, or a field of one taken out of a ROW: cheap to evaluate once more."""
    if isinstance(e, Call) and e.fn == "FIELD" and isinstance(e.args[1], Lit):
        return _field_access(e.args[0])
    return isinstance(e, Ref)


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
    from sqlstream.plan.expr import Lit, Ref
    return isinstance(e, (Ref, Lit))
