"""The Kafka source alone, and each of its steps apart: messages per CPU-second of this process on one partition of
a local tansu broker, for json and avro payloads (those of benchmarks/formats.py: a key, a value, a timestamp).

    python -m benchmarks.kafka_source [--messages 1000000] [--batch 65536] [--formats json,avro]

Steps: fetch (the client's consume() of the whole partition in batches, nothing else), fetch-raw (the source's
own Fetch requests, connectors/kafka/fetch.py: records to numpy and Arrow columns), extract (the client's messages'
values into one Arrow array), decode (the format's decoder on those arrays), source (KafkaSplitReader.poll until
the partition's end: all of it, with its Arrow batch, by its own fetch), source-client (the same by the
confluent-kafka consumer; and how much of it the consume() calls took). CPU time counts the client's background
threads too, which is what a core pays.

confluent-kafka's consume() builds one Python object per message (its topic, value and key copied): about 1 us
of the calling thread per message, plus librdkafka's fetch threads (0.1-0.2 us), so the client's fetch alone
stays near 1M messages per CPU-second whatever its settings; the source's own fetch walks each record's length
in Python and takes the rest with numpy, about a quarter of that.
"""
from __future__ import annotations

import argparse
import resource
import time


from benchmarks.formats import NAMES, TYPES, messages
from benchmarks.kafka import fill
from tests.kafka_broker import Broker


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def source(broker: Broker, topic: str, fmt: str, n: int):
    from sqlstream.connectors.base import TableSchema
    from sqlstream.connectors.kafka import create_source
    options = {"connector": "kafka", "topic": topic, "properties.bootstrap.servers": broker.bootstrap,
               "format": fmt, "scan.startup.mode": "earliest-offset", "scan.bounded.mode": "specific-offsets",
               "scan.bounded.specific-offsets": f"partition:0,offset:{n}"}
    return create_source("src", options, TableSchema(NAMES, TYPES))


def client_reader(src, split: str):
    """A reader of the split that reads with confluent-kafka's consumer."""
    from sqlstream.connectors.kafka import source as kafka_source
    kafka_source.RAW_FETCH = False
    try:
        return src.reader(split)
    finally:
        kafka_source.RAW_FETCH = True


def fetch_all(src, n: int, batch: int) -> list:
    """Every message of the partition through the reader's own consumer, as lists of the client's messages."""
    reader = client_reader(src, f"{src.cfg.topics[0]}/0")
    got, chunks = 0, []
    while got < n:
        msgs = reader.consumer.consume(num_messages=batch, timeout=0.1)
        if msgs:
            chunks.append(msgs)
            got += len(msgs)
    reader.close()
    return chunks


def measure(broker: Broker, fmt: str, payloads: list[bytes], batch: int) -> None:
    n = len(payloads)
    topic = f"bench_source_{fmt}"
    broker.create_topic(topic, 1)
    fill(broker, topic, n, 1, payloads)
    src = source(broker, topic, fmt, n)
    fetch_all(src, n, batch)  # warm: the broker's first read of the topic is not the client's cost

    t = cpu()
    chunks = fetch_all(src, n, batch)
    fetch = cpu() - t

    from sqlstream.connectors.kafka.source import message_values
    t = cpu()
    extracted = [message_values(msgs) for msgs in chunks]
    extract_s = cpu() - t
    del chunks

    reader = src.reader(f"{topic}/0")
    assert reader.fetcher is not None
    t = cpu()
    got = 0
    while got < n:
        recs = reader.fetcher.fetch(100)
        got += len(recs) if recs is not None else 0
    raw_fetch = cpu() - t
    reader.close()

    from sqlstream.connectors.utf8 import as_text
    dec = src.value_decoder
    docs = [v if getattr(dec, "binary_input", False) else as_text(v) for v in extracted]
    dec.decode(docs[0], str)  # warm: the decoder's first call sets up its library
    t = cpu()
    rows = sum(dec.decode(d, str).num_rows for d in docs)
    decode = cpu() - t
    assert rows == n, (rows, n)

    best, batches, consume = {}, 0, 0.0
    for _ in range(2):
        for kind in ("source", "client"):
            reader = src.reader(f"{topic}/0") if kind == "source" else client_reader(src, f"{topic}/0")
            reader.consumer = timed = TimedConsumer(reader.consumer)
            t = cpu()
            rows = polls = 0
            while not reader.finished:
                b = reader.poll(batch)
                polls += b is not None
                rows += b.num_rows if b is not None else 0
            if cpu() - t < best.get(kind, float("inf")):
                best[kind] = cpu() - t
                if kind == "client":
                    batches, consume = polls, timed.seconds
            reader.close()
            assert rows == n, (rows, n)
    for name, secs in (("fetch", fetch), ("fetch-raw", raw_fetch), ("extract", extract_s), ("decode", decode),
                       ("source", best["source"]), ("source-client", best["client"])):
        print(f"{fmt:<5} {name:<13} {n:>10,} msgs  {secs:6.2f} CPU-s  {n / secs:>12,.0f} msgs per CPU-s",
              flush=True)
    print(f"{fmt:<5} source-client: {batches:,} batches of {n / max(1, batches):,.0f} messages on average; "
          f"{consume:.2f} s of its thread's CPU in consume()", flush=True)


class TimedConsumer:
    """A consumer whose consume() calls count their thread's CPU time."""

    def __init__(self, consumer):
        self.consumer, self.seconds = consumer, 0.0

    def consume(self, *args, **kw):
        t = time.thread_time()
        try:
            return self.consumer.consume(*args, **kw)
        finally:
            self.seconds += time.thread_time() - t

    def __getattr__(self, name):
        return getattr(self.consumer, name)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=65_536)
    ap.add_argument("--formats", default="json,avro")
    a = ap.parse_args()
    as_json, as_avro = messages(a.messages)
    broker = Broker()
    try:
        t = time.perf_counter()
        for fmt in a.formats.split(","):
            measure(broker, fmt, as_json if fmt == "json" else as_avro, a.batch)
        print(f"({time.perf_counter() - t:.0f} s in all)")
    finally:
        broker.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
