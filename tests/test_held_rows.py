"""HeldRows (the rows a Top-N retraction can take, by hash) against a dictionary of lists: many batches over a
growing table (rebuilds, emptied slots used again, hashes whose home slots collide), equal rows held at once,
retractions of rows never held, a renumbering of the store rows and a reset from the rows held."""
import random

import numpy as np
import pytest

from sqlstream.runtime.operators.held_rows import HeldRows


def reference_take(held: dict, hashes, adds, refs, arrivals, oldest_first: bool) -> list[int]:
    out = []
    for h, add, ref, a in zip(hashes, adds, refs, arrivals):
        kept = held.setdefault(h, [])
        if add:
            kept.append((a, ref))
            out.append(-1)
        else:
            out.append(kept.pop(0 if oldest_first else -1)[1] if kept else -1)
    return out


@pytest.mark.parametrize("kernels", [True], ids=["compiled"], indirect=True)
@pytest.mark.parametrize("seed", range(10))
def test_same_rows_taken_as_a_dictionary_of_lists(seed, monkeypatch, kernels):
    """With held_take compiled, as a job runs it past COMPILE_AFTER rows: tens of thousands of equal rows and long
    probes make its Python loop ~6 of the seeds' 10 CPU s (the loop stays Python in test_rank_updating's python
    runs and every Top-N test)."""
    rng = random.Random(seed)
    if seed % 3 == 2:  # every hash's home among the table's last slots: long probes that wrap around
        monkeypatch.setattr(HeldRows, "_home", lambda self, h: (len(self.slots) - 1 - (h % np.uint64(5))).astype(np.int64))
    oldest_first = rng.random() < 0.5
    space = rng.choice([5, 300, 5000, 1 << 63])  # few hashes: equal rows; many: a table that grows
    # hashes that differ only in high bits share a home slot in a small table
    values = [(rng.randrange(space) << rng.choice([0, 40])) & ((1 << 64) - 1) for _ in range(20000)]
    held, ref_held = HeldRows(), {}
    live: list[int] = []
    ref, arrival = 0, 0
    for batch in range(rng.randint(20, 60)):
        n = rng.choice([1, 2, 7, 100, 1500])
        hashes, adds, refs, arrivals = [], [], [], []
        for _ in range(n):
            if live and rng.random() < 0.45:
                hashes.append(live.pop(rng.randrange(len(live))) if rng.random() < 0.9 else rng.choice(values))
                adds.append(False)
                refs.append(-1)
                arrivals.append(0)
            else:
                h = rng.choice(values)
                live.append(h)
                hashes.append(h)
                adds.append(True)
                refs.append(ref)
                arrivals.append(arrival)
                ref, arrival = ref + 1, arrival + 1
        expected = reference_take(ref_held, hashes, adds, refs, arrivals, oldest_first)
        got = held.take(np.array(hashes, np.uint64), np.array(adds), np.array(refs, np.int64), oldest_first)
        assert got.tolist() == expected, f"batch {batch}"
        assert len(held) == sum(len(v) for v in ref_held.values())
        if batch % 7 == 3:  # store rows renumbered (a compaction): the held rows first, in order
            kept = sorted(r for v in ref_held.values() for _, r in v)
            new_ref = np.full(ref, -1, np.int64)
            new_ref[kept] = np.arange(len(kept))
            ref = len(kept)
            held.remap(new_ref)
            ref_held = {h: [(a, int(new_ref[r])) for a, r in v] for h, v in ref_held.items()}
        if batch % 11 == 5:  # restored from the rows held
            rows = sorted((a, h, r) for h, v in ref_held.items() for a, r in v)
            held.reset(np.array([h for _, h, _ in rows], np.uint64), np.array([a for a, _, _ in rows], np.int64),
                       np.array([r for _, _, r in rows], np.int64))
