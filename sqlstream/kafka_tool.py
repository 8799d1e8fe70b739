"""`sqlstream kafka`: the few broker chores a quick start needs (list and create topics, produce records from a
file, read a topic), so trying the Kafka examples takes no other client."""
from __future__ import annotations

import argparse
import json
import sys
import time

DEFAULT_BOOTSTRAP = "localhost:9092"


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="sqlstream kafka", description="Create topics, produce records from a file "
                                "and read a topic (what the Kafka examples need).")
    p.add_argument("-b", "--bootstrap-servers", default=DEFAULT_BOOTSTRAP, help=f"default {DEFAULT_BOOTSTRAP}")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("topics", help="list the topics and their partition counts")
    c = sub.add_parser("create", help="create a topic (an existing one with that partition count is kept)")
    c.add_argument("topic")
    c.add_argument("--partitions", type=int, default=1)
    pr = sub.add_parser("produce", help="produce one record per line of FILE (or stdin), spread over the "
                                        "partitions in turn")
    pr.add_argument("topic")
    pr.add_argument("file", nargs="?", help="records, one per line ('-' or none: stdin)")
    pr.add_argument("--partition", type=int, default=None, help="write every record to this partition")
    pr.add_argument("--key-field", default=None,
                    help="JSON records: use this field as the key, as JSON ({\"field\": value})")
    co = sub.add_parser("consume", help="print a topic's records from the beginning, until none arrives for "
                                        "--idle-timeout seconds")
    co.add_argument("topic")
    co.add_argument("--keys", action="store_true", help="print 'key<TAB>value' (a deleted key's value is NULL)")
    co.add_argument("--max-messages", type=int, default=None)
    co.add_argument("--idle-timeout", type=float, default=2.0, help="seconds (default 2)")
    a = p.parse_args(argv)
    try:
        return {"topics": _topics, "create": _create, "produce": _produce, "consume": _consume}[a.command](a)
    except KafkaToolError as e:
        sys.stderr.write(f"ERROR: {e}\n")
        return 1


class KafkaToolError(Exception):
    pass


def _admin(a):
    from confluent_kafka.admin import AdminClient
    admin = AdminClient({"bootstrap.servers": a.bootstrap_servers, "log_level": 0})
    try:
        admin.list_topics(timeout=10)
    except Exception:
        raise KafkaToolError(f"no Kafka broker answers at {a.bootstrap_servers}") from None
    return admin


def _partitions(admin, topic: str) -> int | None:
    md = admin.list_topics(timeout=10).topics.get(topic)  # asking for the one topic may auto-create it
    if md is None or md.error is not None:
        return None
    return len(md.partitions)


def _topics(a) -> int:
    md = _admin(a).list_topics(timeout=10)
    for name in sorted(md.topics):
        if not name.startswith("__"):
            print(f"{name}\t{len(md.topics[name].partitions)} partition(s)")
    return 0


def _create(a) -> int:
    from confluent_kafka.admin import NewTopic
    admin = _admin(a)
    existing = _partitions(admin, a.topic)
    if existing is not None:
        if existing != a.partitions:
            raise KafkaToolError(f"topic '{a.topic}' exists with {existing} partition(s), not {a.partitions}")
        sys.stderr.write(f"topic '{a.topic}' already exists ({existing} partition(s))\n")
        return 0
    for future in admin.create_topics([NewTopic(a.topic, num_partitions=a.partitions,
                                                replication_factor=1)]).values():
        try:
            future.result()
        except Exception as e:
            raise KafkaToolError(f"cannot create topic '{a.topic}': {e}") from None
    sys.stderr.write(f"created topic '{a.topic}' with {a.partitions} partition(s)\n")
    return 0


def _produce(a) -> int:
    from confluent_kafka import Producer
    admin = _admin(a)
    partitions = _partitions(admin, a.topic)
    if partitions is None:
        raise KafkaToolError(f"topic '{a.topic}' does not exist: `sqlstream kafka create {a.topic} --partitions N`")
    try:
        source = sys.stdin if a.file in (None, "-") else open(a.file, encoding="utf-8")
    except OSError as e:
        raise KafkaToolError(f"cannot read '{a.file}': {e.strerror}") from None
    # one record per request: some Kafka-compatible brokers miscount offsets of multi-record batches
    producer = Producer({"bootstrap.servers": a.bootstrap_servers, "batch.num.messages": 1, "linger.ms": 0,
                         "log_level": 0})
    failures: list[str] = []

    def delivered(err, msg):
        if err is not None:
            failures.append(str(err))
    n = 0
    with source:
        for line in source:
            line = line.rstrip("\n")
            if not line:
                continue
            key = None
            if a.key_field is not None:
                try:
                    key = json.dumps({a.key_field: json.loads(line)[a.key_field]}).encode()
                except (ValueError, KeyError, TypeError):
                    raise KafkaToolError(f"line {n + 1} is not a JSON object with field '{a.key_field}'") from None
            partition = a.partition if a.partition is not None else (None if key else n % partitions)
            kwargs = {} if partition is None else {"partition": partition}
            producer.produce(a.topic, value=line.encode(), key=key, on_delivery=delivered, **kwargs)
            producer.poll(0)
            n += 1
    left = producer.flush(30)
    if failures or left:
        raise KafkaToolError(f"{len(failures) + left} of {n} records were not delivered to '{a.topic}'"
                             + (f": {failures[0]}" if failures else ""))
    sys.stderr.write(f"produced {n} record(s) to '{a.topic}'\n")
    return 0


def _consume(a) -> int:
    from confluent_kafka import Consumer, TopicPartition
    admin = _admin(a)
    partitions = _partitions(admin, a.topic)
    if partitions is None:
        raise KafkaToolError(f"topic '{a.topic}' does not exist")
    consumer = Consumer({"bootstrap.servers": a.bootstrap_servers, "group.id": "sqlstream-kafka-consume",
                         "enable.auto.commit": False, "log_level": 0})
    assigned = [TopicPartition(a.topic, p, 0) for p in range(partitions)]
    if all(lo >= hi for lo, hi in (consumer.get_watermark_offsets(tp, timeout=10) for tp in assigned)):
        consumer.close()
        return 0  # an empty topic
    consumer.assign(assigned)
    n, last = 0, time.monotonic() + 10  # the first records may take a moment: connecting, fetching
    try:
        while time.monotonic() - last < a.idle_timeout:
            for m in consumer.consume(100, timeout=0.1):
                if m.error() is not None:
                    continue
                value = "NULL" if m.value() is None else m.value().decode("utf-8", "replace")
                key = "NULL" if m.key() is None else m.key().decode("utf-8", "replace")
                sys.stdout.write(f"{key}\t{value}\n" if a.keys else value + "\n")
                n += 1
                last = time.monotonic()
                if a.max_messages is not None and n >= a.max_messages:
                    return 0
            sys.stdout.flush()
    finally:
        sys.stdout.flush()
        consumer.close()
    return 0
