"""One Ray cluster of two nodes (a head and a second node as separate processes) for these tests: actors placed
on each move Arrow record batches through Ray's object store, a job's subtasks run on both nodes with the rows of
parallelism 1, the Ray host reports a lost node (last: it kills the second node), and nothing is left running
afterwards."""
import os

import pyarrow as pa
import pyarrow.compute  # noqa: F401 -- pa.compute in the actors
import pytest

from benchmarks.core import make_data
from tests.cli_job import wait_until
from tests.ray_cluster import RayCluster, ray_or_skip
from tests.test_ray_job import run


@pytest.fixture(scope="module")
def cluster():
    ray_or_skip()
    with RayCluster(nodes=2) as started:
        pids = [node.proc.pid for node in started.nodes]
        yield started
    for pid in pids:  # every process group the fixture started ends (killed processes are reaped shortly after)
        wait_until(lambda: not group_alive(pid), f"process group {pid} to end", 30)


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


def test_ray_subtasks_write_their_state_parts_to_the_shared_checkpoint_directory(cluster, tmp_path):
    """Stopped with a savepoint at parallelism 2 on Ray, the savepoint holds a part per subtask, written by the
    subtask's actor into the (shared) directory and covered by the manifest the job's process committed; resumed
    from it on Ray, the job commits the output of an uninterrupted run."""
    import subprocess
    import sys
    from sqlstream.runtime.checkpoint import read_checkpoint
    from tests.cli_job import REPO, CliJob
    from tests.test_checkpoints import committed, uninterrupted, write_job
    data = tmp_path / "events.json"
    make_data(str(data), 20000, 50)
    expected = uninterrupted(tmp_path / "local", str(data))
    folder = tmp_path / "ray"
    job = write_job(folder, str(data), interval="200 ms", batch=100)
    job.write_text(f"SET 'parallelism.default' = '2';\nSET 'execution.target' = 'ray';\n"
                   f"SET 'ray.address' = '{cluster.address}';\n" + job.read_text())
    running = CliJob(job)
    running.wait_for_stderr("Job running")
    stop = subprocess.run([sys.executable, "-m", "sqlstream.cli", "savepoint", str(running.proc.pid), "--stop"],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert stop.returncode == 0, stop.stderr + running.err
    rc, _, err = running.finish()
    assert rc == 0 and "savepoint written to " in err, err
    savepoint = err.split("savepoint written to ")[1].split()[0]
    manifest, files = read_checkpoint(savepoint)  # every part there and intact
    parts = sorted(f for f in manifest["state_files"] if ".subtask-" in f)
    assert len(parts) == 2 * 2, manifest["state_files"]  # two regions (the window, the GROUP BY), two subtasks
    assert all(os.path.exists(os.path.join(savepoint, f)) and f in manifest["checksums"] for f in parts)
    assert all(len(data) < 4096 for name, data in files.items() if name.endswith(".subtasks.arrow")), \
        "the region's own table only points at its subtasks' parts"
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


def test_the_ray_host_runs_subtasks_as_actors_across_nodes_and_reports_a_lost_node(cluster):
    """Last of the cluster's tests: it kills the second node."""
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
    worker_node = cluster.node_ids[1]
    cluster.kill_node(1)
    lost = next((c, h) for (c, h), n in zip(started, nodes) if n == worker_node)
    wait_until(lambda: not any(n["Alive"] for n in ray.nodes() if n["NodeID"] == worker_node),
               "the killed node to be declared dead", 120)
    channel, handle = lost
    channel.send_batch((0, [0]), pa.record_batch({"v": pa.array([1])}))
    try:
        channel.receive()
        raise AssertionError("an actor of a dead node answered")
    except EOFError:
        pass
    assert "lost with its Ray node" in host.describe_end(handle)
    for channel, handle in started:
        channel.send_marker("stop")
        host.stop(handle)
        channel.close()


def test_execution_target_chooses_the_host():
    import pytest

    from sqlstream.core.errors import ValidationError
    from sqlstream.runtime.ray_host import host_of
    assert host_of({}) is None and host_of({"execution.target": "local"}) is None
    with pytest.raises(ValidationError, match="must be one of local, ray, got 'yarn-session'"):
        host_of({"execution.target": "yarn-session"})
