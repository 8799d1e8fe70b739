"""A second state backend (tests/disk_state.py: row stores in Arrow IPC files) runs operators unchanged: golden
cases of every operator that keeps a row store give Flink's rows, and snapshots move between the backends."""
import os
import random

import numpy as np
import pyarrow as pa
import pytest

from sqlstream.core.changelog import INSERT, make_batch
from sqlstream.core.errors import OptionError
from sqlstream.runtime.operator import OperatorContext
from sqlstream.runtime.operators.first_row_deduplicate import FirstRowDeduplicateOperator
from sqlstream.runtime.operators.interval_join import IntervalJoinOperator
from sqlstream.runtime.state import StateBackend, state_backend_class
from tests.disk_state import DiskKeyedRows, DiskStateBackend
from tests.golden import GOLDEN, case_sql, expected, oracle, run_sql
from tests.test_interval_join import NAMES, TYPES, script

DISK = "SET 'state.backend.type' = 'tests.disk_state.DiskStateBackend';\n"
# interval join, temporal join, keep-first dedup, Top-1 and Top-N, MATCH_RECOGNIZE: every row-store user
CASES = ["join_interval_outer", "temporal_join", "dedup_first_late", "topn_range_shop", "topn_without_rank",
         "match_v_shape_orders"]


@pytest.mark.parametrize("case", CASES)
def test_golden_cases_on_the_disk_backend(case):
    compare, _ = oracle()
    rows, cols, types = expected(GOLDEN / case)
    ok, msg = compare.compare_rows(rows, run_sql(DISK + case_sql(GOLDEN / case), batch_size=7), cols, types)
    assert ok, f"{case}: {msg}"


def test_the_configuration_names_the_backend():
    assert state_backend_class({}) is StateBackend
    assert state_backend_class({"state.backend.type": "hashmap"}) is StateBackend
    assert state_backend_class({"state.backend.type": "tests.disk_state.DiskStateBackend"}) is DiskStateBackend
    with pytest.raises(OptionError, match="'state.backend.type' = 'rocksdb' is not a state backend"):
        state_backend_class({"state.backend.type": "rocksdb"})


def test_rows_live_in_files():
    backend = DiskStateBackend("d")
    store = backend.row_store("rows", pa.schema([("c0", pa.int64())]), {"seq": np.int64}, live=None)
    for i in range(3):
        store.append(pa.table({"c0": pa.array([i, i + 10], pa.int64())}), seq=np.array([2 * i, 2 * i + 1]))
    assert len(os.listdir(store.folder)) == 3 and store.fragments() == 3
    store.keep(np.array([5, 0]))
    assert os.listdir(store.folder) == ["3.arrow"] and store.rows().column("c0").to_pylist() == [12, 0]
    assert store.array("seq").tolist() == [5, 0]
    with pytest.raises(ValueError):
        store.array("seq")[0] = 1  # per-row values are written through set()


@pytest.mark.parametrize("backend_class", [StateBackend, DiskStateBackend])
def test_a_checkpoint_keeps_the_per_row_values_of_its_moment(backend_class):
    """A row store's snapshot table shares the per-row arrays' buffers (no copy per checkpoint); the backend
    writes it out at once, on the operator's thread, so values the operator sets afterwards are not in it."""
    backend = backend_class("s")
    schema = pa.schema([("k", pa.int64())])
    plain = backend.row_store("plain", schema, {"matched": np.int64})
    keyed = backend.keyed_rows("keyed", schema, ["k"], {"matched": np.int64})
    for store in (plain, keyed):
        store.append(pa.table({"k": pa.array([1, 2, 3], pa.int64())}), matched=np.array([0, 0, 0]))
    blobs = backend.snapshot()
    for store in (plain, keyed):
        store.set("matched", np.array([0, 2]), 7)
    restored = backend_class("s")
    again = [restored.row_store("plain", schema, {"matched": np.int64}),
             restored.keyed_rows("keyed", schema, ["k"], {"matched": np.int64})]
    restored.restore(blobs)
    assert [s.array("matched").tolist() for s in again] == [[0, 0, 0], [0, 0, 0]]


def _join_steps(steps, size):
    """(watermark, None, None) or (side, batch, the side's row watermark after the batch) per step."""
    for step in steps:
        if step[0] == "wm":
            yield step[1], None, None
            continue
        _, side, rows = step
        for at in range(0, len(rows), size):
            chunk = rows[at:at + size]
            yield side, make_batch(INSERT, [pa.array([r[0] for r in chunk], pa.int64()),
                                            pa.array([r[1] for r in chunk], pa.timestamp("ms")),
                                            pa.array([r[2] for r in chunk], pa.int64())], NAMES[:3],
                                   wm=np.array([r[3] for r in chunk], np.int64)), chunk[-1][3]


def _run_join(steps, backends, restore_at):
    """The join's output with its state in backends[0], moved to backends[1] by a snapshot at `restore_at`."""
    def make(backend_class):
        op = IntervalJoinOperator("FULL", [0], [0], 1, 1, -1000, 1000, None, TYPES, TYPES, NAMES)
        backend = backend_class("j")
        op.open(OperatorContext(backend, n_inputs=2))
        return op, backend
    op, backend = make(backends[0])
    out, side_wm = [], [-(2 ** 63), -(2 ** 63)]
    for i, (side, batch, wm) in enumerate(_join_steps(steps, 4)):
        if i == restore_at:
            blobs = backend.snapshot()
            op, backend = make(backends[1])
            backend.restore(blobs)
        op.input_watermarks[:] = side_wm
        if batch is None:
            batches = op.on_watermark(side)
        else:
            batches = op.on_batch(batch, side)
            side_wm[side] = max(side_wm[side], wm)
        for o in batches:
            out += list(zip(*[o.column(j).to_pylist() for j in range(o.num_columns)]))
    return out


def test_snapshots_move_between_backends():
    steps = script(random.Random(7)) + script(random.Random(8))
    n = sum(1 for _ in _join_steps(steps, 4))
    memory = _run_join(steps, (StateBackend, StateBackend), n // 2)
    assert memory == _run_join(steps, (DiskStateBackend, DiskStateBackend), n // 2)
    assert memory == _run_join(steps, (DiskStateBackend, StateBackend), n // 2)
    assert memory == _run_join(steps, (StateBackend, DiskStateBackend), n // 2)


def test_keep_first_dedup_restores_on_the_disk_backend():
    types = [pa.string(), pa.timestamp("ms")]

    def make(backend_class):
        op = FirstRowDeduplicateOperator([0], 1, True, ["k", "ts", "rn"], types)
        backend = backend_class("dedup")
        op.open(OperatorContext(backend))
        return op, backend
    op, backend = make(DiskStateBackend)
    assert isinstance(op.store, DiskKeyedRows)  # its rows on disk
    batch = make_batch(INSERT, [pa.array(["a", "b", "a"]), pa.array([3, 1, 2], pa.timestamp("ms"))], ["k", "ts"],
                       wm=np.full(3, -(2 ** 63), np.int64))
    assert op.on_batch(batch) == []
    blobs = backend.snapshot()
    op, backend = make(DiskStateBackend)
    backend.restore(blobs)
    out = op.on_watermark(5)
    assert [(r["k"], r["ts"].timestamp()) for r in out[0].to_pylist()] == [("b", 0.001), ("a", 0.002)]


def test_over_progress_of_the_scalar_state_layout_restores_and_counts_late_rows_once_when_rescaled():
    """OVER's `progress` was one row of int64 fields per subtask without a key group (the scalar state it no
    longer has): it restores as it was, and rescaled 2 -> 3 each old subtask's late rows are counted once, by the
    new subtask holding its first key group (the scalar state added them up in every subtask it reached)."""
    from sqlstream.runtime.key_groups import group_range
    from sqlstream.runtime.operators.over_aggregate import OverAggregateOperator
    from sqlstream.runtime.subtask_state import redistribute, restore_operator
    from tests.test_over_columnar import make

    def opened():
        op, backend = make(OverAggregateOperator, "ROWS", 3), StateBackend("over")
        op.open(OperatorContext(backend))
        return op, backend

    def legacy(seq, late, wm):
        sink = pa.BufferOutputStream()
        table = pa.table({n: pa.array([v], pa.int64()) for n, v in (("seq", seq), ("late_dropped", late),
                                                                     ("wm_applied", wm))})
        with pa.ipc.new_stream(sink, table.schema) as w:
            w.write_table(table)
        return sink.getvalue().to_pybytes()
    over = opened()[1].snapshot()["over"]
    parts = [{"over": {"over": over, "progress": legacy(seq, late, 40)}} for seq, late in ((5, 3), (9, 4))]
    op, backend = opened()
    restore_operator(backend, [parts[1]["over"]], None, 2, 2)
    assert (op.seq, op.late_dropped, op.wm_applied) == (9, 4, 40)
    got = []
    for j, (taken, groups) in enumerate(redistribute(parts, 3, 128)):
        op, backend = opened()
        restore_operator(backend, [p["over"] for p in taken], groups, 2, 3)
        assert groups == group_range(j, 3)
        got.append((op.seq, op.late_dropped, op.wm_applied))
    assert got == [(5, 3, 40), (9, 4, 40), (9, 0, 40)]
    op, backend = opened()
    restore_operator(backend, [p["over"] for p in parts], None, 2, 1)
    assert (op.seq, op.late_dropped, op.wm_applied) == (9, 7, 40)


def test_watermarks_and_subtask_parts_keep_nothing_in_schema_metadata():
    from sqlstream.core.types import BIGINT
    from sqlstream.plan.expr import Ref
    from sqlstream.runtime.operators.watermark_assigner import WatermarkAssignerOperator
    from sqlstream.runtime.subtask_state import SUBTASKS, decode, encode, written

    def assigner():
        op = WatermarkAssignerOperator(Ref(BIGINT, 0, "ts"), ["ts"])
        op.open(OperatorContext(StateBackend("wm")))
        op.set_splits(3)
        return op
    op = assigner()
    op.splits, op.state.current = [7, 3, 5], 3
    table = op.state.snapshot()
    assert table.schema.metadata is None
    restored = assigner()
    restored.state.restore(table)
    assert restored.splits == [7, 3, 5] and restored.state.current == 3
    legacy = pa.table({"watermark": pa.array([3], pa.int64())}).replace_schema_metadata({"splits": "7,3,5"})
    restored = assigner()
    restored.state.restore(legacy)  # written before the splits were a column
    assert restored.splits == [7, 3, 5]

    def ipc(t):
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, t.schema) as w:
            w.write_table(t)
        return sink.getvalue().to_pybytes()
    parts = [{"op": {"t": b"a"}}, {}, {"op": {"t": b"c"}}]
    assert encode(parts, 3).schema.metadata is None and written(3).schema.metadata is None
    assert decode({SUBTASKS: ipc(encode(parts, 3))}) == parts
    files = {f"subtask-{i}": ipc(encode([p], 1)) for i, p in enumerate(parts)}
    assert decode({SUBTASKS: ipc(written(3)), **files}) == parts
    old = pa.table({"subtask": pa.array([0, 2], pa.int32()), "operator": ["op", "op"], "table": ["t", "t"],
                    "data": pa.array([b"a", b"c"], pa.large_binary())}).replace_schema_metadata({"parallelism": "3"})
    assert decode({SUBTASKS: ipc(old)}) == parts


def test_over_checkpoints_with_progress_in_schema_metadata_still_restore():
    from sqlstream.runtime.operators.over_aggregate import OverAggregateOperator
    from tests.test_over_columnar import TYPES as OVER_TYPES, make, stream

    def opened():
        op, backend = make(OverAggregateOperator, "ROWS", 3), StateBackend("over")
        op.open(OperatorContext(backend))
        return op, backend
    op, backend = opened()
    for chunk, wms, wm in stream(3)[:6]:
        arrays = [pa.array([r[j] for r in chunk], t) for j, t in enumerate(OVER_TYPES)]
        op.on_batch(make_batch(INSERT, arrays, ["k", "i", "x", "ts"], wm=np.array(wms, np.int64)))
        op.on_watermark(wm)
    progress = (op.seq, op.late_dropped, op.wm_applied)
    backend_blobs = backend.snapshot()
    assert op.seq > 0 and op.wm_applied > -(2 ** 63)
    table = op.snapshot_table()
    legacy = table.replace_schema_metadata({"layout": "columnar-2", "seq": str(progress[0]),
                                            "late": str(progress[1]), "wm": str(progress[2])})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, legacy.schema) as w:
        w.write_table(legacy)
    restored, backend = opened()
    backend.restore({"over": sink.getvalue().to_pybytes()})  # no "progress" table then
    assert (restored.seq, restored.late_dropped, restored.wm_applied) == progress
    current, current_backend = opened()
    current_backend.restore(backend_blobs)
    assert restored.snapshot_table().to_pylist() == current.snapshot_table().to_pylist()
