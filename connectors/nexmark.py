"""nexmark connector: the Nexmark auction stream (persons, auctions, bids), deterministic for a seed and
generated with numpy straight into Arrow buffers. Schema and options follow Flink's Nexmark benchmark:

    event_type INT, person ROW<..>, auction ROW<..>, bid ROW<..>  (one of the three rows is set per event)

Every value of event i is a hash of (seed, i, field), so the stream is the same whatever the batch size or the
position a restored job resumes from. Event time advances by 1/rate seconds per event ('first-event.rate');
events are produced as fast as asked for. Out of every (person + auction + bid proportion) events, the first
`person.proportion` are persons, the next `auction.proportion` auctions, the rest bids. A share of auctions
and bids goes to a few hot sellers, auctions and bidders.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from sqlstream.connectors.base import Source, SplitReader, TableSchema, rows_batch
from sqlstream.connectors.options import Options
from sqlstream.core.errors import OptionError

OPTIONS = ["connector", "first-event.rate", "next-event.rate", "events.num", "person.proportion",
           "auction.proportion", "bid.proportion", "seed", "max-out-of-order", "hot-auction.ratio",
           "hot-bidder.ratio", "hot-seller.ratio", "base-time", "num-in-flight-auctions", "num-active-people"]
FIRST_NAMES = ["Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"]
LAST_NAMES = ["Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"]
FULL_NAMES = pa.array([f"{a} {b}" for a in FIRST_NAMES for b in LAST_NAMES])
CITIES = pa.array(["Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond", "Seattle",
                   "Kent", "Cheyenne"])
STATES = pa.array(["AZ", "CA", "ID", "OR", "WA", "WY"])
CHANNELS = ["Google", "Facebook", "Baidu", "Apple"]
CHANNEL_NAMES = pa.array(CHANNELS + [f"channel-{i:03d}" for i in range(1000)])
FIRST_ID = 1000
# strings are drawn from pools: 65 536 random 8-letter words and the 4-digit numbers, each row one machine word
WORDS = np.random.default_rng(0).integers(97, 123, (1 << 16) * 8, dtype=np.uint8).view(np.uint64)
# bid prices from 100 to 10 million, evenly spread on a log scale
PRICES = (10 ** (2.0 + 5.0 * np.arange(1 << 16) / (1 << 16))).astype(np.int64)
DIGITS4 = np.array([f"{i:04d}" for i in range(10000)], dtype="S4").view(np.uint32)


def _hash(seed: int, idx: np.ndarray, salt: int) -> np.ndarray:
    """splitmix64 of (seed, event index, salt): 64 independent-looking bits per event and salt."""
    x = idx.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + np.uint64((seed * 0x632BE5AB + salt * 0x85157AF5)
                                                                         & 0xFFFFFFFFFFFFFFFF)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


class _Bits:
    """Random values for a set of events: 16-bit word i of an event comes from hash i // 4 of (seed, event,
    salt), so each field draws from its own fixed words whichever other fields are built."""

    def __init__(self, seed: int, idx: np.ndarray, salt: int):
        self.seed, self.idx, self.salt = seed, idx, salt * 64
        self.hashes: dict[int, np.ndarray] = {}

    def word(self, i: int) -> np.ndarray:
        """16 random bits per event (a uint16 view)."""
        h = self.hashes.get(i // 4)
        if h is None:
            h = self.hashes[i // 4] = _hash(self.seed, self.idx, self.salt + i // 4 + 1).view(np.uint16)
        return h.reshape(-1, 4)[:, i % 4]

    def below(self, i: int, m: int) -> np.ndarray:
        """Values in [0, m), m <= 65536."""
        return self.word(i).astype(np.int64) * m >> 16

    def chance(self, i: int, p: float) -> np.ndarray:
        return self.word(i) < p * 65536


def _letters(bits: _Bits, i: int, width: int) -> np.ndarray:
    """A (rows, width) byte matrix of random lowercase words (from word i), width <= 8."""
    return WORDS[bits.word(i)].view(np.uint8).reshape(-1, 8)[:, :width]


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    """A (rows, width) byte matrix: values < 10**width as zero-padded decimal, width <= 4."""
    return DIGITS4[values].view(np.uint8).reshape(-1, 4)[:, 4 - width:]


class _Text:
    """Fixed-width strings: the bytes of their pieces side by side, one row per string. A piece is a byte
    matrix or a constant string."""

    def __init__(self, *pieces):
        k = next(len(p) for p in pieces if not isinstance(p, str))
        widths = [len(p) if isinstance(p, str) else p.shape[1] for p in pieces]
        template = np.zeros(sum(widths), dtype=np.uint8)
        at, fill = 0, []
        for p, w in zip(pieces, widths):
            if isinstance(p, str):
                template[at:at + w] = np.frombuffer(p.encode(), dtype=np.uint8)
            else:
                fill.append((at, w, p))
            at += w
        # the constant pieces copied as whole rows; the varying pieces are written over them
        self.mat = np.tile(template, (k, 1)) if len(fill) < len(pieces) else np.empty((k, len(template)), np.uint8)
        for at, w, p in fill:
            self.mat[:, at:at + w] = p

    def data_and_lengths(self) -> tuple[np.ndarray, np.ndarray]:
        k, width = self.mat.shape
        return self.mat.ravel(), np.full(k, width, dtype=np.int32)


def _pick(words: pa.Array, idx: np.ndarray) -> pa.Array:
    """Strings chosen from a small dictionary."""
    return words.take(pa.array(idx))


def _spread(fields: dict, sel: np.ndarray, n: int) -> pa.StructArray:
    """A struct of n rows whose rows `sel` hold `fields` and the rest are NULL. Fields built for the rows `sel`
    only are spread out: numbers scattered, strings given offsets that make the other rows empty. Fields
    built for all n rows (cheaper when most rows are selected) are used as they are."""
    dense = len(sel) != n and all(len(v) == n if isinstance(v, pa.Array) else
                                  (v.mat if isinstance(v, _Text) else v[0]).shape[0] == n for v in fields.values())
    children = []
    for value in fields.values():
        if isinstance(value, (_Text, pa.StringArray)):
            if dense:
                children.append(value if isinstance(value, pa.Array) else pa.StringArray.from_buffers(
                    n, pa.py_buffer(np.arange(0, (n + 1) * value.mat.shape[1], value.mat.shape[1], dtype=np.int32)),
                    pa.py_buffer(value.mat.ravel())))
                continue
            if isinstance(value, _Text):
                data, lens = value.data_and_lengths()
            else:
                offsets = np.frombuffer(value.buffers()[1], dtype=np.int32)[:len(value) + 1]
                data, lens = value.buffers()[2], np.diff(offsets)
            full = np.zeros(n + 1, dtype=np.int32)
            full[sel + 1] = lens
            np.cumsum(full, out=full)
            children.append(pa.StringArray.from_buffers(n, pa.py_buffer(full), pa.py_buffer(data)))
        else:
            values, arrow_type = value
            if not dense:
                full = np.zeros(n, dtype=np.int64)
                full[sel] = values
                values = full
            children.append(pa.array(values).view(arrow_type))
    missing = np.ones(n, dtype=bool)
    missing[sel] = False
    return pa.StructArray.from_arrays(children, names=list(fields), mask=pa.array(missing))


TS = pa.timestamp("ms")
I64 = pa.int64()


class NexmarkConfig:
    def __init__(self, opts: Options):
        self.rate = float(opts.get("first-event.rate", "10000000"))
        opts.get("next-event.rate")
        self.total = opts.get_int("events.num")
        self.person = opts.get_int("person.proportion", 1)
        self.auction = opts.get_int("auction.proportion", 3)
        self.bid = opts.get_int("bid.proportion", 46)
        self.seed = opts.get_int("seed", 42)
        self.ooo = opts.get_int("max-out-of-order", 0)
        self.hot_auction = float(opts.get("hot-auction.ratio", "0.5"))
        self.hot_bidder = float(opts.get("hot-bidder.ratio", "0.25"))
        self.hot_seller = float(opts.get("hot-seller.ratio", "0.25"))
        self.base = opts.get_int("base-time", 1_700_000_000_000)
        self.in_flight = opts.get_int("num-in-flight-auctions", 100)
        self.active = opts.get_int("num-active-people", 1000)
        if min(self.person, self.auction, self.bid) < 1 or self.rate <= 0:
            raise OptionError("nexmark: proportions must be >= 1 and the event rate > 0")
        if not (1 <= self.in_flight <= 65536 and 1 <= self.active <= 65536 and 0 <= self.ooo < 65536):
            raise OptionError("nexmark: num-in-flight-auctions and num-active-people must be in 1 .. 65536, "
                              "max-out-of-order in 0 .. 65535 ms")
        self.cycle = self.person + self.auction + self.bid


# Each builder returns {field: function making its values}, so only the ROW fields a query reads are made.
def _person(cfg: NexmarkConfig, idx: np.ndarray, ts: np.ndarray, before: np.ndarray) -> dict:
    bits = _Bits(cfg.seed, idx, 1)
    return {
        "id": lambda: (FIRST_ID + before, I64),
        "name": lambda: _pick(FULL_NAMES, bits.below(0, len(FULL_NAMES))),
        "emailAddress": lambda: _Text(_letters(bits, 1, 7), "@", _letters(bits, 2, 5), ".com"),
        "creditCard": lambda: _Text(_digits(bits.below(3, 10000), 4), " ", _digits(bits.below(4, 10000), 4), " ",
                                    _digits(bits.below(5, 10000), 4), " ", _digits(bits.below(6, 10000), 4)),
        "city": lambda: _pick(CITIES, bits.below(7, len(CITIES))),
        "state": lambda: _pick(STATES, bits.below(8, len(STATES))),
        "dateTime": lambda: (ts, TS),
        "extra": lambda: _Text(_letters(bits, 9, 8)),
    }


def _auction(cfg: NexmarkConfig, idx: np.ndarray, ts: np.ndarray, before: np.ndarray,
             persons_before: np.ndarray) -> dict:
    bits = _Bits(cfg.seed, idx, 2)

    def seller():
        last_person = FIRST_ID + np.maximum(persons_before - 1, 0)
        chosen = np.where(bits.chance(0, cfg.hot_seller), (last_person // 100) * 100,
                          last_person - bits.below(1, cfg.active))
        return np.maximum(chosen, FIRST_ID), I64

    def initial():
        return (1 + bits.below(2, 99)) * 100
    return {
        "id": lambda: (FIRST_ID + before, I64),
        "itemName": lambda: _Text(_letters(bits, 3, 7)),
        "description": lambda: _Text(_letters(bits, 4, 5), _letters(bits, 5, 5)),
        "initialBid": lambda: (initial(), I64),
        "reserve": lambda: (initial() + (1 + bits.below(6, 49)) * 100, I64),
        "dateTime": lambda: (ts, TS),
        "expires": lambda: (ts + 10_000 + bits.below(7, 50_000), TS),
        "seller": seller,
        "category": lambda: (10 + bits.below(8, 5), I64),
        "extra": lambda: _Text(_letters(bits, 9, 8)),
    }


def _bid(cfg: NexmarkConfig, idx: np.ndarray, ts: np.ndarray, auctions_before: np.ndarray,
         persons_before: np.ndarray) -> dict:
    bits = _Bits(cfg.seed, idx, 3)

    def auction():
        last = FIRST_ID + np.maximum(auctions_before - 1, 0)
        chosen = np.where(bits.chance(0, cfg.hot_auction), (last // 100) * 100, last - bits.below(1, cfg.in_flight))
        return np.maximum(chosen, FIRST_ID), I64

    def bidder():
        last = FIRST_ID + np.maximum(persons_before - 1, 0)
        chosen = np.where(bits.chance(2, cfg.hot_bidder), (last // 100) * 100 + 1, last - bits.below(3, cfg.active))
        return np.maximum(chosen, FIRST_ID), I64

    def channel():
        # one bid in five comes through one of 1000 numbered channels, the rest through the four named ones
        chan = bits.below(5, len(CHANNELS) + 1)
        return _pick(CHANNEL_NAMES, np.where(chan == len(CHANNELS), len(CHANNELS) + bits.below(6, 1000), chan))
    return {
        "auction": auction,
        "bidder": bidder,
        "price": lambda: (PRICES[bits.word(4)], I64),
        "channel": channel,
        "url": lambda: _Text("https://www.nexmark.com/", _letters(bits, 7, 4), "/", _letters(bits, 8, 5),
                             "/item.htm?query=1&channel_id=", _digits(bits.below(6, 1000), 3)),
        "dateTime": lambda: (ts, TS),
        "extra": lambda: _Text(_letters(bits, 9, 8)),
    }


FIELDS = {"person": ["id", "name", "emailAddress", "creditCard", "city", "state", "dateTime", "extra"],
          "auction": ["id", "itemName", "description", "initialBid", "reserve", "dateTime", "expires", "seller",
                      "category", "extra"],
          "bid": ["auction", "bidder", "price", "channel", "url", "dateTime", "extra"]}


def generate(cfg: NexmarkConfig, start: int, n: int, names: list[str],
             fields: dict[str, list[str]] | None = None) -> pa.RecordBatch:
    """Events start .. start+n-1; each event type's fields are built for its own rows only, and only for the
    columns asked for (and of a ROW column, only the `fields` named for it)."""
    idx = np.arange(start, start + n, dtype=np.int64)
    cycle, pos = np.divmod(idx, cfg.cycle)
    etype = (pos >= cfg.person).astype(np.int32) + (pos >= cfg.person + cfg.auction)
    ts = cfg.base + (idx * 1000 / cfg.rate).astype(np.int64)
    if cfg.ooo:
        ts = ts - _Bits(cfg.seed, idx, 0).below(0, cfg.ooo + 1)
    cols = {"event_type": pa.array(etype)}
    wanted = [t for t, name in enumerate(("person", "auction", "bid")) if name in names]
    for t in wanted:
        sel = np.flatnonzero(etype == t)
        # bids are most events: build them for every row rather than gather and scatter
        rows = slice(None) if t == 2 else sel
        c, p = cycle[rows], pos[rows]
        persons_before = c * cfg.person + np.minimum(p, cfg.person)
        if t == 0:
            builders = _person(cfg, idx[rows], ts[rows], persons_before)
        else:
            auctions_before = c * cfg.auction + np.clip(p - cfg.person, 0, cfg.auction)
            make = _auction if t == 1 else _bid
            builders = make(cfg, idx[rows], ts[rows], auctions_before, persons_before)
        name = ("person", "auction", "bid")[t]
        chosen = (fields or {}).get(name) or list(builders)
        cols[name] = _spread({f: builders[f]() for f in chosen}, sel, n)
    return rows_batch([cols[c] for c in names], names, n)


class NexmarkReader(SplitReader):
    def __init__(self, cfg: NexmarkConfig, schema: TableSchema, position=None):
        self.cfg, self.schema = cfg, schema
        # the fields of each ROW column the table (or, after pruning, the query) reads
        self.fields = {n: list(t.field_names) for n, t in zip(schema.names, schema.types) if t.name == "ROW"}
        self.next = int(position or 0)
        self.finished = cfg.total is not None and self.next >= cfg.total

    def poll(self, max_rows: int) -> pa.RecordBatch | None:
        if self.finished:
            return None
        n = max_rows if self.cfg.total is None else min(max_rows, self.cfg.total - self.next)
        batch = generate(self.cfg, self.next, n, self.schema.names, self.fields)
        types = [t.to_arrow() for t in self.schema.types]
        batch = rows_batch([c.cast(t) if c.type != t else c for c, t in zip(batch.columns, types)],
                           self.schema.names, n)
        self.next += n
        if self.cfg.total is not None and self.next >= self.cfg.total:
            self.finished = True
        return batch

    def position(self):
        return self.next


class NexmarkSource(Source):
    indexed = True

    def __init__(self, cfg: NexmarkConfig, schema: TableSchema):
        self.cfg, self.schema = cfg, schema
        self.bounded = cfg.total is not None

    def reader(self, split: str, position=None) -> SplitReader:
        return NexmarkReader(self.cfg, self.schema, position)


def create_source(table: str, options: dict, schema: TableSchema) -> Source:
    opts = Options(table, "nexmark", options, OPTIONS)
    cfg = NexmarkConfig(opts)
    opts.get("seed")
    opts.finish()
    unknown = [n for n in schema.names if n not in ("event_type", "person", "auction", "bid")]
    if unknown:
        raise OptionError(f"Table '{table}': the nexmark connector produces event_type, person, auction and bid; "
                          f"unknown column(s) {', '.join(unknown)}")
    for name, t in zip(schema.names, schema.types):
        if name != "event_type":
            known = list(FIELDS[name])
            bad = [f for f in t.field_names if f not in known] if t.name == "ROW" else [str(t)]
            if bad:
                raise OptionError(f"Table '{table}': nexmark column {name} is ROW<{', '.join(known)}> (or some of "
                                  f"these fields); not {', '.join(bad)}")
    return NexmarkSource(cfg, schema)
