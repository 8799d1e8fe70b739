"""The Kafka source's own fetch path (connectors/kafka/fetch.py) against the confluent-kafka consumer's: the same
rows, metadata and positions on the same topics (multi-message and compressed batches, keys and NULL values, an
aborted and a committed transaction), for poll sizes down to 1 and a restore from a position mid-way."""
from __future__ import annotations

import struct

import pyarrow as pa
import pytest

from sqlstream.connectors.base import TableSchema
from sqlstream.connectors.kafka import create_source
from sqlstream.connectors.kafka import source as kafka_source
from sqlstream.core.types import FlinkType

pytest.importorskip("confluent_kafka")

COLUMNS = ["v", "k", "o", "ts", "tt", "p", "t", "e"]
TYPES = ["BIGINT", "STRING", "BIGINT", "TIMESTAMP_LTZ(3)", "STRING", "INT", "STRING", "INT"]
METADATA = {"o": "offset", "ts": "timestamp", "tt": "timestamp-type", "p": "partition", "t": "topic",
            "e": "leader-epoch"}


def make_source(broker, topic: str, extra: dict | None = None):
    types = [FlinkType.of("BIGINT"), FlinkType.of("STRING"), FlinkType.of("BIGINT"), FlinkType.of("TIMESTAMP_LTZ", 3),
             FlinkType.of("STRING"), FlinkType.of("INT"), FlinkType.of("STRING"), FlinkType.of("INT")]
    options = {"connector": "kafka", "topic": topic, "properties.bootstrap.servers": broker.bootstrap,
               "key.format": "raw", "key.fields": "k", "value.format": "json", "value.fields-include": "EXCEPT_KEY",
               "scan.startup.mode": "earliest-offset", "scan.bounded.mode": "latest-offset", **(extra or {})}
    return create_source("src", options, TableSchema(COLUMNS, types, metadata=dict(METADATA)))


def read(src, split: str, poll: int, raw: bool, position=None, max_polls: int | None = None):
    """(rows, positions after each poll, reader) of one reader of `split`, by the chosen fetch path."""
    old = kafka_source.RAW_FETCH
    kafka_source.RAW_FETCH = raw
    try:
        reader = src.reader(split, position)
    finally:
        kafka_source.RAW_FETCH = old
    assert (reader.fetcher is not None) == raw
    out, positions = [], []
    polls = 0
    while not reader.finished and (max_polls is None or polls < max_polls):
        b = reader.poll(poll)
        polls += 1
        if b is not None:
            assert b.num_rows <= poll
            out += pa.Table.from_batches([b]).to_pylist()
            positions.append(reader.position())
    reader.close()
    return out, positions, reader


def produce_batches(broker, topic: str, n: int, conf: dict) -> None:
    """n messages in multi-message batches (one flush), keys and a NULL value every 7th, timestamps given."""
    from confluent_kafka import Producer
    p = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 50, "log_level": 0, **conf})
    for i in range(n):
        value = None if i % 7 == 3 else b'{"v": %d}' % i
        key = None if i % 5 == 0 else b"key%d" % i
        p.produce(topic, value=value, key=key, partition=0, timestamp=1_700_000_000_000 + i * 1000)
    p.flush()


def produce_transactions(broker, topic: str) -> None:
    """A committed transaction, an aborted one, then a committed one, each of a few messages."""
    from confluent_kafka import Producer
    p = Producer({"bootstrap.servers": broker.bootstrap, "transactional.id": f"tx-{topic}", "log_level": 0,
                  "linger.ms": 20})
    p.init_transactions(30)
    for txn, commit in ((0, True), (1, False), (2, True)):
        p.begin_transaction()
        for i in range(5):
            p.produce(topic, value=b'{"v": %d}' % (100 * txn + i), key=b"t%d" % txn, partition=0)
        p.flush()
        (p.commit_transaction if commit else p.abort_transaction)(30)


@pytest.mark.parametrize("codec", ["none", "gzip", "snappy", "lz4", "zstd"])
def test_fetched_records_equal_the_clients(broker, codec):
    topic = f"fetch_{codec}"
    broker.create_topic(topic, 1)
    produce_batches(broker, topic, 60, {"compression.type": codec, "batch.num.messages": 16})
    broker.produce(topic, [(0, b"single", b'{"v": 1000}', 1_700_000_100_000)])  # a batch of one
    src = make_source(broker, topic)
    expected, expected_positions, _ = read(src, f"{topic}/0", 1000, raw=False)
    assert len(expected) == 61 - 9 and expected[-1]["v"] == 1000  # the NULL values are no rows
    assert expected[0]["k"] == "" and expected[1]["k"] == "key1" and expected[1]["tt"] == "CreateTime"
    for poll in (1, 7, 1000):
        got, positions, _ = read(src, f"{topic}/0", poll, raw=True)
        assert got == expected
        if poll == 1000:
            assert positions == expected_positions
        else:
            assert positions[-1] == expected_positions[-1] == 61


@pytest.mark.parametrize("isolation", ["read_committed", "read_uncommitted"])
def test_aborted_transaction_is_left_out_as_by_the_client(broker, isolation):
    topic = f"fetch_txn_{isolation}"
    broker.create_topic(topic, 1)
    produce_transactions(broker, topic)
    src = make_source(broker, topic, {"properties.isolation.level": isolation})
    expected, _, _ = read(src, f"{topic}/0", 1000, raw=False)
    assert [r["v"] for r in expected][:5] == [0, 1, 2, 3, 4]  # (the test broker keeps no aborted transactions)
    for poll in (1, 4, 1000):
        got, positions, reader = read(src, f"{topic}/0", poll, raw=True)
        assert got == expected
        assert reader.finished


def test_restore_from_a_position_mid_way(broker):
    topic = "fetch_restore"
    broker.create_topic(topic, 1)
    produce_batches(broker, topic, 40, {"compression.type": "lz4", "batch.num.messages": 8})
    produce_transactions(broker, topic)
    src = make_source(broker, topic)
    expected, _, _ = read(src, f"{topic}/0", 1000, raw=False)
    for poll, polls in ((1, 5), (3, 4), (6, 2)):
        first, positions, _ = read(src, f"{topic}/0", poll, raw=True, max_polls=polls)
        rest, _, _ = read(src, f"{topic}/0", poll, raw=True, position=positions[-1])
        assert first + rest == expected
        by_client, _, _ = read(src, f"{topic}/0", poll, raw=False, position=positions[-1])
        assert by_client == rest


def test_settings_it_does_not_handle_read_with_the_client(broker):
    topic = "fetch_settings"
    broker.create_topic(topic, 1)
    produce_batches(broker, topic, 10, {})
    src = make_source(broker, topic, {"properties.fetch.min.bytes": "1"})
    reader = src.reader(f"{topic}/0")
    assert reader.fetcher is None
    reader.close()


def _varint(v: int) -> bytes:
    v = (v << 1) ^ (v >> 63)
    out = bytearray()
    while True:
        if v > 127:
            out.append((v & 127) | 128)
            v >>= 7
        else:
            out.append(v)
            return bytes(out)


def _field(b: bytes | None) -> bytes:
    return _varint(-1) if b is None else _varint(len(b)) + b


def _batch(base: int, records: list, attrs: int = 0, producer: int = -1) -> bytes:
    """A record batch v2 of (key, value) records (CRC left 0: the fetch path does not check it)."""
    body = b"".join(_varint(len(r)) + r for r in
                    (b"\0" + _varint(i) + _varint(i) + _field(k) + _field(v) + _varint(0)
                     for i, (k, v) in enumerate(records)))
    if attrs & 7 == 1:
        import gzip
        body = gzip.compress(body)
    rest = struct.pack(">ibIhiqqqhii", 0, 2, 0, attrs, len(records) - 1, 1000, 1000 + len(records), producer, 0, 0,
                       len(records)) + body
    return struct.pack(">qi", base, len(rest)) + rest


def _response(records: bytes, aborted: list) -> bytearray:
    out = struct.pack(">iii", 1, 0, 1) + struct.pack(">h", 1) + b"t" + struct.pack(">iihqqi", 1, 0, 0, 99, 99,
                                                                                      len(aborted))
    out += b"".join(struct.pack(">qq", pid, first) for pid, first in aborted)
    return bytearray(out + struct.pack(">i", len(records)) + records)


def test_read_committed_leaves_out_aborted_transactions_and_control_batches():
    """The fetch response's aborted transactions (producer, first offset) and the control batches, as the Java
    consumer applies them; a compressed batch from before the fetch position is cut at the position."""
    from sqlstream.connectors.kafka.fetch import PartitionFetcher
    abort, commit = struct.pack(">hh", 0, 0), struct.pack(">hh", 0, 1)
    records = (_batch(0, [(None, b"a0"), (b"k", b"a1")], 0x10, producer=7) +   # aborted below
               _batch(2, [(b"k", b"p2")], 0x10, producer=8) +                   # committed at 5
               _batch(3, [(abort, b"\0\0\0\0\0\0")], 0x30, producer=7) +
               _batch(4, [(None, b"n4")]) +
               _batch(5, [(commit, b"\0\0\0\0\0\0")], 0x30, producer=8) +
               _batch(6, [(b"x", b"z6"), (None, None), (b"y", b"z8")], 0x01))
    fetcher = object.__new__(PartitionFetcher)
    fetcher.position, fetcher.high_watermark = 1, None
    recs = fetcher._parse(_response(records, [(7, 0)]))
    assert recs.offsets.tolist() == [2, 4, 6, 7, 8]
    assert recs.values.to_pylist() == [b"p2", b"n4", b"z6", None, b"z8"]
    assert recs.keys.to_pylist() == [b"k", None, b"x", None, b"y"]
    assert recs.timestamps.tolist() == [1000, 1000, 1000, 1001, 1002]
    assert fetcher.position == 9 and fetcher.high_watermark == 99
    fetcher.position = 7
    assert fetcher._parse(_response(records, [(7, 0)])).offsets.tolist() == [7, 8]
    fetcher.position = 0
    assert fetcher._parse(_response(records, [])).offsets.tolist() == [0, 1, 2, 4, 6, 7, 8]


def test_a_corrupt_batch_falls_back_from_where_the_fetch_began():
    """A batch whose record count runs past its bytes, after a good one: the fetch says Unsupported (the reader
    goes on with the client) and its position stays where the fetch began, so no record is skipped."""
    from sqlstream.connectors.kafka.fetch import PartitionFetcher, Unsupported
    bad = bytearray(_batch(2, [(None, b"b2")]))
    struct.pack_into(">i", bad, 57, 1000)  # the batch's record count
    fetcher = object.__new__(PartitionFetcher)
    fetcher.position, fetcher.high_watermark, fetcher.correlation = 0, None, 0  # the response answers request 1
    fetcher.topic, fetcher.partition, fetcher.isolation, fetcher.max_bytes = "t", 0, 1, 1 << 20
    fetcher.sock = _AnswerOnce(_response(_batch(0, [(None, b"a0"), (None, b"a1")]) + bytes(bad), []))
    with pytest.raises(Unsupported):
        fetcher.fetch(0)
    assert fetcher.position == 0


class _AnswerOnce:
    """A socket that takes a request and answers with one Fetch response."""

    def __init__(self, response: bytearray):
        self.data = struct.pack(">i", len(response)) + bytes(response)

    def settimeout(self, seconds):
        pass

    def sendall(self, request):
        pass

    def recv(self, n):
        out, self.data = self.data[:n], self.data[n:]
        return out

    def recv_into(self, view, n):
        out = self.recv(n)
        view[:len(out)] = out
        return len(out)


def test_snappy_in_the_java_clients_framing():
    """The Java producer frames snappy (xerial: a header, then blocks of [length][raw snappy]); librdkafka's
    raw snappy is what the topics above hold."""
    from sqlstream.connectors.kafka.fetch import decompress
    data = b"".join(bytes([i % 251]) * 40 for i in range(100))
    codec = pa.Codec("snappy")
    blocks = [codec.compress(data[:2000], asbytes=True), codec.compress(data[2000:], asbytes=True)]
    framed = b"\x82SNAPPY\x00" + struct.pack(">ii", 1, 1) + b"".join(struct.pack(">i", len(b)) + b for b in blocks)
    assert decompress(2, framed) == data
    assert decompress(2, blocks[0]) == data[:2000]


def test_the_isolation_level_is_flinks_default_unless_set(broker, monkeypatch):
    """Flink's Kafka source leaves 'isolation.level' to the Java consumer, whose default is read_uncommitted
    (librdkafka's is read_committed): the fetches and every consumer of a source read uncommitted unless the table
    sets 'properties.isolation.level'."""
    from sqlstream.connectors.kafka import clients
    topic = "fetch_isolation_default"
    broker.create_topic(topic, 1)
    produce_batches(broker, topic, 3, {})
    confs: list[dict] = []
    made = clients.client_conf
    monkeypatch.setattr(clients, "client_conf", lambda *a, **k: confs.append(made(*a, **k)) or confs[-1])
    for extra, level, on_the_wire in ((None, "read_uncommitted", 0),
                                      ({"properties.isolation.level": "read_committed"}, "read_committed", 1)):
        confs.clear()
        reader = make_source(broker, topic, extra).reader(f"{topic}/0")
        try:
            assert reader.fetcher is not None and reader.fetcher.isolation == on_the_wire
            assert confs and all(c["isolation.level"] == level for c in confs), confs
        finally:
            reader.close()
