"""The Ray cluster fixture: a head and a second node as separate processes, actors placed on each, Arrow record
batches moved between them through Ray's object store, and nothing left running afterwards."""
import os

import pyarrow as pa

from tests.cli_job import wait_until
from tests.ray_cluster import RayCluster, ray_or_skip


def test_actors_on_two_nodes_exchange_arrow_batches_and_the_cluster_goes_away():
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

    with RayCluster(nodes=2) as cluster:
        ray.init(address=cluster.address, log_to_driver=False)
        a, b = (Holder.options(scheduling_strategy=NodeAffinitySchedulingStrategy(node, soft=False)).remote()
                for node in cluster.node_ids)
        assert ray.get([a.node.remote(), b.node.remote()]) == cluster.node_ids
        assert cluster.node_ids[0] != cluster.node_ids[1]
        refs = ray.get(a.make.remote(10_000))
        assert ray.get(b.total.remote(refs)) == (10_000, sum(range(10_000)))
        pids = [node.proc.pid for node in cluster.nodes]
    for pid in pids:  # every process group the fixture started ends (killed processes are reaped shortly after)
        wait_until(lambda: not group_alive(pid), f"process group {pid} to end", 30)


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False
