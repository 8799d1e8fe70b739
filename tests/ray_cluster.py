"""A real Ray cluster for tests: a head and more nodes, each started by `ray start --block` as its own process.

Each node is a separate `ray start` process group (head: GCS, raylet, object store; worker node: its own raylet
and object store), so objects moved between actors on different nodes go through Ray's object manager, as between
machines. Teardown ends exactly the process groups it started (never `ray stop`, which would end every Ray process
on the machine), even when the test fails. Where Ray is not installed or cannot start, the test is skipped with
the reason.

    with RayCluster(nodes=2) as cluster:        # the head and one more node, one CPU each
        ray.init(address=cluster.address)
        a, b = cluster.node_ids                # place actors with NodeAffinitySchedulingStrategy(node_id, soft=False)
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import pytest

from tests.ports import free_port

START_TIMEOUT = 120.0  # seconds for one node to say it started (about 15 s each on a loaded 2-core machine)


def ray_or_skip():
    """The `ray` module, or a skip naming why the Ray tests cannot run here."""
    try:
        import ray
    except ImportError:
        pytest.skip("Ray is not installed: pip install 'sqlstream[ray]' to run the Ray cluster tests")
    return ray


def _ray_command() -> list[str]:
    beside = os.path.join(os.path.dirname(sys.executable), "ray")
    return [beside] if os.path.exists(beside) else [sys.executable, "-m", "ray.scripts.scripts"]


REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _node_env() -> dict:
    """The node's environment: its workers import this tree's sqlstream and tests (the actors' code) first."""
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "RAY_USAGE_STATS_ENABLED": "0",
            "PYTHONPATH": REPO + (os.pathsep + path if path else "")}


class RayNode:
    """One `ray start --block` process and its process group; `started` is set once Ray says the node runs."""

    def __init__(self, args: list[str], log_path: str):
        self.log_path = log_path
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(_ray_command() + ["start", "--block", *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, start_new_session=True,
                                     env=_node_env())
        self.started = threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.log.write(line)
            self.log.flush()
            if "Ray runtime started" in line:
                self.started.set()

    def wait_started(self, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while not self.started.wait(0.2):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                with open(self.log_path) as f:
                    tail = f.read()[-2000:]
                pytest.skip(f"Ray could not start a node here: {tail.strip().splitlines()[-1:] or 'no output'}")

    def stop(self) -> None:
        """End the node's process group: `ray start --block` and every daemon and worker it started."""
        if self.proc.poll() is None:
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(self.proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.proc.wait(timeout=15)
                    break
                except subprocess.TimeoutExpired:
                    continue
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # workers left in the group after the parent ended
        except (ProcessLookupError, PermissionError):
            pass
        self.reader.join(timeout=5)
        self.log.close()


class RayCluster:
    """A head node and `nodes - 1` worker nodes on this machine, each with `cpus` CPUs; `address` for ray.init."""

    def __init__(self, nodes: int = 2, cpus: int = 1, object_store_bytes: int = 300 * 1024 * 1024):
        self.n, self.cpus, self.store = nodes, cpus, object_store_bytes
        self.nodes: list[RayNode] = []
        self.node_ids: list[str] = []
        self.temp = tempfile.mkdtemp(prefix="rayt_", dir="/tmp")  # short: Ray's socket paths are limited
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"

    def __enter__(self) -> RayCluster:
        ray = ray_or_skip()
        try:
            head = RayNode(["--head", f"--port={self.port}", "--node-ip-address=127.0.0.1", f"--num-cpus={self.cpus}",
                            "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={self.temp}",
                            f"--object-store-memory={self.store}", "--resources", '{"node0": 1}'],
                           os.path.join(self.temp, "head.log"))
            self.nodes.append(head)
            head.wait_started()
            for i in range(1, self.n):
                node = RayNode([f"--address={self.address}", "--node-ip-address=127.0.0.1", f"--num-cpus={self.cpus}",
                                "--disable-usage-stats", f"--object-store-memory={self.store}",
                                "--resources", f'{{"node{i}": 1}}'], os.path.join(self.temp, f"node{i}.log"))
                self.nodes.append(node)
                node.wait_started()
            self.node_ids = self._node_ids(ray)
        except BaseException:
            self.close()
            raise
        return self

    def _node_ids(self, ray) -> list[str]:
        """The nodes' ids in start order (each node carries a custom resource 'node<i>' naming it)."""
        ray.init(address=self.address, log_to_driver=False)
        try:
            deadline = time.monotonic() + START_TIMEOUT
            while True:
                alive = [n for n in ray.nodes() if n["Alive"]]
                named = {r: n["NodeID"] for n in alive for r in n["Resources"] if r.startswith("node")
                         and r[4:].isdigit()}
                if len(named) == self.n:
                    return [named[f"node{i}"] for i in range(self.n)]
                if time.monotonic() > deadline:
                    pytest.skip(f"Ray started {len(named)} of {self.n} nodes")
                time.sleep(0.2)  # polling the cluster's membership, the observable event
        finally:
            ray.shutdown()

    def kill_node(self, i: int) -> None:
        """End node i's processes at once (its raylet, object store and workers), as a machine that dies."""
        node = self.nodes[i]
        try:
            os.killpg(node.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        node.proc.wait()

    def close(self) -> None:
        for node in reversed(self.nodes):
            node.stop()
        self.nodes.clear()
        shutil.rmtree(self.temp, ignore_errors=True)

    def __exit__(self, *exc) -> None:
        try:
            import ray
            ray.shutdown()
        except ImportError:
            pass
        self.close()
