"""MATCH_RECOGNIZE's state (waiting rows, and the rows partial matches hold with those partial matches) is keyed
by the partition: it splits by key group and merges, so a job rescaled from a snapshot continues exactly."""
import random

import numpy as np
import pyarrow as pa

from sqlstream.core.changelog import INSERT, make_batch
from sqlstream.plan import logical as L
from sqlstream.planner.physical import physical_plan
from sqlstream.runtime.key_groups import group_range, key_groups, subtask_of_groups
from sqlstream.runtime.operator import OperatorContext
from sqlstream.runtime.operators.registry import build
from sqlstream.runtime.state import StateBackend
from sqlstream.session import Session, parse_script

SQL = """CREATE TABLE t (sym STRING, price INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
WITH ('connector' = 'filesystem', 'path' = '/nonexistent', 'format' = 'json');
SELECT * FROM t MATCH_RECOGNIZE (PARTITION BY sym ORDER BY ts MEASURES FIRST(A.price) AS a0, COUNT(A.price) AS n,
LAST(B.price) AS b, MATCH_ROWTIME() AS mt PATTERN (A+? B) DEFINE A AS A.price < 15 OR A.price < LAST(A.price, 1),
B AS B.price > AVG(A.price) + 3) AS T;"""


def operator():
    session = Session()
    stmts = parse_script(SQL)
    session.execute(stmts[0], SQL)
    plan = session.plan(stmts[1])
    root = L.Sink(plan.fields, plan.changelog, input=plan, table="<result>", connector="collect")
    spec = next(s for s in physical_plan([root]).operators if s.name == "MatchRecognize")
    op, backend = build(spec), StateBackend("m")
    op.open(OperatorContext(backend))
    return backend, op


def rows(n: int, seed: int) -> list[tuple]:
    rng = random.Random(seed)
    return [(f"k{rng.randint(0, 24)}", rng.randint(1, 30), 1000 + 250 * i + rng.choice([0, 0, -300]))
            for i in range(n)]


def run(op, chunk: list[tuple], wm: int) -> list[tuple]:
    out = []
    if chunk:
        batch = make_batch(INSERT, [pa.array([r[0] for r in chunk], pa.string()),
                                    pa.array([r[1] for r in chunk], pa.int32()),
                                    pa.array([r[2] for r in chunk], pa.timestamp("ms"))], ["sym", "price", "ts"],
                           wm=np.full(len(chunk), wm, np.int64))
        out += op.on_batch(batch)
    out += op.on_watermark(wm)
    return [tuple(r.values()) for b in out for r in b.to_pylist()]


def feed(op, data: list[tuple], owner: list[int], subtask: int = 0) -> dict:
    """Rows in chunks of 10 with the watermark after each chunk; the rows other subtasks own left out."""
    got: dict = {}
    for at in range(0, len(data), 10):
        chunk = data[at:at + 10]
        wm = max(r[2] for r in data[:at + 10]) - 1000
        mine = [r for r, o in zip(chunk, owner[at:at + 10]) if o == subtask]
        for r in run(op, mine, wm):
            got.setdefault(r[1], []).append(r)
    return got


def owners(data: list[tuple], parallelism: int) -> np.ndarray:
    return subtask_of_groups(key_groups([pa.array([r[0] for r in data], pa.string())], len(data)), parallelism)


def test_rescaled_from_one_to_three_subtasks_continues_exactly():
    data = rows(600, 3)
    head, tail = data[:300], data[300:]
    backend, op = operator()
    feed(op, head, [0] * len(head))
    snapshot = backend.snapshot(group_range(0, 1))
    assert len(op.held) and len(op.waiting), "partial matches and waiting rows at the snapshot"
    expected = feed(op, tail, [0] * len(tail))
    owner = list(owners(tail, 3))
    got: dict = {}
    for s in range(3):
        backend, op = operator()
        backend.restore([snapshot], group_range(s, 3))
        got.update(feed(op, tail, owner, s))
    assert got == expected and sum(map(len, expected.values())) > 20


def test_two_subtasks_merged_into_one_continue_exactly():
    data = rows(600, 5)
    head, tail = data[:300], data[300:]
    _, whole = operator()
    feed(whole, head, [0] * len(head))
    expected = feed(whole, tail, [0] * len(tail))
    owner = list(owners(head, 2))
    snapshots = []
    for s in range(2):
        backend, op = operator()
        feed(op, head, owner, s)
        snapshots.append(backend.snapshot(group_range(s, 2)))
    backend, op = operator()
    backend.restore(snapshots, group_range(0, 1))
    assert feed(op, tail, [0] * len(tail)) == expected
