"""A window join whose keys are one value on both sides of a window (its bounds, as nexmark q5 joins a window's
counts with its maximum) pairs every row with every row without hashing the keys: the same rows, in the same
order, as the general path and as a row-at-a-time reference, for every join kind, with a condition (evaluated on
the columns it reads before the pairs are made), with one key differing, and with batches down to one row."""
import random

import pyarrow as pa
import pytest

from sqlstream.core.changelog import INSERT, make_batch
from sqlstream.core.types import BIGINT, BOOLEAN
from sqlstream.plan.expr import Call, Ref
from sqlstream.runtime.event_time import MAX_WM
from sqlstream.runtime.keys import one_key
from sqlstream.runtime.operator import OperatorContext
from sqlstream.runtime.operators import window_join
from sqlstream.runtime.operators.window_join import WindowJoinOperator
from sqlstream.runtime.state import StateBackend

TS = pa.timestamp("ms")
LEFT = [pa.int64(), pa.int64(), TS, TS]  # auction, num, window start, window end
RIGHT = [pa.int64(), TS, TS]  # maxn, window start, window end
NAMES = ["auction", "num", "ws", "we", "maxn", "ws2", "we2"]
AT_LEAST = Call(BOOLEAN, ">=", (Ref(BIGINT, 1, "num"), Ref(BIGINT, 4, "maxn")))


def run(kind: str, condition, steps) -> list[dict]:
    names = NAMES[:4] if kind in ("SEMI", "ANTI") else NAMES
    op = WindowJoinOperator(kind, [2, 3], [1, 2], condition, 3, 2, LEFT, RIGHT, names)
    op.open(OperatorContext(StateBackend("j")))
    out = []
    for side, rows, wm in steps:
        types = LEFT if side == 0 else RIGHT
        arrays = [pa.array([r[j] for r in rows], t) for j, t in enumerate(types)]
        op.on_batch(make_batch(INSERT, arrays, NAMES[:4] if side == 0 else ["maxn", "ws", "we"]), side)
        out += [r for b in op.on_watermark(wm) for r in b.to_pylist()]
    return out + [r for b in op.on_watermark(MAX_WM) for r in b.to_pylist()]


def steps(seed: int) -> list[tuple]:
    """(side, rows, watermark after them): a window's counts per auction and its maxima (one, none or several,
    some with another start than the window's), in batches of 1 to 50 rows."""
    rng, out = random.Random(seed), []
    for w in range(1, 6):
        end = w * 2000
        rows = [(rng.randrange(40), rng.randint(1, 9), end - 10000, end) for _ in range(rng.randint(0, 120))]
        right = [(rng.randint(5, 10), end - 10000 if rng.random() < 0.8 else end - 8000, end)
                 for _ in range(rng.choice([0, 1, 1, 1, 2]))]
        batches = [(0, rows[i:i + n], end - 3000) for i, n in _chunks(len(rows), rng)]
        batches += [(1, [r], end - 3000) for r in right]
        rng.shuffle(batches)
        out += batches + [(0, [], end - 1)]
    return out


def _chunks(n: int, rng: random.Random):
    i = 0
    while i < n:
        size = rng.choice([1, 7, 50])
        yield i, min(size, n - i)
        i += size


@pytest.mark.parametrize("kind", ["INNER", "LEFT", "RIGHT", "FULL", "SEMI", "ANTI"])
@pytest.mark.parametrize("seed", range(5))
def test_one_key_per_window_pairs_as_the_hashed_path(seed, kind, monkeypatch):
    data = steps(seed)
    fast = run(kind, AT_LEAST if kind not in ("SEMI", "ANTI") or seed % 2 else None, data)
    monkeypatch.setattr(window_join, "one_key", lambda keys, n: None)
    assert fast == run(kind, AT_LEAST if kind not in ("SEMI", "ANTI") or seed % 2 else None, data)
    assert fast or kind == "ANTI"


def test_one_key_is_none_with_nulls_or_two_values():
    assert one_key([pa.array([1, 1, 1])], 3) == (1,)
    assert one_key([pa.array([1, None, 1])], 3) is None
    assert one_key([pa.array([1, 1]), pa.array([2, 3])], 2) is None
    assert one_key([pa.array([], pa.int64())], 0) is None
    left, right = window_join._all_pairs(2, 3)
    assert left.tolist() == [0, 0, 0, 1, 1, 1] and right.tolist() == [0, 1, 2, 0, 1, 2]


def reference(kind: str, condition: bool, steps) -> list[dict]:
    """Row at a time: per window (oldest first), the pairs in left-row order then right arrival order, the
    condition, then the left rows without a pair, then the right ones (SEMI/ANTI: the left rows with/without)."""
    windows: dict[int, tuple[list, list]] = {}
    for side, rows, _ in steps:
        for r in rows:
            windows.setdefault(r[-1], ([], []))[side].append(r)
    out = []
    for end in sorted(windows):
        left, right = windows[end]
        pairs = [(i, j) for i, lr in enumerate(left) for j, rr in enumerate(right)
                 if lr[2:] == rr[1:] and (not condition or lr[1] >= rr[0])]
        if kind in ("SEMI", "ANTI"):
            matched = {i for i, _ in pairs}
            out += [left[i] for i in range(len(left)) if (i in matched) == (kind == "SEMI")]
            continue
        out += [left[i] + right[j] for i, j in pairs]
        if kind in ("LEFT", "FULL"):
            out += [lr + (None,) * 3 for i, lr in enumerate(left) if i not in {p[0] for p in pairs}]
        if kind in ("RIGHT", "FULL"):
            out += [(None,) * 4 + rr for j, rr in enumerate(right) if j not in {p[1] for p in pairs}]
    return out


@pytest.mark.parametrize("kind", ["INNER", "LEFT", "RIGHT", "FULL", "SEMI", "ANTI"])
@pytest.mark.parametrize("seed", range(3))
def test_window_join_gives_the_row_at_a_time_pairs(seed, kind):
    import datetime as dt
    data = steps(seed)
    condition = kind not in ("SEMI", "ANTI") or bool(seed % 2)

    def plain(v):
        return v.replace(tzinfo=None) if isinstance(v, dt.datetime) else v
    got = [tuple(plain(v) for k, v in r.items() if k != "_op") for r in run(kind, AT_LEAST if condition else None, data)]
    expected = [tuple(dt.datetime.fromtimestamp(v / 1000, dt.timezone.utc).replace(tzinfo=None)
                      if isinstance(v, int) and k in (2, 3, 5, 6) else v for k, v in enumerate(r))
                for r in reference(kind, condition, data)]
    assert got == expected and got
