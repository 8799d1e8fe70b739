"""Exactly-once delivery into Kafka: one transaction per checkpoint, produced after the checkpoint is durable.

The messages of a checkpoint interval are staged and written into the checkpoint itself (write-ahead), so a
transaction never has to be resumed by another process: after a crash the restored job produces them again.
Every transaction also commits a marker, the offset of the consumer group named after the transactional id
(offset = a number unique to that checkpoint's transaction: microseconds since the epoch when it was
staged), atomically with the messages. Recovery reads the
marker to tell "committed before the crash" (skip) from "not committed" (produce again), and starting the
transactional producer fences the crashed attempt and aborts its open transaction.
"""
from __future__ import annotations

import time

import pyarrow as pa

from sqlstream.connectors.kafka import clients
from sqlstream.connectors.kafka.clients import BrokerHealth
from sqlstream.connectors.kafka.config import KafkaConfig, confluent
from sqlstream.connectors.kafka.produce import produce_messages, producer_defaults
from sqlstream.core.errors import ConnectorError, OptionError

TIMEOUT_S = 30


def transactional_id(cfg: KafkaConfig) -> str:
    """Stable across restarts of the job (Flink's prefix contract: unique per sink of an application)."""
    if not cfg.txn_prefix:
        raise OptionError(f"Table '{cfg.table}': 'sink.delivery-guarantee' = 'exactly-once' requires "
                          f"'sink.transactional-id-prefix' (a prefix unique to this sink, stable across restarts)")
    return f"{cfg.txn_prefix}-{cfg.table}"


class TransactionalProducer:
    """A transactional producer for one sink, started lazily (starting it fences any earlier one)."""

    def __init__(self, cfg: KafkaConfig, topic: str, txn_id: str, health: BrokerHealth | None = None):
        self.cfg, self.topic, self.txn_id = cfg, topic, txn_id
        self.health = health or BrokerHealth(f"Kafka sink '{cfg.table}'", cfg.client["bootstrap.servers"])
        self.last_marker = 0
        self._producer = None
        self._marker_reader = None
        self.errors: list[str] = []

    @property
    def producer(self):
        if self._producer is None:
            ck = confluent()
            p = clients.producer(self.cfg, self.health, producer_defaults(self.cfg, transactional=True),
                                 on_delivery=self._delivered,
                                 **{"delivery.report.only.error": True, "transactional.id": self.txn_id})
            deadline = time.monotonic() + TIMEOUT_S
            while True:  # in short waits, serving the client's errors: a failed login will not heal
                try:
                    p.init_transactions(1)
                    break
                except ck.KafkaException as e:
                    p.poll(0)
                    if (not e.args[0].retriable() or self.health.last_code == "_AUTHENTICATION" or
                            time.monotonic() > deadline):
                        raise ConnectorError(f"Kafka sink '{self.cfg.table}': cannot start transactions as "
                                             f"'{self.txn_id}': {self.health.cause(e.args[0].str())}") from None
            self._producer = p
        return self._producer

    @property
    def marker_reader(self):
        """A consumer that never subscribes: it carries the marker group's metadata and reads its offset."""
        if self._marker_reader is None:
            self._marker_reader = clients.consumer(self.cfg, self.health,
                                                   **{"group.id": self.txn_id, "enable.auto.commit": False})
        return self._marker_reader

    def metadata(self):
        return self.producer.list_topics(self.topic, timeout=10)

    def _delivered(self, err, msg) -> None:
        if err is not None:
            self.errors.append(str(err))

    def committable(self, messages: pa.Table, checkpoint_id: int) -> dict:
        """What a checkpoint stores for this sink: the staged messages and the marker their transaction sets."""
        self.last_marker = max(self.last_marker + 1, time.time_ns() // 1000)
        return {"transactional_id": self.txn_id, "checkpoint": checkpoint_id, "marker": self.last_marker,
                "messages": messages}

    def commit(self, committable: dict) -> None:
        """Produce the messages and the marker in one transaction and commit it."""
        ck = confluent()
        p = self.producer
        try:
            p.begin_transaction()
            produce_messages(p, self.topic, committable["messages"])
            if committable["checkpoint"] >= 0:
                marker = ck.TopicPartition(self.topic, 0, committable["marker"])
                p.send_offsets_to_transaction([marker], self.marker_reader.consumer_group_metadata(), TIMEOUT_S)
            p.commit_transaction(TIMEOUT_S)
        except ck.KafkaException as e:
            raise ConnectorError(f"Kafka sink '{self.cfg.table}': transaction of checkpoint "
                                 f"{committable['checkpoint']} failed: {e}") from None
        if self.errors:
            raise ConnectorError(f"Kafka sink '{self.cfg.table}' failed to deliver messages: {self.errors[0]}")

    def committed_marker(self) -> int:
        """The marker of the last committed transaction; -1 if there was none."""
        ck = confluent()
        tp = self.marker_reader.committed([ck.TopicPartition(self.topic, 0)], timeout=TIMEOUT_S)[0]
        return tp.offset if tp.offset >= 0 else -1

    def recover(self, committable: dict | None) -> bool:
        """Abort a crashed attempt's transaction, then commit the restored checkpoint's messages unless the
        marker shows they already were. True if they were produced now."""
        self.producer  # noqa: B018 - starting the producer aborts the open transaction of the crashed attempt
        if not committable:
            return False
        if self.committed_marker() == committable["marker"]:
            return False
        self.commit(committable)
        return True

    def outage(self) -> str | None:
        if self._producer is not None:
            self._producer.poll(0)
        return self.health.status()

    def close(self) -> None:
        if self._producer is not None:
            self._producer.flush(TIMEOUT_S)
            self._producer = None  # its delivery callback refers back to this object: release both now
        if self._marker_reader is not None:
            self._marker_reader.close()
            self._marker_reader = None
