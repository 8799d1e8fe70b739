"""The declared state kinds: a keyed table's (and a GROUP BY's) snapshot splits by key group (rescaling moves whole groups and
the rescaled operators continue exactly), and a snapshot of another layout is refused with a clear error."""
import io
import random

import numpy as np
import pyarrow as pa
import pytest

from sqlstream.core.changelog import DELETE, INSERT, UPDATE_AFTER, make_batch
from sqlstream.core.errors import ValidationError
from sqlstream.core.types import BIGINT, STRING
from sqlstream.plan.logical import AggCall
from sqlstream.runtime.key_groups import DEFAULT_MAX_PARALLELISM, group_range, key_groups, subtask_of_groups
from sqlstream.runtime.operator import Operator, OperatorContext
from sqlstream.runtime.operators.changelog_normalize import ChangelogNormalizeOperator
from sqlstream.runtime.operators.group_aggregate import GroupAggregateOperator
from sqlstream.runtime.operators.inner_join import InnerJoinOperator
from sqlstream.runtime.operators.join import JoinOperator
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
    OperatorContext(backend).row_store("waiting_rows", pa.schema([("c0", pa.int64())]))
    with pytest.raises(ValueError, match="'waiting_rows' of operator op is not keyed"):
        backend.snapshot(range(0, DEFAULT_MAX_PARALLELISM))


def test_counters_merge_when_rescaled_progress_by_maximum_counts_once_each():
    """Two subtasks' counters restored at parallelism 3: each new subtask has the furthest progress, and each
    old subtask's count goes to the one new subtask whose key groups hold its first; at parallelism 1 all add up."""
    parts = []
    for s, (wm, dropped) in enumerate([(50, 3), (70, 4)]):
        backend = StateBackend("op", group_range(s, 2))
        OperatorContext(backend).counters("progress", type("P", (), {"last_wm": wm, "late_dropped": dropped})(),
                                          ("last_wm", "late_dropped"), sums=("late_dropped",))
        parts.append(backend.snapshot())
    got = []
    for s in range(3):
        owner = type("P", (), {"last_wm": 0, "late_dropped": 0})()
        backend = StateBackend("op", group_range(s, 3))
        OperatorContext(backend).counters("progress", owner, ("last_wm", "late_dropped"), sums=("late_dropped",))
        backend.restore(parts, group_range(s, 3))
        got.append((owner.last_wm, owner.late_dropped))
    assert got == [(70, 3), (70, 4), (70, 0)]
    owner = type("P", (), {"last_wm": 0, "late_dropped": 0})()
    backend = StateBackend("op")
    OperatorContext(backend).counters("progress", owner, ("last_wm", "late_dropped"), sums=("late_dropped",))
    backend.restore(parts)
    assert (owner.last_wm, owner.late_dropped) == (70, 7)


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


def test_a_deduplication_checkpoint_of_the_layout_before_its_rows_were_keyed_restores():
    """Keep-first deduplication kept its rows in plain row stores (no `$key_group`, counters without it): such a
    checkpoint restores and the job writes exactly the uninterrupted job's tail."""
    sql = case_sql(GOLDEN / "dedup_first")
    job, out = build_job(sql, 7)
    for _ in range(3):
        job.step()
    snap = job.snapshot()
    uid, blobs = next((u, b) for u, b in snap["operators"].items() if "pending_rows" in b)
    older = {}
    for name, data in blobs.items():
        table = pa.ipc.open_stream(data).read_all()
        table = table.drop_columns(["$key_group"]) if "$key_group" in table.column_names else table
        sink = io.BytesIO()
        with pa.ipc.new_stream(sink, table.schema) as w:
            w.write_table(table)
        older[name] = sink.getvalue()
    assert pa.ipc.open_stream(blobs["pending_rows"]).read_all().num_rows, "rows wait at the snapshot"
    snap["operators"][uid] = older
    before = len(out.getvalue().splitlines())
    job.run()
    tail = out.getvalue().splitlines()[before:]
    restored, out2 = build_job(sql, 7)
    restored.restore(snap)
    restored.run()
    assert out2.getvalue().splitlines() == tail and tail


def test_a_checkpoint_of_an_older_layout_is_refused_naming_the_operator_and_columns():
    sql = case_sql(GOLDEN / "dedup_first")
    job, _ = build_job(sql, 7)
    for _ in range(3):
        job.step()
    snap = job.snapshot()
    uid, blobs = next((u, b) for u, b in snap["operators"].items() if "pending_rows" in b)
    rows = pa.ipc.open_stream(blobs["pending_rows"]).read_all()
    assert rows.num_rows, "rows wait for the watermark at the snapshot"
    older = rows.drop_columns(["$waiting", "$key_group"])  # the layout before the waiting flag was kept
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, older.schema) as w:
        w.write_table(older)
    snap["operators"][uid] = {**blobs, "pending_rows": sink.getvalue()}
    restored, _ = build_job(sql, 7)
    with pytest.raises(ValidationError, match=rf"Cannot restore the state of operator {uid}: the snapshot's rows "
                                              r"have columns \(.*\$ts int64, \$seq int64\) where the operator "
                                              r"keeps \(.*\$seq int64, \$waiting bool, \$key_group int64\)"):
        restored.restore(snap)


def aggregator(ttl_ms: int = 0) -> tuple[StateBackend, GroupAggregateOperator]:
    aggs = [AggCall("COUNT", (), BIGINT), AggCall("SUM", (1,), BIGINT), AggCall("MAX", (1,), BIGINT),
            AggCall("COUNT", (1,), BIGINT, distinct=True), AggCall("LISTAGG", (2,), STRING)]
    op = GroupAggregateOperator([0], aggs, None, ["k"] + [f"a{i}" for i in range(len(aggs))],
                                [STRING] + [a.type for a in aggs], [STRING, BIGINT, STRING], input_updating=True,
                                ttl_ms=ttl_ms)
    backend = StateBackend("group")
    op.open(OperatorContext(backend))
    return backend, op


def run_group(op: GroupAggregateOperator, rows: list) -> list[str]:
    out = []
    for at in range(0, len(rows), 5):
        chunk = rows[at:at + 5]
        batch = make_batch(np.array([r[0] for r in chunk], np.int8),
                           [pa.array([r[1] for r in chunk], pa.string()), pa.array([r[2] for r in chunk], pa.int64()),
                            pa.array([f"s{r[2]}" for r in chunk], pa.string())], ["k", "v", "s"])
        for b in op.on_batch(batch):
            out += [f"{KIND[r['_op']]}{[v for c, v in r.items() if c not in ('_op', '$wm')]}" for r in b.to_pylist()]
    return out


def group_rows(seed: int, n: int) -> list:
    """Inserts, then some of them retracted (-D), interleaved: an updating input GROUP BY must follow."""
    rng = random.Random(seed)
    rows, kept = [], []
    for _ in range(n):
        if kept and rng.random() < 0.3:
            rows.append((DELETE,) + kept.pop(rng.randrange(len(kept))))
        else:
            kept.append((None if rng.random() < 0.05 else f"k{rng.randint(0, 40)}", rng.randint(0, 9)))
            rows.append((INSERT,) + kept[-1])
    return rows


@pytest.mark.parametrize("old, new", [(1, 3), (3, 2), (2, 1)])
def test_group_by_state_rescales_by_key_group_and_continues_exactly(old, new):
    head, tail = group_rows(3, 300), group_rows(4, 300)
    _, whole = aggregator()
    run_group(whole, head)
    parts = []
    for s in range(old):  # `old` subtasks, each with the keys of its key groups
        backend, op = aggregator()
        owner = subtask_of_groups(key_groups([pa.array([r[1] for r in head], pa.string())], len(head)), old)
        run_group(op, [r for r, o in zip(head, owner) if o == s])
        parts.append(backend.snapshot(group_range(s, old)))
    assert sum(pa.ipc.open_stream(p["groups"]).read_all().num_rows for p in parts) == len(whole.groups)
    expected = by_key(run_group(whole, tail))
    owner = subtask_of_groups(key_groups([pa.array([r[1] for r in tail], pa.string())], len(tail)), new)
    got: dict[str, list[str]] = {}
    for s in range(new):
        backend, op = aggregator()
        backend.restore(parts, group_range(s, new))
        got.update(by_key(run_group(op, [r for r, o in zip(tail, owner) if o == s])))
    assert got == expected and len(expected) > 10


def test_group_by_state_of_the_layout_before_key_groups_restores_and_splits():
    backend, op = aggregator()
    run_group(op, group_rows(5, 200))
    older = op.groups.snapshot().drop_columns(["$written", "$key_group"])  # the operator's own snapshot
    expected = by_key(run_group(op, group_rows(6, 200)))
    got: dict[str, list[str]] = {}
    tail = group_rows(6, 200)
    owner = subtask_of_groups(key_groups([pa.array([r[1] for r in tail], pa.string())], len(tail)), 2)
    for s in range(2):
        restored_backend, restored = aggregator()
        sink = io.BytesIO()
        with pa.ipc.new_stream(sink, older.schema) as w:
            w.write_table(older)
        restored_backend.restore([{"groups": sink.getvalue()}], group_range(s, 2))
        got.update(by_key(run_group(restored, [r for r, o in zip(tail, owner) if o == s])))
    assert got == expected


def test_group_by_state_ttl_is_the_keyed_state_expiry():
    clock = [0]
    _, op = aggregator(ttl_ms=1_000)
    op.groups.ttl.clock = lambda: clock[0]
    run_group(op, [(INSERT, "a", 1), (INSERT, "b", 2)])
    clock[0] = 600
    run_group(op, [(INSERT, "b", 3)])
    clock[0] = 1_200
    assert run_group(op, [(INSERT, "a", 4)]) == ["+I['a', 1, 4, 4, 1, 's4']"]
    assert len(op.groups) == 2 and op.metrics()["expired_keys"] == 1


def joiner(kind: str) -> tuple[StateBackend, Operator]:
    t = [pa.string(), pa.int64()]
    if kind == "INNER":
        op = InnerJoinOperator([0], [0], None, t, t, ["k", "v", "k0", "v0"])
    else:
        semi = kind in ("SEMI", "ANTI")
        op = JoinOperator(kind, [0], [0], None, t, t, ["k", "v"] if semi else ["k", "v", "k0", "v0"],
                          t if semi else t + t)
    backend = StateBackend("join")
    op.open(OperatorContext(backend))
    return backend, op


def run_join(op: Operator, rows: list) -> list[str]:
    """rows: (side, kind, key, value), fed a few at a time, a side's consecutive rows in one batch."""
    out = []
    at = 0
    while at < len(rows):
        side = rows[at][0]
        chunk = [r for r in rows[at:at + 4]]
        chunk = chunk[:next((i for i, r in enumerate(chunk) if r[0] != side), len(chunk))]
        at += len(chunk)
        batch = make_batch(np.array([r[1] for r in chunk], np.int8),
                           [pa.array([r[2] for r in chunk], pa.string()), pa.array([r[3] for r in chunk], pa.int64())],
                           ["k", "v"])
        for b in op.on_batch(batch, side):
            out += [f"{KIND[r['_op']]}{[v for c, v in r.items() if c not in ('_op', '$wm')]}" for r in b.to_pylist()]
    return out


def join_rows(seed: int, n: int) -> list:
    """Both sides' inserts and retractions of earlier inserts, interleaved."""
    rng = random.Random(seed)
    rows, kept = [], [[], []]
    for _ in range(n):
        side = rng.randrange(2)
        if kept[side] and rng.random() < 0.25:
            rows.append((side, DELETE) + kept[side].pop(rng.randrange(len(kept[side]))))
        else:
            kept[side].append((None if rng.random() < 0.05 else f"k{rng.randint(0, 30)}", rng.randint(0, 5)))
            rows.append((side, INSERT) + kept[side][-1])
    return rows


def by_join_key(lines: list[str]) -> dict:
    out: dict = {}
    for line in lines:
        row = eval(line[2:])  # noqa: S307 -- the test's own repr of a row
        out.setdefault(row[0] if row[0] is not None or len(row) < 3 else row[2], []).append(line)
    return out


@pytest.mark.parametrize("kind", ["INNER", "LEFT", "FULL", "SEMI", "ANTI"])
@pytest.mark.parametrize("old, new", [(2, 3), (3, 1)])
def test_join_state_rescales_by_key_group_and_continues_exactly(kind, old, new):
    head, tail = join_rows(8, 300), join_rows(9, 300)

    def owners(rows, p):
        return subtask_of_groups(key_groups([pa.array([r[2] for r in rows], pa.string())], len(rows)), p)
    _, whole = joiner(kind)
    run_join(whole, head)
    parts = []
    for s in range(old):
        backend, op = joiner(kind)
        run_join(op, [r for r, o in zip(head, owners(head, old)) if o == s])
        parts.append(backend.snapshot(group_range(s, old)))
    expected = by_join_key(run_join(whole, tail))
    got: dict = {}
    for s in range(new):
        backend, op = joiner(kind)
        backend.restore(parts, group_range(s, new))
        got.update(by_join_key(run_join(op, [r for r, o in zip(tail, owners(tail, new)) if o == s])))
    assert got == expected and sum(map(len, expected.values())) > 10


def test_every_kind_splits_by_the_jobs_max_parallelism_as_routing_does():
    """At 'pipeline.max-parallelism' 64, each declared kind's snapshot for a subtask's key groups holds exactly the
    keys routing sends that subtask (the kinds took the backend's number of key groups, not the default 128)."""
    from sqlstream.runtime.key_groups import max_parallelism_of
    from sqlstream.runtime.parallel.source_share import route
    max_p, parallelism = max_parallelism_of({"pipeline.max-parallelism": "64"}), 3
    keys = pa.array([f"key-{i}" for i in range(300)], pa.string())
    n = len(keys)
    backend = StateBackend("op", max_parallelism=max_p)
    ctx = OperatorContext(backend)
    ctx.keyed_table("table", [pa.string()], {"v": pa.int64()}).put([keys], {"v": pa.array(range(n), pa.int64())})
    backend.keyed_accumulators("groups", [pa.string()], []).restore(
        pa.table({"k0": keys, "count": pa.array(np.ones(n, np.int64)), "$written": pa.array(np.zeros(n, np.int64))}))
    rows = pa.table({"k": keys, "v": pa.array(range(n), pa.int64())})
    ctx.keyed_rows("rows", rows.schema, ["k"]).append(rows)
    owner = type("Owner", (), {"snapshot_table": lambda self: rows})()
    ctx.keyed_snapshot("snapshot", owner, ["k"])
    ctx.window_buffer("windows", ["k"]).add(rows.append_column("$we", pa.array(np.full(n, 10))), np.full(n, 10))
    ctx.keyed_timers([pa.string()]).register("event-time", [keys], np.full(n, 5))
    backend.join_side_rows("join", ["k", "v"], [pa.string(), pa.int64()], [0],
                           lambda cols, m: (np.arange(m), np.ones(m, bool))).restore(
        pa.table({"c0": keys, "c1": rows.column("v"), "$assoc": pa.array(np.zeros(n, np.int64)),
                  "$written": pa.array(np.zeros(n, np.int64))}))
    key_column = {"table": "k0", "groups": "k0", "timers": "k0", "join": "c0"}
    routed = route([pa.record_batch([pa.array(np.zeros(n, np.int8)), keys], ["_op", "k"])], (0,), parallelism, max_p)
    for s in range(parallelism):
        part = backend.snapshot(group_range(s, parallelism, max_p))
        expected = sorted(routed[s].column(1).to_pylist())
        assert 50 < len(expected) < 150
        for name, blob in part.items():
            got = pa.ipc.open_stream(blob).read_all().column(key_column.get(name, "k")).to_pylist()
            assert sorted(got) == expected, name
