"""A job on a Ray cluster of two nodes: its subtasks run as Ray actors on both, and its rows are those of the same
job at parallelism 1 in one process."""
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


def test_a_job_on_two_ray_nodes_gives_the_rows_of_parallelism_1(tmp_path):
    ray = ray_or_skip()
    pytest.importorskip("sqlstream.runtime.parallel", reason="the parallel runtime (subtask units) is needed")
    data = tmp_path / "events.json"
    make_data(str(data), 3000, 50)
    expected = run(tmp_path, "local", "", data)
    assert len(expected) == 50
    with RayCluster(nodes=2) as cluster:
        for p in (2, 3):
            settings = (f"SET 'parallelism.default' = '{p}';\nSET 'execution.target' = 'ray';\n"
                        f"SET 'ray.address' = '{cluster.address}';")
            assert run(tmp_path, f"ray{p}", settings, data) == expected, p
        assert run(tmp_path, "ray4", "", data, "--parallelism", "4", "--cluster", cluster.address) == expected
        ray.init(address=cluster.address, log_to_driver=False)
        from ray._private.state import actors  # the GCS's actor table (ray.util.state needs the dashboard)
        subtasks = [a for a in actors().values() if a["ActorClassName"].endswith("SubtaskActor")]
        assert len(subtasks) >= 2 + 3 + 4
        assert {a["Address"]["NodeID"] for a in subtasks} == set(cluster.node_ids)
