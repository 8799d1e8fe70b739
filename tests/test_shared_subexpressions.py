"""A Calc evaluates a deterministic call its expressions repeat once per batch, with the same results as
evaluating each occurrence; non-deterministic calls (RAND) stay one value per occurrence."""
import numpy as np
import pyarrow as pa

from sqlstream.core.changelog import make_batch
from sqlstream.runtime.expressions import SharedSubexpressions
from sqlstream.runtime.operators.calc import CalcOperator
from tests.test_physical_plan import plan_of, spec


def test_repeated_calls_are_shared_and_give_the_same_rows():
    plan = plan_of("SELECT CASE WHEN LOWER(user_id) = 'a' THEN 'x' WHEN LOWER(user_id) = 'b' THEN 'y' "
                   "ELSE LOWER(user_id) END AS c, RAND() AS r1, RAND() AS r2 FROM orders WHERE LOWER(user_id) <> 'c';")
    config = spec(plan, "Calc").config
    shared = SharedSubexpressions(config["projections"], config["condition"])
    assert {k[1] for k in shared.key_of.values()} == {"LOWER"}
    users = ["A", "b", None, "C", "d", "B", "c", "E"] * 5
    n = len(users)
    columns = [pa.array(users, pa.string()), pa.array(range(n), pa.timestamp("ms"))]  # the watermark's output
    batch = make_batch(np.zeros(n, np.int8), columns, ["user_id", "ts"])
    out = CalcOperator(**config).on_batch(batch)[0]
    kept = [u for u in users if u is not None and u.lower() != "c"]
    assert out.column("c").to_pylist() == [{"a": "x", "b": "y"}.get(u.lower(), u.lower()) for u in kept]
    assert out.column("r1") != out.column("r2")
