"""The lists of an updating Top-N ordered by one integer column, and the step of each row on its partition's
list, compiled with numba: each row's changelog depends on the rows before it in its partition, so the work is
a sequential loop per partition that cannot be spread over columns; compiled, a step costs tens of nanoseconds
instead of a microsecond of Python.

A partition's entries (packed sort key, signed arrival, store row) are its top list, sorted, of at most
limit + 1 + spare entries, and its rest, unsorted, every entry behind every top-list entry. A row that lands
behind the top list, or retracts a rest entry, changes no rank and costs no shifting; a top list about to run
short of limit + 1 entries while its rest holds some takes the best of them first. Each kind of list lies in
segments of three pool arrays (`Segments`); a segment that fills up moves to the end of its pool with twice the
room, and the pools are packed again once moved-out segments outnumber the entries.

The loops are `runtime.compiled` kernels: Python for a short job, compiled for a long one."""
from __future__ import annotations

import numpy as np

from sqlstream.core.changelog import DELETE, INSERT, UPDATE_AFTER, UPDATE_BEFORE
from sqlstream.runtime.compiled import kernel, stepping

_UB, _UA, _INS, _DEL = int(UPDATE_BEFORE), int(UPDATE_AFTER), int(INSERT), int(DELETE)

class Segments:
    """Per partition id a segment (start, length, room) of the pool arrays key, seq, ref."""

    def __init__(self) -> None:
        self.start = np.zeros(0, np.int64)
        self.length = np.zeros(0, np.int64)
        self.room = np.zeros(0, np.int64)
        self.key, self.seq, self.ref = (np.zeros(1024, np.int64) for _ in range(3))
        self.end = 0

    def grow(self, size: int) -> None:
        more = size - len(self.start)
        if more > 0:
            self.start, self.length, self.room = (np.concatenate([a, np.zeros(more, np.int64)])
                                                  for a in (self.start, self.length, self.room))

    def arrays(self) -> tuple:
        return self.start, self.length, self.room, self.key, self.seq, self.ref, self.end

    def entries(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Every entry (partition id, packed key, signed arrival, store row), by partition in segment order."""
        used = np.flatnonzero(self.length)
        lens = self.length[used]
        at = np.repeat(self.start[used] - (np.cumsum(lens) - lens), lens) + np.arange(lens.sum())
        return np.repeat(used, lens), self.key[at], self.seq[at], self.ref[at]

    def pack(self, size: int, gids: np.ndarray, keys: np.ndarray, seqs: np.ndarray, refs: np.ndarray) -> np.ndarray:
        """The segments of partition ids below `size` made again from their entries (grouped by partition, in
        segment order), each with half its length to spare; each entry's place in its segment."""
        lengths = np.bincount(gids, minlength=size).astype(np.int64)
        room = np.where(lengths > 0, lengths + lengths // 2 + 4, 0)
        starts = np.cumsum(room) - room
        self.key, self.seq, self.ref = (np.zeros(max(1024, int(room.sum())), np.int64) for _ in range(3))
        place = np.arange(len(gids)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        at = starts[gids] + place
        self.key[at], self.seq[at], self.ref[at] = keys, seqs, refs
        self.start, self.length, self.room, self.end = starts, lengths, room, int(room.sum())
        return place


class PartitionLists:
    """The top lists and rests of the partitions; `where` per store row: its place in its partition's rest, or
    -1 (in a top list, or no longer held)."""

    def __init__(self, limit: int, spare: int) -> None:
        self.limit, self.top_max = limit, limit + 1 + max(1, spare)
        self.top, self.rest = Segments(), Segments()
        self.where = np.zeros(0, np.int64)

    def grow(self, size: int) -> None:
        """Room for partition ids below `size`."""
        self.top.grow(size)
        self.rest.grow(size)

    def fill(self, gids: np.ndarray, keys: np.ndarray, seqs: np.ndarray, refs: np.ndarray, size: int) -> None:
        """The lists from every entry held (a restore, a compaction): the best top_max of each partition in its
        top list, the others in its rest."""
        order = np.lexsort((seqs, keys, gids))
        gids, keys, seqs, refs = gids[order], keys[order], seqs[order], refs[order]
        firsts = np.flatnonzero(np.r_[True, gids[1:] != gids[:-1]]) if len(gids) else np.zeros(0, np.int64)
        place = np.arange(len(gids)) - np.repeat(firsts, np.diff(np.r_[firsts, len(gids)]))
        top = place < self.top_max
        self.top.pack(size, gids[top], keys[top], seqs[top], refs[top])
        behind = ~top
        at = self.rest.pack(size, gids[behind], keys[behind], seqs[behind], refs[behind])
        self.where = np.full(int(refs.max()) + 1 if len(refs) else 0, -1, np.int64)
        self.where[refs[behind]] = at

    def entries(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Every entry (partition id, packed key, signed arrival, store row), sorted per partition."""
        both = [np.concatenate(c) for c in zip(self.top.entries(), self.rest.entries())]
        order = np.lexsort((both[2], both[1], both[0]))
        return tuple(c[order] for c in both)

    def remap(self, new_ref: np.ndarray, size: int) -> None:
        """Store rows renumbered (`new_ref[old]`)."""
        gids, keys, seqs, refs = self.entries()
        self.fill(gids, keys, seqs, new_ref[refs], size)

    def step(self, adds: np.ndarray, gids: np.ndarray, keys: np.ndarray, seqs: np.ndarray, refs: np.ndarray,
             targets: np.ndarray, gone_seqs: np.ndarray, stored: int, with_rank: bool) -> tuple[np.ndarray, np.ndarray]:
        """Each batch row's step on its partition's list, in arrival order (`stored` store rows so far): the
        changelog (batch row, store row, row kind, rank) and the (store row, batch row) of each retraction that
        found its entry."""
        if len(self.where) < stored:
            self.where = np.concatenate([self.where, np.full(max(stored - len(self.where), len(self.where)), -1,
                                                             np.int64)])
        stepping(len(adds))
        out, matched, top, rest = steps(adds, gids, keys, seqs, refs, targets, gone_seqs, self.limit, self.top_max,
                                        with_rank, self.top.arrays(), self.rest.arrays(), self.where)
        for segments, arrays in ((self.top, top), (self.rest, rest)):
            segments.key, segments.seq, segments.ref, segments.end = arrays
        held = int(self.top.length.sum() + self.rest.length.sum())
        if self.top.end + self.rest.end > 3 * held + 65536:
            gids, keys, seqs, refs = self.entries()
            self.fill(gids, keys, seqs, refs, len(self.top.start))
        return out, matched


@kernel
def steps(adds, gids, keys, seqs, refs, targets, gone_seqs, limit, top_max, with_rank, top, rest, where):
    """The steps of `PartitionLists.step`; `top` and `rest` are the arrays of their `Segments`."""
    tstart, tlen, troom, tkey, tseq, tref, tend = top
    rstart, rlen, rroom, rkey, rseq, rref, rend = rest
    n = len(adds)
    out = np.empty((max(16, 2 * n), 4), np.int64)
    nout = 0
    matched = np.empty((n, 2), np.int64)
    nm = 0
    for i in range(n):
        g = gids[i]
        tl, rl = tlen[g], rlen[g]
        if nout + 2 * limit + 2 > len(out):
            out = _grown(out, nout + 2 * limit + 2)
        if adds[i]:
            k, s, ref = keys[i], seqs[i], refs[i]
            if rl > 0:
                last = tstart[g] + tl - 1
                if not (k < tkey[last] or (k == tkey[last] and s < tseq[last])):
                    rkey, rseq, rref, rend = _append(g, rstart, rlen, rroom, rkey, rseq, rref, rend, k, s, ref)
                    where[ref] = rl
                    continue
            pos = _bisect(tkey, tseq, tstart[g], tl, k, s, True)
            nout = _add_changes(out, nout, i, pos, ref, tref, tstart[g], tl + rl, limit, with_rank)
            if tl == troom[g]:
                tkey, tseq, tref, tend = _move(g, tstart, troom, tkey, tseq, tref, tend, tl)
            st = tstart[g]
            for j in range(st + tl, st + pos, -1):
                tkey[j], tseq[j], tref[j] = tkey[j - 1], tseq[j - 1], tref[j - 1]
            tkey[st + pos], tseq[st + pos], tref[st + pos] = k, s, ref
            where[ref] = -1
            tlen[g] = tl + 1
            if tl + 1 > top_max:  # the top list's last entry goes to the rest, ahead of every entry there
                last = st + tl
                rkey, rseq, rref, rend = _append(g, rstart, rlen, rroom, rkey, rseq, rref, rend, tkey[last],
                                                 tseq[last], tref[last])
                where[tref[last]] = rl
                tlen[g] = tl
            continue
        gone = targets[i]
        if gone < 0:
            continue
        w = where[gone]
        if w >= 0:  # a rest entry: no rank changes
            if w >= rl or rref[rstart[g] + w] != gone:
                continue
            st, last = rstart[g], rstart[g] + rl - 1
            rkey[st + w], rseq[st + w], rref[st + w] = rkey[last], rseq[last], rref[last]
            where[rref[last]] = w
            where[gone] = -1
            rlen[g] = rl - 1
            matched[nm, 0], matched[nm, 1] = gone, i
            nm += 1
            continue
        pos = _bisect(tkey, tseq, tstart[g], tl, keys[i], gone_seqs[i], False)
        if pos >= tl or tref[tstart[g] + pos] != gone:
            continue
        matched[nm, 0], matched[nm, 1] = gone, i
        nm += 1
        if rl > 0 and tl <= limit + 1:
            tkey, tseq, tref, tend = _refill(g, top_max, tstart, tlen, troom, tkey, tseq, tref, tend, rstart, rlen,
                                             rkey, rseq, rref, where)
            tl, rl = tlen[g], rlen[g]
        st, ln = tstart[g], tl + rl
        if pos < limit:
            if not with_rank:
                _put(out, nout, i, gone, _DEL, pos + 1)
                nout += 1
                if ln > limit:
                    _put(out, nout, i, tref[st + limit], _INS, limit)
                    nout += 1
            else:
                for j in range(pos, min(ln, limit)):
                    if j + 1 < ln:
                        _put(out, nout, i, tref[st + j], _UB, j + 1)
                        _put(out, nout + 1, i, tref[st + j + 1], _UA, j + 1)
                        nout += 2
                    else:
                        _put(out, nout, i, tref[st + j], _DEL, j + 1)
                        nout += 1
        for j in range(st + pos, st + tl - 1):
            tkey[j], tseq[j], tref[j] = tkey[j + 1], tseq[j + 1], tref[j + 1]
        tlen[g] = tl - 1
    return out[:nout], matched[:nm], (tkey, tseq, tref, tend), (rkey, rseq, rref, rend)


@kernel
def _bisect(pkey, pseq, st, ln, k, s, right):
    """The place of (k, s) in a sorted segment: after equal entries when `right`, else before them."""
    lo, hi = 0, ln
    while lo < hi:
        mid = (lo + hi) >> 1
        mk, ms = pkey[st + mid], pseq[st + mid]
        if mk < k or (mk == k and (ms < s or (right and ms == s))):
            lo = mid + 1
        else:
            hi = mid
    return lo


@kernel
def _add_changes(out, nout, i, pos, ref, tref, st, ln, limit, with_rank):
    """The changes of an add (batch row `i`, store row `ref`) landing at `pos` of a list of `ln` entries whose
    first ones are the top list at `st`."""
    if pos >= limit:
        return nout
    if not with_rank:
        if ln >= limit:
            _put(out, nout, i, tref[st + limit - 1], _DEL, limit)
            nout += 1
        _put(out, nout, i, ref, _INS, pos + 1)
        return nout + 1
    for j in range(pos, min(ln + 1, limit)):
        now = ref if j == pos else tref[st + j - 1]
        if j < ln:
            _put(out, nout, i, tref[st + j], _UB, j + 1)
            _put(out, nout + 1, i, now, _UA, j + 1)
            nout += 2
        else:
            _put(out, nout, i, now, _INS, j + 1)
            nout += 1
    return nout


@kernel
def _refill(g, top_max, tstart, tlen, troom, tkey, tseq, tref, tend, rstart, rlen, rkey, rseq, rref, where):
    """Moves the best entries of partition g's rest to the end of its top list, up to top_max entries."""
    want = min(top_max - tlen[g], rlen[g])
    best = np.empty(want, np.int64)  # places in the rest, sorted by entry
    nb = 0
    rs, rl = rstart[g], rlen[g]
    for p in range(rl):
        k, s = rkey[rs + p], rseq[rs + p]
        if nb == want:
            b = rs + best[nb - 1]
            if not (k < rkey[b] or (k == rkey[b] and s < rseq[b])):
                continue
            nb -= 1
        j = nb
        while j > 0 and (k < rkey[rs + best[j - 1]] or (k == rkey[rs + best[j - 1]] and s < rseq[rs + best[j - 1]])):
            best[j] = best[j - 1]
            j -= 1
        best[j] = p
        nb += 1
    tl = tlen[g]
    while troom[g] < tl + want:
        tkey, tseq, tref, tend = _move(g, tstart, troom, tkey, tseq, tref, tend, tl)
    st = tstart[g]
    for j in range(want):
        p = rs + best[j]
        tkey[st + tl + j], tseq[st + tl + j], tref[st + tl + j] = rkey[p], rseq[p], rref[p]
        where[rref[p]] = -1
    tlen[g] = tl + want
    kept = 0
    for p in range(rl):
        r = rref[rs + p]
        if where[r] >= 0:
            rkey[rs + kept], rseq[rs + kept], rref[rs + kept] = rkey[rs + p], rseq[rs + p], r
            where[r] = kept
            kept += 1
    rlen[g] = kept
    return tkey, tseq, tref, tend


@kernel
def _append(g, start, length, room, pkey, pseq, pref, end, k, s, ref):
    """Appends an entry to partition g's segment."""
    ln = length[g]
    if ln == room[g]:
        pkey, pseq, pref, end = _move(g, start, room, pkey, pseq, pref, end, ln)
    at = start[g] + ln
    pkey[at], pseq[at], pref[at] = k, s, ref
    length[g] = ln + 1
    return pkey, pseq, pref, end


@kernel
def _move(g, start, room, pkey, pseq, pref, end, ln):
    """Moves a full segment to the end of the pool with twice the room (the pool grows when it must)."""
    new_room = max(8, 2 * room[g])
    if end + new_room > len(pkey):
        size = max(2 * len(pkey), end + new_room)
        pkey, pseq, pref = _resized(pkey, size, end), _resized(pseq, size, end), _resized(pref, size, end)
    st = start[g]
    for j in range(ln):
        pkey[end + j], pseq[end + j], pref[end + j] = pkey[st + j], pseq[st + j], pref[st + j]
    start[g], room[g] = end, new_room
    return pkey, pseq, pref, end + new_room


@kernel
def _resized(a, size, used):
    b = np.empty(size, a.dtype)
    b[:used] = a[:used]
    return b


@kernel
def _grown(out, need):
    b = np.empty((max(2 * len(out), need), 4), out.dtype)
    b[:len(out)] = out
    return b


@kernel
def _put(out, at, a, b, c, d):
    out[at, 0], out[at, 1], out[at, 2], out[at, 3] = a, b, c, d
