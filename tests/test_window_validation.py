"""Window shapes and rank ranges Flink rejects: rejected here too, with Flink's message."""
import re

import pytest

from sqlstream.core.errors import ValidationError
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


@pytest.mark.parametrize("window, message", [
    ("TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '-1' MINUTE)",
     "TUMBLE table function based aggregate requires size to be positive, but got -60000 ms."),
    ("TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '0' MINUTE)",
     "TUMBLE table function based aggregate requires size to be positive, but got 0 ms."),
    ("HOP(TABLE events, DESCRIPTOR(ts), INTERVAL '-1' MINUTE, INTERVAL '5' MINUTE)",
     "HOP table function based aggregate requires slide and size to be positive, but got slide -60000 ms and size "
     "300000 ms."),
    ("HOP(TABLE events, DESCRIPTOR(ts), INTERVAL '1' MINUTE, INTERVAL '0' MINUTE)",
     "HOP table function based aggregate requires slide and size to be positive, but got slide 60000 ms and size "
     "0 ms."),
    ("CUMULATE(TABLE events, DESCRIPTOR(ts), INTERVAL '-1' MINUTE, INTERVAL '5' MINUTE)",
     "CUMULATE table function based aggregate requires maxSize and step to be positive, but got maxSize 300000 ms "
     "and step -60000 ms."),
    ("CUMULATE(TABLE events, DESCRIPTOR(ts), INTERVAL '1' MINUTE, INTERVAL '0' MINUTE)",
     "CUMULATE table function based aggregate requires maxSize and step to be positive, but got maxSize 0 ms and "
     "step 60000 ms."),
    ("SESSION(TABLE events, DESCRIPTOR(ts), INTERVAL '-1' MINUTE)",
     "SESSION table function based aggregate requires gap to be positive, but got gap -60000 ms."),
    ("SESSION(TABLE events, DESCRIPTOR(ts), INTERVAL '0' MINUTE)",
     "SESSION table function based aggregate requires gap to be positive, but got gap 0 ms.")])
def test_a_window_table_function_needs_positive_sizes(window, message):
    """Flink 2.3's messages; before, a negative TUMBLE ran with window_end before window_start (rows dropped as
    late) and a negative HOP ended in an internal 'negative dimensions' error."""
    with pytest.raises(ValidationError, match=re.escape(message)):
        run_sql(DDL + f"SELECT window_start, COUNT(*) FROM TABLE({window}) GROUP BY window_start, window_end;")


@pytest.mark.parametrize("group, message", [
    ("TUMBLE(ts, INTERVAL '-1' MINUTE)", "TumblingWindowAssigner parameters must satisfy size > 0"),
    ("TUMBLE(ts, INTERVAL '0' MINUTE)", "TumblingWindowAssigner parameters must satisfy size > 0"),
    ("HOP(ts, INTERVAL '-1' MINUTE, INTERVAL '5' MINUTE)",
     "SlidingWindowAssigner parameters must satisfy slide > 0 and size > 0"),
    ("HOP(ts, INTERVAL '1' MINUTE, INTERVAL '0' MINUTE)",
     "SlidingWindowAssigner parameters must satisfy slide > 0 and size > 0"),
    ("SESSION(ts, INTERVAL '-1' MINUTE)", "SessionWindowAssigner parameters must satisfy 0 < size"),
    ("SESSION(ts, INTERVAL '0' MINUTE)", "SessionWindowAssigner parameters must satisfy 0 < size")])
def test_a_group_window_needs_positive_sizes(group, message):
    with pytest.raises(ValidationError, match=re.escape(message)):
        run_sql(DDL + f"SELECT COUNT(*) FROM events GROUP BY {group};")


@pytest.mark.parametrize("select, group, message", [
    ("TUMBLE_START(ts, INTERVAL '2' MINUTE)", "TUMBLE(ts, INTERVAL '1' MINUTE)",
     "At line 2, column 8: Call to auxiliary group function 'TUMBLE_START' must have matching call to group "
     "function '$TUMBLE' in GROUP BY clause"),
    ("TUMBLE_END(ts, INTERVAL '2' MINUTE)", "TUMBLE(ts, INTERVAL '1' MINUTE)",
     "Call to auxiliary group function 'TUMBLE_END' must have matching call to group function '$TUMBLE' in GROUP "
     "BY clause"),
    ("HOP_START(ts, INTERVAL '1' MINUTE, INTERVAL '10' MINUTE)", "HOP(ts, INTERVAL '1' MINUTE, INTERVAL '5' MINUTE)",
     "Call to auxiliary group function 'HOP_START' must have matching call to group function '$HOP' in GROUP BY "
     "clause"),
    ("SESSION_END(ts, INTERVAL '2' MINUTE)", "SESSION(ts, INTERVAL '1' MINUTE)",
     "Call to auxiliary group function 'SESSION_END' must have matching call to group function '$SESSION' in "
     "GROUP BY clause"),
    ("TUMBLE_START(ts, INTERVAL '1' MINUTE)", "HOP(ts, INTERVAL '1' MINUTE, INTERVAL '5' MINUTE)",
     "Call to auxiliary group function 'TUMBLE_START' must have matching call to group function '$TUMBLE'"),
    ("TUMBLE_START(ts, INTERVAL '1' MINUTE)", "k",
     "Call to auxiliary group function 'TUMBLE_START' must have matching call to group function '$TUMBLE'"),
    ("TUMBLE_START(no_such_col, INTERVAL '1' MINUTE)", "TUMBLE(ts, INTERVAL '1' MINUTE)",
     "At line 2, column 21: Column 'no_such_col' not found in any table")])
def test_an_auxiliary_window_function_must_name_the_group_window(select, group, message):
    """Flink 2.3's messages; before, the auxiliary function's own arguments were ignored."""
    with pytest.raises(ValidationError, match=re.escape(message)):
        run_sql(DDL + f"SELECT {select}, COUNT(*) FROM events GROUP BY {group};")


def test_an_auxiliary_window_function_naming_the_group_window_still_runs():
    rows = run_sql(DDL + "SELECT TUMBLE_START(ts, INTERVAL '60' SECOND) AS s, TUMBLE_END(ts, INTERVAL '1' MINUTE) AS e, "
                         "COUNT(*) AS n FROM events GROUP BY TUMBLE(events.ts, INTERVAL '1' MINUTE);")
    assert rows and all(r["s"] < r["e"] for r in rows)
