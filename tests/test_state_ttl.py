"""table.exec.state.ttl: idle keys of a non-windowed aggregation expire (processing time), as in Flink."""
import pyarrow as pa

from planner.logical import AggCall
from runtime.changelog import OP_NAMES, make_batch
from runtime.operators.group_aggregate import GroupAggregateOperator
from sqlstream.types import BIGINT, STRING


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
    return GroupAggregateOperator([0], [count], None, ["k", "cnt"], [STRING, BIGINT.with_nullable(False)],
                                  [STRING], False, ttl_ms=ttl_ms, clock=clock)


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
