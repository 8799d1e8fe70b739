"""The rows a retraction can take back, found by their 64-bit hash: an open-addressing table of the held rows, one
slot per row (equal rows share a hash and take a slot each) of a numpy array: its hash, store row and arrival
in the table side by side, so that a probe reads one cache line. A batch's rows go through the table one after
another in a `runtime.compiled` kernel: an add takes the first free slot from its hash's home, a retraction takes,
of the slots of its hash on its probe run, the oldest (or, when the newest wins ties, the newest)."""
from __future__ import annotations

import numpy as np

from sqlstream.runtime.compiled import kernel, stepping

_MIX = np.uint64(0x9E3779B97F4A7C15)
_KEY, _REF, _ARRIVAL = range(3)  # a slot's fields (its hash as int64 bits)
_EMPTY, _GONE = -1, -2  # the store row of a slot never used, of a slot emptied (probing goes on past it)


class HeldRows:
    def __init__(self, capacity: int = 1024) -> None:
        self.bits = capacity.bit_length() - 1
        self.slots = np.zeros((capacity, 3), np.int64)
        self.slots[:, _REF] = _EMPTY
        self.used = 0  # slots not empty
        self.live = 0  # slots holding a row
        self.arrived = 0

    def __len__(self) -> int:
        return self.live

    def reset(self, hashes: np.ndarray, arrivals: np.ndarray, refs: np.ndarray) -> None:
        self.__init__()
        if len(hashes):
            order = np.argsort(arrivals, kind="stable")  # equal rows are held in arrival order
            self.take(hashes[order], np.ones(len(hashes), bool), refs[order], True)

    def remap(self, new_ref: np.ndarray) -> None:
        """Store rows renumbered (`new_ref[old]`); every held row keeps a number."""
        live = self.slots[:, _REF] >= 0
        self.slots[live, _REF] = new_ref[self.slots[live, _REF]]

    def take(self, hashes: np.ndarray, adds: np.ndarray, refs: np.ndarray, oldest_first: bool) -> np.ndarray:
        """Holds the batch's added rows (`refs` per batch row, where `adds`; a batch is in arrival order) and takes
        each retraction's row in arrival order: per batch row, the store row a retraction takes (-1 for none)."""
        n = len(hashes)
        if not n:
            return np.full(0, -1, np.int64)
        self._make_room(int(np.count_nonzero(adds)))
        target = np.full(n, -1, np.int64)
        self._take(hashes, adds, refs, np.arange(self.arrived, self.arrived + n), oldest_first, target)
        self.arrived += n
        return target

    def _take(self, hashes: np.ndarray, adds: np.ndarray, refs: np.ndarray, arrivals: np.ndarray,
              oldest_first: bool, target: np.ndarray) -> None:
        stepping(len(hashes))
        used, live = held_take(self.slots, hashes.astype(np.uint64).view(np.int64), self._home(hashes), adds,
                               refs,
                               arrivals, oldest_first, target)
        self.used += used
        self.live += live

    def _home(self, h: np.ndarray) -> np.ndarray:
        return ((h * _MIX) >> np.uint64(64 - self.bits)).astype(np.int64)

    def _make_room(self, more: int) -> None:
        """Keeps the table at most half full (emptied slots counted) after `more` new rows: else moves the held
        rows, with their arrivals, to a new table."""
        if 2 * (self.used + more) <= len(self.slots):
            return
        held = self.slots[self.slots[:, _REF] >= 0]
        capacity = 1024
        while capacity < 3 * (len(held) + more):
            capacity *= 2
        arrived = self.arrived
        self.__init__(capacity)
        self.arrived = arrived
        self._take(held[:, _KEY].view(np.uint64), np.ones(len(held), bool), held[:, _REF].copy(),
                   held[:, _ARRIVAL].copy(), True, np.zeros(len(held), np.int64))


@kernel
def held_take(slots, hashes, home, adds, refs, arrivals, oldest_first, target):
    """`HeldRows.take` over its slots (hash, store row or -1 never used or -2 emptied, arrival): per batch row,
    the store row a retraction takes into `target`; the slots it started using and the rows it holds more."""
    mask = len(slots) - 1
    used, live = 0, 0
    for i in range(len(hashes)):
        h, p = hashes[i], home[i]
        if adds[i]:
            while slots[p, 1] >= 0:
                p = (p + 1) & mask
            if slots[p, 1] == -1:
                used += 1
            slots[p, 0], slots[p, 1], slots[p, 2] = h, refs[i], arrivals[i]
            live += 1
            continue
        best = -1
        while slots[p, 1] != -1:
            if slots[p, 1] >= 0 and slots[p, 0] == h and (best < 0 or (slots[p, 2] < slots[best, 2]) == oldest_first):
                best = p
            p = (p + 1) & mask
        if best >= 0:
            target[i] = slots[best, 1]
            slots[best, 1] = -2
            live -= 1
    return used, live
