"""Window table functions in FROM: TABLE(TUMBLE | HOP | CUMULATE | SESSION(TABLE t, DESCRIPTOR(ts), ..))."""
from __future__ import annotations

import datetime as dt
from dataclasses import replace

from sqlglot import exp

from sqlstream.core.errors import ValidationError
from sqlstream.core.types import FlinkType
from sqlstream.dialect import expressions as fx
from sqlstream.plan import logical as L
from sqlstream.plan.expr import Call, Ref
from sqlstream.planner.bind.relation import fields_scope, Relation
from sqlstream.planner.scalar_binder import interval_value, session_zone, _tzinfo, _where


def require_positive_window(spec: L.WindowSpec, call: exp.Expr) -> None:
    """Window sizes, slides, steps and gaps must be positive (Flink's messages)."""
    k = spec.kind
    if k == "TUMBLE" and spec.size <= 0:
        msg = f"size to be positive, but got {spec.size} ms."
    elif k == "HOP" and (spec.slide <= 0 or spec.size <= 0):
        msg = f"slide and size to be positive, but got slide {spec.slide} ms and size {spec.size} ms."
    elif k == "CUMULATE" and (spec.size <= 0 or spec.step <= 0):
        msg = f"maxSize and step to be positive, but got maxSize {spec.size} ms and step {spec.step} ms."
    elif k == "SESSION" and spec.gap <= 0:
        msg = f"gap to be positive, but got gap {spec.gap} ms."
    else:
        return
    raise ValidationError(f"{_where(call)}{k} table function based aggregate requires {msg}")


UTC_ZONES = ("UTC", "GMT", "Etc/UTC", "Etc/GMT", "UCT", "Zulu", "+00:00", "-00:00")


def window_zone_offset(time_type: FlinkType, node: exp.Expr) -> int:
    """The UTC offset (ms) of the wall clock windows over a time attribute are assigned on: Flink assigns those
    of a TIMESTAMP_LTZ attribute on the session zone's wall clock, 0 for a TIMESTAMP one.

    Windows take the zone's offset as one number, so a zone that keeps one offset through the year (Asia/Shanghai,
    '+08:00') is supported, taken at its offset of today's calendar (for the years from 1992 on); a zone with
    daylight saving time is refused rather than given windows an hour off around its changes."""
    zone = session_zone()
    if time_type.name != "TIMESTAMP_LTZ" or zone in UTC_ZONES:
        return 0
    tz = _tzinfo(zone)
    offsets = {tz.utcoffset(dt.datetime(year, month, 1)) for year in range(1992, 2101) for month in (1, 4, 7, 10)}
    if len(offsets) != 1:
        raise ValidationError(f"{_where(node)}Windows on a TIMESTAMP_LTZ time attribute in the session time zone "
                              f"'{zone}', which has daylight saving time, are not supported yet (Flink assigns "
                              f"them on that zone's wall clock). Use a zone with one UTC offset, such as "
                              f"'Asia/Shanghai' or '+08:00', or a TIMESTAMP(3) rowtime column.")
    return int(offsets.pop().total_seconds() * 1000)


def shifted_rowtime(node: L.Node, index: int) -> bool:
    """Whether a rowtime column is another rowtime plus or minus an interval: a time attribute for legacy group
    windows, but Flink's window table functions refuse it as a plain TIMESTAMP."""
    while isinstance(node, L.Calc):
        if not node.projections:
            node = node.input
            continue
        e = node.projections[index]
        if not isinstance(e, Ref):
            return isinstance(e, Call) and e.fn in ("+", "-")
        node, index = node.input, e.index
    return False


class WindowTvf:
    """The Binder's window table functions."""

    def _bind_tvf_call(self, call: exp.Expr, alias: str | None) -> Relation:
        if not isinstance(call, fx.WindowTVF):
            raise ValidationError(f"{_where(call)}Unsupported table function {call.sql(dialect='flink')[:60]}")
        kind = call.this.name.upper()
        args = list(call.expressions)
        named = {a.this.name.upper(): a.expression for a in args if isinstance(a, exp.Kwarg)}
        positional = [a for a in args if not isinstance(a, exp.Kwarg)]
        order = {"TUMBLE": ["DATA", "TIMECOL", "SIZE", "OFFSET"],
                 "HOP": ["DATA", "TIMECOL", "SLIDE", "SIZE", "OFFSET"],
                 "CUMULATE": ["DATA", "TIMECOL", "STEP", "SIZE", "OFFSET"],
                 "SESSION": ["DATA", "TIMECOL", "GAP"]}[kind]
        params = dict(zip(order, positional))
        params.update(named)
        table_arg = params.get("DATA")
        if not isinstance(table_arg, fx.TableArgument):
            raise ValidationError(f"{_where(call)}{kind} expects TABLE <name> as its first argument")
        rel = self._bind_named(table_arg.this, alias or table_arg.this.name, table_arg)
        desc = params.get("TIMECOL")
        if not isinstance(desc, fx.Descriptor) or len(desc.expressions) != 1:
            raise ValidationError(f"{_where(call)}{kind} expects DESCRIPTOR(<time column>) as its second argument")
        tcol = desc.expressions[0].name
        ti = rel.scope.resolve(tcol, None, desc)
        ttype = rel.node.fields[ti].type
        if ttype.time_attr not in ("rowtime", "proctime") or shifted_rowtime(rel.node, ti):
            ttype = ttype.without_time_attr()
            raise ValidationError(
                f"{_where(desc)}The window function {kind}(TABLE {table_arg.this.name}, DESCRIPTOR({tcol}), ...) "
                f"requires the timecol to be a time attribute type, but is {ttype}.")
        zone_offset = window_zone_offset(ttype, desc)

        def ms(key: str) -> int:
            v = params.get(key)
            if not isinstance(v, exp.Interval):
                raise ValidationError(f"{_where(call)}{kind} expects an INTERVAL for {key.lower()}")
            return interval_value(v)[0]
        partition = ()
        if kind == "TUMBLE":
            spec = L.WindowSpec("TUMBLE", ti, size=ms("SIZE"), offset=ms("OFFSET") if "OFFSET" in params else 0)
        elif kind == "HOP":
            spec = L.WindowSpec("HOP", ti, size=ms("SIZE"), slide=ms("SLIDE"),
                                offset=ms("OFFSET") if "OFFSET" in params else 0)
        elif kind == "CUMULATE":
            spec = L.WindowSpec("CUMULATE", ti, size=ms("SIZE"), step=ms("STEP"),
                                offset=ms("OFFSET") if "OFFSET" in params else 0)
            require_positive_window(spec, call)
            if spec.size % spec.step:
                raise ValidationError(f"{_where(call)}CUMULATE table function based aggregate requires maxSize "
                                      f"must be an integral multiple of step, but got maxSize {spec.size} ms and "
                                      f"step {spec.step} ms.")
        else:
            if table_arg.args.get("partition_by"):
                columns = table_arg.args["partition_by"]
                if not all(isinstance(c, exp.Column) for c in columns):
                    raise ValidationError(f"{_where(call)}SESSION's PARTITION BY takes column names")
                partition = tuple(rel.scope.resolve(c.name, None, c) for c in columns)
            spec = L.WindowSpec("SESSION", ti, gap=ms("GAP"), partition=partition)
        require_positive_window(spec, call)
        if ttype.time_attr == "proctime" and kind == "SESSION":
            raise ValidationError(f"{_where(call)}SESSION windows on a processing-time attribute are not "
                                  f"supported yet")
        spec = replace(spec, proctime=ttype.time_attr == "proctime", zone_offset=zone_offset)
        ws_type = FlinkType("TIMESTAMP", 3, nullable=False)
        wt_type = FlinkType(ttype.name, 3, nullable=False, time_attr="rowtime")
        fields = [L.Field(f.name, f.type.without_time_attr() if i == ti else f.type)
                  for i, f in enumerate(rel.node.fields)]
        fields += [L.Field("window_start", ws_type), L.Field("window_end", ws_type),
                   L.Field("window_time", wt_type)]
        tvf = L.WindowTableFunction(fields, rel.node.changelog, input=rel.node, window=spec)
        return Relation(tvf, fields_scope(tvf, alias or table_arg.this.name), tvf=tvf)
