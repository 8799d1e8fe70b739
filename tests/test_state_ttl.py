"""table.exec.state.ttl: idle keys of a non-windowed aggregation and rows of regular joins expire (processing
time), as in Flink."""
import pyarrow as pa

from sqlstream.plan.logical import AggCall
from sqlstream.core.changelog import OP_NAMES, make_batch
from sqlstream.runtime.operator import OperatorContext
from sqlstream.runtime.operators.group_aggregate import GroupAggregateOperator
from sqlstream.core.types import BIGINT, STRING


class Clock:
    def __init__(self):
        self.now = 1_000

    def __call__(self):
        return self.now


def changelog(batches):
    out = []
    for b in batches:
        for op, k, c in zip(b.column(0).to_pylist(), b.column(1).to_pylist(), b.column(2).to_pylist()):
            out.append(f"{OP_NAMES[op]}[{k}, {c}]")
    return out


def batch(keys):
    return make_batch(0, [pa.array(keys)], ["k"])


def operator(ttl_ms, clock):
    count = AggCall("COUNT", (), BIGINT.with_nullable(False))
    op = GroupAggregateOperator([0], [count], None, ["k", "cnt"], [STRING, BIGINT.with_nullable(False)],
                                [STRING], False, ttl_ms=ttl_ms, clock=clock)
    op.open(OperatorContext(uid="group"))
    return op


def test_idle_key_expires_and_starts_over():
    clock = Clock()
    op = operator(ttl_ms=1_000, clock=clock)
    assert changelog(op.on_batch(batch(["a", "b", "a"]))) == ["+I[a, 1]", "+I[b, 1]", "-U[a, 1]", "+U[a, 2]"]
    clock.now += 600
    assert changelog(op.on_batch(batch(["b"]))) == ["-U[b, 1]", "+U[b, 2]"]
    clock.now += 600  # a idle for 1 200 ms > ttl; b for 600 ms
    assert changelog(op.on_batch(batch(["a", "b"]))) == ["+I[a, 1]", "-U[b, 2]", "+U[b, 3]"]
    assert op.metrics()["expired_keys"] == 1


def test_without_ttl_state_is_kept():
    clock = Clock()
    op = operator(ttl_ms=0, clock=clock)
    op.on_batch(batch(["a"]))
    clock.now += 10 ** 9
    assert changelog(op.on_batch(batch(["a"]))) == ["-U[a, 1]", "+U[a, 2]"]


def join_rows(batches) -> list[str]:
    out = []
    for b in batches:
        for i in range(b.num_rows):
            vals = [b.column(j)[i].as_py() for j in range(1, b.num_columns)]
            out.append(f"{OP_NAMES[b.column(0)[i].as_py()]}{vals}")
    return out


def side(keys, vals):
    return make_batch(0, [pa.array(keys), pa.array(vals)], ["k", "v"])


def join(kind: str, ttl_ms: int, clock):
    t = [pa.string(), pa.int64()]
    names = ["k", "v", "k0", "v0"]
    if kind == "INNER":
        from sqlstream.runtime.operators.inner_join import InnerJoinOperator
        op = InnerJoinOperator([0], [0], None, t, t, names, ttl_ms=ttl_ms, clock=clock)
    else:
        from sqlstream.runtime.operators.join import JoinOperator
        op = JoinOperator(kind, [0], [0], None, t, t, names, t + t, ttl_ms=ttl_ms, clock=clock)
    op.open(OperatorContext(uid="join"))
    return op


def test_inner_join_rows_expire_after_the_ttl():
    clock = Clock()
    op = join("INNER", 1_000, clock)
    assert join_rows(op.on_batch(side(["a"], [1]), 0)) == []
    clock.now += 500
    assert join_rows(op.on_batch(side(["a"], [10]), 1)) == ["+I['a', 1, 'a', 10]"]
    clock.now += 600  # the left row is 1 100 ms old, the right one 600 ms
    assert join_rows(op.on_batch(side(["a"], [2]), 0)) == ["+I['a', 2, 'a', 10]"]
    assert join_rows(op.on_batch(side(["a"], [11]), 1)) == ["+I['a', 2, 'a', 11]"]


def test_outer_join_rows_expire_silently_and_a_match_renews_them():
    clock = Clock()
    op = join("LEFT", 1_000, clock)
    assert join_rows(op.on_batch(side(["a"], [1]), 0)) == ["+I['a', 1, None, None]"]
    clock.now += 800
    # the match rewrites the left row's match count, so its TTL starts over
    assert join_rows(op.on_batch(side(["a"], [10]), 1)) == ["-D['a', 1, None, None]", "+I['a', 1, 'a', 10]"]
    clock.now += 900  # both rows written 900 ms ago: alive; the new match renews the right row
    assert join_rows(op.on_batch(side(["a"], [2]), 0)) == ["+I['a', 2, 'a', 10]"]
    clock.now += 150  # the first left row (written 1 050 ms ago) is gone, and nothing is emitted for it
    assert join_rows(op.on_batch(side(["a"], [11]), 1)) == ["+I['a', 2, 'a', 11]"]


def test_join_without_ttl_keeps_rows():
    clock = Clock()
    op = join("LEFT", 0, clock)
    op.on_batch(side(["a"], [1]), 0)
    clock.now += 10 ** 9
    assert join_rows(op.on_batch(side(["a"], [10]), 1)) == ["-D['a', 1, None, None]", "+I['a', 1, 'a', 10]"]


def test_state_ttl_setting_reaches_the_joins():
    from sqlstream.planner.physical import physical_plan
    from sqlstream.runtime.operators import registry
    from sqlstream.session import Session, parse_script
    sql = ("CREATE TABLE t (k STRING, v BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '1');"
           "SELECT * FROM t a JOIN t b ON a.k = b.k;")
    s = Session()
    stmts = parse_script(sql)
    s.execute(stmts[0], sql)
    plan = s.plan(stmts[1])
    from sqlstream.plan import logical as L
    plan = next(n for n in L.walk(plan) if type(n) is L.Join)
    for kind in ("INNER", "LEFT"):
        plan.kind = kind
        spec = physical_plan([plan], {"table.exec.state.ttl": "1 h"}).spec_of(plan)
        assert registry.build(spec).ttl_ms == 3_600_000


def test_count_distinct_forgets_the_values_of_an_expired_key():
    """An expired key's distinct values go with it: neither the key itself nor a new key that takes over its
    slot counts them again."""
    clock = Clock()
    distinct = AggCall("COUNT", (1,), BIGINT.with_nullable(False), distinct=True)
    op = GroupAggregateOperator([0], [distinct], None, ["k", "n"], [STRING, BIGINT.with_nullable(False)],
                                [STRING, BIGINT], False, ttl_ms=1_000, clock=clock)
    op.open(OperatorContext(uid="group"))

    def rows(keys, values):
        return make_batch(0, [pa.array(keys), pa.array(values, pa.int64())], ["k", "v"])
    assert changelog(op.on_batch(rows(["a", "a"], [1, 2]))) == ["+I[a, 1]", "-U[a, 1]", "+U[a, 2]"]
    clock.now += 2_000
    assert changelog(op.on_batch(rows(["b", "a"], [1, 2]))) == ["+I[b, 1]", "+I[a, 1]"]


def test_each_join_side_keeps_its_own_ttl():
    """A STATE_TTL hint gives each input of a join its own time-to-live: the left rows expire, the right ones
    (no TTL) stay."""
    clock = Clock()
    op = join("INNER", [1_000, 0], clock)
    op.on_batch(side(["a"], [1]), 0)
    op.on_batch(side(["b"], [20]), 1)
    clock.now += 1_500  # both rows are 1 500 ms old: the left one is gone, the right one is not
    assert join_rows(op.on_batch(side(["a"], [10]), 1)) == []
    assert join_rows(op.on_batch(side(["b"], [2]), 0)) == ["+I['b', 2, 'b', 20]"]


def hinted_plan(query: str, config: dict | None = None):
    from sqlstream.planner.physical import physical_plan
    from sqlstream.session import Session, parse_script
    sql = ("CREATE TABLE t (k STRING, v BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '1');"
           "CREATE TABLE u (k STRING, w BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '1');" + query)
    s = Session()
    stmts = parse_script(sql)
    for stmt in stmts[:-1]:
        s.execute(stmt, sql)
    return physical_plan([s.plan(stmts[-1])], config or {})


def test_state_ttl_hint_reaches_the_join_sides_and_the_aggregation():
    """STATE_TTL('a' = .., 'b' = ..) names a join's inputs by alias (a side it leaves out keeps
    table.exec.state.ttl), STATE_TTL('t' = ..) an aggregation's input; the fingerprint does not change."""
    from sqlstream.runtime.operators import registry
    join_sql = "SELECT /*+ STATE_TTL('a' = '1d') */ * FROM t a JOIN u b ON a.k = b.k;"
    plan = hinted_plan(join_sql, {"table.exec.state.ttl": "1 h"})
    op = registry.build(next(s for s in plan.operators if s.name == "InnerJoin"))
    assert op.side_ttl == (86_400_000, 3_600_000)
    plain = hinted_plan("SELECT * FROM t a JOIN u b ON a.k = b.k;", {"table.exec.state.ttl": "1 h"})
    assert plan.fingerprint == plain.fingerprint
    plan = hinted_plan("SELECT /*+ STATE_TTL('t' = '90 min') */ k, COUNT(*) AS c FROM t GROUP BY k;")
    assert registry.build(next(s for s in plan.operators if s.name == "GroupAggregate")).ttl_ms == 5_400_000
