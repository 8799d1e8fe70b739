"""Top-N changes of partitions that hold nothing when a batch starts, computed over the batch instead of a step per
row (RankOperator): per partition, a matrix of its changes (an add, or the retraction of one of its adds) against
its adds in list order (sort key, then arrival) says which adds are held just before each change; a running count
along each row gives their ranks. That gives each change's rank, the rows its partition holds and its first N + 1
rows just before it, which is all the per-row step reads to emit its changelog. Partitions are put in blocks of
equal matrix width (the next power of two of their add count), so each block is a few dense numpy operations; the
cost is changes x adds per partition, so the caller sends only partitions of at most MAX_CHANGES changes."""
from __future__ import annotations

import numpy as np

from sqlstream.core.changelog import DELETE, INSERT, UPDATE_AFTER, UPDATE_BEFORE
from sqlstream.runtime.prefix_top import prefix_smallest

MAX_CHANGES = 128
_NEVER = np.iinfo(np.int64).max


def fresh_changes(rows: np.ndarray, gids: np.ndarray, adds: np.ndarray, keys: np.ndarray, seqs: np.ndarray,
                  refs: np.ndarray, limit: int, with_rank: bool) -> tuple[np.ndarray, np.ndarray]:
    """The changes `rows` (batch rows, ascending) of partitions `gids` that held nothing before them, each an add
    (`adds`: store row `refs`, packed sort key `keys`, signed arrival `seqs`) or the retraction of an add among them
    (`refs`: the store row it takes). Returns the changelog as an (m, 4) array of (batch row, store row, row kind,
    rank), per batch row in the order the per-row step emits it, and the adds held at the end (indexes into the
    changes) in list order: by partition, sort key, arrival.

    An add behind N adds that arrived before it and stay to the end of the batch never ranks within N, nor is it
    the row that moves up when a row ahead of it leaves (that row has N others ahead too): neither it nor its
    retraction emits anything, the first N + 1 rows of any change that emits are the same without it, and so is
    the number held where it matters (N or fewer). Such adds and their retractions are left out of the matrices,
    which shrinks them several times over when partitions hold more than a few rows."""
    el = np.flatnonzero(adds)
    add_of = _add_of_change(adds, refs, el)
    order = np.lexsort((seqs[el], keys[el], gids[el]))
    held_to_end = np.ones(len(el), bool)
    held_to_end[add_of[~adds]] = False
    ranked = _may_rank(rows[el][order], gids[el][order], held_to_end[order], limit)
    may = np.empty(len(el), bool)
    may[order] = ranked
    changes = _changes(*(a[may[add_of]] for a in (rows, gids, adds, keys, seqs, refs)), limit, with_rank)
    return changes, el[order][held_to_end[order]]


def _add_of_change(adds: np.ndarray, refs: np.ndarray, el: np.ndarray) -> np.ndarray:
    """Per change, the index (into the adds `el`) of its add: itself, or the one it retracts (store rows of one
    batch ascend with arrival)."""
    of_change = np.empty(len(adds), np.int64)
    of_change[el] = np.arange(len(el))
    gone = np.flatnonzero(~adds)
    of_change[gone] = np.searchsorted(refs[el], refs[gone])
    return of_change


def _may_rank(born: np.ndarray, gids: np.ndarray, stays: np.ndarray, limit: int) -> np.ndarray:
    """Per add in list order (partitions `gids` contiguous; `born` its batch row, `stays` held to the end): whether
    fewer than N of the adds ahead of it in its partition arrived before it and stay."""
    n = len(born)
    if not n:
        return np.zeros(0, bool)
    starts = np.flatnonzero(np.r_[True, gids[1:] != gids[:-1]])
    sizes = np.diff(np.r_[starts, n])
    widths = np.maximum(4, 1 << np.ceil(np.log2(np.maximum(sizes, 1))).astype(np.int64))
    if n * limit < int((widths * sizes).sum()):
        return _may_rank_by_prefixes(born, stays, starts, sizes, limit)
    part = np.repeat(np.arange(len(starts)), sizes)
    column = np.arange(n) - np.repeat(starts, sizes)
    ahead = np.zeros(n, np.int64)
    for w in np.unique(widths).tolist():
        parts = np.flatnonzero(widths == w)
        block = np.full(len(widths), -1, np.int64)
        block[parts] = np.arange(len(parts))
        members = np.flatnonzero(block[part] >= 0)
        guard = np.full((len(parts), w), _NEVER, np.int64)  # the batch row of each add that stays
        at = (block[part[members]], column[members])
        guard[at] = np.where(stays[members], born[members], _NEVER)
        before = np.arange(w)[None, :] < column[members][:, None]
        ahead[members] = ((guard[block[part[members]]] < born[members][:, None]) & before).sum(axis=1)
    return ahead < limit


def _may_rank_by_prefixes(born: np.ndarray, stays: np.ndarray, starts: np.ndarray, sizes: np.ndarray,
                          limit: int) -> np.ndarray:
    """_may_rank in N passes over the adds instead of a matrix per partition (cheaper for a small N): the N-th
    earliest arrival among the stayers ahead of an add is the N-th smallest of its prefix (`prefix_smallest`).
    Each partition's values lie in a band of its own, lower than the bands of the partitions before it, so
    prefixes start afresh at each partition; an add that does not stay takes the top of its band, which is
    never earlier than an arrival."""
    n, span = len(born), int(born.max()) + 2
    band = np.repeat((len(starts) - 1 - np.arange(len(starts))) * span, sizes)
    values = band + np.where(stays, born, span - 1)
    nth = np.empty(n, np.int64)
    nth[0] = len(starts) * span  # nothing ahead of the first add
    if n > 1:
        nth[1:] = prefix_smallest(values[:-1], limit, len(starts) * span)[:, limit - 1]
    return ~(nth < band + born)


def _changes(rows: np.ndarray, gids: np.ndarray, adds: np.ndarray, keys: np.ndarray, seqs: np.ndarray,
             refs: np.ndarray, limit: int, with_rank: bool) -> np.ndarray:
    """fresh_changes' changelog, over a matrix per partition of all its changes against all its adds."""
    n = len(rows)
    el = np.flatnonzero(adds)
    of_change = _add_of_change(adds, refs, el)
    gone = np.flatnonzero(~adds)
    until = np.full(len(el), _NEVER, np.int64)  # batch row of each add's retraction
    until[of_change[gone]] = rows[gone]
    since = rows[el]
    # adds in list order, and each add's partition and column in its partition's matrix
    order = np.lexsort((seqs[el], keys[el], gids[el]))
    sorted_g = gids[el][order]
    starts = np.flatnonzero(np.r_[True, sorted_g[1:] != sorted_g[:-1]]) if len(el) else np.zeros(0, np.int64)
    sizes = np.diff(np.r_[starts, len(el)])
    part_of_add = np.empty(len(el), np.int64)
    part_of_add[order] = np.repeat(np.arange(len(starts)), sizes)
    column = np.empty(len(el), np.int64)
    column[order] = np.arange(len(el)) - np.repeat(starts, sizes)
    part_of_change = part_of_add[of_change]
    widths = np.maximum(4, 1 << np.ceil(np.log2(np.maximum(sizes, 1))).astype(np.int64))
    pos, end = np.zeros(n, np.int64), np.zeros(n, np.int64)
    top = np.full((n, limit + 1), -1, np.int64)  # the partition's first N + 1 store rows just before the change
    for w in np.unique(widths).tolist():
        parts = np.flatnonzero(widths == w)
        block = np.full(len(widths), -1, np.int64)
        block[parts] = np.arange(len(parts))
        members = np.flatnonzero(block[part_of_add] >= 0)
        at = (block[part_of_add[members]], column[members])
        born = np.full((len(parts), w), _NEVER, np.int64)  # an empty column is never held
        dies = np.full((len(parts), w), _NEVER, np.int64)
        stored = np.full((len(parts), w), -1, np.int64)
        born[at], dies[at], stored[at] = since[members], until[members], refs[el[members]]
        changes = np.flatnonzero(block[part_of_change] >= 0)
        b = block[part_of_change[changes]]
        t = rows[changes][:, None]
        holds = (born[b] < t) & (dies[b] >= t)  # held just before the change (a retracted add too)
        rank = np.cumsum(holds, axis=1)
        end[changes] = rank[:, -1]
        rank -= holds  # held adds ahead in list order
        pos[changes] = rank[np.arange(len(changes)), column[of_change[changes]]]
        r, c = np.nonzero(holds & (rank <= limit))
        top[changes[r], rank[r, c]] = stored[b[r], c]
    return _changelog(rows, adds, refs, pos, end, top, limit, with_rank)


def _changelog(rows: np.ndarray, adds: np.ndarray, own: np.ndarray, pos: np.ndarray, end: np.ndarray,
               top: np.ndarray, limit: int, with_rank: bool) -> np.ndarray:
    """What the per-row step emits for each change, from its rank `pos`, the rows held `end` and the first N + 1
    store rows `top` just before it (`own`: an add's store row, or the one a retraction takes)."""
    n = len(rows)
    live = pos < limit
    if not with_rank:
        # an add: -D of the row it pushes out (rank N), +I of itself; a retraction: -D of itself, +I of the next
        kind = np.empty((n, 2), np.int64)
        kind[:, 0], kind[:, 1] = DELETE, INSERT
        ref = np.column_stack([np.where(adds, top[:, limit - 1], own), np.where(adds, own, top[:, limit])])
        rank = np.column_stack([np.where(adds, limit, pos + 1), np.where(adds, pos + 1, limit)])
        ok = np.column_stack([live & (~adds | (end >= limit)), live & (adds | (end > limit))])
    else:
        # per rank j from the change's rank to the last it moves: -U/+U of the rows before and after, +I of a rank
        # that fills, -D of one that empties
        j = np.arange(limit)[None, :]
        a = adds[:, None]
        hi = np.where(adds, np.minimum(end + 1, limit), np.minimum(end, limit))[:, None]
        moves = (j >= pos[:, None]) & (j < hi)
        after_add = np.where(j == pos[:, None], own[:, None],
                             np.concatenate([np.full((n, 1), -1, np.int64), top[:, :limit - 1]], axis=1))
        add_update = a & (j < np.minimum(end, limit)[:, None])
        update = add_update | (~a & (j + 1 < end[:, None]))
        kind = np.empty((n, limit, 2), np.int64)
        kind[..., 0] = np.where(update, UPDATE_BEFORE, np.where(a, INSERT, DELETE))
        kind[..., 1] = UPDATE_AFTER
        ref = np.empty((n, limit, 2), np.int64)
        ref[..., 0] = np.where(a & ~add_update, after_add, top[:, :limit])
        ref[..., 1] = np.where(a, after_add, top[:, 1:limit + 1])
        rank = np.broadcast_to(j[..., None] + 1, (n, limit, 2))
        ok = np.stack([moves, moves & update], axis=2)
    slots = ok.size // max(n, 1)
    ok = ok.reshape(-1)
    return np.column_stack([np.repeat(rows, slots)[ok], ref.reshape(-1)[ok], kind.reshape(-1)[ok],
                            np.asarray(rank).reshape(-1)[ok]])


def behind_stayers(rows: np.ndarray, gids: np.ndarray, adds: np.ndarray, keys: np.ndarray, seqs: np.ndarray,
                   refs: np.ndarray, limit: int) -> np.ndarray:
    """Of the changes of partitions that held nothing before them (as fresh_changes takes them), those that can be
    left out of the per-row steps: the adds behind N adds that arrived before them and stay to the end of the
    batch, and their retractions (see fresh_changes). Looked for in O(n log n) for partitions of any size, among
    runs of N consecutive stayers of a partition by arrival: an add is behind a run that arrived before it and
    whose last row in list order is ahead of it."""
    n = len(rows)
    el = np.flatnonzero(adds)
    add_of = _add_of_change(adds, refs, el)
    stays = np.ones(len(el), bool)
    stays[add_of[~adds]] = False
    order = np.lexsort((seqs[el], keys[el], gids[el]))
    place = np.empty(len(el), np.int64)  # position in list order (partitions apart)
    place[order] = np.arange(len(el))
    g, born = gids[el], rows[el]
    s = np.flatnonzero(stays)
    s = s[np.argsort(g[s], kind="stable")]  # stayers by partition, then arrival
    runs = len(s) - limit + 1
    if runs <= 0:
        return np.zeros(n, bool)
    last = place[s[:runs]].copy()  # the last in list order of each run of `limit` stayers
    for d in range(1, limit):
        np.maximum(last, place[s[d:d + runs]], out=last)
    one = g[s[:runs]] == g[s[limit - 1:]]
    run_g, arrived, last = g[s[:runs]][one], born[s[limit - 1:]][one], last[one]
    if not len(run_g):
        return np.zeros(n, bool)
    span = n + 1
    top = int(run_g.max()) + 1
    # per partition, the least `last` over the runs that arrived before a row: a running minimum, each partition
    # lifted above the ones after it so that it never reaches into them
    least = np.minimum.accumulate(last + (top - run_g) * span)
    at = np.searchsorted(run_g * span + arrived, g * span + born) - 1
    found = at >= 0
    found[found] &= run_g[at[found]] == g[found]
    behind = np.zeros(len(el), bool)
    behind[found] = least[at[found]] - (top - g[found]) * span < place[found]
    return behind[add_of]
