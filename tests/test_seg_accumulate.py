"""The segmented running accumulation behind GROUP BY gives a row-at-a-time loop's results, also when one
key is hot (a long segment among many short ones)."""
import numpy as np
import pytest

from sqlstream.runtime.numeric_aggregates import seg_accumulate


def loop(ufunc, x, starts, seeds):
    out = np.empty_like(x)
    st = np.flatnonzero(starts)
    for a, b in zip(st, np.append(st[1:], len(x))):
        out[a:b] = ufunc.accumulate(np.concatenate(([seeds[a]], x[a:b])))[1:]
    return out


@pytest.mark.parametrize("seed", range(60))
def test_matches_the_loop(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 400))
    starts = rng.random(n) < rng.random()
    if seed % 3 == 0:  # one hot key: a long segment among short ones
        starts = rng.random(n) < 0.9
        hot = int(rng.integers(0, n))
        starts[hot:hot + n // 2] = False
    starts[0] = True
    for dtype in (np.int64, np.float64):
        x = rng.integers(-50, 50, n).astype(dtype) / (3 if dtype == np.float64 else 1)
        seeds = rng.integers(-50, 50, n).astype(dtype)
        for ufunc, identity in ((np.add, 0), (np.maximum, -1e18), (np.minimum, 1e18)):
            got = seg_accumulate(ufunc, x, starts, seeds, dtype(identity))
            assert np.array_equal(got, loop(ufunc, x, starts, seeds))


@pytest.mark.parametrize("seed", range(12))
def test_integer_extremes_with_absent_values_and_huge_ranges_match_the_loop(seed):
    """Integer MIN/MAX scan once with each segment shifted above the ones before it: absent values (the
    int64 limits), seeds, and ranges too wide to shift (those take the general way) give the loop's answer."""
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(1, 300))
    starts = rng.random(n) < 0.3
    starts[0] = True
    scale = 1 << 62 if seed % 4 == 0 else 1000
    x = rng.integers(-scale, scale, n).astype(np.int64)
    seeds = rng.integers(-scale, scale, n).astype(np.int64)
    for ufunc, identity in ((np.maximum, np.iinfo(np.int64).min), (np.minimum, np.iinfo(np.int64).max)):
        xs, ss = x.copy(), seeds.copy()
        xs[rng.random(n) < 0.3] = identity
        ss[rng.random(n) < 0.5] = identity
        got = seg_accumulate(ufunc, xs, starts, ss, np.int64(identity))
        assert np.array_equal(got, loop(ufunc, xs, starts, ss))


@pytest.mark.parametrize("kind", ["small ints", "big ints", "strings"])
def test_distinct_pairs_counted_once_in_row_order(kind):
    import pyarrow as pa
    from sqlstream.runtime.numeric_aggregates import _SeenPairs
    rng = np.random.default_rng(7)
    seen, reference = _SeenPairs(), set()
    for _ in range(30):
        n = int(rng.integers(0, 300))
        gids = rng.integers(0, 20, n).astype(np.int64)
        raw = rng.integers(0, 40, n)
        if kind == "big ints":
            raw = raw * (1 << 40) - (1 << 45)
        values = [None if rng.random() < 0.1 else (f"v{x}" if kind == "strings" else int(x)) for x in raw]
        got = seen.first_seen(gids, pa.array(values, pa.string() if kind == "strings" else pa.int64()))
        expected = []
        for g, v in zip(gids.tolist(), values):
            fresh = v is not None and (g, v) not in reference
            if fresh:
                reference.add((g, v))
            expected.append(int(fresh))
        assert got.tolist() == expected
    assert len(seen) == len(reference)
