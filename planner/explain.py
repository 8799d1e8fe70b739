"""Text rendering of plans: one operator per line, indented by depth, with each edge's changelog mode."""
from __future__ import annotations

from sqlstream.plan import logical as L
from sqlstream.plan.physical import FORWARD, PhysicalPlan


def describe(node: L.Node) -> str:
    names = node.names
    if isinstance(node, L.Scan):
        from sqlstream.connectors.registry import nested_projection
        shown = names
        if nested_projection(node.connector, node.options):  # ROW columns show the fields the source is asked to make
            shown = [f"{f.name}<{', '.join(f.type.field_names)}>" if f.type.name == "ROW" else f.name
                     for f in node.fields]
        return f"TableSourceScan(table=[{node.table}], connector=[{node.connector}], fields=[{', '.join(shown)}])"
    if isinstance(node, L.Calc):
        parts = []
        if node.condition is not None:
            parts.append(f"where=[{node.condition}]")
        parts.append("select=[" + ", ".join(f"{e} AS {n}" if str(e).split(':')[-1] != n else str(e)
                                            for e, n in zip(node.projections, names)) + "]")
        return f"Calc({', '.join(parts)})"
    if isinstance(node, L.WatermarkAssigner):
        return f"WatermarkAssigner(rowtime=[{names[node.rowtime]}], watermark=[{node.watermark}])"
    if isinstance(node, L.WindowAggregate):
        keys = ", ".join(f"${k}" for k in node.keys)
        aggs = ", ".join(str(a) for a in node.aggs)
        gs = f", groupingSets=[{node.grouping_sets}]" if node.grouping_sets else ""
        return f"WindowAggregate(groupBy=[{keys}], window=[{node.window} on ${node.window.time_index}], " \
               f"select=[{aggs}]{gs})"
    if isinstance(node, L.GroupAggregate):
        keys = ", ".join(f"${k}" for k in node.keys)
        aggs = ", ".join(str(a) for a in node.aggs)
        gs = f", groupingSets=[{node.grouping_sets}]" if node.grouping_sets else ""
        if node.window_end is not None:
            return f"WindowGroupAggregate(groupBy=[{keys}], windowEnd=[${node.window_end}], select=[{aggs}]{gs})"
        return f"GroupAggregate(groupBy=[{keys}], select=[{aggs}]{gs})"
    if isinstance(node, L.WindowTableFunction):
        return f"WindowTableFunction(window=[{node.window} on ${node.window.time_index}])"
    if isinstance(node, L.LookupJoin):
        keys = ", ".join(f"${a}={node.table}.{node.columns[b].name}" for a, b in zip(node.left_keys, node.right_keys))
        cond = f", where=[{node.condition}]" if node.condition is not None else ""
        return f"LookupJoin(table=[{node.table}], joinType=[{node.kind}], lookup=[{keys}]{cond})"
    if isinstance(node, L.WindowJoin):
        keys = ", ".join(f"${a}=${b}" for a, b in zip(node.left_keys, node.right_keys))
        cond = f", where=[{node.condition}]" if node.condition is not None else ""
        return f"WindowJoin(joinType=[{node.kind}], keys=[{keys}], windowEnd=[${node.left_end}, " \
               f"${node.right_end}]{cond})"
    if isinstance(node, L.IntervalJoin):
        keys = ", ".join(f"${a}=${b}" for a, b in zip(node.left_keys, node.right_keys))
        return f"IntervalJoin(joinType=[{node.kind}], keys=[{keys}], rightTime - leftTime in " \
               f"[{node.lower}, {node.upper}] ms, where=[{node.condition}])"
    if isinstance(node, L.SetOpAll):
        return f"{node.kind}All(all=[true])"
    if isinstance(node, L.TemporalJoin):
        keys = ", ".join(f"${a}=${b}" for a, b in zip(node.left_keys, node.right_keys))
        cond = f", where=[{node.condition}]" if node.condition is not None else ""
        return f"TemporalJoin(joinType=[{node.kind}], keys=[{keys}], leftTime=[${node.left_time}], " \
               f"rightTime=[${node.right_time}]{cond})"
    if isinstance(node, L.Join):
        keys = ", ".join(f"${a}=${b}" for a, b in zip(node.left_keys, node.right_keys))
        cond = f", where=[{node.condition}]" if node.condition is not None else ""
        nulls = ", nullAware=[true]" if node.null_aware else ", nullsEqual=[true]" if node.nulls_equal else ""
        return f"Join(joinType=[{node.kind}], keys=[{keys}]{cond}{nulls})"
    if isinstance(node, L.OverAggregate):
        bound = "UNBOUNDED" if node.preceding is None else (
            f"{node.preceding}" if node.frame == "ROWS" else f"{node.preceding}ms")
        return f"OverAggregate(partitionBy=[{', '.join(f'${i}' for i in node.partition)}], " \
               f"orderBy=[${node.time_index}{'' if node.rowtime else ' PROCTIME'}], {node.frame} BETWEEN {bound} PRECEDING AND CURRENT ROW, " \
               f"select=[{', '.join(str(a) for a in node.aggs)}])"
    if isinstance(node, L.Correlate):
        return f"Correlate(invocation=[{node.function}({', '.join(str(a) for a in node.args)})], " \
               f"joinType=[{'LEFT' if node.left else 'INNER'}])"
    if isinstance(node, L.MatchRecognize):
        skip = " ".join(x for x in node.skip if x)
        within = f", within=[{node.within}ms]" if node.within else ""
        defines = ", ".join(f"{v} AS {c}" for v, (c, _) in node.defines.items())
        measures = ", ".join(f"{f.name}={m}" for f, m in zip(node.fields[len(node.partition):], node.measures))
        slots = ", ".join(f"${len(node.input.fields) + i}={s}" for i, s in enumerate(node.measure_slots))
        return f"Match(partitionBy=[{', '.join(f'${i}' for i in node.partition)}], orderBy=[${node.time_index}], " \
               f"pattern=[{' '.join(str(t) for t in node.pattern)}]{within}, after=[SKIP {skip}], " \
               f"define=[{defines}], measures=[{measures}], slots=[{slots}])"
    if isinstance(node, L.Unnest):
        return f"Unnest(array=[{node.array}]{', outer' if node.outer else ''}" \
               f"{', ordinality' if node.ordinality else ''})"
    if isinstance(node, L.TemporalSort):
        keys = "".join(f", ${i} {'DESC' if d else 'ASC'}" for i, d in node.keys)
        return f"TemporalSort(orderBy=[${node.time_index} ASC{keys}])"
    if isinstance(node, L.FirstRowDeduplicate):
        return f"Deduplicate(keep=[FirstRow], key=[{', '.join(f'${i}' for i in node.partition)}], " \
               f"order=[{'ROWTIME' if node.rowtime else 'PROCTIME'}])"
    if isinstance(node, L.Rank):
        order = ", ".join(f"${i} {'DESC' if d else 'ASC'}" for i, d in node.order)
        kind = "WindowRank" if isinstance(node, L.WindowRank) else "Rank"
        return f"{kind}(partitionBy=[{', '.join(f'${i}' for i in node.partition)}], orderBy=[{order}], " \
               f"rankRange=[1, {node.limit}])"
    if isinstance(node, L.ChangelogNormalize):
        return f"ChangelogNormalize(key=[{', '.join(names[k] for k in node.keys)}])"
    if isinstance(node, L.Union):
        return f"Union(all=[true], fields=[{', '.join(names)}])"
    if isinstance(node, L.Sink):
        return f"Sink(table=[{node.table}], connector=[{node.connector}], fields=[{', '.join(names)}])"
    return type(node).__name__


def explain(node: L.Node) -> str:
    """The plan as a tree; a subplan with several consumers is printed once as [n]:.. and then as Reused."""
    lines: list[str] = []
    parents: dict[int, int] = {}

    def count(n: L.Node) -> None:
        parents[id(n)] = parents.get(id(n), 0) + 1
        if parents[id(n)] == 1:
            for c in n.inputs():
                count(c)
    count(node)
    refs: dict[int, int] = {}

    def visit(n: L.Node, depth: int) -> None:
        prefix = "  " * depth + ("+- " if depth else "")
        if id(n) in refs:
            lines.append(prefix + f"Reused(reference_id=[{refs[id(n)]}])")
            return
        label = ""
        if parents[id(n)] > 1:
            refs[id(n)] = len(refs) + 1
            label = f"[{refs[id(n)]}]:"
        lines.append(prefix + label + describe(n) + f", changelogMode=[{n.changelog}]")
        for c in n.inputs():
            visit(c, depth + 1)
    visit(node, 0)
    return "\n".join(lines)


def explain_physical(plan: PhysicalPlan) -> str:
    """The physical plan as Flink prints it: operators by their runtime names, each with its parallelism, and an
    Exchange line on every edge that does not forward rows (hash on keys, single, rebalance), each with the
    changelog mode it carries."""
    specs = plan.operators
    consumers: dict[int, int] = {}
    for s in specs:
        for e in s.inputs:
            consumers[e.source] = consumers.get(e.source, 0) + 1
    lines: list[str] = []
    refs: dict[int, int] = {}
    trees: list[str] = []

    def visit(i: int, depth: int) -> None:
        prefix = "  " * depth + ("+- " if depth else "")
        if i in refs:
            lines.append(prefix + f"Reused(reference_id=[{refs[i]}])")
            return
        label = ""
        if consumers.get(i, 0) > 1:
            refs[i] = len(refs) + 1
            label = f"[{refs[i]}]:"
        local = _local_phase(specs[i])
        lines.append(prefix + label + ("Global" if local else "") + specs[i].description
                     + f", changelogMode=[{specs[i].changelog}], parallelism=[{specs[i].parallelism}]")
        for e in specs[i].inputs:
            if e.distribution.kind == FORWARD:
                visit(e.source, depth + 1)
                continue
            if local:  # the local phase runs at its input's parallelism, before the exchange
                lines.append("  " * (depth + 1) + "+- " + f"Exchange(distribution=["
                             f"{e.distribution.describe(local.names)}], changelogMode=[{e.changelog}])")
                lines.append("  " * (depth + 2) + "+- " + local.description + f", changelogMode=[{e.changelog}], "
                             f"parallelism=[{specs[e.source].parallelism}]")
                visit(e.source, depth + 3)
                continue
            lines.append("  " * (depth + 1) + "+- " + f"Exchange(distribution=["
                         f"{e.distribution.describe(specs[e.source].names)}], changelogMode=[{e.changelog}])")
            visit(e.source, depth + 2)
    for r in plan.roots:
        visit(r, 0)
        trees.append("\n".join(lines))
        lines.clear()
    return "\n\n".join(trees)


def _local_phase(spec) -> object | None:
    """A window aggregation at a parallelism above 1 that runs in two phases (as Flink's LocalWindowAggregate
    and GlobalWindowAggregate: the partial aggregates of each source subtask's rows cross the exchange): the
    local phase's name, description and the names its exchange hashes on; else None."""
    if spec.name != "WindowAggregate" or spec.parallelism <= 1 or len(spec.inputs) != 1 \
            or spec.inputs[0].distribution.kind == FORWARD:
        return None
    from types import SimpleNamespace
    from sqlstream.runtime.operators.window_aggregate import splits_in_two
    c = spec.config
    if not splits_in_two(c["window"], c["keys"], c["aggs"], c["grouping_sets"]):
        return None
    node = spec.node
    return SimpleNamespace(description="Local" + spec.description, names=list(node.input.names))
