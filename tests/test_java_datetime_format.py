"""DATE_FORMAT's formatting of a batch whose values fall on few days (minutes, ..) formats each period once:
the same text, row for row, as formatting every value (short arrays take that way)."""
import numpy as np
import pyarrow as pa
import pytest

from sqlstream.functions.java_datetime import format_local

PATTERNS = ["yyyy-MM-dd", "HH:mm", "yyyy-MM-dd HH:mm:ss", "EEE, d MMM yy h a", "yyyy-MM-dd HH:mm:ss.SSS",
            "'day' D 'week' w"]


@pytest.mark.parametrize("pattern", PATTERNS)
@pytest.mark.parametrize("simple", [False, True])
def test_periods_formatted_once_give_every_value_its_own_text(pattern, simple):
    rng = np.random.default_rng(len(pattern))
    base = np.datetime64("2026-12-06T22:00:00", "ms").astype(np.int64)
    ms = base + rng.integers(-3 * 3_600_000, 30 * 3_600_000, 2000) // rng.choice([1, 1000], 2000)
    ms[::7] = -ms[::7] // 1000  # and some before 1970
    values = pa.array(ms, pa.timestamp("ms"), mask=rng.random(2000) < 0.05)
    whole = format_local(values, pattern, simple)
    one_by_one = pa.concat_arrays([format_local(values.slice(i, 50), pattern, simple) for i in range(0, 2000, 50)])
    assert whole.equals(one_by_one)
