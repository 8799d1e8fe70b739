"""Python functions used by tests/test_udf.py."""
from decimal import Decimal

import pyarrow.compute as pc

from sqlstream.udf import udf


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
