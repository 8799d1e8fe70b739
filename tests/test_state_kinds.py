"""The declared state kinds: a keyed table's snapshot splits by key group (rescaling moves whole groups and
the rescaled operators continue exactly), and a snapshot of another layout is refused with a clear error."""
import io
import random

import numpy as np
import pyarrow as pa
import pytest

from sqlstream.core.changelog import DELETE, INSERT, UPDATE_AFTER, make_batch
from sqlstream.core.errors import ValidationError
from sqlstream.runtime.key_groups import DEFAULT_MAX_PARALLELISM, group_range, key_groups, subtask_of_groups
from sqlstream.runtime.operator import OperatorContext
from sqlstream.runtime.operators.changelog_normalize import ChangelogNormalizeOperator
from sqlstream.runtime.state import KeyedTable, StateBackend
from tests.golden import GOLDEN, case_sql
from tests.test_state import build_job

KIND = {INSERT: "+I", UPDATE_AFTER: "+U", DELETE: "-D", 1: "-U"}


def keyed(keys: list) -> KeyedTable:
    table = KeyedTable([pa.string(), pa.int64()], {"v": pa.int64()})
    table.put([pa.array([k[0] for k in keys], pa.string()), pa.array([k[1] for k in keys], pa.int64())],
              {"v": pa.array(range(len(keys)), pa.int64())})
    return table


def rows_of(table: pa.Table) -> set:
    return set(zip(*[table.column(c).to_pylist() for c in ("k0", "k1", "v")]))


@pytest.mark.parametrize("old, new", [(1, 3), (2, 5), (4, 1), (3, 2)])
def test_keyed_snapshots_split_by_key_group_and_rescale(old, new):
    keys = [(None if i % 17 == 0 else f"key{i % 100}", i) for i in range(300)]
    whole = keyed(keys)
    parts = [whole.snapshot(group_range(s, old)) for s in range(old)]
    assert sum(p.num_rows for p in parts) == len(keys), "every key is in exactly one subtask's snapshot"
    rescaled = []
    for s in range(new):
        table = KeyedTable([pa.string(), pa.int64()], {"v": pa.int64()})
        table.restore(pa.concat_tables(parts), group_range(s, new))
        rescaled.append(rows_of(table.scan()))
        groups = key_groups([table.scan().column("k0"), table.scan().column("k1")], len(table))
        assert set(subtask_of_groups(groups, new).tolist()) <= {s}, "a subtask holds only the keys it owns"
    assert set().union(*rescaled) == rows_of(whole.scan()) and sum(map(len, rescaled)) == len(keys)


def test_a_keyed_table_restores_a_snapshot_taken_before_key_groups_were_kept():
    whole = keyed([("a", 1), ("b", 2)])
    old = whole.snapshot().drop_columns(["$key_group"])
    table = KeyedTable([pa.string(), pa.int64()], {"v": pa.int64()})
    table.restore(old, group_range(0, 1))
    assert rows_of(table.scan()) == rows_of(whole.scan())


def run_normalize(backend: StateBackend, op: ChangelogNormalizeOperator, rows: list) -> list[str]:
    out = []
    for at in range(0, len(rows), 4):
        chunk = rows[at:at + 4]
        batch = make_batch(np.array([r[0] for r in chunk], np.int8),
                           [pa.array([r[1] for r in chunk], pa.string()), pa.array([r[2] for r in chunk])],
                           ["k", "v"])
        for b in op.on_batch(batch):
            out += [f"{KIND[o]}[{k}, {v}]" for o, k, v in zip(*[c.to_pylist() for c in b.columns[:3]])]
    return out


def normalizer() -> tuple[StateBackend, ChangelogNormalizeOperator]:
    op, backend = ChangelogNormalizeOperator([0], ["k", "v"], [pa.string(), pa.int64()]), StateBackend("n")
    op.open(OperatorContext(backend))
    return backend, op


def by_key(lines: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in lines:
        out.setdefault(line.split("[")[1].split(",")[0], []).append(line)
    return out


def test_an_operator_rescaled_from_one_to_three_subtasks_continues_exactly():
    rng = random.Random(7)
    rows = [(rng.choice([INSERT, UPDATE_AFTER, DELETE]), f"k{rng.randint(0, 30)}", rng.randint(0, 3))
            for _ in range(400)]
    head, tail = rows[:200], rows[200:]
    backend, op = normalizer()
    run_normalize(backend, op, head)
    snapshot = backend.snapshot(group_range(0, 1))
    expected = by_key(run_normalize(backend, op, tail))
    groups = key_groups([pa.array([r[1] for r in tail], pa.string())], len(tail))
    owner = subtask_of_groups(groups, 3)
    got: dict[str, list[str]] = {}
    for s in range(3):
        backend, op = normalizer()
        backend.restore([snapshot], group_range(s, 3))
        got.update(by_key(run_normalize(backend, op, [r for r, o in zip(tail, owner) if o == s])))
    assert got == expected and len(expected) > 10


def test_state_that_is_not_keyed_cannot_be_split_by_key_group():
    backend = StateBackend("op")
    OperatorContext(backend).counters("progress", type("P", (), {"seq": 1})(), ("seq",))
    with pytest.raises(ValueError, match="'progress' of operator op is not keyed"):
        backend.snapshot(range(0, DEFAULT_MAX_PARALLELISM))


def test_a_snapshot_of_another_layout_is_refused_naming_the_difference():
    backend = StateBackend("sort")
    OperatorContext(backend).row_store("waiting_rows", pa.schema([("c0", pa.int64()), ("$ts", pa.int64())]))
    other = StateBackend("sort")
    other.row_store("waiting_rows", pa.schema([("c0", pa.string())]))
    with pytest.raises(ValueError, match=r"columns \(c0 string\) where the operator keeps \(c0 int64, \$ts int64\)"):
        backend.restore(other.snapshot())
    versions = StateBackend("join")
    versions.keyed_table("right_versions", [pa.int64()], {"versions": pa.list_(pa.int64())})
    flat = StateBackend("join")
    flat.row_store("right_versions", pa.schema([("c0", pa.int64()), ("$time", pa.int64())]))
    with pytest.raises(ValueError, match=r"lacks column\(s\) k0, versions, \$written"):
        versions.restore(flat.snapshot())


def test_a_checkpoint_of_an_older_layout_is_refused_naming_the_operator_and_columns():
    sql = case_sql(GOLDEN / "dedup_first")
    job, _ = build_job(sql, 7)
    for _ in range(3):
        job.step()
    snap = job.snapshot()
    uid, blobs = next((u, b) for u, b in snap["operators"].items() if "pending_rows" in b)
    rows = pa.ipc.open_stream(blobs["pending_rows"]).read_all()
    assert rows.num_rows, "rows wait for the watermark at the snapshot"
    older = rows.drop_columns(["$waiting"])  # the layout before the waiting flag was kept
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, older.schema) as w:
        w.write_table(older)
    snap["operators"][uid] = {**blobs, "pending_rows": sink.getvalue()}
    restored, _ = build_job(sql, 7)
    with pytest.raises(ValidationError, match=rf"Cannot restore the state of operator {uid}: the snapshot's rows "
                                              r"have columns \(.*\$ts int64, \$seq int64\) where the operator "
                                              r"keeps \(.*\$seq int64, \$waiting bool\)"):
        restored.restore(snap)
