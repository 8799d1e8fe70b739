"""Job metrics with Flink's names: a file job's counters, watermarks, late rows, state and checkpoint metrics,
read from the registry the Prometheus endpoint and the REST API read."""
from __future__ import annotations

from pathlib import Path

import pytest

from sqlstream.runtime.metrics import MIN_WM, JobMetrics, live_jobs
from sqlstream.script import ScriptRunner

JOB = """
{settings}
CREATE TABLE orders (id BIGINT, k INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
WITH ('connector' = 'filesystem', 'path' = '{data}', 'format' = 'csv');
CREATE TABLE counts (ws TIMESTAMP(3), k INT, c BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO counts SELECT window_start, k, COUNT(*)
FROM TABLE(TUMBLE(TABLE orders, DESCRIPTOR(ts), INTERVAL '10' SECOND)) GROUP BY window_start, window_end, k;
"""
ROWS = 3000
LATE = [1000, 2999]  # rows at second 0, when the watermark is past 20 s: the window drops them as late


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "orders.csv"
    lines = []
    for i in range(ROWS):
        sec = 0 if i in LATE else 1 + i // 50  # 50 rows a second
        lines.append(f"{i},{i % 4},2024-01-01 00:{sec // 60:02d}:{sec % 60:02d}.000")
    path.write_text("\n".join(lines) + "\n")
    return path


def run(tmp_path: Path, data: Path, settings: str = "", batch: int = 100) -> dict:
    runner = ScriptRunner(batch_size=batch, summary=False)
    runner.run(JOB.format(settings=settings, data=data))
    assert not live_jobs()  # a finished job leaves the registry
    return runner.job_metrics.snapshot()


def by_name(snap: dict) -> dict[str, dict]:
    return {op["operator_name"]: op for op in snap["operators"]}


def test_operator_counts_watermarks_late_rows(tmp_path, data):
    snap = run(tmp_path, data)
    assert snap["job_name"].startswith("insert-into_") and snap["job_name"].endswith("counts")
    assert snap["status"] == "FINISHED"
    ops = by_name(snap)
    source, window = ops["Source: " + snap["splits"][0]["table"]], ops["WindowAggregate"]
    sink = next(o for o in snap["operators"] if o["kind"] == "sink")
    assert source["numRecordsOut"] == ROWS and source["numRecordsIn"] == ROWS
    assert window["numRecordsIn"] == ROWS
    assert window["numLateRecordsDropped"] == len(LATE)
    keys_per_window = {}
    for i in range(ROWS):
        if i not in LATE:
            keys_per_window.setdefault((1 + i // 50) // 10, set()).add(i % 4)
    assert window["numRecordsOut"] == sum(len(k) for k in keys_per_window.values())
    assert sink["numRecordsIn"] == window["numRecordsOut"]
    assert window["inputs"] and sink["inputs"] and not source["inputs"]
    for op in snap["operators"]:
        assert op["subtask_index"] == 0
        total = op["busyTimeMsPerSecond"] + op["backPressuredTimeMsPerSecond"] + op["idleTimeMsPerSecond"]
        assert total == pytest.approx(1000.0)
        assert 0 <= op["busyTimeMsPerSecond"] <= 1000
    # the final watermark of a bounded job passes through every operator
    assert window["currentInputWatermark"] == window["currentOutputWatermark"] == 2 ** 63 - 1
    [split] = snap["splits"]
    assert split["numRecordsIn"] == ROWS and split["table"].endswith("orders")
    assert split["currentWatermark"] == _ms("2024-01-01 00:01:00") - 1000  # the newest time (second 60) - 1 s
    assert split["currentEmitEventTimeLag"] > 0 and split["watermarkLag"] > 0
    assert split["pendingRecords"] is None  # a file source cannot tell


def test_state_size_while_windows_are_open(tmp_path, data):
    runner = ScriptRunner(batch_size=100, summary=False)
    seen = []
    original = JobMetrics.tick

    def tick(self, now):
        original(self, now)
        seen.extend(op.state_rows for op in self.operators.values() if op.operator_name == "WindowAggregate")
    JobMetrics.tick = tick
    try:
        runner.run(JOB.format(settings="", data=data))
    finally:
        JobMetrics.tick = original
    assert max(seen) > 0  # rows of open windows were held at some tick


def test_checkpoint_metrics(tmp_path, data):
    settings = (f"SET 'execution.checkpointing.interval' = '1 h';\n"
                f"SET 'execution.checkpointing.dir' = '{tmp_path}/ck';")
    snap = run(tmp_path, data, settings)
    assert snap["numberOfCompletedCheckpoints"] == 1  # the final checkpoint of a bounded job
    assert snap["numberOfFailedCheckpoints"] == 0
    assert snap["lastCheckpointSize"] > 0 and snap["lastCheckpointDuration"] >= 0
    assert snap["lastCheckpointRestoreTimestamp"] == -1
    assert snap["numRestarts"] == 0


def _ms(text: str) -> int:
    from datetime import datetime, timezone
    return int(datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp() * 1000)


def test_min_watermark_before_any_row():
    job = JobMetrics("j", "n")
    op = job.operator("000-Calc", "Calc")
    assert job.snapshot()["operators"][0]["currentInputWatermark"] == MIN_WM == op.input_watermark


def test_restarts_are_counted_and_a_failed_job_says_so(tmp_path):
    from sqlstream.core.errors import SqlStreamError
    data = tmp_path / "bad.csv"
    data.write_text("1,1,2024-01-01 00:00:01\n2,1,\n")  # a NULL rowtime fails the window aggregation
    settings = ("SET 'restart-strategy.type' = 'fixed-delay';\nSET 'restart-strategy.fixed-delay.attempts' = '2';\n"
                "SET 'restart-strategy.fixed-delay.delay' = '0 ms';")
    runner = ScriptRunner(batch_size=100, summary=False, err=open(tmp_path / "err.txt", "w"))
    with pytest.raises(SqlStreamError):
        runner.run(JOB.format(settings=settings, data=data))
    snap = runner.job_metrics.snapshot()
    assert snap["numRestarts"] == 2 and snap["status"] == "FAILED"
    assert not live_jobs()


def test_a_restore_sets_the_restore_timestamp(tmp_path, data):
    import time
    settings = (f"SET 'execution.checkpointing.interval' = '1 h';\n"
                f"SET 'execution.checkpointing.dir' = '{tmp_path}/ck';")
    assert run(tmp_path, data, settings)["lastCheckpointRestoreTimestamp"] == -1
    before = int(time.time() * 1000)
    again = run(tmp_path, data, settings)  # the finished job's final checkpoint is restored: nothing to do
    assert again["lastCheckpointRestoreTimestamp"] >= before
