"""Window shapes and rank ranges Flink rejects: rejected here too, with Flink's message."""
import pytest

from sqlstream.errors import ValidationError
from tests.golden import GOLDEN_STATIC, run_sql

EVENTS = (GOLDEN_STATIC / "hop_tvf_uneven_rows" / "data" / "events.json").as_posix()
DDL = ("CREATE TABLE events (k STRING, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND) "
       f"WITH ('connector'='filesystem','path'='{EVENTS}','format'='json');\n")


def test_aggregating_a_hop_whose_size_is_not_a_multiple_of_the_slide_is_rejected():
    sql = DDL + ("SELECT window_start, COUNT(*) FROM TABLE(HOP(TABLE events, DESCRIPTOR(ts), INTERVAL '20' SECOND, "
                 "INTERVAL '50' SECOND)) GROUP BY window_start, window_end;")
    with pytest.raises(ValidationError, match="HOP table function based aggregate requires size must be an "
                                              "integral multiple of slide, but got size 50000 ms and slide 20000 ms"):
        run_sql(sql)


@pytest.mark.parametrize("query", [
    "SELECT k, window_start FROM TABLE(CUMULATE(TABLE events, DESCRIPTOR(ts), INTERVAL '20' SECOND, "
    "INTERVAL '50' SECOND))",
    "SELECT window_start, COUNT(*) FROM TABLE(CUMULATE(TABLE events, DESCRIPTOR(ts), INTERVAL '20' SECOND, "
    "INTERVAL '50' SECOND)) GROUP BY window_start, window_end"])
def test_a_cumulate_whose_size_is_not_a_multiple_of_the_step_is_rejected(query):
    with pytest.raises(ValidationError, match="CUMULATE table function based aggregate requires maxSize must be an "
                                              "integral multiple of step, but got maxSize 50000 ms and step 20000 ms"):
        run_sql(DDL + query + ";")


TOPN = "SELECT k, v FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY k ORDER BY v DESC) AS rn FROM events) WHERE "


@pytest.mark.parametrize("cond, message", [
    ("rn > 1", "Rank end is not specified"),
    ("rn >= 2 OR rn <= 3", "Rank end is not specified"),
    ("rn < 1", "Rank end should not less than zero, but now is 0")])
def test_a_top_n_without_a_positive_rank_end_is_rejected(cond, message):
    with pytest.raises(ValidationError, match=message):
        run_sql(DDL + TOPN + cond + ";")


@pytest.mark.parametrize("tvf, shown", [
    ("TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '10' SECOND, INTERVAL '5' SECOND)",
     "TUMBLE(size=10000ms, offset=5000ms)"),
    ("HOP(TABLE events, DESCRIPTOR(ts), INTERVAL '20' SECOND, INTERVAL '60' SECOND, INTERVAL '5' SECOND)",
     "HOP(slide=20000ms, size=60000ms, offset=5000ms)"),
    ("CUMULATE(TABLE events, DESCRIPTOR(ts), INTERVAL '20' SECOND, INTERVAL '60' SECOND, INTERVAL '5' SECOND)",
     "CUMULATE(step=20000ms, max_size=60000ms, offset=5000ms)"),
    ("TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '10' SECOND)", "TUMBLE(size=10000ms)")])
def test_explain_shows_a_window_offset(tvf, shown):
    """The plan text names operators in savepoints: windows that differ only in their offset are different."""
    import io

    from sqlstream.script import ScriptRunner
    out = io.StringIO()
    ScriptRunner(out=out, err=io.StringIO(), fmt="jsonl").run(
        DDL + f"EXPLAIN SELECT window_start, COUNT(*) FROM TABLE({tvf}) GROUP BY window_start, window_end;")
    assert f"window=[{shown} on $" in out.getvalue()
