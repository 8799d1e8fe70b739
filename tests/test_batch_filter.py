"""Filtering only the columns and ROW fields read keeps what Arrow's filter of the whole batch keeps."""
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.runtime.batch_filter import filter_columns


def test_columns_and_row_fields_read():
    rng = np.random.default_rng(3)
    n = 1000
    inner = pa.StructArray.from_arrays(
        [pa.array(rng.integers(0, 9, n)), pa.array([None if i % 7 == 0 else f"s{i}" for i in range(n)])],
        names=["x", "s"], mask=pa.array(rng.random(n) < 0.2))
    row = pa.StructArray.from_arrays(
        [pa.array(rng.integers(0, 100, n)), inner, pa.array(rng.random(n)).cast(pa.float32())],
        names=["a", "inner", "f"], mask=pa.array(rng.random(n) < 0.3))
    plain = pa.array(rng.integers(0, 5, n))
    for lo, hi in ((0, n), (13, 900)):
        columns = [plain.slice(lo, hi - lo), row.slice(lo, hi - lo), inner.slice(lo, hi - lo)]
        mask = pa.array(rng.random(hi - lo) < 0.6)
        whole = [c.filter(mask) for c in columns]
        out = filter_columns(columns, mask, {1: {"f", "inner"}, 2: None})
        assert out[0] is None and out[2].equals(whole[2])
        assert out[1].is_valid().equals(whole[1].is_valid())
        names = out[1].type.names if lo == 0 else ["a", "inner", "f"]  # a sliced ROW is filtered whole
        assert names == (["inner", "f"] if lo == 0 else names)
        for name in names:
            got = pc.struct_field(out[1], [out[1].type.get_field_index(name)])
            assert got.equals(pc.struct_field(whole[1], [row.type.get_field_index(name)]))
