"""WindowBuffer's state size: each table measured once, the same figure as measuring all of them."""
import numpy as np
import pyarrow as pa

from sqlstream.runtime.windows import WindowBuffer


def measured(buffer: WindowBuffer) -> int:
    return sum(t.nbytes for ts in buffer.by_end.values() for t in ts)


def test_size_follows_adds_pops_and_replaced_lists():
    rng = np.random.default_rng(5)
    buffer = WindowBuffer()
    for step in range(30):
        n = int(rng.integers(1, 200))
        ends = rng.integers(0, 8, n) * 1000 + 1000
        table = pa.table({"k": pa.array(rng.integers(0, 50, n)), "s": pa.array([f"v{i}" * (i % 5) for i in range(n)])})
        buffer.add(table, ends)
        if step % 7 == 3:
            buffer.pop_window(int(ends[0]))
        if step % 11 == 5:
            buffer.pop_until(2500)
        if step == 20:  # an operator replacing a window's tables (a restore turning rows into partials)
            end = next(iter(buffer.by_end))
            buffer.by_end[end] = [pa.concat_tables(buffer.by_end[end]).slice(0, 3)]
        assert buffer.size_bytes() == measured(buffer)
