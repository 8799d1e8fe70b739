"""OVER aggregation computed column-wise gives the row-at-a-time results (same rows in the same
order, values within float rounding), for ROWS/RANGE, bounded/unbounded frames, NULLs, ties, late rows, at any
batch size; and the same rows at every batch size."""
import io
import json
import math
import random

import pytest

from sqlstream.runtime.operators import over_aggregate
from sqlstream.script import ScriptRunner
from tests.reference_over import ReferenceOverOperator

FRAMES = ["ROWS BETWEEN 3 PRECEDING AND CURRENT ROW", "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW",
          "RANGE BETWEEN INTERVAL '2' SECOND PRECEDING AND CURRENT ROW",
          "RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    rnd = random.Random(5)
    path = tmp_path_factory.mktemp("over") / "e.json"
    t = 1_700_000_000_000
    with open(path, "w") as f:
        for _ in range(600):
            t += rnd.randint(0, 700)
            ts = t - (rnd.randint(0, 1500) if rnd.random() < 0.3 else 0) - (6000 if rnd.random() < 0.03 else 0)
            stamp = f"2023-11-14 22:{(ts // 60000) % 60:02d}:{(ts // 1000) % 60:02d}.{ts % 1000:03d}"
            f.write(json.dumps({"k": rnd.choice("abc"), "i": None if rnd.random() < 0.1 else rnd.randint(-50, 50),
                                "x": None if rnd.random() < 0.1 else rnd.uniform(-5, 5), "ts": stamp}) + "\n")
    return path


def run(data, frame: str, batch_size: int) -> list[dict]:
    sql = (f"CREATE TABLE e (k STRING, i INT, x DOUBLE, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' "
           f"SECOND) WITH ('connector' = 'filesystem', 'path' = '{data}', 'format' = 'json');"
           f"SELECT k, ts, i, x, COUNT(*) OVER w AS c, COUNT(i) OVER w AS ci, SUM(i) OVER w AS si, "
           f"SUM(x) OVER w AS sx, AVG(i) OVER w AS ai, AVG(x) OVER w AS ax, MIN(x) OVER w AS mnx, "
           f"MAX(i) OVER w AS mxi, VAR_SAMP(i) OVER w AS vsi, STDDEV_POP(x) OVER w AS sdx "
           f"FROM e WINDOW w AS (PARTITION BY k ORDER BY ts {frame});")
    out = io.StringIO()
    ScriptRunner(out=out, err=io.StringIO(), fmt="jsonl", batch_size=batch_size).run(sql)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def same(a: list[dict], b: list[dict]) -> bool:
    if len(a) != len(b):
        return False
    for ra, rb in zip(a, b):
        for k in ra:
            va, vb = ra[k], rb[k]
            if isinstance(va, float) and isinstance(vb, float):
                if not math.isclose(va, vb, rel_tol=1e-9, abs_tol=1e-9):
                    return False
            elif va != vb:
                return False
    return True


@pytest.mark.parametrize("frame", FRAMES)
def test_batched_equals_row_at_a_time(data, frame, monkeypatch):
    sizes = (1, 7, 10_000)
    fast = {b: run(data, frame, b) for b in sizes}

    class RowAtATime(ReferenceOverOperator):
        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)
            self.fast = False
    monkeypatch.setattr(over_aggregate, "OverAggregateOperator", RowAtATime)
    for b in sizes:
        slow = run(data, frame, b)
        assert len(slow) > 500
        assert same(fast[b], slow), f"batch size {b}"

    def by_row(rows):  # rows of different partitions a watermark releases together may come in another order
        return sorted(rows, key=lambda r: (r["k"], r["ts"], str(r["i"]), str(r["x"])))
    assert same(by_row(fast[1]), by_row(fast[10_000])) and same(by_row(fast[7]), by_row(fast[10_000]))
