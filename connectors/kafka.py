"""kafka and upsert-kafka connectors: partitions are splits read with `assign` (no consumer-group rebalancing),
positions are offsets, decoding turns each poll into one Arrow batch.

Flink's option names; see OPTIONS. A malformed message fails the job naming topic, partition and offset, or is
handled by the format's ignore-parse-errors policy.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from connectors.base import Sink, SinkWriter, Source, SplitReader, TableSchema
from connectors.formats import csv as csv_format
from connectors.formats import json as json_format
from connectors.options import Options
from sqlstream.errors import ConnectorError, FormatError, OptionError
from sqlstream.types import FlinkType

FORMATS = ("json", "csv", "raw", "debezium-json")
OPTIONS = ["connector", "topic", "topic-pattern", "properties.bootstrap.servers", "properties.group.id",
           "scan.startup.mode", "scan.startup.timestamp-millis", "scan.startup.specific-offsets",
           "scan.bounded.mode", "scan.bounded.timestamp-millis", "scan.bounded.specific-offsets",
           "scan.topic-partition-discovery.interval", "scan.watermark.idle-timeout", "scan.parallelism",
           "format", "key.format", "value.format", "key.fields", "key.fields-prefix", "value.fields-include",
           "sink.partitioner", "sink.delivery-guarantee", "sink.transactional-id-prefix", "sink.parallelism",
           "sink.buffer-flush.max-rows", "sink.buffer-flush.interval"]
METADATA = {"topic": "STRING", "partition": "INT", "offset": "BIGINT", "timestamp": "TIMESTAMP_LTZ(3)",
            "timestamp-type": "STRING", "headers": "MAP<STRING, BYTES>", "leader-epoch": "INT"}
STARTUP = ("earliest-offset", "latest-offset", "group-offsets", "timestamp", "specific-offsets")
BOUNDED = ("unbounded", "latest-offset", "group-offsets", "timestamp", "specific-offsets")


def _kafka():
    try:
        import confluent_kafka
    except ImportError as e:  # pragma: no cover - a declared dependency
        raise ConnectorError("the kafka connector needs the confluent-kafka package") from e
    return confluent_kafka


@dataclass
class KafkaConfig:
    table: str
    upsert: bool
    topics: list[str]
    pattern: str | None
    client: dict
    startup: str
    startup_ts: int | None
    startup_offsets: dict[int, int]
    bounded: str
    bounded_ts: int | None
    bounded_offsets: dict[int, int]
    key_format: str | None
    value_format: str
    key_fields: list[str]
    key_prefix: str
    value_include_key: bool
    partitioner: str
    delivery: str
    txn_prefix: str | None
    opts: Options = field(repr=False, default=None)


def _offsets(text: str | None, key: str) -> dict[int, int]:
    if not text:
        return {}
    out = {}
    for part in text.split(";"):
        m = re.fullmatch(r"\s*partition:(\d+),offset:(\d+)\s*", part)
        if not m:
            raise OptionError(f"Invalid '{key}' value '{text}': expected 'partition:0,offset:42;partition:1,offset:300'")
        out[int(m.group(1))] = int(m.group(2))
    return out


def parse(table: str, options: dict, schema: TableSchema, upsert: bool) -> KafkaConfig:
    name = "upsert-kafka" if upsert else "kafka"
    opts = Options(table, name, options, OPTIONS, prefixes=("properties.", "json.", "csv.", "raw.", "key.json.",
                                                            "value.json.", "key.csv.", "value.csv.", "key.raw.",
                                                            "value.raw.", "debezium-json.", "value.debezium-json."))
    topic = opts.get("topic")
    pattern = opts.get("topic-pattern")
    if not topic and not pattern:
        raise OptionError(f"Table '{table}': either 'topic' or 'topic-pattern' must be set", OPTIONS)
    if topic and pattern:
        raise OptionError(f"Table '{table}': 'topic' and 'topic-pattern' cannot both be set")
    client = {k: v for k, v in opts.with_prefix("properties.").items()}
    if "bootstrap.servers" not in client:
        raise OptionError(f"Table '{table}': connector '{name}' requires option 'properties.bootstrap.servers'",
                          OPTIONS)
    fmt = opts.get("format")
    kfmt, vfmt = opts.get("key.format"), opts.get("value.format")
    if upsert:
        if not kfmt or not vfmt:
            raise OptionError(f"Table '{table}': upsert-kafka requires 'key.format' and 'value.format'", OPTIONS)
        if not schema.primary_key:
            raise OptionError(f"Table '{table}': 'upsert-kafka' tables require to define a PRIMARY KEY constraint. "
                              f"The PRIMARY KEY specifies which columns should be read from or write to the Kafka "
                              f"message key.")
    value = vfmt or fmt
    if not value:
        raise OptionError(f"Table '{table}': set 'format' (or 'value.format')", OPTIONS)
    for f in (value, kfmt):
        if f and f not in FORMATS:
            raise OptionError(f"Table '{table}': format '{f}' is not supported by the kafka connector; use one of: "
                              f"{', '.join(FORMATS)}")
    key_fields_opt = opts.get("key.fields")
    key_fields = [k.strip() for k in key_fields_opt.split(";")] if key_fields_opt else []
    if upsert:
        key_fields = list(schema.primary_key)
    if kfmt and not key_fields:
        raise OptionError(f"Table '{table}': 'key.format' needs 'key.fields'")
    for k in key_fields:
        if k not in schema.all_names:
            raise OptionError(f"Table '{table}': key field '{k}' is not a column of the table")
    include = opts.get_choice("value.fields-include", ("ALL", "EXCEPT_KEY"), "ALL")
    startup = opts.get_choice("scan.startup.mode", STARTUP, "earliest-offset" if not upsert else "earliest-offset")
    bounded = opts.get_choice("scan.bounded.mode", BOUNDED, "unbounded")
    delivery = opts.get_choice("sink.delivery-guarantee", ("none", "at-least-once", "exactly-once"), "at-least-once")
    cfg = KafkaConfig(
        table, upsert, [t.strip() for t in topic.split(";")] if topic else [], pattern, client, startup,
        opts.get_int("scan.startup.timestamp-millis"),
        _offsets(opts.get("scan.startup.specific-offsets"), "scan.startup.specific-offsets"),
        bounded, opts.get_int("scan.bounded.timestamp-millis"),
        _offsets(opts.get("scan.bounded.specific-offsets"), "scan.bounded.specific-offsets"),
        kfmt, value, key_fields, opts.get("key.fields-prefix", "") or "", include == "ALL",
        opts.get_choice("sink.partitioner", ("default", "fixed", "round-robin"), "default"), delivery,
        opts.get("sink.transactional-id-prefix"), opts)
    if startup == "timestamp" and cfg.startup_ts is None:
        raise OptionError(f"Table '{table}': scan.startup.mode 'timestamp' needs 'scan.startup.timestamp-millis'")
    for k in ("scan.topic-partition-discovery.interval", "scan.watermark.idle-timeout", "scan.parallelism",
              "sink.parallelism", "sink.buffer-flush.max-rows", "sink.buffer-flush.interval"):
        opts.get(k)
    return cfg


# ---- formats ------------------------------------------------------------------------------------
def _decoder(fmt: str, cfg: KafkaConfig, names: list[str], types: list[FlinkType], prefix: str):
    schema = TableSchema(names, types)
    if fmt == "json":
        return json_format.JsonDecoder.from_options(cfg.opts, schema, prefix + "json.")
    if fmt == "csv":
        return csv_format.CsvDecoder.from_options(cfg.opts, schema, prefix + "csv.")
    if fmt == "raw":
        if len(names) != 1:
            raise OptionError(f"Table '{cfg.table}': the raw format needs exactly one column, got {len(names)}")
        return RawCodec(types[0])
    if fmt == "debezium-json":
        return DebeziumJsonDecoder(schema, cfg.opts.get_bool(prefix + "debezium-json.ignore-parse-errors"))
    raise OptionError(f"unsupported format {fmt}")


class RawCodec:
    """The message bytes as one STRING or BYTES column."""

    def __init__(self, t: FlinkType):
        self.t = t
        self.skipped = 0

    def decode(self, docs: pa.Array, where) -> pa.RecordBatch:
        arr = docs if self.t.name in ("BINARY", "VARBINARY") else pc.cast(docs, pa.string())
        return pa.RecordBatch.from_arrays([arr], names=["value"])


class DebeziumJsonDecoder:
    """Debezium JSON change events -> changelog rows: c/r -> +I, u -> -U +U, d -> -D."""

    def __init__(self, schema: TableSchema, ignore_parse_errors: bool):
        row = FlinkType("ROW", children=tuple(schema.types), field_names=tuple(schema.names))
        envelope = TableSchema(["before", "after", "op"], [row, row, FlinkType.of("STRING")])
        self.inner = json_format.JsonDecoder(envelope, ignore_parse_errors)
        self.schema = schema
        self.changelog = True

    @property
    def skipped(self) -> int:
        return self.inner.skipped

    def decode(self, docs: pa.Array, where) -> pa.RecordBatch:
        env = self.inner.decode(docs, where)
        op = env.column(2).to_pylist()
        before, after = env.column(0), env.column(1)
        take_before, take_after, kinds = [], [], []
        for i, o in enumerate(op):
            if o in ("c", "r"):
                kinds.append(0), take_after.append((len(kinds) - 1, i))
            elif o == "u":
                kinds.append(1), take_before.append((len(kinds) - 1, i))
                kinds.append(2), take_after.append((len(kinds) - 1, i))
            elif o == "d":
                kinds.append(3), take_before.append((len(kinds) - 1, i))
            else:
                raise FormatError(f"Unknown Debezium operation '{o}'", where(i))
        n = len(kinds)
        src_idx = np.zeros(n, dtype=np.int64)
        use_before = np.zeros(n, dtype=bool)
        for pos, i in take_before:
            src_idx[pos], use_before[pos] = i, True
        for pos, i in take_after:
            src_idx[pos] = i
        cols = []
        for j, name in enumerate(self.schema.names):
            b = pc.struct_field(before, [j]) if len(before) else pa.array([], self.schema.types[j].to_arrow())
            a = pc.struct_field(after, [j]) if len(after) else pa.array([], self.schema.types[j].to_arrow())
            both = pa.concat_arrays([a, b])
            cols.append(both.take(pa.array(src_idx + np.where(use_before, len(a), 0))))
        return pa.RecordBatch.from_arrays([pa.array(np.array(kinds, dtype=np.int8))] + cols,
                                          names=["_op"] + self.schema.names)


def value_columns(cfg: KafkaConfig, physical: list[str]) -> list[str]:
    if cfg.value_include_key:
        return list(physical)
    return [c for c in physical if c not in cfg.key_fields]


# ---- source -----------------------------------------------------------------------------------
class KafkaSplitReader(SplitReader):
    """One partition: polls a batch of messages and decodes it at once; position = next offset to read."""

    paced = True

    def __init__(self, cfg: KafkaConfig, schema: TableSchema, topic: str, partition: int, start: int,
                 stop: int | None, key_decoder, value_decoder, value_names: list[str]):
        ck = _kafka()
        self.cfg, self.schema, self.topic, self.partition = cfg, schema, topic, partition
        self.key_decoder, self.value_decoder, self.value_names = key_decoder, value_decoder, value_names
        conf = {"bootstrap.servers": cfg.client["bootstrap.servers"], "enable.auto.commit": False,
                "group.id": cfg.client.get("group.id", f"sqlstream-{uuid.uuid4().hex[:8]}"),
                "enable.partition.eof": False, "fetch.wait.max.ms": 20, "queued.min.messages": 100000,
                "fetch.max.bytes": 64 << 20, "max.partition.fetch.bytes": 16 << 20, "log_level": 3}
        conf.update({k: v for k, v in cfg.client.items() if k not in ("bootstrap.servers",)})
        self.consumer = ck.Consumer(conf)
        self.next_offset = start
        self.stop = stop
        self.consumer.assign([ck.TopicPartition(topic, partition, start)])
        self.finished = stop is not None and start >= stop
        self.rows = 0

    def poll(self, max_rows: int) -> pa.RecordBatch | None:
        if self.finished:
            return None
        limit = max_rows
        if self.stop is not None:
            limit = min(limit, self.stop - self.next_offset)
        msgs = self.consumer.consume(num_messages=max(1, limit), timeout=0.01)
        msgs = [m for m in msgs if m.error() is None]
        if not msgs:
            return None
        if self.stop is not None:
            msgs = [m for m in msgs if m.offset() < self.stop]
        if not msgs:
            self.finished = True
            return None
        batch = self._decode(msgs)
        self.next_offset = msgs[-1].offset() + 1
        if self.stop is not None and self.next_offset >= self.stop:
            self.finished = True
        self.rows += len(msgs)
        return batch

    def _decode(self, msgs, decoded_values: pa.RecordBatch | None = None) -> pa.RecordBatch:
        offsets = [m.offset() for m in msgs]

        def where(i: int) -> str:
            return f"topic '{self.topic}' partition {self.partition} offset {offsets[i]}"
        values = [m.value() for m in msgs]
        n = len(msgs)
        ops = None
        tombstone = np.array([v is None for v in values])
        vals_arr = pa.array([b"" if v is None else v for v in values], pa.binary())
        docs = pc.cast(vals_arr, pa.string()) if not isinstance(self.value_decoder, RawCodec) else vals_arr
        cols: dict[str, pa.Array] = {}
        if self.value_names:
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
                    drop = set(live_idx[~kept].tolist())
                    return self._decode([m for i, m in enumerate(msgs) if i not in drop], decoded_values=decoded)
                for j, name in enumerate(self.value_names):
                    col = decoded.column(j)
                    if tombstone.any():
                        full = pa.nulls(len(msgs), col.type)
                        col = pc.if_else(pa.array(live), _scatter(col, live_idx, len(msgs)), full)
                    cols[name] = col
        if self.key_decoder is not None:
            keys = pa.array([m.key() or b"" for m in msgs], pa.binary())
            kdocs = pc.cast(keys, pa.string()) if not isinstance(self.key_decoder, RawCodec) else keys
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
        return pa.RecordBatch.from_arrays(out, names=self.schema.names)

    def _metadata(self, key: str, msgs) -> pa.Array:
        if key == "topic":
            return pa.array([m.topic() for m in msgs], pa.string())
        if key == "partition":
            return pa.array([m.partition() for m in msgs], pa.int32())
        if key == "offset":
            return pa.array([m.offset() for m in msgs], pa.int64())
        if key == "timestamp":
            return pa.array([m.timestamp()[1] for m in msgs], pa.int64()).cast(pa.timestamp("ms", tz="UTC"))
        if key == "timestamp-type":
            names = {0: "NoTimestampType", 1: "CreateTime", 2: "LogAppendTime"}
            return pa.array([names.get(m.timestamp()[0], "NoTimestampType") for m in msgs], pa.string())
        if key == "headers":
            return pa.array([list(m.headers() or []) for m in msgs], pa.map_(pa.string(), pa.binary()))
        if key == "leader-epoch":
            return pa.array([m.leader_epoch() if hasattr(m, "leader_epoch") else None for m in msgs], pa.int32())
        raise OptionError(f"Unknown kafka metadata key '{key}'; available: {', '.join(METADATA)}")

    def position(self):
        return self.next_offset

    def close(self) -> None:
        try:
            self.consumer.close()
        except Exception:
            pass

    def metrics(self) -> dict:
        skipped = getattr(self.value_decoder, "skipped", 0) + (getattr(self.key_decoder, "skipped", 0)
                                                               if self.key_decoder is not None else 0)
        return {"records_skipped": skipped}


def _scatter(col: pa.Array, idx: np.ndarray, n: int) -> pa.Array:
    pos = np.full(n, 0, dtype=np.int64)
    pos[idx] = np.arange(len(idx))
    return col.take(pa.array(pos)) if len(col) else pa.nulls(n, col.type)


class KafkaSource(Source):
    def __init__(self, cfg: KafkaConfig, schema: TableSchema):
        self.cfg, self.schema = cfg, schema
        self.bounded = cfg.bounded != "unbounded"
        types = dict(zip(schema.all_names, schema.all_types))
        types.update(zip(schema.names, schema.types))
        all_physical = [n for n in schema.all_names if n not in schema.metadata]
        projected = [n for n in schema.names if n not in schema.metadata]
        value_full = value_columns(cfg, all_physical) if cfg.key_format else all_physical
        self.key_decoder = None
        if cfg.key_format:
            knames = [k[len(cfg.key_prefix):] if k.startswith(cfg.key_prefix) else k for k in cfg.key_fields]
            self.key_decoder = _decoder(cfg.key_format, cfg, knames, [types[k] for k in cfg.key_fields], "key.")
        prefix = "value." if cfg.key_format else ""
        keyed = set(cfg.key_fields) if cfg.key_format else set()
        if cfg.value_format == "csv":
            wanted = [n for n in value_full if n in projected and n not in keyed]
            vs = TableSchema(wanted, [types[n] for n in wanted], physical_names=value_full,
                             physical_types=[types[n] for n in value_full])
            self.value_names = wanted
            self.value_decoder = csv_format.CsvDecoder.from_options(cfg.opts, vs, prefix + "csv.")
        else:
            self.value_names = [n for n in value_full if n in projected and n not in keyed]
            if cfg.value_format == "raw":
                self.value_names = value_full
            self.value_decoder = _decoder(cfg.value_format, cfg, self.value_names,
                                          [types[n] for n in self.value_names], prefix) if self.value_names else None
        self._partitions: list[tuple[str, int]] | None = None

    @property
    def changelog(self) -> bool:
        return self.cfg.upsert or self.cfg.value_format == "debezium-json"

    def partitions(self) -> list[tuple[str, int]]:
        if self._partitions is None:
            ck = _kafka()
            from confluent_kafka.admin import AdminClient
            admin = AdminClient({"bootstrap.servers": self.cfg.client["bootstrap.servers"], "log_level": 3})
            try:
                md = admin.list_topics(timeout=10)
            except ck.KafkaException as e:
                raise ConnectorError(f"Kafka at '{self.cfg.client['bootstrap.servers']}' is not reachable: {e}") \
                    from None
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
        ck = _kafka()
        c = ck.Consumer({"bootstrap.servers": self.cfg.client["bootstrap.servers"],
                         "group.id": self.cfg.client.get("group.id", "sqlstream-offsets"), "log_level": 3})
        try:
            lo, hi = c.get_watermark_offsets(ck.TopicPartition(topic, partition), timeout=10)

            def offset(mode: str, specific: dict, ts, fallback: int) -> int | None:
                """The offset a scan.startup.mode / scan.bounded.mode names; None for 'unbounded'."""
                if mode == "earliest-offset":
                    return lo
                if mode == "latest-offset":
                    return hi
                if mode == "specific-offsets":
                    return specific.get(partition, fallback)
                if mode == "group-offsets":
                    committed = c.committed([ck.TopicPartition(topic, partition)], timeout=10)[0].offset
                    return committed if committed >= 0 else fallback
                if mode == "timestamp":
                    return self._offset_for_time(c, topic, partition, ts, hi)
                return None
            start = offset(self.cfg.startup, self.cfg.startup_offsets, self.cfg.startup_ts, lo)
            stop = offset(self.cfg.bounded, self.cfg.bounded_offsets, self.cfg.bounded_ts, hi)
            return (lo if start is None else start), stop
        finally:
            c.close()

    @staticmethod
    def _offset_for_time(c, topic, partition, ts, default):
        ck = _kafka()
        res = c.offsets_for_times([ck.TopicPartition(topic, partition, ts)], timeout=10)[0]
        return res.offset if res.offset >= 0 else default

    def reader(self, split: str, position=None) -> SplitReader:
        topic, _, part = split.rpartition("/")
        start, stop = self._bounds(topic, int(part))
        if position is not None:
            start = int(position)
        return KafkaSplitReader(self.cfg, self.schema, topic, int(part), start, stop, self.key_decoder,
                                self.value_decoder, self.value_names)


# ---- sink -------------------------------------------------------------------------------------
class KafkaSinkWriter(SinkWriter):
    def __init__(self, cfg: KafkaConfig, schema: TableSchema, job: str):
        ck = _kafka()
        self.cfg, self.schema = cfg, schema
        if cfg.delivery == "exactly-once":
            raise OptionError(f"Table '{cfg.table}': 'sink.delivery-guarantee' = 'exactly-once' is not supported "
                              f"yet; use 'at-least-once' (flushed at every checkpoint)")
        conf = {"bootstrap.servers": cfg.client["bootstrap.servers"], "linger.ms": 5,
                "batch.num.messages": 10000, "queue.buffering.max.messages": 1_000_000,
                "queue.buffering.max.kbytes": 1 << 20, "partitioner": "murmur2_random", "log_level": 3,
                "on_delivery": self._delivered, "delivery.report.only.error": True}
        conf.update({k: v for k, v in cfg.client.items() if k != "bootstrap.servers"})
        self.producer = ck.Producer(conf)
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

    def _encode(self, fmt: str, batch: pa.RecordBatch, names: list[str], types: list[FlinkType],
                out_names: list[str]) -> list:
        cols = pa.RecordBatch.from_arrays([batch.column(batch.schema.get_field_index(n)) for n in names],
                                          names=out_names)
        if fmt == "json":
            return json_format.encode_json_lines(cols, out_names, types).to_pylist()
        if fmt == "csv":
            return csv_format.encode_csv_lines(cols, out_names).to_pylist()
        if fmt == "raw":
            return cols.column(0).to_pylist()
        raise OptionError(f"format {fmt} cannot be written yet")

    def write(self, batch: pa.RecordBatch) -> None:
        n = batch.num_rows
        if n == 0:
            return
        ops = batch.column(0).to_numpy(zero_copy_only=False)
        data = pa.RecordBatch.from_arrays(batch.columns[1:], names=batch.schema.names[1:])
        values = self._encode(self.cfg.value_format, data, self.value_names, self.value_types, self.value_names)
        keys = [None] * n
        if self.cfg.key_format:
            knames = [k[len(self.cfg.key_prefix):] if k.startswith(self.cfg.key_prefix) else k
                      for k in self.cfg.key_fields]
            keys = self._encode(self.cfg.key_format, data, self.cfg.key_fields, self.key_types, knames)
        ts = [None] * n
        meta = {k: c for c, k in self.schema.metadata.items()}
        if "timestamp" in meta:
            col = data.column(data.schema.get_field_index(meta["timestamp"]))
            ts = pc.cast(pc.cast(col, pa.timestamp("ms", tz="UTC")), pa.int64()).to_pylist()
        headers = [None] * n
        if "headers" in meta:
            headers = data.column(data.schema.get_field_index(meta["headers"])).to_pylist()
        produce = self.producer.produce
        part = self._partitions_for(n, keys)
        plain = part is None and "timestamp" not in meta and "headers" not in meta
        if plain and not self.cfg.upsert and not (ops != 0).any():
            topic = self.topic
            for value, key in zip(values, keys):
                try:
                    produce(topic, value, key)
                except BufferError:
                    self.producer.poll(0.05)
                    produce(topic, value, key)
            self.producer.poll(0)
            self._raise()
            return
        for i in range(n):
            op = ops[i]
            if op == 1:
                continue  # -U: an upsert sink only needs the new value (+U) or a tombstone (-D)
            value = None if op == 3 and self.cfg.upsert else values[i]
            if op == 3 and not self.cfg.upsert:
                continue
            kw = {}
            if part is not None:
                kw["partition"] = part[i]
            if ts[i] is not None:
                kw["timestamp"] = ts[i]
            if headers[i]:
                kw["headers"] = headers[i]
            while True:
                try:
                    produce(self.topic, value=value, key=keys[i], **kw)
                    break
                except BufferError:
                    self.producer.poll(0.05)
        self.producer.poll(0)
        self._raise()

    def _partitions_for(self, n: int, keys) -> list[int] | None:
        if self.cfg.partitioner == "default":
            return None
        if self.partitions is None:
            md = self.producer.list_topics(self.topic, timeout=10)
            self.partitions = len(md.topics[self.topic].partitions)
        if self.cfg.partitioner == "fixed":
            return [0] * n
        out = [(self.rr + i) % self.partitions for i in range(n)]
        self.rr = (self.rr + n) % self.partitions
        return out

    def _delivered(self, err, msg) -> None:
        if err is not None:
            self.errors.append(f"{err} (topic '{msg.topic()}')")

    def _raise(self) -> None:
        if self.errors:
            raise ConnectorError(f"Kafka sink '{self.cfg.table}' failed to deliver messages: {self.errors[0]}")

    def prepare_commit(self, checkpoint_id: int):
        if self.cfg.delivery != "none":
            self.producer.flush()
            self._raise()
        return None

    def close(self) -> None:
        self.producer.flush()
        self._raise()


class KafkaSink(Sink):
    def __init__(self, cfg: KafkaConfig, schema: TableSchema):
        self.cfg, self.schema = cfg, schema
        self.accepts_updates = cfg.upsert

    def writer(self, job: str = "job") -> SinkWriter:
        return KafkaSinkWriter(self.cfg, self.schema, job)


def create_source(table: str, options: dict, schema: TableSchema, upsert: bool = False) -> Source:
    cfg = parse(table, options, schema, upsert)
    cfg.opts.finish()
    return KafkaSource(cfg, schema)


def create_sink(table: str, options: dict, schema: TableSchema, upsert: bool = False) -> Sink:
    cfg = parse(table, options, schema, upsert)
    cfg.opts.finish()
    if cfg.value_format == "debezium-json":
        raise OptionError(f"Table '{table}': writing debezium-json to Kafka is not supported yet")
    return KafkaSink(cfg, schema)


def changelog_mode(options: dict) -> str:
    if options.get("connector") == "upsert-kafka":
        return "I,UA,D"
    if (options.get("value.format") or options.get("format")) == "debezium-json":
        return "I,UB,UA,D"
    return "I"
