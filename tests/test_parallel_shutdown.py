"""A parallel job ends once its subtasks have done their last work (a subtask writer's cleanup included) and closed
their channels, without waiting for their processes to exit: those end on their own, and the next job's workers
start meanwhile."""
import io
import json
import multiprocessing
import os

from sqlstream.script import ScriptRunner
from tests.cli_job import wait_until


def _script(out) -> str:
    return f"""SET 'parallelism.default' = '2';
CREATE TABLE t (i BIGINT, ts AS TO_TIMESTAMP_LTZ(i, 3), WATERMARK FOR ts AS ts)
WITH ('connector' = 'datagen', 'number-of-rows' = '3000', 'fields.i.kind' = 'sequence', 'fields.i.start' = '0',
      'fields.i.end' = '2999');
CREATE TABLE o (k BIGINT, c BIGINT) WITH ('connector' = 'filesystem', 'path' = '{out}',
      'format' = 'json');
INSERT INTO o SELECT MOD(i, 7), COUNT(*) FROM TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '1' SECOND))
GROUP BY MOD(i, 7), window_start, window_end;
"""


def _written(out) -> tuple[list[tuple], list[str]]:
    """The rows of the committed files, and the names of hidden (in-progress) files left."""
    rows, hidden = [], []
    for folder, _, files in os.walk(out):
        for name in files:
            if name.startswith((".", "_")):
                hidden.append(name)
                continue
            with open(os.path.join(folder, name)) as f:
                rows += [(r["k"], r["c"]) for r in map(json.loads, f)]
    return sorted(rows), hidden


def _subtask_processes() -> list:
    return [p for p in multiprocessing.active_children() if p.name.startswith("sqlstream-subtask")]


def test_jobs_end_without_waiting_for_their_workers_to_exit(tmp_path):
    expected = sorted((k, sum(1 for i in range(w * 1000, w * 1000 + 1000) if i % 7 == k))
                      for w in range(3) for k in range(7))
    for run in range(3):  # each job's workers start while the last job's may still be exiting
        out = tmp_path / f"out{run}"
        err = io.StringIO()
        ScriptRunner(out=io.StringIO(), err=err).run(_script(out))
        rows, hidden = _written(out)
        assert rows == expected, err.getvalue()
        assert hidden == []
    wait_until(lambda: not _subtask_processes(), "the workers' processes to end")
