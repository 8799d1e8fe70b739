"""The column-wise LEFT/RIGHT/FULL join of insert-only inputs emits exactly the per-row join's changelog
(checked against Flink by the golden cases), for any batch size, with conditions, NULL keys, several key
columns, and across a snapshot and restore."""
import random

import pytest

from sqlstream.plan.expr import Call, Ref
from tests.reference_join import RowJoinOperator
from sqlstream.runtime.operators.outer_join import OuterJoinOperator
from sqlstream.core.types import BIGINT, BOOLEAN
from tests.test_inner_join import NAMES, TYPES, changelog, interleaved, run


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize("kind", ["LEFT", "RIGHT", "FULL"])
def test_same_changelog_as_the_per_row_join(seed, kind):
    rng = random.Random(seed)
    inputs = interleaved(rng, [changelog(rng, rng.randint(5, 40), False) for _ in (0, 1)])
    condition = Call(BOOLEAN, ">=", (Ref(BIGINT, 1, "v"), Ref(BIGINT, 4, "v2"))) if rng.random() < 0.5 else None
    keys = ([0], [0]) if rng.random() < 0.6 else ([0, 2], [0, 2])
    expected = run(lambda: RowJoinOperator(kind, *keys, condition, TYPES, TYPES, NAMES, TYPES + TYPES), inputs, 1)

    def outer():
        return OuterJoinOperator(kind, *keys, condition, TYPES, TYPES, NAMES)
    for size in (1, 3, 100):
        assert run(outer, inputs, size) == expected
    assert run(outer, inputs, 4, restore_at=len(inputs) // 2) == expected
