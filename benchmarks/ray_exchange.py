"""Arrow record batches between actors on two Ray nodes: Ray's object store against Arrow Flight.

    python -m benchmarks.ray_exchange [--batches 40] [--rows 65536] [--repeat 3]

Starts a Ray head and a second node as separate processes (tests/ray_cluster.py), one actor on each. The producer
on node 0 builds the batches once; the consumer on node 1 receives them all and the time it takes is measured on
the consumer:
- object store: the producer `ray.put`s each batch (owned by it, stored on node 0); the consumer `ray.get`s them,
  which pulls them through Ray's object managers into node 1's store;
- Arrow Flight: the producer serves the batches with `pyarrow.flight` (`do_get` streams them); the consumer reads
  the stream.
Prints rows/s and MB/s (Arrow buffer bytes) for each, the best of `--repeat` runs, and which is faster.
`--consumer-node 0` puts the consumer beside the producer, to see what the move between nodes costs.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import pyarrow as pa


def make_batch(rows: int, seed: int) -> pa.RecordBatch:
    """A Nexmark-bid-like batch: auction, bidder, price, a short string and a timestamp."""
    rng = np.random.default_rng(seed)
    return pa.record_batch({
        "auction": pa.array(rng.integers(0, 10_000, rows)),
        "bidder": pa.array(rng.integers(0, 100_000, rows)),
        "price": pa.array(rng.random(rows) * 1000),
        "channel": pa.array(np.array(["apple", "google", "facebook", "baidu"])[rng.integers(0, 4, rows)]),
        "ts": pa.array(rng.integers(0, 10**12, rows), pa.timestamp("ms")),
    })


def run(batches: int, rows: int, repeat: int, consumer_node: int = 1) -> dict:
    import ray
    from pyarrow import flight
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    from tests.ray_cluster import RayCluster

    @ray.remote(num_cpus=0)
    class Producer:
        def __init__(self, batches: int, rows: int):
            self.batches = [make_batch(rows, i) for i in range(batches)]
            self.server = None

        def nbytes(self) -> int:
            return sum(b.nbytes for b in self.batches)

        def put(self) -> list:
            return [ray.put(b) for b in self.batches]

        def serve(self) -> str:
            batches = self.batches

            class Server(flight.FlightServerBase):
                def do_get(self, context, ticket):
                    return flight.GeneratorStream(batches[0].schema, iter(batches))
            self.server = Server("grpc://127.0.0.1:0")
            return f"grpc://127.0.0.1:{self.server.port}"

    @ray.remote(num_cpus=0)
    class Consumer:
        def pull(self, refs: list) -> tuple[float, int]:
            start = time.perf_counter()
            got = ray.get(refs)
            n = sum(b.num_rows for b in got)
            return time.perf_counter() - start, n

        def read(self, location: str) -> tuple[float, int]:
            client = flight.connect(location)
            start = time.perf_counter()
            n = sum(chunk.data.num_rows for chunk in client.do_get(flight.Ticket(b"all")))
            elapsed = time.perf_counter() - start
            client.close()
            return elapsed, n

    results: dict[str, float] = {}
    with RayCluster(nodes=2, object_store_bytes=max(300 * 1024 * 1024, 3 * batches * rows * 40)) as cluster:
        ray.init(address=cluster.address, log_to_driver=False)
        on = [NodeAffinitySchedulingStrategy(node, soft=False) for node in cluster.node_ids]
        producer = Producer.options(scheduling_strategy=on[0]).remote(batches, rows)
        consumer = Consumer.options(scheduling_strategy=on[consumer_node]).remote()
        nbytes = ray.get(producer.nbytes.remote())
        location = ray.get(producer.serve.remote())
        best = {"object store": float("inf"), "Arrow Flight": float("inf")}
        for _ in range(repeat):
            refs = ray.get(producer.put.remote())  # fresh objects each time: nothing cached on node 1
            secs, n = ray.get(consumer.pull.remote(refs))
            assert n == batches * rows
            best["object store"] = min(best["object store"], secs)
            del refs
            secs, n = ray.get(consumer.read.remote(location))
            assert n == batches * rows
            best["Arrow Flight"] = min(best["Arrow Flight"], secs)
        for name, secs in best.items():
            results[name] = secs
    total = batches * rows
    print(f"{batches} batches x {rows} rows = {total} rows, {nbytes / 1e6:.1f} MB, node 0 -> node {consumer_node}, "
          f"best of {repeat}")
    for name, secs in results.items():
        print(f"  {name:13s} {secs:7.3f} s  {total / secs / 1e6:7.2f} M rows/s  {nbytes / secs / 1e6:8.1f} MB/s")
    fast = min(results, key=results.get)
    slow = max(results, key=results.get)
    print(f"  faster: {fast}, {results[slow] / results[fast]:.2f}x")
    return results


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batches", type=int, default=40)
    p.add_argument("--rows", type=int, default=65536)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--consumer-node", type=int, choices=(0, 1), default=1,
                   help="0: the consumer on the producer's node (no transfer between object stores), for comparison")
    a = p.parse_args()
    run(a.batches, a.rows, a.repeat, a.consumer_node)


if __name__ == "__main__":
    main()
