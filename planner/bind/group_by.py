"""GROUP BY and aggregates: grouping keys, grouping sets, a window's columns as keys, HAVING."""
from __future__ import annotations

import itertools

from sqlglot import exp

from sqlstream.core.errors import ValidationError
from sqlstream.core.types import BIGINT, FlinkType, INT
from sqlstream.plan import logical as L
from sqlstream.plan.expr import Call, Expr, Lit, Ref, WindowBound
from sqlstream.planner.bind.aggregate_calls import agg_parts, contains_agg
from sqlstream.planner.bind.legacy_windows import LEGACY_PROPS, same_group_window
from sqlstream.planner.bind.relation import output_name, project, Relation, streaming_shape
from sqlstream.planner.functions import aggregate_type
from sqlstream.planner.hints import query_hints
from sqlstream.planner.scalar_binder import ScalarBinder, Scope, _where

NOT_NULL_WHEN_GROUPED = ("SUM", "MIN", "MAX", "AVG")
WINDOW_COLUMNS = ("window_start", "window_end", "window_time")


def window_property_type(prop: str, spec: L.WindowSpec, node: L.Node) -> FlinkType:
    rt = node.fields[spec.time_index].type
    if prop == "window_time":
        return FlinkType(rt.name, 3, nullable=False, time_attr=rt.time_attr or "rowtime")
    return FlinkType("TIMESTAMP", 3, nullable=False)


def key_sets(g: exp.Expr) -> list[list[exp.Expr]] | None:
    """The key sets one GROUP BY item stands for (None for a plain key)."""
    if isinstance(g, exp.GroupingSets):
        sets = []
        for s in g.expressions:
            if isinstance(s, exp.Tuple):
                sets.append(list(s.expressions))
            elif isinstance(s, exp.Paren):
                sets.append([s.this])
            else:
                sets.append([s])
        return sets
    if isinstance(g, exp.Rollup):
        cols = list(g.expressions)
        return [cols[:i] for i in range(len(cols), -1, -1)]
    if isinstance(g, exp.Cube):
        cols = list(g.expressions)
        return [[c for c, keep in zip(cols, mask) if keep] for mask in itertools.product([1, 0], repeat=len(cols))]
    return None


def expand_grouping_sets(group: exp.Group) -> dict | None:
    """Expand GROUPING SETS / ROLLUP / CUBE (combined with plain keys) into a list of key sets."""
    plain, multi = [], []
    for g in group.expressions:
        sets = key_sets(g)
        if sets is None:
            plain.append(g)
        else:
            multi.append(sets)
    for key in ("grouping_sets", "rollup", "cube"):  # where sqlglot keeps them apart from the plain keys
        v = group.args.get(key)
        for g in (v if isinstance(v, list) else [v]) if v else []:
            sets = key_sets(g)
            if sets is not None:
                multi.append(sets)
    if not multi:
        return None
    combos = [[]]
    for sets in multi:
        combos = [c + s for c in combos for s in sets]
    all_items = []
    for c in combos:
        for x in c:
            if not any(x == y for y in all_items):
                all_items.append(x)
    non_window_plain = [p for p in plain if not (isinstance(p, exp.Column) and p.name in WINDOW_COLUMNS)]
    sets = [non_window_plain + c for c in combos]
    return {"sets": sets, "all": all_items}


class GroupBy:
    """The Binder's GROUP BY."""

    def _bind_aggregate(self, sel, rel: Relation, where, group, having) -> L.Node:
        group_items = list(group.expressions) if group else []
        sets_spec = expand_grouping_sets(group) if group else None
        legacy = [g for g in group_items if isinstance(g, exp.Anonymous)
                  and g.name.upper() in ("TUMBLE", "HOP", "SESSION")]
        tvf = rel.tvf
        scope = rel.scope
        names_in_group = {g.name for g in group_items if isinstance(g, exp.Column)}
        window_agg = tvf is not None and {"window_start", "window_end"} <= names_in_group
        if tvf is not None and not window_agg and tvf.window.kind == "SESSION":
            raise ValidationError(f"{_where(sel)}SESSION window aggregation must group by window_start and "
                                  f"window_end")
        input_node = time_source = rel.node
        if window_agg:  # the TVF's own columns; its window columns are read through the group keys
            time_source = tvf.input
            scope = Scope(rel.scope.fields[:len(tvf.input.fields)])
        if input_node.updating and (window_agg or legacy):
            raise ValidationError(
                "StreamPhysicalWindowAggregate doesn't support consuming update and delete changes which "
                "is produced by an updating input (window aggregation requires an insert-only input)")
        binder = ScalarBinder(scope)
        cond = self._bind_condition(binder, where) if where is not None else None
        spec: L.WindowSpec | None = None
        key_nodes: list[exp.Expr] = []
        props: list[str] = []
        for g in group_items:
            if g in legacy:
                spec = self._legacy_window(g, scope, input_node)
                continue
            if window_agg and isinstance(g, exp.Column) and g.name in WINDOW_COLUMNS:
                props.append(g.name)
                continue
            if isinstance(g, (exp.GroupingSets, exp.Rollup, exp.Cube)):
                continue
            key_nodes.append(g)
        if window_agg:
            spec = tvf.window
            if spec.kind == "HOP" and spec.size % spec.slide:  # rows of such windows are fine, aggregating is not
                raise ValidationError(f"{_where(sel)}HOP table function based aggregate requires size must be an "
                                      f"integral multiple of slide, but got size {spec.size} ms and slide "
                                      f"{spec.slide} ms")
        extra_keys = []
        if sets_spec is not None:
            for s in sets_spec["all"]:
                if not any(s == k for k in key_nodes) and not (window_agg and isinstance(s, exp.Column)
                                                               and s.name in WINDOW_COLUMNS):
                    extra_keys.append(s)
        key_nodes = key_nodes + extra_keys
        # pre-aggregation projection: keys, the window's columns (keys too), then aggregate arguments
        pre: list[Expr] = [binder.bind(k) for k in key_nodes]
        pre_keys = [str(e) for e in pre]
        aggs: list[L.AggCall] = []
        agg_index: dict[str, int] = {}
        nkeys = len(pre)
        has_sets = sets_spec is not None
        grouped = nkeys > 0 or spec is not None
        window_props = list(WINDOW_COLUMNS) if spec is not None else []
        nprops = len(window_props) + (1 if has_sets else 0)

        def arg_index(e: Expr) -> int:
            s = str(e)
            for i, p in enumerate(pre):
                if str(p) == s:
                    return i
            pre.append(e)
            return len(pre) - 1

        def agg_hook(node: exp.Expr) -> Expr:
            filt = None
            if isinstance(node, exp.Filter):
                filt = node.expression.this if isinstance(node.expression, exp.Where) else node.expression
                node = node.this
            name, distinct, arg_nodes = agg_parts(node)
            args = [binder.bind(a) for a in arg_nodes]
            if any(contains_agg(a) for a in arg_nodes):
                raise ValidationError(f"{_where(node)}Aggregate calls cannot be nested")
            try:
                t = aggregate_type(name, [a.type for a in args], distinct)
            except ValidationError as e:
                raise ValidationError(f"{_where(node)}{e}") from None
            if grouped and filt is None and name in NOT_NULL_WHEN_GROUPED and args and \
                    not any(a.type.nullable for a in args) and not t.is_decimal:
                t = t.with_nullable(False)  # as Calcite: a group is never empty, so no NULL for want of rows
            idx = tuple(arg_index(a) for a in args)
            fidx = arg_index(self._bind_condition(binder, filt)) if filt is not None else None
            call = L.AggCall(name, idx, t, distinct, fidx)
            key = str(call)
            if key not in agg_index:
                agg_index[key] = len(aggs)
                aggs.append(call)
            return Ref(t, nkeys + nprops + agg_index[key], key)

        key_types = [e.type.with_nullable(True) if has_sets else e.type for e in pre[:nkeys]]

        def group_hook(node: exp.Expr) -> Expr | None:
            if isinstance(node, exp.Anonymous):
                fname = node.name.upper()
                parts = fname.split("_")
                if len(parts) == 2 and parts[0] in ("TUMBLE", "HOP", "SESSION") and parts[1] in LEGACY_PROPS:
                    if spec is None or not legacy or not same_group_window(node, legacy[0], scope):
                        raise ValidationError(f"{_where(node)}Call to auxiliary group function '{fname}' must have "
                                              f"matching call to group function '${parts[0]}' in GROUP BY clause")
                    prop = LEGACY_PROPS[parts[1]]
                    attr = time_source.fields[spec.time_index].type.time_attr
                    if parts[1] in ("ROWTIME", "PROCTIME") and (attr == "proctime") != (parts[1] == "PROCTIME"):
                        raise ValidationError(f"{_where(node)}{fname} needs a window on a "
                                              f"{parts[1].lower()} attribute; this window is on {attr}")
                    i = nkeys + window_props.index(prop)
                    t = window_property_type(prop, spec, time_source)
                    # Flink types TUMBLE_ROWTIME & co. nullable (its CAST of the window's rowtime); window_time is not
                    return Ref(t.with_nullable(True) if parts[1] == "ROWTIME" else t, i, prop)
            if isinstance(node, (exp.GroupingId, exp.Grouping)) or (
                    isinstance(node, exp.Anonymous) and node.name.upper() in ("GROUPING_ID", "GROUPING")):
                return self._grouping_id(node, key_nodes, sets_spec, nkeys + len(window_props), key_nodes, binder)
            if window_agg and isinstance(node, exp.Column) and node.name in props and not node.table:
                i = nkeys + window_props.index(node.name)
                return Ref(window_property_type(node.name, spec, time_source), i, node.name)
            if window_agg and isinstance(node, exp.Column) and node.name == "window_time" and not node.table:
                i = nkeys + window_props.index("window_time")
                return Ref(window_property_type("window_time", spec, time_source), i, "window_time")
            if contains_agg(node) or isinstance(node, (exp.Literal, exp.Star)):
                return None
            try:
                e = ScalarBinder(scope).bind(node)
            except ValidationError:
                return None
            s = str(e)
            for i, k in enumerate(pre_keys):
                if k == s:
                    return Ref(key_types[i], i, output_name(node, i))
            if isinstance(node, exp.Column):
                raise ValidationError(f"{_where(node)}Expression '{node.sql(dialect='flink')}' is not being grouped")
            return None

        post_binder = ScalarBinder(Scope([]), agg_hook=agg_hook, group_hook=group_hook)
        out_exprs, out_names = self._bind_projection(sel, post_binder, Scope([]))
        having_cond = self._bind_condition(post_binder, having) if having is not None else None
        # the window's columns are keys after the others (read through them above), projected last
        window_keys = list(range(len(pre), len(pre) + len(window_props)))
        for i, p in enumerate(window_props):
            t = window_property_type(p, spec, time_source)
            pre.append(Ref(t, len(tvf.input.fields) + i, p) if window_agg else WindowBound(t, p, spec))
        # build: input -> pre Calc -> aggregate -> post Calc
        pre_names = [f"$f{i}" for i in range(len(pre))]
        pre_calc = project(input_node, pre, pre_names, cond)
        prop_fields = [L.Field(p, window_property_type(p, spec, time_source)) for p in window_props]
        if has_sets:
            prop_fields.append(L.Field("$grouping_set", INT.with_nullable(False)))
        fields = [L.Field(pre_names[i], key_types[i]) for i in range(nkeys)] + prop_fields + \
                 [L.Field(str(a), a.type) for a in aggs]
        grouping_sets = None
        if has_sets:
            grouping_sets = []
            for s in sets_spec["sets"]:
                members = []
                for m in s:
                    for i, k in enumerate(key_nodes):
                        if k == m:
                            members.append(i)
                grouping_sets.append(sorted(set(members)) + list(range(nkeys, nkeys + len(window_props))))
        mode = "I,UB,UA" if not input_node.updating else L.RETRACT
        # a plain GROUP BY; rules make a window aggregation of it when it groups by a window, or a cascaded
        # window aggregation (planner/rules/streaming.py)
        agg = streaming_shape(sel, L.GroupAggregate(fields, mode, input=pre_calc,
                                                     keys=list(range(nkeys)) + window_keys, aggs=aggs,
                                                     grouping_sets=grouping_sets, state_ttl=_hinted_ttl(sel)))
        return project(agg, out_exprs, out_names, having_cond)

    def _grouping_id(self, node, key_nodes, sets_spec, gs_index, _keys, binder) -> Expr:
        if sets_spec is None:
            return Lit(BIGINT.with_nullable(False), 0)
        args = list(node.expressions)
        ids = []
        for s in sets_spec["sets"]:
            v = 0
            for a in args:
                v = (v << 1) | (0 if any(a == m for m in s) else 1)
            ids.append(v)
        t = BIGINT.with_nullable(False)  # GROUPING and GROUPING_ID are both BIGINT NOT NULL in Flink
        return Call(t, "GROUPING_ID", (Ref(INT.with_nullable(False), gs_index, "$grouping_set"),
                                       Lit(t, tuple(ids))))


def _hinted_ttl(sel: exp.Select) -> int | None:
    """The STATE_TTL hint's time-to-live for an aggregation of one FROM item, by that item's name (a join's
    inputs take their hint at the join)."""
    ttl = query_hints(sel).state_ttl
    frm = sel.args.get("from_")
    if not ttl or sel.args.get("joins") or frm is None or not isinstance(frm.this, (exp.Table, exp.Subquery)):
        return None
    return ttl.get(frm.this.alias_or_name)
