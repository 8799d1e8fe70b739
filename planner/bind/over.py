"""OVER aggregation: AGG(..) OVER (PARTITION BY .. ORDER BY a time attribute [frame])."""
from __future__ import annotations

import re

from sqlglot import exp

from sqlstream.core.errors import ValidationError
from sqlstream.plan import logical as L
from sqlstream.plan.expr import Call, Expr, Ref
from sqlstream.planner.bind.aggregate_calls import agg_parts
from sqlstream.planner.bind.relation import identity, project
from sqlstream.planner.functions import aggregate_type
from sqlstream.planner.scalar_binder import interval_value, ScalarBinder, _where

RANKING_OVER_FUNCTIONS = ("ROW_NUMBER", "RANK", "DENSE_RANK")


def over_frame(call: exp.Expr, window: exp.Window) -> tuple[str, str]:
    """(ROWS or RANGE, start) of an OVER call's frame: ORDER BY alone means RANGE from UNBOUNDED PRECEDING, and
    ROW_NUMBER counts ROWS; ranking functions take no frame of their own."""
    wspec = window.args.get("spec")
    ranking = isinstance(call, (exp.RowNumber, exp.Rank, exp.DenseRank))
    if ranking and wspec is not None:
        raise ValidationError(f"{_where(wspec)}ROW/RANGE not allowed with RANK, DENSE_RANK or ROW_NUMBER functions")
    if wspec is None:
        return ("ROWS" if isinstance(call, exp.RowNumber) else "RANGE"), "UNBOUNDED"
    return wspec.args.get("kind", "ROWS").upper(), str(wspec.args.get("start")).upper()


class OverWindows:
    """The Binder's OVER aggregation."""

    def _bind_over(self, sel: exp.Select) -> L.Node:
        """SELECT .., AGG(..) OVER (PARTITION BY .. ORDER BY rowtime ROWS|RANGE BETWEEN .. PRECEDING AND
        CURRENT ROW): input columns pass through, one column per aggregate is appended."""
        if sel.args.get("group") or sel.args.get("having"):
            raise ValidationError(f"{_where(sel)}OVER aggregation cannot be combined with GROUP BY")
        rel = self._bind_from(sel)
        node, scope = rel.node, rel.scope
        if node.updating:
            raise ValidationError(f"{_where(sel)}StreamPhysicalOverAggregate doesn't support consuming update and "
                                  f"delete changes which is produced by an updating input (OVER aggregation needs "
                                  f"an insert-only input)")
        binder = ScalarBinder(scope)
        where = sel.args.get("where")
        if where is not None:
            node = project(node, identity(node), node.names, self._bind_condition(binder, where))
        named = {w.this.name: w for w in (sel.args.get("windows") or [])}
        seen: dict[str, str] = {}
        for name, w in named.items():  # Calcite refuses two names for one window
            text = w.copy()
            text.set("this", None)
            if seen.setdefault(text.sql(dialect="flink"), name) != name:
                raise ValidationError(f"{_where(w)}Duplicate window specification not allowed in the same window "
                                      f"clause")
        spec_key, spec = None, None
        calls: list[exp.Window] = [w for e in sel.expressions for w in e.find_all(exp.Window)]
        for w in calls:
            d = named.get(w.alias) if w.args.get("alias") is not None and not w.args.get("partition_by") \
                and not w.args.get("order") else w
            if d is None:
                raise ValidationError(f"{_where(w)}Window '{w.alias}' is not defined")
            if not isinstance(d, exp.Window):
                raise ValidationError(f"{_where(w)}OVER needs a window: OVER (PARTITION BY .. ORDER BY ..) or "
                                      f"the name of one defined in WINDOW")
            key = (tuple(p.sql() for p in d.args.get("partition_by") or []),
                   d.args["order"].sql() if d.args.get("order") else "")
            frame_key = over_frame(w.this, d)
            if spec_key is not None and key != spec_key[0]:
                raise ValidationError(f"{_where(w)}All OVER aggregates of a SELECT must use the same window")
            if spec_key is not None and frame_key != spec_key[1]:
                raise ValidationError(f"{_where(w)}Over Agg: Unsupported use of OVER windows. All aggregates must be "
                                      f"computed on the same window. please re-check the over window statement.")
            spec_key, spec = (key, frame_key), d
        if spec is None:
            raise ValidationError(f"{_where(sel)}A WINDOW clause defines windows for OVER aggregates, and this "
                                  f"SELECT has none")
        partition = [binder.bind(p) for p in spec.args.get("partition_by") or []]
        order = spec.args.get("order")
        if order is None or len(order.expressions) != 1:
            raise ValidationError(f"{_where(spec)}OVER windows need ORDER BY on one time attribute")
        ordered = order.expressions[0]
        time_expr = binder.bind(ordered.this)
        if not isinstance(time_expr, Ref) or time_expr.type.time_attr is None or ordered.args.get("desc"):
            raise ValidationError(f"{_where(ordered)}OVER windows can only be ordered by a time attribute in "
                                  f"ascending order")
        frame, preceding = spec_key[1][0], None
        wspec = spec.args.get("spec")
        if wspec is not None:
            frame = wspec.args.get("kind", "ROWS").upper()
            start = wspec.args.get("start")
            end = wspec.args.get("end")
            if end is None and wspec.args.get("start_side", "").upper() == "PRECEDING":
                end = "CURRENT ROW"  # `RANGE UNBOUNDED PRECEDING`, `ROWS 2 PRECEDING`: frames that end at the row
            if str(end).upper() != "CURRENT ROW":
                raise ValidationError(f"{_where(wspec)}OVER windows must end at CURRENT ROW")
            if isinstance(start, exp.Interval):
                preceding = interval_value(start)[0]
            elif isinstance(start, exp.Literal):
                if start.is_string or not re.fullmatch(r"\d+", start.this):
                    raise ValidationError(f"{_where(start) or _where(wspec)}{frame} value must be a non-negative "
                                          f"integral constant, got {start.sql(dialect='flink')}")
                preceding = int(start.this)
            elif isinstance(start, exp.Neg):
                raise ValidationError(f"{_where(start) or _where(wspec)}{frame} value must be a non-negative "
                                      f"integral constant, got {start.sql(dialect='flink')}")
            elif str(start).upper() != "UNBOUNDED":
                raise ValidationError(f"{_where(wspec)}Unsupported OVER frame start {start}")
            if frame == "ROWS" and isinstance(start, exp.Interval) or frame == "RANGE" and isinstance(start, exp.Literal):
                raise ValidationError(f"{_where(wspec)}ROWS frames take a row count, RANGE frames an INTERVAL")
        pre = identity(node)
        n_in = len(pre)

        def arg_index(e: Expr) -> int:
            for i, p in enumerate(pre):
                if str(p) == str(e):
                    return i
            pre.append(e)
            return len(pre) - 1
        pidx = [arg_index(p) for p in partition]
        aggs: list[L.AggCall] = []

        def over_hook(n: exp.Expr) -> Expr | None:
            if not isinstance(n, exp.Window):
                return None
            name, distinct, arg_nodes = agg_parts(n.this)
            if name.startswith("JSON_"):  # Flink's parser takes JSON_ARRAYAGG/JSON_OBJECTAGG only without OVER
                raise ValidationError(f"{_where(n)}Incorrect syntax near the keyword 'OVER': {name} is not an "
                                      f"OVER aggregate")
            if distinct and preceding is not None and name in ("ARRAY_AGG", "LISTAGG"):
                raise ValidationError(f"{_where(n)}{name}(DISTINCT ..) over a bounded OVER frame is not supported "
                                      f"yet (its order depends on the rows that left the frame)")
            if name in RANKING_OVER_FUNCTIONS:
                # the number of rows in the frame: ROW_NUMBER's is ROWS, RANK's and DENSE_RANK's RANGE, so rows
                # with equal timestamps share a rank (Flink's streaming ranks never compare order values)
                name = "COUNT"
            args = [binder.bind(a) for a in arg_nodes]
            t = aggregate_type(name, [a.type for a in args], distinct)
            aggs.append(L.AggCall(name, tuple(arg_index(a) for a in args), t, distinct))
            return Ref(t, -len(aggs), name)  # fixed up below once the input width is known
        post = ScalarBinder(scope, group_hook=over_hook)
        out_exprs, out_names = self._bind_projection(sel, post, scope)
        pre_calc = project(node, pre, [f"$f{i}" if i >= n_in else node.names[i] for i in range(len(pre))])
        fields = list(pre_calc.fields) + [L.Field(f"$agg{i}", a.type) for i, a in enumerate(aggs)]
        over = L.OverAggregate(fields, L.INSERT_ONLY, input=pre_calc, partition=pidx, time_index=time_expr.index,
                               frame=frame, preceding=preceding, aggs=aggs,
                               rowtime=time_expr.type.time_attr == "rowtime")
        width = len(pre)

        def fix(e: Expr) -> Expr:
            if isinstance(e, Ref) and e.index < 0:
                return Ref(e.type, width + (-e.index - 1), e.name)
            if isinstance(e, Call):
                return Call(e.type, e.fn, tuple(fix(a) for a in e.args))
            return e
        return project(over, [fix(e) for e in out_exprs], out_names)
