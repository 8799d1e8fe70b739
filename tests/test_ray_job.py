"""A job on a Ray cluster of two nodes whose second node dies mid-job: the job fails, restarts, and its
exactly-once output equals an uninterrupted run (the cluster's other tests, sharing one cluster, are in
test_ray_cluster.py)."""
import json
from collections import Counter

import pytest

from benchmarks.core import make_data
from tests.cli_job import CliJob
from tests.ray_cluster import RayCluster, ray_or_skip

JOB = """{settings}
CREATE TABLE events (key STRING, val BIGINT, payload STRING, ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
WITH ('connector' = 'filesystem', 'path' = '{data}', 'format' = 'json');
SELECT key, COUNT(*) AS n, SUM(val) AS total FROM events GROUP BY key;
"""


def final_rows(stdout: str) -> Counter:
    """The multiset a changelog (jsonl with 'op') leaves."""
    rows: Counter = Counter()
    for line in stdout.splitlines():
        row = json.loads(line)
        op = row.pop("op")
        key = tuple(sorted(row.items()))
        rows[key] += 1 if op in ("+I", "+U") else -1
    return +rows


def run(tmp_path, name: str, settings: str, data, *args: str) -> Counter:
    job = tmp_path / f"{name}.sql"
    job.write_text(JOB.format(settings=settings, data=data))
    rc, out, err = CliJob(job, "--format", "jsonl", *args).finish()
    assert rc == 0, err
    return final_rows(out)


def test_a_ray_node_killed_mid_job_fails_it_and_the_restart_gives_exactly_once_output(tmp_path):
    ray_or_skip()
    pytest.importorskip("sqlstream.runtime.parallel", reason="the parallel runtime (subtask units) is needed")
    from tests.test_checkpoints import committed, uninterrupted, write_job
    data = tmp_path / "events.json"
    make_data(str(data), 20000, 50)
    expected = uninterrupted(tmp_path / "local", str(data))
    with RayCluster(nodes=2) as cluster:
        folder = tmp_path / "ray"
        job = write_job(folder, str(data), interval="200 ms", batch=50)
        job.write_text(f"SET 'parallelism.default' = '2';\nSET 'execution.target' = 'ray';\n"
                       f"SET 'ray.address' = '{cluster.address}';\nSET 'restart-strategy.type' = 'fixed-delay';\n"
                       f"SET 'restart-strategy.fixed-delay.attempts' = '30';\n"
                       f"SET 'restart-strategy.fixed-delay.delay' = '1 s';\n" + job.read_text())
        running = CliJob(job)
        running.wait_for_stderr("Job running")  # its subtasks run on both nodes and rows flow
        cluster.kill_node(1)
        rc, _, err = running.finish()
        assert rc == 0, err
        assert "Ray node" in err, err  # the job failed for the lost node and restarted
    assert committed(folder) == expected
