"""The rows a retraction can take back, found by their 64-bit hash: three sorted arrays (hash, arrival number, store
row), looked up and changed a batch at a time. Equal rows share a hash and are kept in arrival order; a retraction
takes the oldest (or, when the newest wins ties, the newest) of its hash at its place in the batch."""
from __future__ import annotations

import numpy as np


class HeldRows:
    def __init__(self) -> None:
        self.h = np.zeros(0, np.uint64)
        self.a = np.zeros(0, np.int64)
        self.r = np.zeros(0, np.int64)

    def __len__(self) -> int:
        return len(self.h)

    def reset(self, hashes: np.ndarray, arrivals: np.ndarray, refs: np.ndarray) -> None:
        order = np.lexsort((arrivals, hashes))
        self.h, self.a, self.r = hashes[order], arrivals[order], refs[order]

    def remap(self, new_ref: np.ndarray) -> None:
        """Store rows renumbered (`new_ref[old]`); every held row keeps a number."""
        self.r = new_ref[self.r]

    def take(self, hashes: np.ndarray, adds: np.ndarray, refs: np.ndarray, arrivals: np.ndarray,
             oldest_first: bool) -> np.ndarray:
        """Holds the batch's added rows (`refs`, `arrivals` per batch row, where `adds`) and takes each retraction's
        row in arrival order: per batch row, the store row a retraction takes (-1 for none). A hash the batch
        carries once, or as an add and then its retraction, is settled over the batch; the others go row by row."""
        n = len(hashes)
        target = np.full(n, -1, np.int64)
        if not n:
            return target
        order = np.argsort(hashes, kind="stable")
        sh = hashes[order]
        starts = np.flatnonzero(np.r_[True, sh[1:] != sh[:-1]])
        sizes = np.diff(np.r_[starts, n])
        uh = sh[starts]
        lo = np.searchsorted(self.h, uh, "left")
        held = np.searchsorted(self.h, uh, "right") - lo
        first = order[starts]
        first_add = adds[first]
        single = sizes == 1
        new_alone = single & first_add & (held == 0)
        taken_alone = single & ~first_add & (held == 1)
        missing = single & ~first_add & (held == 0)
        second = order[np.minimum(starts + 1, n - 1)]
        pair = (sizes == 2) & (held == 0) & first_add & ~adds[second]
        target[second[pair]] = refs[first[pair]]
        target[first[taken_alone]] = self.r[lo[taken_alone]]
        keep = np.ones(len(self.h), bool)
        keep[lo[taken_alone]] = False
        ins_rows = first[new_alone]
        ins_h, ins_a, ins_r = uh[new_alone], arrivals[ins_rows], refs[ins_rows]
        tangled = np.flatnonzero(~(new_alone | taken_alone | missing | pair))
        if len(tangled):
            more_h, more_a, more_r = [], [], []
            for j, s, size, at, count in zip(tangled.tolist(), starts[tangled].tolist(), sizes[tangled].tolist(),
                                              lo[tangled].tolist(), held[tangled].tolist()):
                kept = list(zip(self.a[at:at + count].tolist(), self.r[at:at + count].tolist()))
                keep[at:at + count] = False
                for row in order[s:s + size].tolist():
                    if adds[row]:
                        kept.append((int(arrivals[row]), int(refs[row])))
                    elif kept:
                        target[row] = kept.pop(0 if oldest_first else -1)[1]
                more_h += [uh[j]] * len(kept)
                more_a += [a for a, _ in kept]
                more_r += [r for _, r in kept]
            ins_h = np.concatenate([ins_h, np.array(more_h, np.uint64)])
            ins_a = np.concatenate([ins_a, np.array(more_a, np.int64)])
            ins_r = np.concatenate([ins_r, np.array(more_r, np.int64)])
        h, a, r = self.h[keep], self.a[keep], self.r[keep]
        if len(ins_h):
            o = np.lexsort((ins_a, ins_h))
            ins_h, ins_a, ins_r = ins_h[o], ins_a[o], ins_r[o]
            at = np.searchsorted(h, ins_h, "left")
            h, a, r = np.insert(h, at, ins_h), np.insert(a, at, ins_a), np.insert(r, at, ins_r)
        self.h, self.a, self.r = h, a, r
        return target
