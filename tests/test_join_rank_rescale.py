"""Window Top-N, window joins, interval joins and temporal joins keep their rows by the key their input is hashed
on: a snapshot taken by two subtasks restores into three (and into one) and every key continues exactly as in
one uninterrupted operator. A snapshot of the layout written before the rows carried their key group restores
too, at the parallelism it was taken at and at another one (the key group is computed from the rows' keys)."""
import random

import numpy as np
import pyarrow as pa
import pytest

from sqlstream.core.changelog import INSERT, make_batch
from sqlstream.runtime.key_groups import key_groups, subtask_of_groups
from sqlstream.runtime.operator import OperatorContext
from sqlstream.runtime.operators.interval_join import IntervalJoinOperator
from sqlstream.runtime.operators.temporal_join import TemporalJoinOperator
from sqlstream.runtime.operators.window_join import WindowJoinOperator
from sqlstream.runtime.operators.window_rank import WindowRankOperator
from sqlstream.runtime.state import StateBackend, _ipc
from sqlstream.runtime.subtask_state import redistribute, restore_operator

TS = pa.timestamp("ms")
ROW = [pa.string(), TS, TS, pa.int64()]  # k, window start (or time), window end, v
NAMES = ["k", "ws", "we", "v"]


def _window_rank():
    return WindowRankOperator([0, 2], [(3, True)], 2, 2, NAMES + ["rn"], ROW)


def _window_join():
    return WindowJoinOperator("LEFT", [0, 2], [0, 2], None, 2, 2, ROW, ROW, NAMES + [n + "2" for n in NAMES])


def _interval_join():
    return IntervalJoinOperator("LEFT", [0], [0], 1, 1, -1500, 700, None, ROW, ROW, NAMES + [n + "2" for n in NAMES])


def _temporal_join():
    return TemporalJoinOperator("LEFT", [0], [0], 1, 1, None, ROW, ROW, NAMES + [n + "2" for n in NAMES])


# operator, its inputs, the columns its inputs are hashed on (the state's keys)
OPERATORS = {"WindowRank": (_window_rank, 1, [0, 2]), "WindowJoin": (_window_join, 2, [0, 2]),
             "IntervalJoin": (_interval_join, 2, [0]), "TemporalJoin": (_temporal_join, 2, [0])}


def steps(seed: int, n: int) -> list[tuple]:
    """(input, rows, watermark after them): chunks of rows (k, t, window end, v) with times wandering forward."""
    rng, clock, out = random.Random(seed), 0, []
    for _ in range(n):
        rows = []
        for _ in range(rng.randint(1, 9)):
            clock += rng.randint(-300, 400)
            t = max(clock, 0)
            rows.append((f"k{rng.randint(0, 11)}", t, t - t % 2000 + 2000, rng.randint(0, 5)))
        out.append((rng.randrange(2), rows, clock - 800))
    return out


class Subtask:
    def __init__(self, name: str):
        make, self.inputs, self.keys = OPERATORS[name]
        self.op, self.backend = make(), StateBackend(name)
        self.op.open(OperatorContext(self.backend, n_inputs=self.inputs))
        self.marks = [-(2 ** 63)] * 2  # each input's watermark (the runtime's, given to joins that read it)

    def watermarks(self, wm: int) -> None:
        self.marks = [wm, wm]
        if hasattr(self.op, "input_watermarks"):
            self.op.input_watermarks[:] = self.marks

    def feed(self, script: list[tuple], subtask: int = 0, parallelism: int = 1) -> dict:
        """Each step's rows this subtask owns, then the watermark; the output rows by their key."""
        got: dict = {}
        for side, rows, wm in script:
            side = side % self.inputs
            cols = [pa.array([r[j] for r in rows], t) for j, t in enumerate(ROW)]
            owner = subtask_of_groups(key_groups([cols[j] for j in self.keys], len(rows)), parallelism)
            mine = pa.array(owner == subtask)
            before = self.marks[side]
            batch = make_batch(INSERT, [c.filter(mine) for c in cols], NAMES,
                               wm=np.full(int(np.sum(owner == subtask)), before, np.int64))
            out = self.op.on_batch(batch, side) if batch.num_rows else []
            self.watermarks(wm)
            out += self.op.on_watermark(wm)
            for b in out:
                for r in b.to_pylist():
                    got.setdefault(tuple(r[NAMES[j]] for j in self.keys), []).append(tuple(r.values()))
        return got


def old_layout(part: dict[str, bytes]) -> dict[str, bytes]:
    """A snapshot as written before the rows carried their key group."""
    out = {}
    for name, blob in part.items():
        table = pa.ipc.open_stream(blob).read_all()
        keep = [c for c in table.column_names if c != "$key_group"] if name != "progress" else table.column_names
        out[name] = _ipc(table.select(keep))
    return out


@pytest.mark.parametrize("name", sorted(OPERATORS))
@pytest.mark.parametrize("layout", ["keyed", "old"])
def test_two_subtasks_rescale_to_three_and_one_and_continue_exactly(name, layout):
    script = steps(11, 160)
    head, tail = script[:80], script[80:]
    whole = Subtask(name)
    whole.feed(head)
    assert whole.backend.size_rows(), "rows in state at the snapshot"
    expected = whole.feed(tail)
    parts = []
    for s in range(2):
        sub = Subtask(name)
        sub.feed(head, s, 2)
        part = sub.backend.snapshot()
        parts.append({name: part if layout == "keyed" else old_layout(part)})
    for parallelism in (3, 1, 2):
        got: dict = {}
        for s, (restored, groups) in enumerate(redistribute(parts, parallelism, 128)):
            sub = Subtask(name)
            restore_operator(sub.backend, [p[name] for p in restored], groups, 2, parallelism)
            sub.watermarks(head[-1][2])
            got.update(sub.feed(tail, s, parallelism))
        assert got == expected and sum(map(len, expected.values())) > 20, f"at parallelism {parallelism}"
