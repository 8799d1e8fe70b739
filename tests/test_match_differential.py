"""The column-wise MATCH_RECOGNIZE against the row-at-a-time one (tests/reference_match_recognize.py, Flink's NFA
fed a row at a time): random rows (several partitions, out of order, late rows, ties), random batch sizes, every
pattern form (sequences with +, *, ?, {n}, {n,m}, {n,}, greedy and reluctant), every AFTER MATCH SKIP, WITHIN,
DEFINE conditions that navigate (LAST, FIRST, PREV of another variable, aggregates) and MEASURES with
FIRST/LAST/aggregates/MATCH_ROWTIME, ordered by rowtime (and more columns) or by a processing-time attribute (rows
in arrival order). Same rows (as multisets) or the same error."""
import io
import json
import random

import pytest

from sqlstream.core.errors import SqlStreamError
from sqlstream.runtime.operators import match_recognize
from sqlstream.script import ScriptRunner
from tests.reference_match_recognize import ReferenceMatchRecognizeOperator

PATTERNS = ["A B+ C", "A+? B", "A B* C", "A? B C", "A{2} B", "A{1,3} B", "A{2,}? B", "A B{0,2} C", "A+ B? C",
            "A B+? C", "A* B", "A B{2,3}? C", "A{3}", "A B"]
CONDITIONS = {
    "A": ["A.price < 10", "A.price < 12 AND A.volume > 20", "A.price <= COALESCE(LAST(A.price, 1), 100)",
          "AVG(A.price) < 11", "SUM(A.volume) < 150", "COUNT(A.price) < 3 OR A.price < 5",
          "A.price > FIRST(A.price) OR FIRST(A.price) IS NULL OR A.volume > 60"],
    "B": ["B.price >= 10", "B.price > LAST(A.price)", "B.price < COALESCE(LAST(B.price, 1), LAST(A.price), 50)",
          "B.price > PREV(A.price) OR B.volume > 70", "MAX(B.price) - MIN(B.price) < 6",
          "B.price > AVG(A.price)", "B.volume > SUM(A.volume) / 4"],
    "C": ["C.price < A.price", "C.price > LAST(B.price)", "C.price > 8", "C.price <> FIRST(B.price, 1)",
          "C.volume < COUNT(B.price) * 20"],
}
MEASURES = ["FIRST(A.price) AS a_first", "LAST(A.price) AS a_last", "COUNT(A.price) AS n_a", "SUM(A.volume) AS v_a",
            "AVG(A.price) AS avg_a", "MIN(A.price) AS min_a", "MAX(A.price) AS max_a", "MATCH_ROWTIME() AS mt",
            "FIRST(A.ts) AS t0", "LAST(A.price, 1) AS a_prev", "FIRST(A.price, 1) AS a_second",
            "COUNT(*) AS n_all", "LAST(B.price) AS b_last", "COUNT(B.price) AS n_b", "SUM(B.volume) AS v_b",
            "LAST(C.ts) AS t1"]
SKIPS = ["", "AFTER MATCH SKIP PAST LAST ROW", "AFTER MATCH SKIP TO NEXT ROW", "AFTER MATCH SKIP TO FIRST B",
         "AFTER MATCH SKIP TO LAST B", "AFTER MATCH SKIP TO LAST A"]


def rows(rng: random.Random, n: int) -> list[dict]:
    out, t = [], 10_000
    for _ in range(n):
        t += rng.choice([0, 0, 200, 500, 1000, 1500])
        ts = t - rng.choice([0, 0, 0, 0, 700, 2500])  # some out of order, some late
        out.append({"sym": rng.choice(["x", "y", "z"]), "price": rng.randint(1, 20), "volume": rng.randint(1, 100),
                    "ts": f"2024-01-01 00:{ts // 60000:02d}:{ts % 60000 // 1000:02d}.{ts % 1000:03d}"})
    return out


def query(rng: random.Random, path: str) -> str:
    pattern = rng.choice(PATTERNS)
    variables = [v for v in "ABC" if v in pattern]
    defines = [f"{v} AS {rng.choice(CONDITIONS[v])}" for v in variables if rng.random() < 0.85]
    if not defines:
        defines = [f"A AS {CONDITIONS['A'][0]}"]
    defines = [d for d in defines if all(f"{v}." not in d.split(" AS ", 1)[1] for v in "ABC" if v not in variables)]
    measures = [m for m in MEASURES if all(f"{v}." not in m for v in "ABC" if v not in variables)]
    measures = rng.sample(measures, min(len(measures), rng.randint(2, 6)))
    skip = rng.choice([s for s in SKIPS if not s.endswith((" B", " A")) or s[-1] in variables])
    within = rng.choice(["", "", "WITHIN INTERVAL '3' SECOND"])
    partition = rng.choice(["PARTITION BY sym", "PARTITION BY sym", ""])
    order = rng.choice(["ts", "ts", "ts, price DESC", "ts, volume"] + ([] if within else ["pt"]))
    if order == "pt":  # MATCH_ROWTIME() would be the wall clock
        measures = [m for m in measures if "MATCH_ROWTIME" not in m] or ["COUNT(*) AS n_all"]
    return (f"CREATE TABLE t (sym STRING, price INT, volume INT, ts TIMESTAMP(3), pt AS PROCTIME(), "
            f"WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) "
            f"WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = 'json');\n"
            f"SELECT * FROM t MATCH_RECOGNIZE ({partition} ORDER BY {order} MEASURES {', '.join(measures)} "
            f"{skip} PATTERN ({pattern}) {within} DEFINE {', '.join(defines)}) AS T;")


def outcome(sql: str, batch_size: int) -> tuple[list[str], str | None]:
    out, err = io.StringIO(), io.StringIO()
    try:
        ScriptRunner(out=out, err=err, fmt="jsonl", batch_size=batch_size).run(sql)
    except SqlStreamError as e:
        return [], str(e).split(" in the found match")[0]  # which partition fails first may differ
    return sorted(json.dumps(json.loads(ln), sort_keys=True) for ln in out.getvalue().splitlines()), None


@pytest.mark.parametrize("seed", range(60))
def test_same_matches_as_row_at_a_time(seed, tmp_path, monkeypatch):
    rng = random.Random(seed)
    p = tmp_path / "t.json"
    p.write_text("".join(json.dumps(r) + "\n" for r in rows(rng, rng.choice([40, 120, 300]))))
    sql = query(rng, str(p))
    batch_size = rng.choice([1, 3, 7, 50, 10_000])
    got = outcome(sql, batch_size)
    monkeypatch.setattr(match_recognize, "MatchRecognizeOperator", ReferenceMatchRecognizeOperator)
    want = outcome(sql, rng.choice([1, 10_000]))
    assert got == want, sql


def test_a_checkpoint_of_the_row_at_a_time_layout_is_refused_naming_the_operator(monkeypatch):
    """Checkpoints written before partial matches were kept as columns hold one `match` table (rows plus the
    automata as JSON); restoring one fails naming the operator and that table, not half-restoring."""
    from sqlstream.core.errors import ValidationError
    from tests.golden import GOLDEN, case_sql
    from tests.test_state import build_job
    sql = case_sql(GOLDEN / "match_v_shape_orders")
    with monkeypatch.context() as m:
        m.setattr(match_recognize, "MatchRecognizeOperator", ReferenceMatchRecognizeOperator)
        old, _ = build_job(sql, 13)
        for _ in range(3):
            old.step()
        snap = old.snapshot()
    uid = next(u for u, b in snap["operators"].items() if "match" in b)
    restored, _ = build_job(sql, 13)
    with pytest.raises(ValidationError, match=rf"Cannot restore the state of operator {uid}: .*'match'"):
        restored.restore(snap)
