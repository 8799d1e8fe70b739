"""The rows a retraction can take back, found by their 64-bit hash: an open-addressing table of the held hashes
in numpy arrays, with per slot the store row it holds, or, for the rare hash held more than once (equal rows),
a list in arrival order. Looked up and changed a batch at a time, at a cost that follows
the batch, not the rows held (sorted arrays cost a copy of every held row per batch). A retraction takes the
oldest (or, when the newest wins ties, the newest) of its hash at its place in the batch."""
from __future__ import annotations

import numpy as np

from sqlstream.runtime.key_groups import FEW

_MIX = np.uint64(0x9E3779B97F4A7C15)
_EMPTY, _LIVE, _GONE = 0, 1, 2  # a slot never used, holding rows, emptied (probing goes on past it)


class HeldRows:
    def __init__(self, capacity: int = 1024) -> None:
        self.bits = capacity.bit_length() - 1
        self.key = np.zeros(capacity, np.uint64)
        self.state = np.zeros(capacity, np.int8)
        self.used = 0  # slots not empty
        self.count = np.zeros(capacity, np.int32)  # per slot: rows held
        self.r = np.zeros(capacity, np.int64)  # per slot holding one row: its store row
        self.many: dict[int, list[int]] = {}  # slot -> the store rows, in arrival order, for 2+ rows

    def __len__(self) -> int:
        return int(self.count.sum())

    def reset(self, hashes: np.ndarray, arrivals: np.ndarray, refs: np.ndarray) -> None:
        self.__init__()
        if len(hashes):
            order = np.argsort(arrivals, kind="stable")  # equal rows are held in arrival order
            self.take(hashes[order], np.ones(len(hashes), bool), refs[order], True)

    def remap(self, new_ref: np.ndarray) -> None:
        """Store rows renumbered (`new_ref[old]`); every held row keeps a number."""
        one = self.count == 1
        self.r[one] = new_ref[self.r[one]]
        self.many = {i: new_ref[kept].tolist() for i, kept in self.many.items()}

    def take(self, hashes: np.ndarray, adds: np.ndarray, refs: np.ndarray, oldest_first: bool) -> np.ndarray:
        """Holds the batch's added rows (`refs` per batch row, where `adds`; a batch is in arrival order) and takes
        each retraction's row in arrival order: per batch row, the store row a retraction takes (-1 for none). A
        hash the batch carries once, or as an add and then its retraction, is settled over the batch; the others go
        row by row."""
        n = len(hashes)
        target = np.full(n, -1, np.int64)
        if not n:
            return target
        order = np.argsort(hashes, kind="stable")
        sh = hashes[order]
        starts = np.flatnonzero(np.r_[True, sh[1:] != sh[:-1]])
        sizes = np.diff(np.r_[starts, n])
        uh = sh[starts]
        self._make_room(len(uh))
        slot = self._find(uh)
        held = np.where(slot >= 0, self.count[slot], 0)
        first = order[starts]
        first_add = adds[first]
        single = sizes == 1
        new_alone = single & first_add & (held == 0)
        taken_alone = single & ~first_add & (held == 1)
        missing = single & ~first_add & (held == 0)
        second = order[np.minimum(starts + 1, n - 1)]
        pair = (sizes == 2) & (held == 0) & first_add & ~adds[second]
        target[second[pair]] = refs[first[pair]]
        target[first[taken_alone]] = self.r[slot[taken_alone]]
        tangled = ~(new_alone | taken_alone | missing | pair)
        place = (new_alone | tangled) & (slot < 0)
        slot[place] = self._insert(uh[place])
        got = slot[new_alone]
        self.count[got] = 1
        self.r[got] = refs[first[new_alone]]
        self.count[slot[taken_alone]] = 0
        tangled = np.flatnonzero(tangled)
        many, count, r = self.many, self.count, self.r
        for j, s, size in zip(slot[tangled].tolist(), starts[tangled].tolist(), sizes[tangled].tolist()):
            c = int(count[j])
            kept = many.pop(j) if c > 1 else ([int(r[j])] if c == 1 else [])
            for row in order[s:s + size].tolist():
                if adds[row]:
                    kept.append(int(refs[row]))
                elif kept:
                    target[row] = kept.pop(0 if oldest_first else -1)
            count[j] = len(kept)
            if len(kept) == 1:
                r[j] = kept[0]
            elif kept:
                many[j] = kept
        looked = slot[slot >= 0]
        self.state[looked[count[looked] == 0]] = _GONE
        return target

    # ---- the table ----------------------------------------------------------------------------------------------
    def _home(self, h: np.ndarray) -> np.ndarray:
        return ((h * _MIX) >> np.uint64(64 - self.bits)).astype(np.int64)

    def _probe(self, h: np.ndarray, visit) -> np.ndarray:
        """Linear probing from each hash's home slot: `visit(slots, hashes)` says of each hash at its slot whether
        it settles there and whether it goes on to the next slot; the slot each settled at (-1 for none)."""
        mask = len(self.key) - 1
        pos = self._home(h)
        out = np.full(len(h), -1, np.int64)
        todo = np.arange(len(h))
        while len(todo):
            p = pos[todo]
            settled, more = visit(p, h[todo])
            out[todo[settled]] = p[settled]
            todo = todo[more]
            pos[todo] = (pos[todo] + 1) & mask
        return out

    def _find(self, h: np.ndarray) -> np.ndarray:
        """The live slot of each hash, -1 for none."""
        if len(h) <= FEW:
            mask, found = len(self.key) - 1, []
            for x, p in zip(h.tolist(), self._home(h).tolist()):
                while True:
                    s = self.state[p]
                    if s == _EMPTY or (s == _LIVE and int(self.key[p]) == x):
                        found.append(-1 if s == _EMPTY else p)
                        break
                    p = (p + 1) & mask
            return np.array(found, np.int64)

        def visit(p, hashes):
            s = self.state[p]
            hit = (s == _LIVE) & (self.key[p] == hashes)
            return hit, (s != _EMPTY) & ~hit
        return self._probe(h, visit)

    def _insert(self, h: np.ndarray) -> np.ndarray:
        """Slots for distinct hashes none of which is live: the first slot not live from each one's home; of
        hashes that meet at a slot, one takes it per round (a few hashes, one after another)."""
        if len(h) <= FEW:
            mask, slots = len(self.key) - 1, []
            for x, p in zip(h.tolist(), self._home(h).tolist()):
                while self.state[p] == _LIVE:
                    p = (p + 1) & mask
                self.used += int(self.state[p] == _EMPTY)
                self.key[p], self.state[p], self.count[p] = x, _LIVE, 0
                slots.append(p)
            return np.array(slots, np.int64)

        def visit(p, hashes):
            free = self.state[p] != _LIVE
            self.key[p[free]] = hashes[free]
            won = free & (self.key[p] == hashes)
            self.used += int((self.state[p[won]] == _EMPTY).sum())
            self.state[p[won]] = _LIVE
            self.count[p[won]] = 0
            return won, ~won
        return self._probe(h, visit)

    def _make_room(self, more: int) -> None:
        """Keeps the table at most half full (emptied slots counted) after `more` new hashes: else moves the live
        slots to a new table."""
        if 2 * (self.used + more) <= len(self.key):
            return
        live = np.flatnonzero(self.state == _LIVE)
        capacity = 1024
        while capacity < 2.5 * (len(live) + more):
            capacity *= 2
        old = (self.key[live], self.count[live], self.r[live], self.many)
        self.__init__(capacity)
        at = self._place_all(old[0])
        self.count[at], self.r[at] = old[1], old[2]
        if old[3]:
            moved = np.array(list(old[3]), np.int64)
            self.many = dict(zip(at[np.searchsorted(live, moved)].tolist(), old[3].values()))

    def _place_all(self, h: np.ndarray) -> np.ndarray:
        """Slots for distinct hashes in an empty table: linear probing puts them, taken in the order of their home
        slot, each at the later of its home and the slot after the one before (a running maximum instead of
        probing rounds); those past the end wrap around, by probing."""
        home = self._home(h)
        order = np.argsort(home, kind="stable")
        steps = np.arange(len(h))
        at = np.empty(len(h), np.int64)
        at[order] = np.maximum.accumulate(home[order] - steps) + steps
        inside = at < len(self.key)
        put = at[inside]
        self.key[put], self.state[put] = h[inside], _LIVE
        self.used += len(put)
        if not inside.all():
            at[~inside] = self._insert(h[~inside])
        return at
