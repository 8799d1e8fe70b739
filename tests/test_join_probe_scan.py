"""A regular join's unsorted run answers a probe of a few keys by comparison passes instead of a sort
(`Run._scans_instead`): the same pairs, in the same order, as the sorted run's, and the same changelog as the
per-row join when a large side is probed by a row or two at a time."""
import random

import numpy as np
import pyarrow as pa
import pytest

from sqlstream.runtime.operators.inner_join import InnerJoinOperator
from sqlstream.runtime.sorted_runs import Run, merged
from tests.reference_join import RowJoinOperator
from tests.test_inner_join import NAMES, TYPES, changelog, run
from sqlstream.core.types import BIGINT, BOOLEAN
from sqlstream.plan.expr import Call, Ref


def make_run(gids: np.ndarray, dead: np.ndarray) -> Run:
    r = Run(pa.table({"x": np.arange(len(gids))}), np.arange(len(gids)), gids)
    r.live[dead] = False
    r.dead = int(dead.sum())
    return r


@pytest.mark.parametrize("seed", range(12))
def test_scanned_probes_give_the_sorted_runs_pairs(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 3000))
    gids = rng.integers(0, int(rng.integers(1, 50)), n)
    dead = rng.random(n) < (0.3 if seed % 2 else 0.0)
    for probes in range(1, 8):
        needles = rng.integers(-1, 52, probes)
        scanned, sorted_ = make_run(gids, dead), make_run(gids, dead)
        sorted_.order  # sorted before any probe: the sorted path
        for a, b in ((scanned.probe(needles), sorted_.probe(needles)),
                     (scanned.probe_ascending(np.sort(needles)), sorted_.probe_ascending(np.sort(needles)))):
            assert [x.tolist() for x in a] == [x.tolist() for x in b]


def test_a_run_is_sorted_once_its_passes_would_cost_as_much():
    r = make_run(np.arange(1000) % 7, np.zeros(1000, bool))
    for _ in range(10):  # 1000 rows: up to 10 passes
        r.probe(np.array([3]))
    assert r._order is None and r.scans == 10
    r.probe(np.array([3]))
    assert r._order is not None


@pytest.mark.parametrize("sort_first", [(False, False), (True, False), (False, True), (True, True)])
def test_merged_runs_sort_only_what_was_sorted(sort_first):
    """Two runs neither of which was sorted merge without sorting (their key ids are sorted when a probe needs
    them); a merge with a sorted run gives a sorted run. The pairs a probe finds are the same either way."""
    rng = np.random.default_rng(7)
    ga, gb = rng.integers(0, 20, 300), rng.integers(0, 20, 200)
    a, b = make_run(ga, rng.random(300) < 0.2), make_run(gb, rng.random(200) < 0.2)
    b.ids += 300
    for side, first in zip((a, b), sort_first):
        if first:
            side.order
    m = merged(a, b)
    assert m.is_sorted == any(sort_first)
    live = np.concatenate([a.ids[a.live], b.ids[b.live]])
    assert m.ids.tolist() == live.tolist()
    needles = np.array([0, 3, 3, 19, 25])
    expected = [(i, p) for i, g in enumerate(needles.tolist()) for p in range(len(m.ids)) if m.gids[p] == g]
    m.order  # sorted now: the sorted path
    assert list(zip(*(x.tolist() for x in m.probe(needles)))) == expected


@pytest.mark.parametrize("seed", range(6))
def test_a_large_side_probed_by_a_row_or_two(seed, monkeypatch):
    """Hundreds of rows (with retractions) on one side, then the other side's rows one or two at a time: each
    probe scans the unsorted runs until they are sorted; the changelog is the per-row join's."""
    rng = random.Random(seed)
    left, right = changelog(rng, 600, seed % 2 == 1), changelog(rng, 40, True)
    pieces, at = [], 0
    while at < 20:  # the first 20 rows of the probing side in pieces of 1 and 2 rows
        step = 1 + len(pieces) % 2
        pieces.append((1, right[at:at + step]))
        at += step
    inputs = [(0, left[:500])] + pieces + [(0, left[500:]), (1, right[20:])]
    condition = Call(BOOLEAN, ">=", (Ref(BIGINT, 1, "v"), Ref(BIGINT, 4, "v2"))) if seed % 3 else None
    expected = run(lambda: RowJoinOperator("INNER", [0], [0], condition, TYPES, TYPES, NAMES, TYPES + TYPES),
                   inputs, 1)
    scans = []
    monkeypatch.setattr(Run, "_scanned", lambda self, gids: scans.append(len(gids)) or scanned(self, gids))
    for size in (1, 500):
        assert run(lambda: InnerJoinOperator([0], [0], condition, TYPES, TYPES, NAMES), inputs, size) == expected
    assert run(lambda: InnerJoinOperator([0], [0], condition, TYPES, TYPES, NAMES), inputs, 2,
               restore_at=3) == expected
    assert scans  # the probes scanned


scanned = Run._scanned
