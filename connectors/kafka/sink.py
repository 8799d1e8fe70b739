"""The kafka and upsert-kafka sinks: changelog batches become Kafka messages.

Rows are first encoded column-wise into a table of messages (key, value, partition, timestamp, headers); with
'none' or 'at-least-once' it is produced at once (at-least-once flushes at every checkpoint), with
'exactly-once' it is staged and produced in one transaction per checkpoint (see transactions.py).
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.connectors.base import Sink, SinkWriter, TableSchema
from sqlstream.connectors.formats import avro as avro_format
from sqlstream.connectors.formats import csv as csv_format
from sqlstream.connectors.formats import json as json_format
from sqlstream.connectors.kafka import clients
from sqlstream.connectors.kafka.clients import BrokerHealth
from sqlstream.connectors.kafka.config import KafkaConfig, confluent, value_columns
from sqlstream.connectors.kafka.produce import MESSAGES, DELIVERY_TIMEOUT_MS, delivery_timeout_ms, produce_messages, producer_defaults
from sqlstream.connectors.kafka.transactions import TransactionalProducer, transactional_id
from sqlstream.core.errors import ConnectorError, OptionError
from sqlstream.core.types import FlinkType

class KafkaSinkWriter(SinkWriter):
    def __init__(self, cfg: KafkaConfig, schema: TableSchema, job: str):
        self.cfg, self.schema = cfg, schema
        self.topic = cfg.topics[0] if cfg.topics else None
        if self.topic is None or len(cfg.topics) != 1:
            raise OptionError(f"Table '{cfg.table}': a kafka sink needs exactly one 'topic'")
        names = [n for n in schema.names if n not in schema.metadata]
        types = dict(zip(schema.names, schema.types))
        self.value_names = value_columns(cfg, names) if cfg.key_format else names
        self.value_types = [types[n] for n in self.value_names]
        self.key_types = [types[k] for k in cfg.key_fields]
        self.partitions = None
        self.rr = 0
        self.errors: list[str] = []
        self.failed = 0
        self.exactly_once = cfg.delivery == "exactly-once"
        self.staged: list[pa.Table] = []
        self.health = BrokerHealth(f"Kafka sink '{cfg.table}'", cfg.client["bootstrap.servers"])
        if self.exactly_once:
            self.transactions = TransactionalProducer(cfg, self.topic, transactional_id(cfg), self.health)
        else:
            self.producer = clients.producer(cfg, self.health, producer_defaults(cfg), on_delivery=self._delivered,
                                             **{"delivery.report.only.error": True})

    # ---- encoding -------------------------------------------------------------------------------
    def _encode(self, fmt: str, batch: pa.RecordBatch, names: list[str], types: list[FlinkType],
                out_names: list[str]) -> pa.Array:
        cols = pa.RecordBatch.from_arrays([batch.column(batch.schema.get_field_index(n)) for n in names],
                                          names=out_names)
        if fmt == "json":
            out = json_format.encode_json_lines(cols, out_names, types)
        elif fmt == "csv":
            out = csv_format.encode_csv_lines(cols, out_names)
        elif fmt == "avro":
            out = avro_format.encode_avro(cols, out_names, types)
        elif fmt == "raw":
            out = cols.column(0)
        else:
            raise OptionError(f"format {fmt} cannot be written yet")
        return out.cast(pa.binary()) if out.type != pa.binary() else out

    def messages(self, batch: pa.RecordBatch) -> pa.Table:
        """The Kafka messages of a changelog batch: -U is dropped (an upsert sink needs only the new value),
        -D is a tombstone for upsert-kafka."""
        ops = batch.column(0)
        data = pa.RecordBatch.from_arrays(batch.columns[1:], names=batch.schema.names[1:])
        if (pc.sum(pc.not_equal(ops, 0)).as_py() or 0) > 0:
            keep = pc.not_equal(ops, 1) if self.cfg.upsert else pc.equal(ops, 0)
            data, ops = data.filter(keep), ops.filter(keep)
        n = data.num_rows
        values = self._encode(self.cfg.value_format, data, self.value_names, self.value_types, self.value_names)
        if self.cfg.upsert:
            values = pc.if_else(pc.equal(ops, 3), pa.scalar(None, pa.binary()), values)
        keys = pa.nulls(n, pa.binary())
        if self.cfg.key_format:
            knames = [k[len(self.cfg.key_prefix):] if k.startswith(self.cfg.key_prefix) else k
                      for k in self.cfg.key_fields]
            keys = self._encode(self.cfg.key_format, data, self.cfg.key_fields, self.key_types, knames)
        meta = {k: c for c, k in self.schema.metadata.items()}
        stamps = pa.nulls(n, pa.int64())
        if "timestamp" in meta:
            col = data.column(data.schema.get_field_index(meta["timestamp"]))
            stamps = pc.cast(pc.cast(col, pa.timestamp("ms", tz="UTC")), pa.int64())
        headers = pa.nulls(n, MESSAGES.field("headers").type)
        if "headers" in meta:
            headers = data.column(data.schema.get_field_index(meta["headers"])).cast(headers.type)
        parts = self._partitions_for(n)
        return pa.Table.from_arrays([keys, values, parts, stamps, headers], schema=MESSAGES)

    def _partitions_for(self, n: int) -> pa.Array:
        if self.cfg.partitioner == "default":
            return pa.nulls(n, pa.int32())
        if self.partitions is None:
            try:
                md = self.transactions.metadata() if self.exactly_once else self.producer.list_topics(self.topic, 10)
            except confluent().KafkaException as e:
                raise ConnectorError(f"Kafka sink '{self.cfg.table}': cannot read the partitions of topic "
                                     f"'{self.topic}' within 10 s: {self.health.cause(str(e))}") from None
            self.partitions = len(md.topics[self.topic].partitions)
        if self.cfg.partitioner == "fixed":
            return pa.array(np.zeros(n, dtype=np.int32))
        out = (self.rr + np.arange(n)) % self.partitions
        self.rr = (self.rr + n) % self.partitions
        return pa.array(out.astype(np.int32))

    # ---- writing --------------------------------------------------------------------------------
    def write(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows == 0:
            return
        messages = self.messages(batch)
        if self.exactly_once:
            self.staged.append(messages)
            return
        produce_messages(self.producer, self.topic, messages)
        self._raise()

    def _delivered(self, err, msg) -> None:
        if err is None:
            return
        self.failed += 1
        if not self.errors:
            self.errors.append(undelivered(self.cfg, self.health, err, msg.topic()))

    def _raise(self) -> None:
        if self.errors:
            more = f" ({self.failed} messages not delivered)" if self.failed > 1 else ""
            raise ConnectorError(self.errors[0] + more)

    def outage(self) -> str | None:
        """Serves the producer's events: a failed delivery fails the job now, not at the next write; while
        the broker is unreachable, says what the sink waits for."""
        if self.exactly_once:
            return self.transactions.outage()
        if self.producer is None:
            return None
        self.producer.poll(0)
        self._raise()
        return self.health.status()

    def prepare_commit(self, checkpoint_id: int):
        """at-least-once: everything written so far is acknowledged before the checkpoint completes;
        exactly-once: the staged messages become part of the checkpoint, to be produced after it is durable."""
        if self.exactly_once:
            staged = pa.concat_tables(self.staged) if self.staged else MESSAGES.empty_table()
            self.staged = []
            return self.transactions.committable(staged, checkpoint_id) if staged.num_rows else None
        if self.cfg.delivery != "none":
            self.producer.flush()
            self._raise()
        return None

    def commit(self, committable) -> None:
        if self.exactly_once and committable:
            self.transactions.commit(committable)

    def close(self) -> None:
        if self.exactly_once:
            self.commit(self.prepare_commit(-1))
            self.transactions.close()
            return
        if self.producer is None:
            return
        try:
            self.producer.flush()
        finally:
            self.producer = None  # its delivery callback refers back to this writer: release both now
        self._raise()

    def cancel(self) -> None:
        if self.exactly_once:
            self.staged = []
            self.transactions.close()
        elif self.errors and self.producer is not None:  # failed: drop what waits for the broker
            self.producer.purge()
            self.producer = None
        else:
            self.close()


def undelivered(cfg: KafkaConfig, health: BrokerHealth, err, topic: str) -> str:
    """Why a message was not delivered, with what to do about it."""
    if err.name() == "_MSG_TIMED_OUT":
        timeout = delivery_timeout_ms(cfg)
        setting = (f"'properties.delivery.timeout.ms' = {timeout} ms" if timeout is not None else
                   "the delivery timeout" if cfg.delivery == "exactly-once" else
                   f"'properties.delivery.timeout.ms' (default {DELIVERY_TIMEOUT_MS} ms)")
        reason = f": {health.cause()}" if health.last_error else ""
        return (f"Kafka sink '{cfg.table}': messages to topic '{topic}' not delivered within {setting}{reason}. "
                f"The job can be restarted from its last checkpoint")
    return f"Kafka sink '{cfg.table}' failed to deliver messages to topic '{topic}': {err.str()}"


class KafkaSink(Sink):
    def __init__(self, cfg: KafkaConfig, schema: TableSchema):
        self.cfg, self.schema = cfg, schema
        self.accepts_updates = cfg.upsert
        self.needs_checkpoints = cfg.delivery == "exactly-once"

    def writer(self, job: str = "job") -> SinkWriter:
        return KafkaSinkWriter(self.cfg, self.schema, job)

    def recover(self, job: str, committables) -> None:
        """exactly-once: abort what a crashed attempt left open and produce the restored checkpoint's messages
        unless its transaction already committed."""
        if self.cfg.delivery != "exactly-once":
            return
        tp = TransactionalProducer(self.cfg, self.cfg.topics[0], transactional_id(self.cfg))
        try:
            tp.recover(committables or None)
        finally:
            tp.close()
