"""Producing a table of encoded messages (key, value, partition, timestamp, headers) with confluent-kafka."""
from __future__ import annotations

import pyarrow as pa

from connectors.kafka.config import KafkaConfig


MESSAGES = pa.schema([("key", pa.binary()), ("value", pa.binary()), ("partition", pa.int32()),
                      ("timestamp", pa.int64()), ("headers", pa.map_(pa.string(), pa.binary()))])


def producer_conf(cfg: KafkaConfig, **extra) -> dict:
    """Batched producing (large queues, 5 ms linger); the table's `properties.*` override these."""
    conf = {"bootstrap.servers": cfg.client["bootstrap.servers"], "linger.ms": 5,
            "batch.num.messages": 10000, "queue.buffering.max.messages": 1_000_000,
            "queue.buffering.max.kbytes": 1 << 20, "partitioner": "murmur2_random", "log_level": 3}
    conf.update(extra)
    conf.update({k: v for k, v in cfg.client.items() if k != "bootstrap.servers"})
    return conf


def produce_messages(producer, topic: str, messages: pa.Table) -> None:
    """Hand every message of the table to the producer, waiting for queue space when it is full."""
    if messages.num_rows == 0:
        return
    keys = messages.column("key").to_pylist()
    values = messages.column("value").to_pylist()
    plain = all(messages.column(c).null_count == messages.num_rows for c in ("partition", "timestamp", "headers"))
    produce = producer.produce
    if plain:
        for value, key in zip(values, keys):
            while True:
                try:
                    produce(topic, value, key)
                    break
                except BufferError:
                    producer.poll(0.05)
        producer.poll(0)
        return
    parts = messages.column("partition").to_pylist()
    stamps = messages.column("timestamp").to_pylist()
    headers = messages.column("headers").to_pylist()
    for value, key, part, ts, hdrs in zip(values, keys, parts, stamps, headers):
        kw = {}
        if part is not None:
            kw["partition"] = part
        if ts is not None:
            kw["timestamp"] = ts
        if hdrs:
            kw["headers"] = hdrs
        while True:
            try:
                produce(topic, value=value, key=key, **kw)
                break
            except BufferError:
                producer.poll(0.05)
    producer.poll(0)
