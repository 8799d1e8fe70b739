"""Event-time temporal join: a join whose right side is a versioned table as of the left row's rowtime
(`JOIN rates FOR SYSTEM_TIME AS OF o.ts ON o.currency = rates.currency`) joins each left row, once the watermark
passes its time, with the version of the right row valid then (Flink's TemporalJoin; insert-only output). The
binder has checked what the catalog says: the versioned table has a primary key (declared, or the keep-last
deduplication of a versioned view), an event-time attribute and an equality on that key; the left side is
append-only."""
from __future__ import annotations

from sqlstream.plan import logical as L


def rule(node: L.Node) -> L.Node | None:
    if type(node) is not L.Join or not isinstance(node.right, L.Snapshot) or node.right.time is None \
            or node.right.time.type.time_attr != "rowtime":
        return None
    right = node.right.input
    rtime = next(i for i, f in enumerate(right.fields) if f.type.time_attr == "rowtime")
    rf = [L.Field(f.name, f.type.without_time_attr().with_nullable(True) if node.kind == "LEFT"
                  else f.type.without_time_attr()) for f in right.fields]
    return L.TemporalJoin(list(node.left.fields) + rf, L.INSERT_ONLY, left=node.left, right=right, kind=node.kind,
                          left_keys=node.left_keys, right_keys=node.right_keys, condition=node.condition,
                          left_time=node.right.time.index, right_time=rtime)
