"""Lookup join: a join whose right side is a table as of processing time (`JOIN dim FOR SYSTEM_TIME AS OF
o.proctime ON o.k = dim.k`) looks each left row's keys up in the table when the row arrives (Flink's LookupJoin:
the table is read by its connector, not as a stream of the job). An equality `f(left columns) = dim.col` makes
the left side compute the key; PROCTIME() columns of the table are the time of the lookup, added after it."""
from __future__ import annotations

from sqlstream.core.errors import ValidationError
from sqlstream.core.types import FlinkType
from sqlstream.plan import logical as L
from sqlstream.plan.expr import Call, Ref, and_expr, refs, remap
from sqlstream.planner.bind.conjuncts import expr_conjuncts


def rule(node: L.Node) -> L.Node | None:
    if type(node) is not L.Join or not isinstance(node.right, L.Snapshot) or node.right.time is not None \
            and node.right.time.type.time_attr != "proctime":
        return None
    left, right, jtype = node.left, node.right.input, node.kind
    scan = stored_table(right)
    nl = len(left.fields)
    lkeys, rkeys, condition = list(node.left_keys), list(node.right_keys), node.condition
    computed, rest = [], []  # `f(left columns) = dim.col`: the left side computes the lookup key
    for c in expr_conjuncts(condition) if condition is not None else []:
        pairs = ((c.args[0], c.args[1]), (c.args[1], c.args[0])) if isinstance(c, Call) and c.fn == "=" else ()
        sides = [(a, b) for a, b in pairs if isinstance(b, Ref) and b.index >= nl and refs(a) and max(refs(a)) < nl]
        if sides:
            computed.append(sides[0])
        else:
            rest.append(c)
    if computed:
        condition = None
        for c in rest:
            condition = c if condition is None else and_expr(condition, c)
    if not lkeys and not computed:
        raise ValidationError(f"A lookup join needs an equality between the left side and a column of "
                              f"'{node.right.table}'")
    rf = [L.Field(f.name, f.type.without_time_attr().with_nullable(True) if jtype == "LEFT"
                  else f.type.without_time_attr()) for f in right.fields]
    below = left
    if computed:
        below = _calc(left, [Ref(f.type, i, f.name) for i, f in enumerate(left.fields)] + [a for a, _ in computed],
                      left.names + [f"$lookup{i}" for i in range(len(computed))])
        lkeys = lkeys + list(range(nl, nl + len(computed)))
        rkeys = rkeys + [b.index - nl for _, b in computed]
        if condition is not None:  # the condition's right columns move past the computed keys
            condition = remap(condition, {i: i if i < nl else i + len(computed) for i in refs(condition)})
    right_names = [f.name for f in right.fields]
    stored = [f.name for f in scan.fields]
    if right_names != stored:  # PROCTIME() columns: the join reads the stored ones, a Calc adds the time
        at = {name: i for i, name in enumerate(stored)}
        rkeys = [at[right_names[k]] for k in rkeys]
        width = len(below.fields)
        if condition is not None:
            condition = remap(condition, {i: i if i < width else width + at[right_names[i - width]]
                                          for i in refs(condition)})
        joined = L.LookupJoin(list(below.fields) + [rf[right_names.index(n)] for n in stored], left.changelog,
                              input=below, kind=jtype, table=scan.table, connector=scan.connector,
                              options=dict(scan.options), columns=list(scan.fields), left_keys=lkeys,
                              right_keys=rkeys, condition=condition)
        proctime = FlinkType("TIMESTAMP_LTZ", 3, nullable=False, time_attr="proctime")
        exprs = [Ref(f.type, i, f.name) for i, f in enumerate(below.fields)] + \
            [Ref(joined.fields[width + at[n]].type, width + at[n], n) if n in at else Call(proctime, "PROCTIME", ())
             for n in right_names]
        out: L.Node = _calc(joined, exprs, below.names + right_names)
    else:
        out = L.LookupJoin(list(below.fields) + rf, left.changelog, input=below, kind=jtype, table=scan.table,
                           connector=scan.connector, options=dict(scan.options), columns=list(scan.fields),
                           left_keys=lkeys, right_keys=rkeys, condition=condition)
    if computed:  # drop the computed keys again
        keep = list(range(nl)) + list(range(nl + len(computed), len(out.fields)))
        out = _calc(out, [Ref(out.fields[i].type, i, out.fields[i].name) for i in keep],
                    [out.fields[i].name for i in keep])
    return out


def stored_table(node: L.Node) -> L.Scan:
    """The scan under a lookup table's watermark and PROCTIME() columns; other computed columns are refused."""
    while not isinstance(node, L.Scan):
        if isinstance(node, L.Calc) and node.condition is None and all(
                isinstance(p, Ref) or isinstance(p, Call) and p.fn == "PROCTIME" for p in node.projections):
            node = node.input  # a PROCTIME() column: the time of the lookup, computed after it
            continue
        if not isinstance(node, L.WatermarkAssigner):
            raise ValidationError("A lookup table cannot have computed columns yet")
        node = node.input
    return node


def _calc(node: L.Node, exprs: list, names: list[str]) -> L.Calc:
    return L.Calc([L.Field(n, e.type) for n, e in zip(names, exprs)], node.changelog, input=node, projections=exprs)

