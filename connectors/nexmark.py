"""nexmark connector: the Nexmark auction stream (persons, auctions, bids) generated with numpy, one Arrow
batch at a time, deterministic for a seed. Schema and options follow Flink's Nexmark benchmark:

    event_type INT, person ROW<..>, auction ROW<..>, bid ROW<..>  (one of the three rows is set per event)

Event time advances by 1/rate seconds per event ('first-event.rate'); events are produced as fast as asked
for. Out of every (person + auction + bid proportion) events, the first `person.proportion` are persons, the
next `auction.proportion` auctions, the rest bids. A share of bids goes to a few hot auctions and bidders.
"""
from __future__ import annotations

import string

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from connectors.base import Source, SplitReader, TableSchema
from connectors.options import Options
from sqlstream.errors import OptionError

OPTIONS = ["connector", "first-event.rate", "next-event.rate", "events.num", "person.proportion",
           "auction.proportion", "bid.proportion", "seed", "max-out-of-order", "hot-auction.ratio",
           "hot-bidder.ratio", "hot-seller.ratio", "base-time", "num-in-flight-auctions", "num-active-people"]
FIRST_NAMES = ["Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"]
LAST_NAMES = ["Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"]
CITIES = ["Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond", "Seattle", "Kent",
          "Cheyenne"]
STATES = ["AZ", "CA", "ID", "OR", "WA", "WY"]
CHANNELS = ["Google", "Facebook", "Baidu", "Apple"]
FIRST_ID = 1000
LETTERS = np.frombuffer(string.ascii_lowercase.encode(), dtype=np.uint8)


def _letters(rng: np.random.Generator, n: int, length: int) -> pa.Array:
    raw = LETTERS[rng.integers(0, 26, n * length)]
    offsets = np.arange(0, (n + 1) * length, length, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(raw.tobytes()))


def _pick(rng: np.random.Generator, words: list[str], n: int) -> pa.Array:
    return pa.array(words).take(pa.array(rng.integers(0, len(words), n)))


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
        self.cycle = self.person + self.auction + self.bid


def _spread(struct: pa.StructArray, sel: np.ndarray, n: int) -> pa.Array:
    """A struct built for the rows `sel` only, placed at those rows of an n-row column (NULL elsewhere)."""
    idx = np.zeros(n, dtype=np.int64)
    idx[sel] = np.arange(len(sel))
    missing = np.ones(n, dtype=bool)
    missing[sel] = False
    return struct.take(pa.array(idx, mask=missing))


def generate(cfg: NexmarkConfig, start: int, n: int, names: list[str]) -> pa.RecordBatch:
    """Events start .. start+n-1 (vectorized); each event type's fields are built for its own rows only."""
    rng = np.random.default_rng([cfg.seed, start])
    idx = np.arange(start, start + n, dtype=np.int64)
    cycle, pos = idx // cfg.cycle, idx % cfg.cycle
    etype = np.where(pos < cfg.person, 0, np.where(pos < cfg.person + cfg.auction, 1, 2)).astype(np.int32)
    ts = cfg.base + (idx * 1000 / cfg.rate).astype(np.int64)
    if cfg.ooo:
        ts = ts - rng.integers(0, cfg.ooo + 1, n)
    persons_before = cycle * cfg.person + np.minimum(pos, cfg.person)
    auctions_before = cycle * cfg.auction + np.clip(pos - cfg.person, 0, cfg.auction)
    cols = {"event_type": pa.array(etype)}
    if "person" in names:
        sel = np.flatnonzero(etype == 0)
        k = len(sel)
        name = pc.binary_join_element_wise(_pick(rng, FIRST_NAMES, k), _pick(rng, LAST_NAMES, k), " ")
        email = pc.binary_join_element_wise(_letters(rng, k, 7), _letters(rng, k, 5), "@")
        card = pc.binary_join_element_wise(*[pc.utf8_lpad(pc.cast(pa.array(rng.integers(0, 10000, k)),
                                                                   pa.string()), 4, "0") for _ in range(4)], " ")
        fields = [pa.array(FIRST_ID + persons_before[sel]), name, pc.binary_join_element_wise(email, ".com", ""),
                  card, _pick(rng, CITIES, k), _pick(rng, STATES, k), pa.array(ts[sel]).cast(pa.timestamp("ms")),
                  _letters(rng, k, 8)]
        cols["person"] = _spread(pa.StructArray.from_arrays(
            fields, names=["id", "name", "emailAddress", "creditCard", "city", "state", "dateTime", "extra"]), sel, n)
    if "auction" in names:
        sel = np.flatnonzero(etype == 1)
        k = len(sel)
        last_person = FIRST_ID + np.maximum(persons_before[sel] - 1, 0)
        hot = rng.random(k) < cfg.hot_seller
        seller = np.where(hot, (last_person // 100) * 100, last_person - rng.integers(0, cfg.active, k))
        initial = rng.integers(1, 100, k) * 100
        t = ts[sel]
        fields = [pa.array(FIRST_ID + auctions_before[sel]), _letters(rng, k, 7), _letters(rng, k, 10),
                  pa.array(initial), pa.array(initial + rng.integers(1, 50, k) * 100),
                  pa.array(t).cast(pa.timestamp("ms")),
                  pa.array(t + rng.integers(10_000, 60_000, k)).cast(pa.timestamp("ms")),
                  pa.array(np.maximum(seller, FIRST_ID)), pa.array(10 + rng.integers(0, 5, k)), _letters(rng, k, 8)]
        cols["auction"] = _spread(pa.StructArray.from_arrays(
            fields, names=["id", "itemName", "description", "initialBid", "reserve", "dateTime", "expires", "seller",
                           "category", "extra"]), sel, n)
    if "bid" in names:
        sel = np.flatnonzero(etype == 2)
        k = len(sel)
        last_auction = FIRST_ID + np.maximum(auctions_before[sel] - 1, 0)
        last_person = FIRST_ID + np.maximum(persons_before[sel] - 1, 0)
        hot_a = rng.random(k) < cfg.hot_auction
        auction = np.where(hot_a, (last_auction // 100) * 100, last_auction - rng.integers(0, cfg.in_flight, k))
        hot_b = rng.random(k) < cfg.hot_bidder
        bidder = np.where(hot_b, (last_person // 100) * 100 + 1, last_person - rng.integers(0, cfg.active, k))
        price = (10 ** (2.0 + 5.0 * rng.random(k))).astype(np.int64)
        chan_idx = rng.integers(0, len(CHANNELS) + 1, k)
        channel = pa.array(CHANNELS + ["channel-"]).take(pa.array(chan_idx))
        channel_id = pc.cast(pa.array(rng.integers(0, 1000, k)), pa.string())
        other = pa.array(chan_idx == len(CHANNELS))
        channel = pc.if_else(other, pc.binary_join_element_wise(channel, channel_id, ""), channel)
        url = pc.binary_join_element_wise("https://www.nexmark.com/", _letters(rng, k, 4), "/", _letters(rng, k, 5),
                                          "/item.htm?query=1", "")
        url = pc.if_else(other, pc.binary_join_element_wise(url, "&channel_id=", channel_id, ""), url)
        fields = [pa.array(np.maximum(auction, FIRST_ID)), pa.array(np.maximum(bidder, FIRST_ID)), pa.array(price),
                  channel, url, pa.array(ts[sel]).cast(pa.timestamp("ms")), _letters(rng, k, 8)]
        cols["bid"] = _spread(pa.StructArray.from_arrays(
            fields, names=["auction", "bidder", "price", "channel", "url", "dateTime", "extra"]), sel, n)
    return pa.RecordBatch.from_arrays([cols[c] for c in names], names=names)


class NexmarkReader(SplitReader):
    def __init__(self, cfg: NexmarkConfig, schema: TableSchema, position=None):
        self.cfg, self.schema = cfg, schema
        self.next = int(position or 0)
        self.finished = cfg.total is not None and self.next >= cfg.total

    def poll(self, max_rows: int) -> pa.RecordBatch | None:
        if self.finished:
            return None
        n = max_rows if self.cfg.total is None else min(max_rows, self.cfg.total - self.next)
        batch = generate(self.cfg, self.next, n, self.schema.names)
        types = [t.to_arrow() for t in self.schema.types]
        batch = pa.RecordBatch.from_arrays([c.cast(t) if c.type != t else c for c, t in zip(batch.columns, types)],
                                           names=self.schema.names)
        self.next += n
        if self.cfg.total is not None and self.next >= self.cfg.total:
            self.finished = True
        return batch

    def position(self):
        return self.next


class NexmarkSource(Source):
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
    return NexmarkSource(cfg, schema)
