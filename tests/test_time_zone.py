"""The session time zone ('table.local-time-zone') in what the clock functions return and in how TIMESTAMP_LTZ
values are shown (the deterministic functions are pinned by the Flink golden case fn_local_time_zone)."""
import datetime as dt
import io
import json

from sqlstream.script import ScriptRunner


def run(sql: str, fmt: str = "jsonl") -> str:
    out = io.StringIO()
    ScriptRunner(out=out, err=io.StringIO(), fmt=fmt).run(sql)
    return out.getvalue()


def table(tmp_path, zone: str) -> str:
    data = tmp_path / "t.json"
    data.write_text('{"ms": 1704067200000}\n')
    return (f"SET 'table.local-time-zone' = '{zone}';\n"
            f"CREATE TABLE t (ms BIGINT) WITH ('connector' = 'filesystem', 'path' = '{data}', 'format' = 'json');\n")


def test_clock_functions_read_the_session_zone(tmp_path):
    out = run(table(tmp_path, "Asia/Tokyo") +
              "SELECT ms, CAST(LOCALTIMESTAMP AS STRING) AS local_now, CURRENT_TIMESTAMP AS utc_now,\n"
              "  CAST(CURRENT_DATE AS STRING) AS today, CAST(CAST(CURRENT_TIMESTAMP AS TIMESTAMP(3)) AS STRING) AS cast_now\n"
              "FROM t;\n")
    row = json.loads(out.splitlines()[0])
    local = dt.datetime.fromisoformat(row["local_now"])
    utc = dt.datetime.fromisoformat(row["utc_now"])
    assert abs((local - utc) - dt.timedelta(hours=9)) < dt.timedelta(seconds=5)  # Tokyo has no daylight saving
    assert abs(dt.datetime.fromisoformat(row["cast_now"]) - local) < dt.timedelta(seconds=5)
    assert row["today"] in {(local - dt.timedelta(seconds=5)).date().isoformat(), local.date().isoformat()}


def test_ltz_is_shown_in_the_session_zone_and_written_as_utc_in_jsonl(tmp_path):
    sql = table(tmp_path, "America/Los_Angeles") + "SELECT ms, TO_TIMESTAMP_LTZ(ms, 3) AS ltz FROM t;\n"
    assert '"ltz": "2024-01-01 00:00:00.000"' in run(sql)  # the engine's contract with the Flink oracle
    shown = run(sql, fmt="table")
    assert "2023-12-31 16:00:00.000" in shown and "2024-01-01 00:00:00.000" not in shown
