"""Legacy group windows: GROUP BY TUMBLE | HOP | SESSION(ts, INTERVAL ..), checked and read as the window they name
(the GROUP BY keys on its bounds), and their auxiliary functions (TUMBLE_START ..)."""
from __future__ import annotations

from sqlglot import exp

from sqlstream.core.errors import ValidationError
from sqlstream.plan import logical as L
from sqlstream.planner.bind.window_tvf import window_zone_offset
from sqlstream.planner.scalar_binder import interval_value, Scope, _where

LEGACY_PROPS = {"START": "window_start", "END": "window_end", "ROWTIME": "window_time", "PROCTIME": "window_time"}


def same_group_window(aux: exp.Anonymous, group: exp.Anonymous, scope: Scope) -> bool:
    """TUMBLE_START(ts, INTERVAL ..) and its kin name the GROUP BY's window: same kind, column and intervals."""
    a, b = aux.expressions, group.expressions
    if aux.name.upper().split("_")[0] != group.name.upper() or len(a) != len(b) or not a:
        return False
    if not isinstance(a[0], exp.Column):
        return False
    if scope.resolve(a[0].name, a[0].table or None, a[0]) != scope.resolve(b[0].name, b[0].table or None, b[0]):
        return False
    for x, y in zip(a[1:], b[1:]):
        if not (isinstance(x, exp.Interval) and isinstance(y, exp.Interval)) or \
                interval_value(x)[0] != interval_value(y)[0]:
            return False
    return True


class LegacyWindows:
    """The Binder's legacy group windows."""

    def _legacy_window(self, g: exp.Anonymous, scope: Scope, node: L.Node) -> L.WindowSpec:
        kind = g.name.upper()
        args = g.expressions
        least = {"HOP": 3}.get(kind, 2)
        if len(args) < least:
            raise ValidationError(f"{_where(g)}Invalid number of arguments to function '{kind}'. Was expecting "
                                  f"{least} arguments")
        col = args[0]
        if not isinstance(col, exp.Column):
            raise ValidationError(f"{_where(g)}{kind} expects a time attribute column as its first argument")
        ti = scope.resolve(col.name, col.table or None, col)
        proctime = node.fields[ti].type.time_attr == "proctime"
        if node.fields[ti].type.time_attr != "rowtime" and not proctime:
            raise ValidationError(f"{_where(g)}Window can only be defined on a time attribute column, but is type "
                                  f"of {node.fields[ti].type}")
        zone_offset = window_zone_offset(node.fields[ti].type, g)
        iv = [interval_value(a)[0] if isinstance(a, exp.Interval) else None for a in args[1:]]
        if None in iv or not iv:
            raise ValidationError(f"{_where(g)}{kind} expects INTERVAL arguments")
        if kind == "SESSION" and proctime:
            raise ValidationError(f"{_where(g)}SESSION windows on a processing-time attribute are not supported yet")
        if kind == "TUMBLE":
            if iv[0] <= 0:
                raise ValidationError(f"{_where(g)}TumblingWindowAssigner parameters must satisfy size > 0")
            return L.WindowSpec("TUMBLE", ti, size=iv[0], proctime=proctime, zone_offset=zone_offset)
        if kind == "HOP":
            if len(iv) < 2 or iv[0] <= 0 or iv[1] <= 0:
                raise ValidationError(f"{_where(g)}SlidingWindowAssigner parameters must satisfy slide > 0 and "
                                      f"size > 0")
            return L.WindowSpec("HOP", ti, slide=iv[0], size=iv[1], proctime=proctime, zone_offset=zone_offset)
        if iv[0] <= 0:
            raise ValidationError(f"{_where(g)}SessionWindowAssigner parameters must satisfy 0 < size")
        return L.WindowSpec("SESSION", ti, gap=iv[0], zone_offset=zone_offset)
