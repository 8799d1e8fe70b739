"""Python functions used by tests/test_udf.py."""
from decimal import Decimal

import numpy as np
import pyarrow.compute as pc

from sqlstream.core.udf import udaf, udf, udtf


@udf(result_type="DECIMAL(12, 2)")
def add_tax(price):
    return None if price is None else (price * Decimal("1.19")).quantize(Decimal("0.01"))


@udf(result_type="BIGINT", vectorized=True)
def double_it(x):
    return pc.multiply(x, 2)


@udf(result_type="INT")
def fails_on_seven(q):
    if q == 7:
        raise ValueError("seven is not allowed")
    return q


def undeclared(x):
    return x


@udtf(result_types=["STRING", "INT"])
def split_words(s):
    for w in (s or "").split():
        yield w, len(w)


@udtf(result_types="BIGINT", vectorized=True)
def up_to(n):
    """0..n-1 for each row (nothing for NULL or n <= 0), computed for the whole batch."""
    counts = np.nan_to_num(np.asarray(n.to_numpy(zero_copy_only=False), dtype=float), nan=0).clip(0).astype(int)
    parents = np.repeat(np.arange(len(counts)), counts)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return parents, [np.arange(len(parents)) - starts]


@udtf(result_types=["INT"])
def fails_on_three(n):
    if n == 3:
        raise ValueError("three is not allowed")
    yield n


# SUM(value * weight) / SUM(weight), retractable: the accumulator class the golden cases run on Flink too
from tests.udfs.golden import weighted_avg as WeightedAvg  # noqa: E402, F401


@udaf(result_type="DOUBLE", vectorized=True)
def median(values):
    """The median of one group's non-NULL values, from its Arrow array."""
    v = np.sort(np.asarray(values.drop_null().to_numpy(zero_copy_only=False), dtype=float))
    return float(np.median(v)) if len(v) else None


@udaf(result_type="BIGINT")
class CountNoRetract:
    def create_accumulator(self):
        return [0]

    def accumulate(self, acc, value):
        acc[0] += 1

    def get_value(self, acc):
        return acc[0]
