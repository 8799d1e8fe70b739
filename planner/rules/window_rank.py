"""Window Top-N: a Top-N whose PARTITION BY holds the window_start and window_end of a windowed insert-only input
ranks each window once, when the watermark closes it (Flink's WindowRank; insert-only output)."""
from __future__ import annotations

from sqlstream.core.errors import ValidationError
from sqlstream.plan import logical as L
from sqlstream.planner.windowing import is_window_rowtime, window_columns


def rule(node: L.Node) -> L.Node | None:
    if type(node) is not L.Rank:
        return None
    wcols = window_columns(node.input)
    partition = set(node.partition)
    if wcols is None or not (partition & wcols[0] and partition & wcols[1]):
        return None
    if node.input.updating:
        raise ValidationError("StreamPhysicalWindowRank doesn't support consuming update and delete changes which "
                              "is produced by an updating input (a window Top-N needs an insert-only input)")
    # keep-last window deduplication: of rows with equal times, the newer is kept (Flink's window dedup)
    keep_last = node.limit == 1 and len(node.order) == 1 and node.order[0][1] \
        and is_window_rowtime(node.input, node.order[0][0])
    return L.WindowRank(node.fields, L.INSERT_ONLY, input=node.input, partition=node.partition, order=node.order,
                        limit=node.limit, with_rank=True, window_end=min(partition & wcols[1]),
                        newest_wins_ties=keep_last)
