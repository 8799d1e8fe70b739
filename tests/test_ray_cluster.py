"""One Ray cluster of two nodes (a head and a second node as separate processes) for these tests: actors placed
on each move Arrow record batches through Ray's object store, a job's subtasks run on both nodes with the rows of
parallelism 1, checkpoints and savepoints live behind a filesystem URI that the actors write and read themselves,
SIGTERM stops a job on Ray with a savepoint, and (last: it kills the second node) a job whose node dies restarts
from its last checkpoint on the remaining node with exactly-once output. Nothing is left running afterwards."""
import json
import os
import signal
from collections import Counter

import pyarrow as pa
import pyarrow.compute  # noqa: F401 -- pa.compute in the actors
import pytest

from benchmarks.core import make_data
from tests.cli_job import CliJob, latest_checkpoint_id, wait_until
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


def on_ray(job, cluster, *settings: str) -> None:
    """Make a test_checkpoints job run at parallelism 2 on the cluster, its checkpoints behind a file:// URI."""
    text = job.read_text().replace("'execution.checkpointing.dir' = '", "'execution.checkpointing.dir' = 'file://")
    job.write_text("".join(f"SET '{k}' = '{v}';\n" for k, v in [
        ("parallelism.default", "2"), ("execution.target", "ray"), ("ray.address", cluster.address),
        *(s.split("=", 1) for s in settings)]) + text)


@pytest.fixture(scope="module")
def cluster():
    ray_or_skip()
    with RayCluster(nodes=2) as started:
        pids = [node.proc.pid for node in started.nodes]
        yield started
    for pid in pids:  # every process group the fixture started ends (killed processes are reaped shortly after)
        wait_until(lambda: not group_alive(pid), f"process group {pid} to end", 30)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """A file of 20000 events and the committed output of a test_checkpoints job over it, uninterrupted at
    parallelism 1: what a job on Ray must end up with however it was stopped or killed."""
    from tests.test_checkpoints import uninterrupted
    folder = tmp_path_factory.mktemp("reference")
    data = folder / "data" / "events.json"  # alone in its folder, which a monitored source reads
    data.parent.mkdir()
    make_data(str(data), 20000, 50)
    return str(data), uninterrupted(folder / "local", str(data))


def test_actors_on_two_nodes_exchange_arrow_batches(cluster):
    ray = ray_or_skip()
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    @ray.remote(num_cpus=0)
    class Holder:
        def node(self) -> str:
            return ray.get_runtime_context().get_node_id()

        def make(self, n: int):
            batch = pa.record_batch({"k": pa.array(range(n)), "s": pa.array([f"v{i}" for i in range(n)])})
            return [ray.put(batch)]  # stored in this node's object store, owned by this actor

        def total(self, refs) -> tuple[int, int]:
            batch = ray.get(refs[0])
            return batch.num_rows, sum(batch.column("k").to_pylist())

    ray.init(address=cluster.address, log_to_driver=False)
    try:
        a, b = (Holder.options(scheduling_strategy=NodeAffinitySchedulingStrategy(node, soft=False)).remote()
                for node in cluster.node_ids)
        assert ray.get([a.node.remote(), b.node.remote()]) == cluster.node_ids
        assert cluster.node_ids[0] != cluster.node_ids[1]
        refs = ray.get(a.make.remote(10_000))
        assert ray.get(b.total.remote(refs)) == (10_000, sum(range(10_000)))
    finally:
        ray.shutdown()


def test_a_job_on_two_ray_nodes_gives_the_rows_of_parallelism_1(cluster, tmp_path):
    ray = ray_or_skip()
    data = tmp_path / "events.json"
    make_data(str(data), 3000, 50)
    expected = run(tmp_path, "local", "", data)
    assert len(expected) == 50
    settings = (f"SET 'parallelism.default' = '2';\nSET 'execution.target' = 'ray';\n"
                f"SET 'ray.address' = '{cluster.address}';")
    assert run(tmp_path, "ray2", settings, data) == expected
    assert run(tmp_path, "ray3", "", data, "--parallelism", "3", "--cluster", cluster.address) == expected
    ray.init(address=cluster.address, log_to_driver=False)
    try:
        from ray._private.state import actors  # the GCS's actor table (ray.util.state needs the dashboard)
        subtasks = [a for a in actors().values() if a["ActorClassName"].endswith("SubtaskActor")]
        assert len(subtasks) >= 2 + 3
        assert {a["Address"]["NodeID"] for a in subtasks} == set(cluster.node_ids)
    finally:
        ray.shutdown()


def test_sigterm_stops_a_ray_job_with_a_savepoint_behind_a_uri_that_the_actors_write_and_read(cluster, reference,
                                                                                              tmp_path):
    """SIGTERM stops a job at parallelism 2 on Ray with a savepoint, as at parallelism 1 (Ray's own handler, which
    exits at once, is not the one in force). Its checkpoint directory is a file:// URI: each subtask's actor wrote
    its part there, the job's process committed the manifest there, and on resuming the actors read their parts
    themselves (the job's process leaves them unread); the resumed job commits an uninterrupted run's output."""
    from sqlstream.runtime.checkpoint import PartRef, read_checkpoint
    from tests.test_checkpoints import committed, write_job, write_monitored_job
    data, expected = reference
    folder = tmp_path / "ray"
    unbounded = write_monitored_job(folder, data, interval="200 ms", batch=100)  # still running at the SIGTERM
    on_ray(unbounded, cluster)
    running = CliJob(unbounded)
    running.wait_for_stderr("Job running")
    running.proc.send_signal(signal.SIGTERM)
    rc, _, err = running.finish()
    assert rc == 0 and "savepoint written to file://" in err, err
    savepoint = err.split("savepoint written to ")[1].split()[0]
    manifest, files = read_checkpoint(savepoint)  # every part there, with the manifest's size
    parts = sorted(f for f in manifest["state_files"] if ".subtask-" in f)
    assert len(parts) == 2 * 2, manifest["state_files"]  # two regions (the window, the GROUP BY), two subtasks
    assert all(isinstance(files[f], PartRef) for f in parts), "the job's process does not read the parts"
    assert all(len(data) < 4096 for name, data in files.items() if name.endswith(".subtasks.arrow")), \
        "the region's own table only points at its subtasks' parts"
    job = write_job(folder, data, interval="200 ms", batch=100)  # the same job over the file: it ends
    on_ray(job, cluster)
    rc, _, err = CliJob(job, "--from-savepoint", savepoint).finish()
    assert rc == 0 and "restored from savepoint" in err, err
    assert committed(folder) == expected


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def doubling_serve(unit, channel) -> None:
    """A subtask loop speaking the parallel runtime's protocol: every batch is answered with its values doubled
    (tagged with the unit), every marker with `done`, until `stop`."""
    while True:
        try:
            msg = channel.receive()
        except EOFError:
            return
        if msg[0] == "stop":
            return
        if msg[0] == "batch":
            batch = msg[2]
            channel.send_batch(None, pa.record_batch({"unit": pa.array([unit] * batch.num_rows),
                                                      "v": pa.compute.multiply(batch.column("v"), 2)}))
        channel.send_marker("done", {"unit": unit}, None)


def test_the_ray_host_runs_subtasks_as_actors_across_nodes(cluster):
    ray = ray_or_skip()
    from sqlstream.runtime.ray_host import RayActorHost
    host = RayActorHost(cluster.address, serve=doubling_serve)
    started = [host.start(unit) for unit in range(4)]
    nodes = [ray.get(actor.node.remote()) for _, (actor, _) in started]
    assert nodes == [cluster.node_ids[0], cluster.node_ids[1]] * 2 or \
        nodes == [cluster.node_ids[1], cluster.node_ids[0]] * 2
    for unit, (channel, _) in enumerate(started):
        for k in range(3):
            channel.send_batch((0, [0]), pa.record_batch({"v": pa.array([unit, k, 100])}))
        channel.send_marker("watermark", [5])
    for unit, (channel, _) in enumerate(started):
        for k in range(3):
            kind, _, batch = channel.receive()
            assert kind == "batch" and batch.column("v").to_pylist() == [2 * unit, 2 * k, 200]
            assert batch.column("unit").to_pylist() == [unit] * 3
            assert channel.receive() == ("done", {"unit": unit}, None)
        assert channel.receive() == ("done", {"unit": unit}, None)
    for channel, handle in started:
        channel.send_marker("stop")
        host.stop(handle)
        channel.close()
    ray.shutdown()


def test_execution_target_chooses_the_host():
    from sqlstream.core.errors import ValidationError
    from sqlstream.runtime.ray_host import host_of
    assert host_of({}) is None and host_of({"execution.target": "local"}) is None
    with pytest.raises(ValidationError, match="must be one of local, ray, got 'yarn-session'"):
        host_of({"execution.target": "yarn-session"})


def test_a_ray_node_killed_mid_job_restarts_it_from_its_last_checkpoint_with_exactly_once_output(cluster, reference,
                                                                                                tmp_path):
    """Last of the cluster's tests: it kills the second node (its raylet, object store and actors) once the job
    completed a checkpoint; the job fails naming the lost node, restarts from that checkpoint with every subtask
    on the remaining node (its actors reading their parts from the checkpoint's URI), and its exactly-once sinks
    hold an uninterrupted run's output."""
    pytest.importorskip("sqlstream.runtime.parallel", reason="the parallel runtime (subtask units) is needed")
    from tests.test_checkpoints import committed, write_job
    data, expected = reference
    folder = tmp_path / "ray"
    job = write_job(folder, data, interval="200 ms", batch=50)
    on_ray(job, cluster, "restart-strategy.type=fixed-delay", "restart-strategy.fixed-delay.attempts=60",
           "restart-strategy.fixed-delay.delay=1 s")
    running = CliJob(job)
    running.wait_for_stderr("Job running")  # its subtasks run on both nodes and rows flow
    wait_until(lambda: latest_checkpoint_id(folder / "checkpoints") >= 1 or running.proc.poll() is not None,
               "a checkpoint of the job on both nodes", 120)
    cluster.kill_node(1)
    rc, _, err = running.finish()
    assert rc == 0, err
    assert "restarting from its last checkpoint" in err and "Ray" in err.split("the job failed:")[1], err
    assert "restored from checkpoint" in err, err
    assert committed(folder) == expected
