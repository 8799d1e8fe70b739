"""Window join: a join of two windowed inputs (the same windows) on equal window_start and window_end joins each
window once, when the watermark closes it (Flink's WindowJoin; insert-only output). An EXISTS / NOT EXISTS on
the window bounds is a window semi / anti join the same way."""
from __future__ import annotations

from sqlstream.core.errors import ValidationError
from sqlstream.plan import logical as L
from sqlstream.planner.windowing import same_windows, window_bounds


def rule(node: L.Node) -> L.Node | None:
    if type(node) is not L.Join or node.null_aware or node.nulls_equal:
        return None
    ends = window_join_ends(node.left, node.right, node.left_keys, node.right_keys)
    if ends is None:
        return None
    if node.left.updating or node.right.updating:
        if node.kind in ("SEMI", "ANTI"):
            return None  # a regular semi/anti join then
        raise ValidationError("StreamPhysicalWindowJoin doesn't support consuming update and delete changes which "
                              "is produced by an updating input (a window join needs insert-only inputs)")
    return L.WindowJoin(node.fields, L.INSERT_ONLY, left=node.left, right=node.right, kind=node.kind,
                        left_keys=node.left_keys, right_keys=node.right_keys, condition=node.condition,
                        left_end=ends[0], right_end=ends[1])


def window_join_ends(left: L.Node, right: L.Node, lkeys: list[int], rkeys: list[int]) -> tuple[int, int] | None:
    """The window_end columns of a join of two windowed inputs (the same windows) on equal window_start and
    window_end, as Flink plans a window join; None for any other join."""
    lw, rw = window_bounds(left), window_bounds(right)
    if lw is None or rw is None or not same_windows(lw[2], rw[2]):
        return None
    pairs = set(zip(lkeys, rkeys))
    if (lw[0], rw[0]) in pairs and (lw[1], rw[1]) in pairs:
        return lw[1], rw[1]
    return None
