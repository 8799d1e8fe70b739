"""A source subtask routes a filtering calc's output to the subtasks owning its keys: where the calc only reads
columns and fields of ROW columns, its input is routed and each subtask's rows are filtered once
(`route_through`); the batches are those of filtering first and routing after (`route(through(..))`)."""
import numpy as np
import pyarrow as pa
import pytest

from sqlstream.core.changelog import make_batch
from sqlstream.core.types import FlinkType
from sqlstream.plan.expr import Call, Lit, Ref
from sqlstream.runtime.operators.calc import CalcOperator
from sqlstream.runtime.parallel.source_share import route, route_through, through

BIGINT, INT, STRING = FlinkType("BIGINT"), FlinkType("INT"), FlinkType("VARCHAR", precision=2147483647)
BID = FlinkType("ROW", children=(BIGINT, BIGINT, STRING), field_names=("auction", "price", "extra"))
BOOLEAN = FlinkType("BOOLEAN")
KIND, ROW, TS = Ref(INT, 0, "kind"), Ref(BID, 1, "bid"), Ref(FlinkType("TIMESTAMP", precision=3), 2, "ts")


def field(name: str) -> Call:
    return Call(BIGINT if name != "extra" else STRING, "FIELD", (ROW, Lit(FlinkType("NULL"), name)))


def source_batch(n: int, seed: int) -> pa.RecordBatch:
    """Events of three kinds, the ROW column set (with NULL fields) only for kind 2, as nexmark's bids."""
    rng = np.random.default_rng(seed)
    kind = rng.integers(0, 3, n)
    kind[rng.random(n) < 0.05] = -1
    price = rng.integers(0, 50, n).astype(object)
    price[rng.random(n) < 0.1] = None
    extra = np.array([f"x{i}" for i in range(n)], dtype=object)
    extra[rng.random(n) < 0.1] = None
    bid = pa.StructArray.from_arrays([pa.array(rng.integers(0, 9, n)), pa.array(list(price), pa.int64()),
                                      pa.array(list(extra), pa.string())], names=list(BID.field_names),
                                     mask=pa.array(kind != 2))
    kinds = pa.array([None if k < 0 else int(k) for k in kind], pa.int32())
    return make_batch(np.zeros(n, np.int8), [kinds, bid, pa.array(np.arange(n), pa.timestamp("ms"))],
                      ["kind", "bid", "ts"], wm=np.maximum.accumulate(rng.integers(0, n, n)))


KIND_2 = Call(BOOLEAN, "=", (KIND, Lit(INT, 2)))
CALCS = {
    "bid view": ([field("auction"), field("price"), TS, field("extra")], KIND_2, (1,)),
    "keyed by two columns": ([TS, field("price"), field("auction")], KIND_2, (2, 1)),
    # the condition and a projection share FIELD(bid, 'price') (one memo for the batch)
    "shared field": ([field("price"), field("extra")],
                     Call(BOOLEAN, "AND", (KIND_2, Call(BOOLEAN, ">", (field("price"), Lit(BIGINT, 20))))), (0,)),
    "nothing passes": ([field("price")], Call(BOOLEAN, "=", (KIND, Lit(INT, 7))), (0,)),
    # a computed column is not read for the rows the filter drops: filtered first, as before
    "computed": ([Call(BIGINT, "+", (field("price"), Lit(BIGINT, 1)))], KIND_2, (0,)),
}


@pytest.mark.parametrize("parallelism", [2, 3])
@pytest.mark.parametrize("name", list(CALCS))
def test_routing_a_filtering_calcs_input_gives_the_batches_of_filtering_then_routing(name, parallelism):
    projections, condition, keys = CALCS[name]
    names = [f"c{i}" for i in range(len(projections))]
    batches = [source_batch(3_000, 1), source_batch(700, 2)]
    calc = CalcOperator(projections, condition, names)
    assert calc.routes_before_filter() == (name != "computed")
    expected = route(through([CalcOperator(projections, condition, names)], batches), keys, parallelism, 128)
    got = route_through([calc], batches, keys, parallelism, 128)
    assert len(got) == parallelism
    for d, (e, g) in enumerate(zip(expected, got)):
        assert (e is None) == (g is None), d
        if e is not None:
            assert g.schema == e.schema and g.to_pylist() == e.to_pylist(), d
    if name == "nothing passes":
        assert got == [None] * parallelism
    else:
        assert sum(b.num_rows for b in got if b is not None) > 500


@pytest.mark.parametrize("row_watermarks", [True, False])
def test_a_forked_sources_rows_cross_to_a_head_that_reads_no_row_watermarks_without_them(row_watermarks):
    """nexmark q7's join reads no row's watermark (`Operator.reads_row_watermarks`): the rows routed to it leave
    the `_wm` column behind, and are otherwise the rows routed with it."""
    from sqlstream.core.changelog import has_wm, strip_wm
    from sqlstream.runtime.operators.inner_join import InnerJoinOperator
    from sqlstream.runtime.parallel.forks import ForkBranches
    from sqlstream.runtime.parallel.regions import Fork
    assert not InnerJoinOperator.reads_row_watermarks
    batch = source_batch(2_000, 3)
    routed, partials = ForkBranches(Fork(inputs={0: ([], (0,)), 1: ([], (2,))}), {}, 2, 128,
                                    row_watermarks=row_watermarks).split([batch])
    assert partials == []
    for input, keys in ((0, (0,)), (1, (2,))):
        expected = route([batch], keys, 2, 128)
        got = [routed[d][input] for d in range(2)]
        assert all(has_wm(b) == row_watermarks for b in got)
        assert [b.to_pylist() for b in got] == [(b if row_watermarks else strip_wm(b)).to_pylist() for b in expected]
