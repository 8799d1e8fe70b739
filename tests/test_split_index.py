"""SPLIT_INDEX with a constant separator and index is computed column-wise; it must give what splitting each
string does (the golden fn_* cases check that definition against Flink)."""
import random

import pyarrow as pa
import pytest

from sqlstream.functions.string import _split_index_columns


def one_row(x, sep, idx):
    if x is None or x == "":  # as Flink splits (commons-lang's splitByWholeSeparatorPreserveAllTokens): '' has no token
        return None
    parts = x.split(sep)
    return parts[idx] if idx < len(parts) else None


@pytest.mark.parametrize("seed", range(20))
def test_column_wise_split_index_matches_splitting_each_row(seed):
    rng = random.Random(seed)
    values = [None if rng.random() < 0.1 else "".join(rng.choice("ab/-é") for _ in range(rng.randint(0, 9)))
              for _ in range(rng.randint(1, 40))]
    sep, idx = rng.choice(["/", "ab", "-", "//", "é"]), rng.randint(0, 4)
    assert _split_index_columns(pa.array(values, pa.string()), sep, idx).to_pylist() == \
        [one_row(v, sep, idx) for v in values]
    # a slice of a column (its offsets do not start at 0), as a filtered batch's column can be
    start = rng.randint(0, len(values))
    part = pa.array(["x/y"] + values + ["/z/"], pa.string()).slice(start + 1, rng.randint(0, len(values) - start))
    assert _split_index_columns(part, sep, idx).to_pylist() == [one_row(v, sep, idx) for v in part.to_pylist()]
