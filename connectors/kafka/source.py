"""The kafka source: partitions are splits read with `assign` (no consumer-group rebalancing), positions are
offsets, and each poll is decoded into one Arrow batch. A partition is fetched by fetch.py's own Fetch requests
where the table's client settings allow (a plaintext broker, no setting that path would ignore, no headers
column), else, or once that path cannot go on, by confluent-kafka's consumer from the same offset. A malformed message fails the job naming topic,
partition and offset, or is handled by the format's ignore-parse-errors policy."""
from __future__ import annotations

import bisect
import logging
import re
import time
import uuid

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.connectors.base import Source, SplitReader, TableSchema, rows_batch
from sqlstream.connectors.formats import avro as avro_format
from sqlstream.connectors.formats import csv as csv_format
from sqlstream.connectors.kafka import clients, fetch
from sqlstream.connectors.kafka.clients import BrokerHealth
from sqlstream.connectors.kafka.codecs import decoder
from sqlstream.connectors.utf8 import as_text
from sqlstream.connectors.kafka.config import KafkaConfig, METADATA, confluent, value_columns
from sqlstream.connectors.kafka.fetch import PartitionFetcher, Records, Unsupported
from sqlstream.core.errors import ConnectorError, FormatError, OptionError


METADATA_TIMEOUT_S = 10  # how long starting a reader waits for the broker's topic list and offsets
WAIT_S = 0.005  # how long an empty poll waits for a message; an unbounded poll never waits for a full batch
FILL_SLICE_S = 0.05  # a bounded poll's wait between checks of where its consumer is
FILL_WAIT_S = 10.0  # how long a bounded poll waits for the next message of a batch the partition is known to hold
# Flink's Kafka source leaves 'isolation.level' to the Java consumer, whose default is read_uncommitted (the connector
# sets it nowhere); librdkafka's is read_committed, so this source's consumers and fetches are given Flink's
ISOLATION_LEVEL = "read_uncommitted"
RAW_FETCH = True  # read partitions with our own Fetch requests where the table's settings allow (fetch.py)
LOG = logging.getLogger("sqlstream.kafka")


class KafkaSplitReader(SplitReader):
    """One partition: polls a batch of messages and decodes it at once; position = next offset to read."""

    paced = True

    def __init__(self, cfg: KafkaConfig, schema: TableSchema, topic: str, partition: int, start: int,
                 stop: int | None, key_decoder, value_decoder, value_names: list[str], health: BrokerHealth):
        ck = confluent()
        self.cfg, self.schema, self.topic, self.partition = cfg, schema, topic, partition
        self.key_decoder, self.value_decoder, self.value_names = key_decoder, value_decoder, value_names
        self.health = health
        self.consumer = clients.consumer(cfg, health, {
            "group.id": f"sqlstream-{uuid.uuid4().hex[:8]}", "fetch.wait.max.ms": 20,
            "queued.min.messages": 100000, "fetch.max.bytes": 64 << 20, "max.partition.fetch.bytes": 16 << 20,
            "isolation.level": ISOLATION_LEVEL},
            **{"enable.auto.commit": False, "enable.partition.eof": False})
        self.next_offset = start
        self.stop = stop
        self.buffered: Records | None = None  # records fetched past the last poll's batch
        self.fetcher = self._fetcher(start) if RAW_FETCH and fetch.eligible(cfg.client) and \
            "headers" not in {k for c, k in schema.metadata.items() if c in schema.names} else None
        if self.fetcher is None:
            self.consumer.assign([ck.TopicPartition(topic, partition, start)])
        self.finished = stop is not None and start >= stop
        self.rows = 0

    def _fetcher(self, start: int) -> PartitionFetcher | None:
        """Our own fetch from the partition's leader (found by the consumer), or None to read with the consumer."""
        try:
            md = self.consumer.list_topics(self.topic, timeout=METADATA_TIMEOUT_S)
            leader = md.brokers[md.topics[self.topic].partitions[self.partition].leader]
            committed = self.cfg.client.get("isolation.level", ISOLATION_LEVEL) == "read_committed"
            return PartitionFetcher(leader.host, leader.port, self.topic, self.partition, start, committed)
        except Exception as e:  # no metadata, no leader, no connection: the consumer reports what is wrong
            LOG.debug(f"topic '{self.topic}' partition {self.partition}: read with the Kafka client ({e})")
            return None

    def _fall_back(self, why: Exception) -> None:
        """Reads on with the consumer from the position (what was fetched past it is dropped)."""
        LOG.info(f"topic '{self.topic}' partition {self.partition}: reading on with the Kafka client from offset "
                 f"{self.next_offset} ({why})")
        self.fetcher.close()
        self.fetcher, self.buffered = None, None
        self.consumer.assign([confluent().TopicPartition(self.topic, self.partition, self.next_offset)])

    def poll(self, max_rows: int) -> pa.RecordBatch | None:
        if self.finished:
            return None
        if self.fetcher is not None:
            try:
                return self._poll_fetched(max_rows)
            except Unsupported as e:
                self._fall_back(e)
        limit = max_rows
        if self.stop is not None:
            limit = min(limit, self.stop - self.next_offset)
        msgs = self.consumer.consume(num_messages=max(1, limit), timeout=0)
        if not msgs and self.stop is None:  # wait briefly for the first message only, then take what has queued
            msgs = self.consumer.consume(num_messages=1, timeout=WAIT_S)
            if msgs and limit > 1:
                msgs += self.consumer.consume(num_messages=limit - 1, timeout=0)
        msg = confluent().Message
        if any(map(msg.error, msgs)):
            msgs = [m for m in msgs if m.error() is None]
        if self.stop is not None:
            msgs = self._fill(msgs, limit)
        if not msgs:
            if self.stop is not None and self._consumed_to() >= self.stop:
                self.finished = True  # the offsets left were a transaction's markers: no message to read
            return None
        if self.health.down_since is not None:
            self.health.up()
        if self.stop is not None and msgs[-1].offset() >= self.stop:  # offsets rise: only a batch's tail is past
            msgs = msgs[:bisect.bisect_left(msgs, self.stop, key=msg.offset)]
        if not msgs:
            self.finished = True
            return None
        batch = self._decode(msgs)
        self.next_offset = msgs[-1].offset() + 1
        if self.stop is not None and self.next_offset >= self.stop:
            self.finished = True
        self.rows += len(msgs)
        return batch

    def _poll_fetched(self, max_rows: int) -> pa.RecordBatch | None:
        """poll() with our own fetches: the same batches as the consumer's (see `_fill` for a bounded one)."""
        self.consumer.poll(0)  # serves the idle consumer's events (errors, statistics), which would pile up
        limit = max_rows if self.stop is None else min(max_rows, self.stop - self.next_offset)
        parts = [self.buffered] if self.buffered is not None else []
        have = len(self.buffered) if self.buffered is not None else 0
        if self.stop is None:
            if not have:
                got = self.fetcher.fetch(int(WAIT_S * 1000))
                parts += [got] if got is not None else []
        else:
            deadline = time.monotonic() + FILL_WAIT_S
            while have < limit and self.fetcher.position < self.stop:
                got = self.fetcher.fetch(int(FILL_SLICE_S * 1000))
                if got is not None:
                    parts.append(got)
                    have += len(got)
                    deadline = time.monotonic() + FILL_WAIT_S
                elif time.monotonic() > deadline:
                    break
        if not parts:
            if self.stop is not None and self.fetcher.position >= self.stop:
                self.finished = True  # the offsets left were a transaction's markers: no message to read
            return None
        recs = Records.concat(parts)
        take = min(limit, len(recs))
        if self.stop is not None:
            take = min(take, int(np.searchsorted(recs.offsets, self.stop)))
        self.buffered = recs.slice(take) if take < len(recs) else None
        if self.health.down_since is not None:
            self.health.up()
        if take == 0:
            self.finished = True
            return None
        recs = recs.slice(0, take)
        batch = self._decode(recs)
        self.next_offset = int(recs.offsets[-1]) + 1
        if self.stop is not None and self.next_offset >= self.stop:
            self.finished = True
        self.rows += take
        return batch

    def _consumed_to(self) -> int:
        """The consumer's position in the partition (past control records, which are never delivered)."""
        try:
            at = self.consumer.position([confluent().TopicPartition(self.topic, self.partition)])[0].offset
        except Exception:  # the consumer knows no position yet
            return -1
        return at

    def _fill(self, msgs: list, limit: int) -> list:
        """`msgs`: the messages polled (no errors). A bounded partition holds its messages up to the stop offset
        already: the batch takes `limit` of them
        (or up to the stop), whenever they arrive, so how a round reads the partitions does not depend on fetch
        timing (parallelism 1 and divided among source subtasks read the same rows per round). The batch ends early
        where the consumer is past the stop (the offsets left were a transaction's markers) or no message came
        for FILL_WAIT_S (a broker outage)."""
        msg = confluent().Message
        deadline = time.monotonic() + FILL_WAIT_S
        while len(msgs) < limit and (msgs[-1].offset() + 1 if msgs else self.next_offset) < self.stop:
            more = self.consumer.consume(num_messages=limit - len(msgs), timeout=FILL_SLICE_S)
            if any(map(msg.error, more)):
                more = [m for m in more if m.error() is None]
            if more:
                msgs += more
                deadline = time.monotonic() + FILL_WAIT_S
            elif self._consumed_to() >= self.stop or self.health.down_since is not None or \
                    time.monotonic() > deadline:
                break  # past the stop (the rest were a transaction's markers), or the broker is not serving
        return msgs

    def _decode(self, msgs, decoded_values: pa.RecordBatch | None = None) -> pa.RecordBatch:
        def where(i: int) -> str:
            return f"topic '{self.topic}' partition {self.partition} offset {_offset(msgs, i)}"
        values = message_values(msgs)
        n = len(msgs)
        ops = None
        tombstone = values.is_null().to_numpy(zero_copy_only=False) if values.null_count else np.zeros(n, bool)
        if values.null_count and not self.cfg.upsert and self.value_decoder is not None and \
                not getattr(self.value_decoder, "null_message_is_row", False):
            # as Flink's json, csv, avro and debezium-json formats: a message without a value is no row
            return self._decode(_keep(msgs, ~tombstone))
        vals_arr = pc.fill_null(values, b"") if values.null_count else values
        docs = vals_arr if getattr(self.value_decoder, "binary_input", False) else as_text(vals_arr)
        cols: dict[str, pa.Array] = {}
        if self.value_decoder is not None:
            live = ~tombstone
            sub = docs.filter(pa.array(live)) if tombstone.any() else docs
            live_idx = np.flatnonzero(live)
            decoded = decoded_values if decoded_values is not None else \
                self.value_decoder.decode(sub, lambda i: where(int(live_idx[i])))
            if getattr(self.value_decoder, "changelog", False):
                ops = decoded.column(0)
                for j, name in enumerate(self.value_names):
                    cols[name] = decoded.column(j + 1)
                n = decoded.num_rows
            else:
                if decoded.num_rows != len(sub):
                    kept = getattr(self.value_decoder, "last_kept", None)
                    if kept is None:
                        raise FormatError("a message could not be decoded", where(0))
                    keep = np.ones(len(msgs), bool)
                    keep[live_idx[~kept]] = False
                    return self._decode(_keep(msgs, keep), decoded_values=decoded)
                for j, name in enumerate(self.value_names):
                    col = decoded.column(j)
                    if tombstone.any():
                        full = pa.nulls(len(msgs), col.type)
                        col = pc.if_else(pa.array(live), _scatter(col, live_idx, len(msgs)), full)
                    cols[name] = col
        if self.key_decoder is not None:
            keys = message_values(msgs, key=True)
            keys = pc.fill_null(keys, b"") if keys.null_count else keys
            kdocs = keys if getattr(self.key_decoder, "binary_input", False) else as_text(keys)
            kdec = self.key_decoder.decode(kdocs, where)
            for j, name in enumerate(self.cfg.key_fields):
                cols[name] = kdec.column(j)
        if self.cfg.upsert:
            ops = pa.array(np.where(tombstone, 3, 2).astype(np.int8))
        wanted = set(self.schema.names)
        for col, key in self.schema.metadata.items():
            if col in wanted:
                cols[col] = self._metadata(key, msgs)
        out = [cols[name] if name in cols else pa.nulls(n, t.to_arrow())
               for name, t in zip(self.schema.names, self.schema.types)]
        out = [c.cast(t.to_arrow()) if c.type != t.to_arrow() else c for c, t in zip(out, self.schema.types)]
        if ops is not None:
            return pa.RecordBatch.from_arrays([ops] + out, names=["_op"] + self.schema.names)
        return rows_batch(out, self.schema.names, n)

    def _metadata(self, key: str, msgs) -> pa.Array:
        if isinstance(msgs, Records) and key != "headers":
            return _records_metadata(key, msgs, self.topic, self.partition)
        msg = confluent().Message
        if key == "topic":  # a reader reads one partition of one topic
            return pa.repeat(pa.scalar(self.topic, pa.string()), len(msgs))
        if key == "partition":
            return pa.repeat(pa.scalar(self.partition, pa.int32()), len(msgs))
        if key == "offset":
            return pa.array(np.fromiter(map(msg.offset, msgs), np.int64, len(msgs)))
        if key == "timestamp":
            return pa.array([t for _, t in map(msg.timestamp, msgs)], pa.int64()).cast(pa.timestamp("ms", tz="UTC"))
        if key == "timestamp-type":
            return pa.array([TIMESTAMP_TYPES.get(k, "NoTimestampType") for k, _ in map(msg.timestamp, msgs)],
                            pa.string())
        if key == "headers":
            return pa.array([list(m.headers() or []) for m in msgs], pa.map_(pa.string(), pa.binary()))
        if key == "leader-epoch":
            return pa.array([m.leader_epoch() if hasattr(m, "leader_epoch") else None for m in msgs], pa.int32())
        raise OptionError(f"Unknown kafka metadata key '{key}'; available: {', '.join(METADATA)}")

    def position(self):
        return self.next_offset

    def pending_records(self) -> int | None:
        """Messages between the position and the partition's end (the broker's high watermark, or the bounded
        stop offset): the consumer lag. Read from the consumer's cache, never from the broker (None before the
        first fetch told it)."""
        if self.finished:
            return 0
        if self.fetcher is not None:
            high = self.fetcher.high_watermark
        else:
            try:
                _, high = self.consumer.get_watermark_offsets(
                    confluent().TopicPartition(self.topic, self.partition), cached=True)
            except Exception:  # the consumer knows no offsets yet
                return None
        if high is None or high < 0:
            return None
        end = high if self.stop is None else min(high, self.stop)
        return max(0, end - self.next_offset)

    def outage(self) -> str | None:
        """What the reader waits for while its broker is unreachable (it keeps retrying); None when reading."""
        return self.health.status()

    def close(self) -> None:
        if self.fetcher is not None:
            self.fetcher.close()
        try:
            self.consumer.close()
        except Exception:
            pass

    def metrics(self) -> dict:
        skipped = getattr(self.value_decoder, "skipped", 0) + (getattr(self.key_decoder, "skipped", 0)
                                                               if self.key_decoder is not None else 0)
        return {"records_skipped": skipped}


TIMESTAMP_TYPES = {0: "NoTimestampType", 1: "CreateTime", 2: "LogAppendTime"}


def message_values(msgs, key: bool = False) -> pa.Array:
    """The messages' values (or keys) as one binary array, NULL for none: for the client's messages one call into
    the client per message, none of them made from Python bytecode."""
    if isinstance(msgs, Records):
        return msgs.keys if key else msgs.values
    msg = confluent().Message
    return pa.array(list(map(msg.key if key else msg.value, msgs)), pa.binary())


def _offset(msgs, i: int) -> int:
    return int(msgs.offsets[i]) if isinstance(msgs, Records) else msgs[i].offset()


def _keep(msgs, mask: np.ndarray):
    """The messages (client's, or Records) where `mask` holds."""
    return msgs.filter(mask) if isinstance(msgs, Records) else [m for m, k in zip(msgs, mask) if k]


def _records_metadata(key: str, recs: Records, topic: str, partition: int) -> pa.Array:
    """A metadata column of fetched records, as the client's messages give it (`KafkaSplitReader._metadata`)."""
    n = len(recs)
    if key == "topic":
        return pa.repeat(pa.scalar(topic, pa.string()), n)
    if key == "partition":
        return pa.repeat(pa.scalar(partition, pa.int32()), n)
    if key == "offset":
        return pa.array(recs.offsets)
    if key == "timestamp":
        return pa.array(recs.timestamps).cast(pa.timestamp("ms", tz="UTC"))
    if key == "timestamp-type":
        names = np.array([TIMESTAMP_TYPES[0], TIMESTAMP_TYPES[1], TIMESTAMP_TYPES[2]], object)
        return pa.array(names[recs.ts_types], pa.string())
    if key == "leader-epoch":
        return pa.array(recs.epochs, pa.int32(), mask=recs.epochs < 0)
    raise OptionError(f"Unknown kafka metadata key '{key}'; available: {', '.join(METADATA)}")


def _scatter(col: pa.Array, idx: np.ndarray, n: int) -> pa.Array:
    pos = np.full(n, 0, dtype=np.int64)
    pos[idx] = np.arange(len(idx))
    return col.take(pa.array(pos)) if len(col) else pa.nulls(n, col.type)


class KafkaSource(Source):
    partitioned = True
    reader_modules = ("confluent_kafka",)

    def __init__(self, cfg: KafkaConfig, schema: TableSchema):
        self.cfg, self.schema = cfg, schema
        self.bounded = cfg.bounded != "unbounded"
        declared = dict(zip(schema.all_names, schema.all_types))
        types = {**declared, **dict(zip(schema.names, schema.types))}  # a ROW read may be narrowed to fields read
        all_physical = [n for n in schema.all_names if n not in schema.metadata]
        projected = [n for n in schema.names if n not in schema.metadata]
        value_full = value_columns(cfg, all_physical) if cfg.key_format else all_physical
        self.key_decoder = None
        if cfg.key_format:
            knames = [k[len(cfg.key_prefix):] if k.startswith(cfg.key_prefix) else k for k in cfg.key_fields]
            self.key_decoder = decoder(cfg.key_format, cfg, knames, [types[k] for k in cfg.key_fields], "key.")
        prefix = "value." if cfg.key_format else ""
        keyed = set(cfg.key_fields) if cfg.key_format else set()
        if cfg.value_format == "csv":
            wanted = [n for n in value_full if n in projected and n not in keyed]
            vs = TableSchema(wanted, [types[n] for n in wanted], physical_names=value_full,
                             physical_types=[types[n] for n in value_full])
            self.value_names = wanted
            self.value_decoder = csv_format.CsvDecoder.from_options(cfg.opts, vs, prefix + "csv.")
        elif cfg.value_format == "avro":  # a datum holds every value column, read or not
            self.value_names = [n for n in value_full if n in projected and n not in keyed]
            full = TableSchema(value_full, [types[n] for n in value_full])
            self.value_decoder = avro_format.AvroDecoder.from_options(
                cfg.opts, TableSchema(self.value_names, [types[n] for n in self.value_names]), prefix + "avro.",
                full)
        else:
            self.value_names = [n for n in value_full if n in projected and n not in keyed]
            if cfg.value_format == "raw":
                self.value_names = value_full
            # with no value column read the messages are still decoded: bad ones fail, changelog kinds count
            self.value_decoder = decoder(cfg.value_format, cfg, self.value_names,
                                         [types[n] for n in self.value_names], prefix,
                                         TableSchema(value_full, [declared[n] for n in value_full]))
        self._partitions: list[tuple[str, int]] | None = None
        self.health = BrokerHealth(f"Kafka source '{cfg.table}'", cfg.client["bootstrap.servers"])

    @property
    def changelog(self) -> bool:
        return self.cfg.upsert or self.cfg.value_format == "debezium-json"

    def partitions(self) -> list[tuple[str, int]]:
        if self._partitions is None:
            ck = confluent()
            admin = clients.admin(self.cfg, self.health)
            deadline = time.monotonic() + METADATA_TIMEOUT_S
            while True:  # in short waits, serving the client's errors: a failed login will not heal
                try:
                    md = admin.list_topics(timeout=1)
                    break
                except ck.KafkaException as e:
                    admin.poll(0)
                    if self.health.last_code == "_AUTHENTICATION" or time.monotonic() > deadline:
                        raise self._unreachable("list its topics", e) from None
            topics = self.cfg.topics or sorted(t for t in md.topics if re.fullmatch(self.cfg.pattern, t))
            out = []
            for t in topics:
                if t not in md.topics or md.topics[t].error is not None:
                    raise ConnectorError(f"Topic '{t}' of table '{self.cfg.table}' does not exist")
                out += [(t, p) for p in sorted(md.topics[t].partitions)]
            self._partitions = out
        return self._partitions

    def splits(self) -> list[str]:
        return [f"{t}/{p}" for t, p in self.partitions()]

    def _bounds(self, topic: str, partition: int) -> tuple[int, int | None]:
        ck = confluent()
        c = clients.consumer(self.cfg, self.health, {"group.id": "sqlstream-offsets", "isolation.level": ISOLATION_LEVEL})
        try:
            lo, hi = c.get_watermark_offsets(ck.TopicPartition(topic, partition), timeout=METADATA_TIMEOUT_S)

            def offset(mode: str, specific: dict, ts, fallback: int) -> int | None:
                """The offset a scan.startup.mode / scan.bounded.mode names; None for 'unbounded'."""
                if mode == "earliest-offset":
                    return lo
                if mode == "latest-offset":
                    return hi
                if mode == "specific-offsets":
                    return specific.get(partition, fallback)
                if mode == "group-offsets":
                    committed = c.committed([ck.TopicPartition(topic, partition)],
                                            timeout=METADATA_TIMEOUT_S)[0].offset
                    return committed if committed >= 0 else fallback
                if mode == "timestamp":
                    return self._offset_for_time(c, topic, partition, ts, hi)
                return None
            start = offset(self.cfg.startup, self.cfg.startup_offsets, self.cfg.startup_ts, lo)
            stop = offset(self.cfg.bounded, self.cfg.bounded_offsets, self.cfg.bounded_ts, hi)
            return (lo if start is None else start), stop
        except ck.KafkaException as e:
            raise self._unreachable(f"read the offsets of partition {partition} of topic '{topic}'", e) from None
        finally:
            c.close()

    def _unreachable(self, what: str, e: Exception) -> ConnectorError:
        error = e.args[0].str() if e.args and hasattr(e.args[0], "str") else str(e)
        return ConnectorError(f"Kafka source '{self.cfg.table}': cannot {what}: "
                              f"{self.health.cause(error)}")

    @staticmethod
    def _offset_for_time(c, topic, partition, ts, default):
        ck = confluent()
        res = c.offsets_for_times([ck.TopicPartition(topic, partition, ts)], timeout=METADATA_TIMEOUT_S)[0]
        return res.offset if res.offset >= 0 else default

    def reader(self, split: str, position=None) -> SplitReader:
        topic, _, part = split.rpartition("/")
        start, stop = self._bounds(topic, int(part))
        if position is not None:
            start = int(position)
        return KafkaSplitReader(self.cfg, self.schema, topic, int(part), start, stop, self.key_decoder,
                                self.value_decoder, self.value_names, self.health)
