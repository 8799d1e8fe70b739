"""Windows over a TIMESTAMP_LTZ time attribute in a session zone other than UTC are that zone's wall clock, as
in Flink: days start at local midnight, window_start and window_end are local times, window_time is the instant
before the end, and a window closes when the watermark passes that instant.

Golden cases window_ltz_zone_* hold Flink's rows. Window aggregations whose size (or slide, or step) does not
divide the zone's offset, daily windows in Asia/Shanghai among them, are checked here instead: Flink 2.3 loses
rows of those windows (its buffer flushes on UTC-aligned watermarks, FLINK-38075), and sqlstream gives the
rows its fix gives: every row of a window that was not late."""
import datetime as dt
import json

import pytest

from tests.golden import run_sql


def ms(utc: str) -> int:
    return int(dt.datetime.fromisoformat(utc).replace(tzinfo=dt.timezone.utc).timestamp() * 1000)


# UTC instants; in Asia/Shanghai (UTC+8) the first two are on 2024-01-01, the third is 2024-01-02 00:00:00
ROWS = [("a", 1, "2023-12-31 16:00:00"), ("b", 2, "2024-01-01 15:59:59"), ("a", 3, "2024-01-01 16:00:00"),
        ("a", 4, "2024-01-02 20:00:00")]


@pytest.fixture
def days(tmp_path):
    path = tmp_path / "days.json"
    path.write_text("".join(json.dumps({"k": k, "v": v, "ms": ms(t)}) + "\n" for k, v, t in ROWS))
    return ("SET 'table.local-time-zone' = 'Asia/Shanghai';\n"
            "CREATE TABLE days (k STRING, v INT, ms BIGINT, ts AS TO_TIMESTAMP_LTZ(ms, 3), "
            f"WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH ('connector' = 'filesystem', 'path' = '{path}', "
            "'format' = 'json');\n")


def windows(rows, *columns):
    return sorted(tuple(r[c] for c in columns) for r in rows)


def test_daily_windows_start_at_local_midnight(days):
    rows = run_sql(days + "SELECT window_start, window_end, window_time, COUNT(*) AS c, SUM(v) AS s FROM "
                   "TABLE(TUMBLE(TABLE days, DESCRIPTOR(ts), INTERVAL '1' DAY)) "
                   "GROUP BY window_start, window_end, window_time;")
    assert {r["op"] for r in rows} == {"+I"}
    # window_time is a TIMESTAMP_LTZ instant, printed in UTC as Flink's collector prints it
    assert windows(rows, "window_start", "window_end", "window_time", "c", "s") == [
        ("2024-01-01 00:00:00.000", "2024-01-02 00:00:00.000", "2024-01-01 15:59:59.999", 2, 3),
        ("2024-01-02 00:00:00.000", "2024-01-03 00:00:00.000", "2024-01-02 15:59:59.999", 1, 3),
        ("2024-01-03 00:00:00.000", "2024-01-04 00:00:00.000", "2024-01-03 15:59:59.999", 1, 4)]


def test_hop_and_cumulate_windows_are_local_too(days):
    hop = run_sql(days + "SELECT window_start, window_end, COUNT(*) AS c FROM TABLE(HOP(TABLE days, "
                  "DESCRIPTOR(ts), INTERVAL '1' DAY, INTERVAL '2' DAY)) GROUP BY window_start, window_end;")
    assert windows(hop, "window_start", "window_end", "c") == [
        ("2023-12-31 00:00:00.000", "2024-01-02 00:00:00.000", 2),
        ("2024-01-01 00:00:00.000", "2024-01-03 00:00:00.000", 3),
        ("2024-01-02 00:00:00.000", "2024-01-04 00:00:00.000", 2),
        ("2024-01-03 00:00:00.000", "2024-01-05 00:00:00.000", 1)]
    cumulate = run_sql(days + "SELECT window_start, window_end, SUM(v) AS s FROM TABLE(CUMULATE(TABLE days, "
                       "DESCRIPTOR(ts), INTERVAL '12' HOUR, INTERVAL '1' DAY)) GROUP BY window_start, window_end;")
    assert windows(cumulate, "window_start", "window_end", "s") == [
        ("2024-01-01 00:00:00.000", "2024-01-01 12:00:00.000", 1),
        ("2024-01-01 00:00:00.000", "2024-01-02 00:00:00.000", 3),
        ("2024-01-02 00:00:00.000", "2024-01-02 12:00:00.000", 3),
        ("2024-01-02 00:00:00.000", "2024-01-03 00:00:00.000", 3),
        ("2024-01-03 00:00:00.000", "2024-01-03 12:00:00.000", 4),
        ("2024-01-03 00:00:00.000", "2024-01-04 00:00:00.000", 4)]


def test_a_fixed_offset_zone_and_an_offset_window(days):
    """'GMT+08:00' is the same clock as Asia/Shanghai; a window offset moves the local day's start."""
    rows = run_sql(days.replace("Asia/Shanghai", "GMT+08:00") + "SELECT window_start, COUNT(*) AS c FROM "
                   "TABLE(TUMBLE(TABLE days, DESCRIPTOR(ts), INTERVAL '1' DAY, INTERVAL '2' HOUR)) "
                   "GROUP BY window_start, window_end;")
    assert windows(rows, "window_start", "c") == [("2023-12-31 02:00:00.000", 1), ("2024-01-01 02:00:00.000", 2),
                                                  ("2024-01-03 02:00:00.000", 1)]
