"""A TUMBLE or HOP aggregation split in two phases (partial aggregates of each piece of a divided source before the
exchange, merged after it) gives what one phase gives on parallelism 1's batches: the same windows in the same
order and the same rows dropped as late, although the local phase knows only each row's watermark within its
piece (the watermark before the piece comes after the exchange)."""
import random

import numpy as np
import pyarrow as pa
import pytest

from sqlstream.core.changelog import INSERT, make_batch
from sqlstream.core.types import BIGINT, INT, FlinkType
from sqlstream.plan.logical import AggCall, WindowSpec
from sqlstream.runtime.event_time import MAX_WM, MIN_WM
from sqlstream.runtime.operator import OperatorContext
from sqlstream.runtime.operators.window_aggregate import WindowAggregateOperator
from sqlstream.runtime.state import StateBackend

NAMES = ["k", "v", "ts"]
TYPES = [pa.int64(), pa.int32(), pa.timestamp("ms")]
TS = FlinkType("TIMESTAMP", precision=3)
DELAY = 500
WINDOWS = {"tumble": WindowSpec("TUMBLE", 2, size=2000), "hop": WindowSpec("HOP", 2, size=3000, slide=1000)}


def make(aggs=None, window: WindowSpec = WINDOWS["tumble"]) -> WindowAggregateOperator:
    aggs = aggs or [AggCall("COUNT", (), BIGINT), AggCall("SUM", (1,), INT), AggCall("MAX", (1,), INT),
                    AggCall("AVG", (1,), INT), AggCall("COUNT", (1,), BIGINT)]
    op = WindowAggregateOperator(window, [0], aggs, None,
                                 ["k", "window_start", "window_end", "window_time"] + [f"a{i}" for i in range(5)],
                                 [BIGINT, TS, TS, TS, BIGINT, INT, INT, INT, BIGINT])
    op.open(OperatorContext(StateBackend("w")))
    return op


def pieces(rng: random.Random) -> list[tuple[list[tuple], list[int], int]]:
    """(rows, each row's watermark candidate within the piece, the watermark before the piece) per piece."""
    rows, t = [], 1_700_000_000_000
    for _ in range(rng.randint(100, 3000)):
        t += rng.choice([0, 1, 10, 300, 999])
        back = rng.choice([0, 1200, 2500, 4100]) if rng.random() < 0.1 else 0
        rows.append((rng.choice([None] + list(range(rng.choice([3, 60])))), rng.choice([None, -5, 2, 7]), t - back))
    out, top, i = [], MIN_WM, 0
    while i < len(rows):
        chunk = rows[i:i + rng.choice([1, 7, 100, 700])]
        i += len(chunk)
        candidates, own = [], MIN_WM
        for r in chunk:
            candidates.append(own)
            own = max(own, r[2] - DELAY)
        out.append((chunk, candidates, top))
        top = max(top, own)
    return out


def batch(rows: list[tuple], wm: list[int]) -> pa.RecordBatch:
    arrays = [pa.array([r[j] for r in rows], t) for j, t in enumerate(TYPES)]
    return make_batch(INSERT, arrays, NAMES, wm=np.array(wm, np.int64))


def one_phase(parts, window: WindowSpec) -> tuple[list[dict], int]:
    op, out = make(window=window), []
    for rows, candidates, before in parts:
        op.on_batch(batch(rows, [max(before, c) for c in candidates]))
        out += [r for b in op.on_watermark(max([before] + [r[2] - DELAY for r in rows])) for r in b.to_pylist()]
    return out + [r for b in op.on_watermark(MAX_WM) for r in b.to_pylist()], op.late_dropped


def two_phase(parts, window: WindowSpec) -> tuple[list[dict], int]:
    local, op, out = make(window=window), make(window=window), []
    assert op.splits_in_two()
    op.become_global()
    for rows, candidates, before in parts:
        partials = local.local_partials([batch(rows, candidates)])
        wm = np.maximum(partials.column(partials.num_columns - 1).to_numpy(), before)
        op.on_batch(pa.RecordBatch.from_arrays(partials.columns[:-1] + [pa.array(wm)], names=partials.schema.names))
        out += [r for b in op.on_watermark(max([before] + [r[2] - DELAY for r in rows])) for r in b.to_pylist()]
    return out + [r for b in op.on_watermark(MAX_WM) for r in b.to_pylist()], op.late_dropped


@pytest.mark.parametrize("kind", list(WINDOWS))
@pytest.mark.parametrize("seed", range(6))
def test_two_phases_give_one_phases_windows_and_late_rows(seed, kind):
    parts = pieces(random.Random(seed))
    reference = one_phase(parts, WINDOWS[kind])
    assert reference[1] > 0  # out of order enough for rows to be late
    assert two_phase(parts, WINDOWS[kind]) == reference


def test_floating_sums_and_distinct_stay_in_one_phase():
    from sqlstream.core.types import DOUBLE
    assert not make([AggCall("SUM", (1,), DOUBLE)]).splits_in_two()
    assert not make([AggCall("COUNT", (1,), BIGINT, distinct=True)]).splits_in_two()
    assert make([AggCall("MIN", (1,), INT)]).splits_in_two()


def test_explain_shows_the_local_and_global_phases_above_parallelism_1():
    import io
    from sqlstream.script import ScriptRunner
    ddl = ("CREATE TABLE t (k INT, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) "
           "WITH ('connector' = 'datagen', 'number-of-rows' = '10');\n"
           "EXPLAIN SELECT k, window_start, COUNT(*), SUM(v) FROM TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), "
           "INTERVAL '2' SECOND)) GROUP BY k, window_start, window_end;")
    plans = {}
    for p in (1, 2):
        out = io.StringIO()
        ScriptRunner(out=out, err=io.StringIO()).run(f"SET 'parallelism.default' = '{p}';\n{ddl}")
        plans[p] = out.getvalue().split("== Physical Plan ==")[1].splitlines()
    assert not any("LocalWindowAggregate" in line for line in plans[1])
    local = next(i for i, line in enumerate(plans[2]) if "+- LocalWindowAggregate(groupBy=[$0]" in line)
    assert "+- GlobalWindowAggregate(groupBy=[$0]" in plans[2][local - 2]
    assert "+- Exchange(distribution=[hash[" in plans[2][local - 1]
    assert "parallelism=[2]" in plans[2][local]


def test_a_cli_job_at_parallelism_2_gives_parallelism_1s_windows_and_late_rows(tmp_path):
    """`sqlstream run -p 2`: its fork server is a fork of the CLI's process (one thread yet), the subtasks read
    the generator and aggregate in two phases."""
    import json
    import subprocess
    import sys
    from tests.cli_job import REPO
    from tests.test_divided_sources import OUT_OF_ORDER, run
    from tests.test_parallel import changes_per_row
    sql = OUT_OF_ORDER.format(last=40_000 - 1) + (
        "SELECT k, window_start, COUNT(*) AS c, SUM(j) AS s, MIN(i) AS lo FROM TABLE(TUMBLE(TABLE t, "
        "DESCRIPTOR(ts), INTERVAL '2' SECOND)) GROUP BY k, window_start, window_end;")
    reference, err1 = run(sql, 1)
    job = tmp_path / "job.sql"
    job.write_text(sql)
    p = subprocess.run([sys.executable, "-m", "sqlstream.cli", "run", "-p", "2", "--format", "jsonl", str(job)],
                       cwd=REPO, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stderr
    assert "source divided among them" in p.stderr, p.stderr
    late = err1.split("late rows dropped: ")[1].split(",")[0]
    assert int(late) > 100 and f"late rows dropped: {late}," in p.stderr, p.stderr
    got = [json.loads(ln) for ln in p.stdout.splitlines() if ln.strip()]
    assert changes_per_row(got) == changes_per_row(reference)


def made(window: WindowSpec, global_phase: bool, groups: range | None = None):
    """A window aggregation with its state backend (of the key groups `groups` of 2 subtasks' 128)."""
    from sqlstream.runtime.key_groups import DEFAULT_MAX_PARALLELISM
    op = make(window=window)
    backend = StateBackend("w", groups or range(DEFAULT_MAX_PARALLELISM), DEFAULT_MAX_PARALLELISM)
    op.open(OperatorContext(backend))
    if global_phase:
        op.become_global()
    return op, backend


def routed(partials: pa.RecordBatch, groups: range) -> pa.RecordBatch:
    """The local phase's groups whose key lies in the key groups `groups`."""
    from sqlstream.runtime.key_groups import key_groups
    g = key_groups([partials.column(1)], partials.num_rows)
    return partials.filter(pa.array((g >= groups.start) & (g < groups.stop)))


@pytest.mark.parametrize("at", ["mid-way", "before-the-end"])
@pytest.mark.parametrize("into", ["global", "one-phase", "two-subtasks"])
@pytest.mark.parametrize("seed", range(4))
def test_a_hops_slices_restored_mid_way_give_one_phases_windows_and_late_rows(seed, into, at):
    """The global phase keeps a HOP's groups per slice (`slice_rows`): a checkpoint taken mid-way restores into
    another global phase, into a one-phase operator (parallelism 1) and split by key group into two subtasks,
    with the windows and late rows of one uninterrupted phase."""
    from sqlstream.runtime.key_groups import group_range
    window = WINDOWS["hop"]
    parts = pieces(random.Random(100 + seed))
    reference, late = one_phase(parts, window)
    local, (op, backend) = make(window=window), made(window, True)
    out, half = [], len(parts) // 2 if at == "mid-way" else len(parts)
    for rows, candidates, before in parts[:half]:
        partials = local.local_partials([batch(rows, candidates)])
        wm = np.maximum(partials.column(partials.num_columns - 1).to_numpy(), before)
        op.on_batch(pa.RecordBatch.from_arrays(partials.columns[:-1] + [pa.array(wm)], names=partials.schema.names))
        out += [r for b in op.on_watermark(max([before] + [r[2] - DELAY for r in rows])) for r in b.to_pylist()]
    assert backend.tables["slice_rows"].by_end or at != "mid-way"  # the slices are what the checkpoint holds
    snapshot, dropped = backend.snapshot(), op.late_dropped
    ranges = [group_range(s, 2, 128) for s in range(2)] if into == "two-subtasks" else [None]
    for groups in ranges:
        op, backend = made(window, into != "one-phase", groups)
        backend.restore([snapshot] if groups is not None else snapshot, groups)
        op.late_dropped = 0
        for rows, candidates, before in parts[half:]:
            mark = max([before] + [r[2] - DELAY for r in rows])
            if into == "one-phase":
                op.on_batch(batch(rows, [max(before, c) for c in candidates]))
            else:
                partials = local.local_partials([batch(rows, candidates)])
                wm = np.maximum(partials.column(partials.num_columns - 1).to_numpy(), before)
                partials = pa.RecordBatch.from_arrays(partials.columns[:-1] + [pa.array(wm)],
                                                      names=partials.schema.names)
                partials = partials if groups is None else routed(partials, groups)
                if partials.num_rows:  # a subtask is given no empty batch
                    op.on_batch(partials)
            out += [r for b in op.on_watermark(mark) for r in b.to_pylist()]
        out += [r for b in op.on_watermark(MAX_WM) for r in b.to_pylist()]
        dropped += op.late_dropped
    assert dropped == late > 0
    if into == "two-subtasks":  # each key's windows in one subtask: the same rows, in another order
        assert sorted(map(str, out)) == sorted(map(str, reference))
    else:
        assert out == reference


def test_a_slice_restored_from_several_pieces_is_merged_before_its_windows_fire():
    """A checkpoint holds a slice's groups of several pieces as one table, keys repeated: restored, they are
    merged again rather than taken as one group per key."""
    window = WINDOWS["hop"]
    t = 1_700_000_000_000
    parts = [([(k % 3, k, t + k) for k in range(20)], [MIN_WM] * 20, MIN_WM) for _ in range(3)]
    reference, _ = one_phase(parts, window)
    local, (op, backend) = make(window=window), made(window, True)
    for rows, candidates, _ in parts:
        op.on_batch(local.local_partials([batch(rows, candidates)]))
    op, restored = made(window, True)
    restored.restore(backend.snapshot())
    got = [r for b in op.on_watermark(MAX_WM) for r in b.to_pylist()]
    without_wm = [[{k: v for k, v in r.items() if k != "_wm"} for r in rows] for rows in (got, reference)]
    assert without_wm[0] == without_wm[1] and len(got) == 3 * 3


@pytest.mark.parametrize("seed", range(4))
def test_a_hop_without_keys_gives_one_phases_windows_and_late_rows(seed):
    """A global aggregate per window (its global phase in the job's process) keeps its slices the same way."""
    aggs = [AggCall("COUNT", (), BIGINT), AggCall("MAX", (1,), INT)]

    def keyless() -> WindowAggregateOperator:
        op = WindowAggregateOperator(WINDOWS["hop"], [], aggs, None,
                                     ["window_start", "window_end", "window_time", "c", "m"], [TS, TS, TS, BIGINT, INT])
        op.open(OperatorContext(StateBackend("w")))
        return op
    parts = pieces(random.Random(200 + seed))
    reference, local, op, out = keyless(), keyless(), keyless(), []
    assert op.splits_in_two(keyed=False)
    op.become_global()
    expected = []
    for rows, candidates, before in parts:
        mark = max([before] + [r[2] - DELAY for r in rows])
        reference.on_batch(batch(rows, [max(before, c) for c in candidates]))
        expected += [r for b in reference.on_watermark(mark) for r in b.to_pylist()]
        partials = local.local_partials([batch(rows, candidates)])
        wm = np.maximum(partials.column(partials.num_columns - 1).to_numpy(), before)
        op.on_batch(pa.RecordBatch.from_arrays(partials.columns[:-1] + [pa.array(wm)], names=partials.schema.names))
        out += [r for b in op.on_watermark(mark) for r in b.to_pylist()]
    expected += [r for b in reference.on_watermark(MAX_WM) for r in b.to_pylist()]
    out += [r for b in op.on_watermark(MAX_WM) for r in b.to_pylist()]
    assert out == expected and reference.late_dropped == op.late_dropped > 0


@pytest.mark.parametrize("seed", range(4))
def test_a_tumble_without_keys_aggregates_a_pieces_one_window_without_hashing(seed, monkeypatch):
    """A piece whose rows all fall in one window, none late, is one group: the local phase aggregates it without
    grouping (a scalar aggregation), with the partials grouping gives; every piece's partials are the same."""
    from sqlstream.runtime.operators import window_aggregate
    aggs = [AggCall("COUNT", (), BIGINT), AggCall("MAX", (1,), INT), AggCall("SUM", (1,), INT),
            AggCall("MIN", (1,), INT), AggCall("COUNT", (1,), BIGINT)]

    def keyless() -> WindowAggregateOperator:
        op = WindowAggregateOperator(WINDOWS["tumble"], [], aggs, None,
                                     ["window_start", "window_end", "window_time"] + [f"a{i}" for i in range(5)],
                                     [TS, TS, TS, BIGINT, INT, INT, INT, BIGINT])
        op.open(OperatorContext(StateBackend("w")))
        return op
    t = 1_700_000_000_000  # a window's start
    parts = pieces(random.Random(300 + seed)) + [([(None, 3, t), (1, None, t + 5), (2, 7, t + 1999)], [MIN_WM] * 3, 0)]
    local = keyless()
    one_group = 0
    for rows, candidates, _ in parts:
        scalar = local.local_partials([batch(rows, candidates)])
        with monkeypatch.context() as m:
            m.setattr(window_aggregate, "SCALAR_AGGREGATES", set())
            grouped = local.local_partials([batch(rows, candidates)])
        assert scalar.to_pylist() == grouped.to_pylist() and scalar.schema == grouped.schema
        one_group += grouped.num_rows == 1
    assert one_group > 0
