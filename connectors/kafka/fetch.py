"""A partition's messages read without a Python object per message: the Kafka protocol's Fetch request (v4,
plaintext) sent to the partition's leader, its record batches (format v2) kept as bytes, each record's length
walked in Python and every field taken with numpy at the known record starts, values and keys gathered into Arrow
binary arrays by one take().

confluent-kafka's consume() builds a Python object per message (about 1 us of the calling thread, plus
librdkafka's fetch threads); this path costs about a third of that. Anything it does not handle (a broker
error, a lost connection, a compression codec it cannot decode) raises `Unsupported`, and the reader goes on
with confluent-kafka from the same offset."""
from __future__ import annotations

import socket
import struct
import zlib

import numpy as np
import pyarrow as pa

FETCH, FETCH_VERSION = 1, 4
CLIENT_ID = b"sqlstream"
BATCH_HEADER = struct.Struct(">qiibIhiqqqhii")  # record batch v2: 61 bytes before its records
BATCH_HEADER_SIZE = 61
LOG_OVERHEAD = 12  # base offset and batch length, which the batch length does not count
CODECS = {1: "gzip", 2: "snappy", 3: "lz4", 4: "zstd"}
CONTROL_ABORT = 0
# the client settings this path honours; any other (security, SASL, ...) keeps the reader on confluent-kafka
# (auto.offset.reset: an offset out of range is a fetch error, after which the client reads and applies it)
HANDLED = {"bootstrap.servers", "group.id", "client.id", "isolation.level", "auto.offset.reset"}
ANSWER_SECONDS = 10  # a broker silent this long past the fetch's wait: the partition goes on by confluent-kafka


class Unsupported(Exception):
    """This path cannot go on for the partition: the reader reads it with confluent-kafka from its position."""


def eligible(client: dict) -> bool:
    """Whether a table's client settings (`properties.*`) leave nothing this path would ignore."""
    return set(client) <= HANDLED


class Records:
    """A run of a partition's records: numpy columns and Arrow binary values/keys (NULL for none)."""

    __slots__ = ("offsets", "timestamps", "ts_types", "epochs", "values", "keys")

    def __init__(self, offsets, timestamps, ts_types, epochs, values: pa.Array, keys: pa.Array):
        self.offsets, self.timestamps, self.ts_types, self.epochs = offsets, timestamps, ts_types, epochs
        self.values, self.keys = values, keys

    def __len__(self) -> int:
        return len(self.offsets)

    def slice(self, start: int, stop: int | None = None) -> "Records":
        stop = len(self) if stop is None else stop
        return Records(self.offsets[start:stop], self.timestamps[start:stop], self.ts_types[start:stop],
                       self.epochs[start:stop], self.values.slice(start, stop - start),
                       self.keys.slice(start, stop - start))

    def filter(self, mask: np.ndarray) -> "Records":
        keep = pa.array(mask)
        return Records(self.offsets[mask], self.timestamps[mask], self.ts_types[mask], self.epochs[mask],
                       self.values.filter(keep), self.keys.filter(keep))

    @staticmethod
    def concat(parts: list["Records"]) -> "Records":
        if len(parts) == 1:
            return parts[0]
        return Records(*(np.concatenate([getattr(p, f) for p in parts]) for f in Records.__slots__[:4]),
                       pa.concat_arrays([p.values for p in parts]), pa.concat_arrays([p.keys for p in parts]))


def _walk(buf, p: int, count: int, starts: list) -> None:
    """Appends the start of each of `count` records from `p` (the byte after its length): the one sequential
    step, a zigzag varint read and a jump per record."""
    append = starts.append
    for _ in range(count):
        b = buf[p]
        if b < 128:
            q, v = p + 1, b
        else:
            b1 = buf[p + 1]
            if b1 < 128:
                q, v = p + 2, (b & 127) | (b1 << 7)
            else:
                v, q = _unsigned_varint(buf, p)
        append(q)
        p = q + ((v >> 1) ^ -(v & 1))


def _unsigned_varint(buf, p: int) -> tuple[int, int]:
    """(the unsigned varint at `p`, the position after it)."""
    v, shift = 0, 0
    while True:
        b = buf[p]
        p += 1
        v |= (b & 127) << shift
        shift += 7
        if b < 128:
            return v, p


def _varints(data: np.ndarray, pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The zigzag varints at `pos` of the bytes `data`: (values, their lengths in bytes)."""
    val = np.zeros(len(pos), np.int64)
    size = np.zeros(len(pos), np.int64)
    live = np.ones(len(pos), bool)
    for k in range(10):
        b = data[np.minimum(pos + k, len(data) - 1)].astype(np.int64)
        val |= np.where(live, (b & 127) << (7 * k), 0)
        size += live
        live &= b >= 128
        if not live.any():
            break
    return (val >> 1) ^ -(val & 1), size


def _binary(buf, starts: np.ndarray, lengths: np.ndarray) -> pa.Array:
    """Fields at `starts` of `lengths` bytes (-1: NULL) of `buf` as one binary array: the field ends and starts
    interleaved are a valid offsets array whose even elements are the fields, which one take() gathers."""
    n = len(starts)
    if n == 0:
        return pa.array([], pa.binary())
    ends = starts + np.maximum(lengths, 0)
    offsets = np.empty(2 * n, np.int32)
    offsets[0::2] = starts
    offsets[1::2] = ends
    both = pa.BinaryArray.from_buffers(pa.binary(), 2 * n - 1, [None, pa.py_buffer(offsets), pa.py_buffer(buf)])
    out = both.take(pa.array(np.arange(0, 2 * n - 1, 2, dtype=np.int32)))
    if (lengths < 0).any():
        out = pa.BinaryArray.from_buffers(pa.binary(), n, [pa.array(lengths >= 0).buffers()[1]] + out.buffers()[1:])
    return out


def _records(buf, starts: list, meta: list) -> Records:
    """The records whose bodies start at `starts` of `buf`; `meta`: per batch (count, base offset, base
    timestamp, log-append time or None, timestamp type, leader epoch)."""
    data = np.frombuffer(buf, np.uint8)
    s = np.array(starts, np.int64)
    counts = np.array([m[0] for m in meta], np.int64)

    def per_batch(i, dtype):
        return np.repeat(np.array([m[i] for m in meta], dtype), counts)
    pos = s + 1  # past the record's attributes
    ts_delta, size = _varints(data, pos)
    pos += size
    offset_delta, size = _varints(data, pos)
    pos += size
    key_len, size = _varints(data, pos)
    key_start = pos + size
    value_len, size = _varints(data, key_start + np.maximum(key_len, 0))
    value_start = key_start + np.maximum(key_len, 0) + size
    timestamps = per_batch(2, np.int64) + ts_delta
    log_append = per_batch(3, np.int64)
    ts_types = per_batch(4, np.int8)
    timestamps = np.where(ts_types == 2, log_append, timestamps)
    return Records(per_batch(1, np.int64) + offset_delta, timestamps, ts_types, per_batch(5, np.int32),
                   _binary(buf, value_start, value_len), _binary(buf, key_start, key_len))


def decompress(codec: int, data: bytes) -> bytes:
    """A record batch's records, decompressed (Kafka's gzip, snappy (raw or xerial-framed), lz4 frame, zstd)."""
    name = CODECS.get(codec)
    try:
        if name == "gzip":
            return zlib.decompress(data, 47)
        if name in ("lz4", "zstd"):
            return pa.input_stream(pa.py_buffer(data), compression=name).read()
        if name == "snappy":
            return _snappy(data)
    except (pa.ArrowException, zlib.error, ValueError, struct.error) as e:
        raise Unsupported(f"cannot decompress a {name} record batch: {e}") from None
    raise Unsupported(f"record batch compression codec {codec}")


def _snappy(data: bytes) -> bytes:
    codec = pa.Codec("snappy")
    if data[:8] == b"\x82SNAPPY\x00":  # xerial framing (the Java client): blocks of [length][raw snappy]
        out, p = [], 16
        while p < len(data):
            (n,) = struct.unpack_from(">i", data, p)
            out.append(_snappy_raw(codec, data[p + 4:p + 4 + n]))
            p += 4 + n
        return b"".join(out)
    return _snappy_raw(codec, data)


def _snappy_raw(codec, block: bytes) -> bytes:
    size, _ = _unsigned_varint(block, 0)  # a raw snappy block starts with its decompressed length
    return codec.decompress(block, decompressed_size=size, asbytes=True)


class PartitionFetcher:
    """Fetches one partition from its leader: `fetch` returns the records from `position` on (aborted
    transactions and control records left out under read_committed) and moves `position` past them."""

    def __init__(self, host: str, port: int, topic: str, partition: int, position: int, read_committed: bool,
                 max_bytes: int = 16 << 20):
        self.topic, self.partition, self.position = topic, partition, position
        self.isolation = 1 if read_committed else 0
        self.max_bytes = max_bytes
        self.high_watermark: int | None = None
        self.correlation = 0
        try:
            self.sock = socket.create_connection((host, port), timeout=30)
        except OSError as e:
            raise Unsupported(f"cannot connect to the leader {host}:{port}: {e}") from None
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def close(self) -> None:
        self.sock.close()

    def fetch(self, wait_ms: int) -> Records | None:
        try:
            self.sock.settimeout(wait_ms / 1000 + ANSWER_SECONDS)
            return self._parse(self._request(wait_ms))
        except (OSError, EOFError, struct.error, IndexError, ValueError) as e:
            raise Unsupported(f"fetch failed: {e}") from None

    def _request(self, wait_ms: int) -> bytearray:
        self.correlation += 1
        t = self.topic.encode()
        msg = (struct.pack(">hhih", FETCH, FETCH_VERSION, self.correlation, len(CLIENT_ID)) + CLIENT_ID +
               struct.pack(">iiiibi", -1, wait_ms, 1, self.max_bytes, self.isolation, 1) +
               struct.pack(">h", len(t)) + t + struct.pack(">iiqi", 1, self.partition, self.position, self.max_bytes))
        self.sock.sendall(struct.pack(">i", len(msg)) + msg)
        (n,) = struct.unpack(">i", self._read(4))
        buf = bytearray(n)
        view, got = memoryview(buf), 0
        while got < n:
            k = self.sock.recv_into(view[got:], n - got)
            if not k:
                raise EOFError("connection closed")
            got += k
        (correlation,) = struct.unpack_from(">i", buf, 0)
        if correlation != self.correlation:
            raise EOFError("response out of order")
        return buf

    def _read(self, n: int) -> bytes:
        out = b""
        while len(out) < n:
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                raise EOFError("connection closed")
            out += chunk
        return out

    def _parse(self, buf: bytearray) -> Records | None:
        p = 8  # correlation id, throttle time
        (topics,) = struct.unpack_from(">i", buf, p)
        (name_len,) = struct.unpack_from(">h", buf, p + 4)
        p += 6 + name_len
        (parts,) = struct.unpack_from(">i", buf, p)
        if topics != 1 or parts != 1:
            raise Unsupported("unexpected fetch response")
        _, error, high, _, aborted_n = struct.unpack_from(">ihqqi", buf, p + 4)
        p += 30
        if error:
            raise Unsupported(f"fetch error code {error}")
        self.high_watermark = high
        aborted = sorted(struct.unpack_from(">qq", buf, p + 16 * i)[::-1] for i in range(max(aborted_n, 0)))
        p += 16 * max(aborted_n, 0)
        (size,) = struct.unpack_from(">i", buf, p)
        return self._batches(buf, p + 4, p + 4 + max(size, 0), aborted)

    def _batches(self, buf: bytearray, p: int, end: int, aborted: list) -> Records | None:
        """The records of the complete batches in [p, end); `aborted`: (first offset, producer id) sorted. The
        position moves only once all of them are read: a failure part-way leaves it where this fetch began."""
        first = position = self.position
        parts, starts, meta = [], [], []
        aborting: set[int] = set()
        next_aborted = 0
        while p + BATCH_HEADER_SIZE <= end:
            (base, length, epoch, magic, _, attrs, last_delta, ts0, ts_max, producer, _, _,
             count) = BATCH_HEADER.unpack_from(buf, p)
            stop = p + LOG_OVERHEAD + length
            if stop > end:
                break  # a partial batch at the response's end: fetched again from its start
            if magic != 2:
                raise Unsupported(f"record batch format v{magic}")
            last = base + last_delta
            while next_aborted < len(aborted) and aborted[next_aborted][0] <= last:
                aborting.add(aborted[next_aborted][1])
                next_aborted += 1
            if last >= position:
                if attrs & 0x20:  # a control batch: an abort marker ends its producer's aborted transaction
                    if self._control_type(buf, p) == CONTROL_ABORT:
                        aborting.discard(producer)
                elif not (attrs & 0x10 and producer in aborting):
                    ts_type = 2 if attrs & 0x08 else 1
                    row = (count, base, ts0, ts_max, ts_type, epoch)
                    if attrs & 7:
                        if starts:
                            parts.append(_records(buf, starts, meta))
                            starts, meta = [], []
                        data = decompress(attrs & 7, bytes(buf[p + BATCH_HEADER_SIZE:stop]))
                        one: list = []
                        _walk(data, 0, count, one)
                        parts.append(_records(data, one, [row]))
                    else:
                        _walk(buf, p + BATCH_HEADER_SIZE, count, starts)
                        meta.append(row)
                position = last + 1
            p = stop
        if starts:
            parts.append(_records(buf, starts, meta))
        self.position = position
        if not parts:
            return None
        out = Records.concat(parts)
        if out.offsets[0] < first:  # a compressed batch comes whole, from before the position too
            out = out.filter(out.offsets >= first)
        return out if len(out) else None

    @staticmethod
    def _control_type(buf, p: int) -> int:
        """The type of a control batch's record (its key: version, type)."""
        starts: list = []
        _walk(buf, p + BATCH_HEADER_SIZE, 1, starts)
        data = np.frombuffer(buf, np.uint8)
        pos = np.array(starts, np.int64) + 1
        for _ in range(2):  # timestamp and offset deltas
            pos += _varints(data, pos)[1]
        pos += _varints(data, pos)[1]  # key length
        return int.from_bytes(bytes(buf[int(pos[0]) + 2:int(pos[0]) + 4]), "big", signed=True)
