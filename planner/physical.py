"""The planner's last phase: logical nodes -> physical operator specs.

Here the physical variant of each node is chosen (inner join; outer join of insert-only inputs; the general join for
updating inputs, SEMI/ANTI and NOT IN; Top1, AppendRank, UpdatableRank or Rank; ...), its configuration resolved
(state TTL, idle timeouts), and each input edge given its distribution (forward, hash on the keys that must meet,
single where all rows must meet) and changelog mode; then `parallelism.py` gives each operator its parallelism and
turns edges into the exchanges that implies.
"""
from __future__ import annotations

import dataclasses
import hashlib
from typing import Any, Callable

from sqlstream.plan.physical import (FORWARD, SINGLE, Distribution, Edge, OperatorSpec, PhysicalPlan,
                                     common_keys, hash_or_single)
from sqlstream.plan import logical as L
from sqlstream.plan.expr import Call, Expr, Lit, Ref
from sqlstream.planner.rank_strategy import update_fast_key
from sqlstream.planner.parallelism import DEFAULT_MAX_PARALLELISM, PARALLELISM_OPTIONS, assign, settings_of

Choice = tuple[str, dict[str, Any], list[Distribution]]


def physical_plan(roots: list[L.Node], config: dict | None = None) -> PhysicalPlan:
    """Specs for every node reachable from the sinks, inputs first; a shared subplan becomes one spec.

    The fingerprint hashes the specs' signatures, taken before parallelism is assigned, so the same job at another
    parallelism keeps its checkpoints (a restore rescales it); the number of key groups is part of it, since
    keyed state cannot move to another number of key groups.
    """
    from sqlstream.planner.explain import describe
    config = config or {}
    settings = settings_of(config)
    specs: list[OperatorSpec] = []
    index: dict[int, int] = {}
    for root in roots:
        for node in L.walk(root):
            if id(node) in index:
                continue
            name, cfg, dists = choose(node, config)
            inputs = tuple(Edge(index[id(c)], d, c.changelog) for c, d in zip(node.inputs(), dists))
            text = describe(node)
            head, paren, rest = text.partition("(")
            signature = "|".join([name, node_signature(node)] + [
                f"{e.source}:{e.distribution.kind}{list(e.distribution.keys)}:{e.changelog}" for e in inputs])
            index[id(node)] = len(specs)
            specs.append(OperatorSpec(uid=f"{len(specs):03d}-{name}", name=name, config=cfg, inputs=inputs,
                                      changelog=node.changelog, node=node,
                                      description=name + paren + rest if paren else name, signature=signature,
                                      names=node.names))
    identity = [s.signature for s in specs]
    if settings.max_parallelism != DEFAULT_MAX_PARALLELISM:
        identity.append(f"max-parallelism={settings.max_parallelism}")
    digest = hashlib.sha256("\n".join(identity).encode()).hexdigest()[:16]
    assign(specs, settings)
    return PhysicalPlan(specs, [index[id(r)] for r in roots], digest, settings.default, settings.max_parallelism)


def choose(node: L.Node, config: dict) -> Choice:
    """The registered operator for a node, its constructor arguments and the distribution of each input."""
    for cls in type(node).__mro__:
        pick = _CHOICES.get(cls)
        if pick is not None:
            return pick(node, config)
    from sqlstream.core.errors import ValidationError
    raise ValidationError(f"no runtime operator for plan node {type(node).__name__}")


def _ttl_ms(config: dict) -> int:
    """table.exec.state.ttl in ms (0: state is kept forever), for the operators of unbounded state."""
    from sqlstream.connectors.options import parse_duration_ms
    ttl = config.get("table.exec.state.ttl")
    return parse_duration_ms(ttl) if ttl else 0


def _zone(windowed: L.Node) -> dict[str, int]:
    """`zone_offset` for an operator that closes the windows of windowed rows by their window_end column: those
    of a TIMESTAMP_LTZ time attribute hold the session zone's wall clock, ahead of UTC by the offset."""
    from sqlstream.planner.windowing import window_columns
    wcols = window_columns(windowed)
    return {"zone_offset": wcols[2].zone_offset} if wcols is not None and wcols[2].zone_offset else {}


def _arrow(fields: list[L.Field]) -> list:
    return [f.type.to_arrow() for f in fields]


def _scan(node: L.Scan, config: dict) -> Choice:
    return "TableSourceScan", {}, []


def _sink(node: L.Sink, config: dict) -> Choice:
    return "Sink", {}, [Distribution(FORWARD)]


def _calc(node: L.Calc, config: dict) -> Choice:
    return "Calc", dict(projections=node.projections, condition=node.condition, names=node.names), \
        [Distribution(FORWARD)]


def _watermark_assigner(node: L.WatermarkAssigner, config: dict) -> Choice:
    from sqlstream.connectors.options import parse_duration_ms
    idle = config.get("table.exec.source.idle-timeout")
    return "WatermarkAssigner", dict(watermark=node.watermark, names=node.names,
                                     idle_timeout_ms=parse_duration_ms(idle) if idle else 0), [Distribution(FORWARD)]


def _window_aggregate(node: L.WindowAggregate, config: dict) -> Choice:
    name = "SessionWindowAggregate" if node.window.kind == "SESSION" else "WindowAggregate"
    # a session spans every row of its PARTITION BY key whatever the other group keys: only those keys route rows
    keys = node.window.partition if name == "SessionWindowAggregate" else common_keys(node.keys, node.grouping_sets)
    return name, dict(window=node.window, keys=node.keys, aggs=node.aggs, grouping_sets=node.grouping_sets,
                      out_names=node.names, out_types=[f.type for f in node.fields]), [hash_or_single(keys)]


def _group_aggregate(node: L.GroupAggregate, config: dict) -> Choice:
    dist = [hash_or_single(common_keys(node.keys, node.grouping_sets))]
    aggregate = dict(keys=node.keys, aggs=node.aggs, grouping_sets=node.grouping_sets, out_names=node.names,
                     out_types=[f.type for f in node.fields], input_types=[f.type for f in node.input.fields],
                     input_updating=node.input.updating)
    if node.window_end is not None:
        return "WindowGroupAggregate", dict(window_end=node.window_end, input_names=node.input.names,
                                            n_keys=len(node.keys), **_zone(node.input),
                                            aggregate={**aggregate, "grouping_sets": None, "input_updating": False}
                                            ), dist
    ttl = node.state_ttl if node.state_ttl is not None else _ttl_ms(config)
    return "GroupAggregate", {**aggregate, "ttl_ms": ttl}, dist


def _window_table_function(node: L.WindowTableFunction, config: dict) -> Choice:
    if node.window.kind == "SESSION":  # a session's rows wait for it to close: the session operator, keeping rows
        return "SessionWindowAggregate", dict(window=node.window, keys=[], aggs=[], grouping_sets=None,
                                              out_names=node.names, out_types=[f.type for f in node.fields],
                                              rows=True), [hash_or_single(node.window.partition)]
    return "WindowTableFunction", dict(window=node.window, names=node.names), [Distribution(FORWARD)]


def _union(node: L.Union, config: dict) -> Choice:
    return "Union", dict(n_inputs=len(node.children), names=node.names), [Distribution(FORWARD)] * len(node.children)


def _lookup_join(node: L.LookupJoin, config: dict) -> Choice:
    return "LookupJoin", dict(node=node, names=node.names), [Distribution(FORWARD)]


def _sides(node: L.Join) -> dict[str, Any]:
    return dict(left_keys=node.left_keys, right_keys=node.right_keys, condition=node.condition,
                left_types=_arrow(node.left.fields), right_types=_arrow(node.right.fields), names=node.names)


def _keyed(node: L.Join) -> list[Distribution]:
    return [hash_or_single(node.left_keys), hash_or_single(node.right_keys)]


def _window_join(node: L.WindowJoin, config: dict) -> Choice:
    return "WindowJoin", dict(kind=node.kind, left_end=node.left_end, right_end=node.right_end, **_sides(node),
                              **_zone(node.left)), \
        _keyed(node)


def _interval_join(node: L.IntervalJoin, config: dict) -> Choice:
    return "IntervalJoin", dict(kind=node.kind, left_time=node.left_time, right_time=node.right_time,
                                lower=node.lower, upper=node.upper, **_sides(node)), _keyed(node)


def _temporal_join(node: L.TemporalJoin, config: dict) -> Choice:
    return "TemporalJoin", dict(kind=node.kind, left_time=node.left_time, right_time=node.right_time,
                                **_sides(node)), _keyed(node)


def _set_op_all(node: L.SetOpAll, config: dict) -> Choice:
    every = [hash_or_single(range(len(node.left.fields))), hash_or_single(range(len(node.right.fields)))]
    return "SetOpAll", dict(kind=node.kind, names=node.names, types=_arrow(node.fields)), every


def _join(node: L.Join, config: dict) -> Choice:
    # NOT IN: one NULL key on the right blocks every left row, so all rows must meet in one place
    dists = [Distribution(SINGLE)] * 2 if node.null_aware else _keyed(node)
    ttl: int | list[int] = _ttl_ms(config)
    if node.state_ttl is not None:  # STATE_TTL hint: each side its own
        ttl = [ttl if side is None else side for side in node.state_ttl]
    if node.kind == "INNER" and not node.null_aware:
        return "InnerJoin", dict(nulls_equal=node.nulls_equal, ttl_ms=ttl, **_sides(node)), dists
    if node.kind in ("LEFT", "RIGHT", "FULL") and not node.null_aware and not node.nulls_equal \
            and not node.left.updating and not node.right.updating:
        return "OuterJoin", dict(kind=node.kind, ttl_ms=ttl, **_sides(node)), dists
    return "Join", dict(kind=node.kind, out_types=_arrow(node.fields), null_aware=node.null_aware,
                        nulls_equal=node.nulls_equal, ttl_ms=ttl, **_sides(node)), dists


def _over_aggregate(node: L.OverAggregate, config: dict) -> Choice:
    return "OverAggregate", dict(partition=node.partition, time_index=node.time_index, frame=node.frame,
                                 preceding=node.preceding, aggs=node.aggs, names=node.names,
                                 types=_arrow(node.fields), rowtime=node.rowtime), [hash_or_single(node.partition)]


def _correlate(node: L.Correlate, config: dict) -> Choice:
    return "Correlate", dict(function=node.function, args=node.args, left=node.left, names=node.names,
                             types=_arrow(node.fields[len(node.input.fields):])), [Distribution(FORWARD)]


def _match_recognize(node: L.MatchRecognize, config: dict) -> Choice:
    return "MatchRecognize", dict(node=node, names=node.names, types=_arrow(node.input.fields),
                                  out_types=_arrow(node.fields)), [hash_or_single(node.partition)]


def _unnest(node: L.Unnest, config: dict) -> Choice:
    return "Unnest", dict(array=node.array, names=node.names, outer=node.outer, ordinality=node.ordinality,
                     condition=node.condition), \
        [Distribution(FORWARD)]


def _window_rank(node: L.WindowRank, config: dict) -> Choice:
    return "WindowRank", dict(partition=node.partition, order=node.order, limit=node.limit,
                              window_end=node.window_end, names=node.names, types=_arrow(node.input.fields),
                              newest_wins_ties=node.newest_wins_ties, **_zone(node.input)), \
        [hash_or_single(node.partition)]


def _temporal_sort(node: L.TemporalSort, config: dict) -> Choice:
    return "TemporalSort", dict(time_index=node.time_index, rowtime=node.rowtime, keys=node.keys,
                                names=node.names, types=_arrow(node.fields)), [Distribution(SINGLE)]


def _first_row_deduplicate(node: L.FirstRowDeduplicate, config: dict) -> Choice:
    return "FirstRowDeduplicate", dict(partition=node.partition, time_index=node.order[0][0], rowtime=node.rowtime,
                                       names=node.names, types=_arrow(node.input.fields)), \
        [hash_or_single(node.partition)]


def _rank(node: L.Rank, config: dict) -> Choice:
    dist = [hash_or_single(node.partition)]
    common = dict(partition=node.partition, order=node.order, names=node.names, types=_arrow(node.input.fields))
    if node.limit == 1 and not node.input.updating and node.order:
        return "Top1", dict(newest_wins_ties=node.newest_wins_ties, **common), dist
    row_key = update_fast_key(node)
    if row_key is not None:
        if node.limit == 1:
            return "Top1", dict(upserts=True, **common), dist
        return "UpdatableRank", dict(limit=node.limit, row_key=row_key, with_rank=node.with_rank, **common), dist
    if not node.input.updating and not node.newest_wins_ties:
        return "AppendRank", dict(limit=node.limit, with_rank=node.with_rank, **common), dist
    return "Rank", dict(limit=node.limit, append_only=not node.input.updating,
                        newest_wins_ties=node.newest_wins_ties, with_rank=node.with_rank, **common), dist


def _changelog_normalize(node: L.ChangelogNormalize, config: dict) -> Choice:
    return "ChangelogNormalize", dict(keys=node.keys, names=node.names, types=_arrow(node.fields)), \
        [hash_or_single(node.keys)]


_CHOICES: dict[type, Callable[[Any, dict], Choice]] = {
    L.Scan: _scan, L.Sink: _sink, L.Calc: _calc, L.WatermarkAssigner: _watermark_assigner,
    L.WindowAggregate: _window_aggregate, L.GroupAggregate: _group_aggregate,
    L.WindowTableFunction: _window_table_function, L.Union: _union, L.LookupJoin: _lookup_join,
    L.WindowJoin: _window_join, L.IntervalJoin: _interval_join, L.TemporalJoin: _temporal_join,
    L.SetOpAll: _set_op_all, L.Join: _join, L.OverAggregate: _over_aggregate, L.Correlate: _correlate,
    L.MatchRecognize: _match_recognize, L.Unnest: _unnest, L.WindowRank: _window_rank,
    L.TemporalSort: _temporal_sort, L.FirstRowDeduplicate: _first_row_deduplicate, L.Rank: _rank,
    L.ChangelogNormalize: _changelog_normalize,
}

_INPUTS = ("input", "left", "right", "children", "fields")


def node_signature(node: L.Node) -> str:
    """A node's own structure without column names: its kind, its attributes, and its output types.

    Inputs are left out (edges name them) and so are names (`fields`), so renaming an alias does not change it.
    """
    parts = [type(node).__name__, "types=" + ",".join(str(f.type) for f in node.fields)]
    for f in dataclasses.fields(node):
        if f.name not in _INPUTS and not _left_out(node, f):
            value = getattr(node, f.name)
            if f.name == "options":  # a connector's parallelism is not the job's structure: rescaling keeps it
                value = {k: v for k, v in value.items() if k not in PARALLELISM_OPTIONS}
            parts.append(f"{f.name}={canonical(value)}")
    return " ".join(parts)


def _left_out(value: Any, f: dataclasses.Field) -> bool:
    """A field added to a plan node after jobs were checkpointed is left out at its default (metadata
    `signature_default`), so those jobs keep their fingerprint; one that is configuration rather than structure
    (a state time-to-live) is always left out (metadata `signature` False)."""
    if f.metadata.get("signature", True) is False:
        return True
    return f.metadata.get("signature_default", False) and getattr(value, f.name) == f.default


def canonical(value: Any) -> str:
    """Deterministic text of a plan value with column names left out (expressions refer to columns by position)."""
    if isinstance(value, Ref):
        return f"${value.index}"
    if isinstance(value, Lit):
        return f"{value.value!r}:{value.type}"
    if isinstance(value, Call):
        return f"{value.fn}({','.join(canonical(a) for a in value.args)}):{value.type}"
    if isinstance(value, Expr):
        return type(value).__name__
    if isinstance(value, L.Field):
        return f"{value.name}:{value.type}"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        inner = ",".join(f"{f.name}={canonical(getattr(value, f.name))}" for f in dataclasses.fields(value)
                         if f.name != "name" and not _left_out(value, f))
        return f"{type(value).__name__}({inner})"
    if isinstance(value, dict):
        return "{" + ",".join(f"{canonical(k)}:{canonical(v)}" for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(canonical(v) for v in value) + "]"
    return repr(value) if isinstance(value, (str, int, float, bool, type(None))) else str(value)
