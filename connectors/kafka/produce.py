"""Producing a table of encoded messages (key, value, partition, timestamp, headers) with confluent-kafka."""
from __future__ import annotations

import pyarrow as pa

from sqlstream.connectors.kafka.config import KafkaConfig
from sqlstream.core.errors import OptionError


MESSAGES = pa.schema([("key", pa.binary()), ("value", pa.binary()), ("partition", pa.int32()),
                      ("timestamp", pa.int64()), ("headers", pa.map_(pa.string(), pa.binary()))])


# Flink's producers use the Kafka client's default, 2 minutes (librdkafka's own is 5)
DELIVERY_TIMEOUT_MS = 120_000
PRODUCER_DEFAULTS = {"linger.ms": 5, "batch.num.messages": 10000, "queue.buffering.max.messages": 1_000_000,
                     "queue.buffering.max.kbytes": 1 << 20, "partitioner": "murmur2_random"}


def delivery_timeout_ms(cfg: KafkaConfig) -> int | None:
    """How long a message may wait for its broker before the sink fails: 'properties.delivery.timeout.ms'
    (librdkafka's alias 'message.timeout.ms'), by default DELIVERY_TIMEOUT_MS."""
    for key in ("delivery.timeout.ms", "message.timeout.ms"):
        if key in cfg.client:
            try:
                return int(cfg.client[key])
            except ValueError:
                raise OptionError(f"Table '{cfg.table}': 'properties.{key}' must be a number of milliseconds, "
                                  f"got '{cfg.client[key]}'") from None
    return None


def producer_defaults(cfg: KafkaConfig, transactional: bool = False) -> dict:
    """Batched producing (large queues, 5 ms linger) and Flink's delivery timeout; the table's `properties.*`
    override these. A transactional producer keeps librdkafka's, which fits its transaction timeout."""
    conf = dict(PRODUCER_DEFAULTS)
    if not transactional and delivery_timeout_ms(cfg) is None:
        conf["delivery.timeout.ms"] = DELIVERY_TIMEOUT_MS
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
