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
    return _mix(idx.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15), seed, salt)


def _mix(scaled: np.ndarray, seed: int, salt: int) -> np.ndarray:
    """splitmix64's finish of (event index * golden gamma) for (seed, salt), in place of a fresh copy."""
    x = scaled + np.uint64((seed * 0x632BE5AB + salt * 0x85157AF5) & 0xFFFFFFFFFFFFFFFF)
    t = x >> np.uint64(30)
    x ^= t
    x *= np.uint64(0xBF58476D1CE4E5B9)
    np.right_shift(x, np.uint64(27), out=t)
    x ^= t
    x *= np.uint64(0x94D049BB133111EB)
    np.right_shift(x, np.uint64(31), out=t)
    x ^= t
    return x


class _Bits:
    """Random values for a set of events: 16-bit word i of an event comes from hash i // 4 of (seed, event,
    salt), so each field draws from its own fixed words whichever other fields are built. `scaled` is the
    events' indexes times splitmix64's gamma when the caller has it."""

    def __init__(self, seed: int, idx: np.ndarray, salt: int, scaled: np.ndarray | None = None):
        self.seed, self.idx, self.salt = seed, idx, salt * 64
        self.scaled = scaled
        self.hashes: dict[int, np.ndarray] = {}

    def word(self, i: int) -> np.ndarray:
        """16 random bits per event (a uint16 view)."""
        h = self.hashes.get(i // 4)
        if h is None:
            salt = self.salt + i // 4 + 1
            h = _hash(self.seed, self.idx, salt) if self.scaled is None else _mix(self.scaled, self.seed, salt)
            h = self.hashes[i // 4] = h.view(np.uint16)
        return h.reshape(-1, 4)[:, i % 4]

    def below(self, i: int, m: int) -> np.ndarray:
        """Values in [0, m), m <= 65536."""
        v = self.word(i).astype(np.int64)
        v *= m
        v >>= 16
        return v

    def chance(self, i: int, p: float) -> np.ndarray:
        return self.word(i) < p * 65536


def _letters(bits: _Bits, i: int, width: int) -> np.ndarray:
    """A (rows, width) byte matrix of random lowercase words (from word i), width <= 8."""
    return np.take(WORDS, bits.word(i)).view(np.uint8).reshape(-1, 8)[:, :width]


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    """A (rows, width) byte matrix: values < 10**width as zero-padded decimal, width <= 4."""
    return np.take(DIGITS4, values).view(np.uint8).reshape(-1, 4)[:, 4 - width:]


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
        if len(pieces) == 1 and not isinstance(pieces[0], str) and pieces[0].flags.c_contiguous:
            self.mat = pieces[0]  # one piece, already a whole row per string
            return
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


def _spread(fields: dict, sel: np.ndarray, n: int, present: np.ndarray) -> pa.StructArray:
    """A struct of n rows whose rows `sel` (where `present`) hold `fields` and the rest are NULL. A field built for
    the rows `sel` only is spread out: numbers scattered, strings given offsets that make the other rows empty.
    A field built for all n rows (cheaper when most rows are selected) is used as it is."""
    children = []
    for value in fields.values():
        if isinstance(value, (_Text, pa.StringArray)):
            rows = len(value) if isinstance(value, pa.Array) else value.mat.shape[0]
            if rows == n:
                children.append(value if isinstance(value, pa.Array) else pa.StringArray.from_buffers(
                    n, pa.py_buffer(_offsets(n, value.mat.shape[1])), pa.py_buffer(value.mat.ravel())))
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
            if len(values) != n:
                full = np.zeros(n, dtype=np.int64)
                full[sel] = values
                values = full
            children.append(pa.array(values).view(arrow_type))
    validity = pa.py_buffer(np.packbits(present, bitorder="little"))  # far cheaper than pa.array of the bools
    struct = pa.struct([pa.field(name, child.type) for name, child in zip(fields, children)])
    return pa.StructArray.from_buffers(struct, n, [validity], null_count=n - len(sel), children=children)


_OFFSETS: dict[tuple[int, int], np.ndarray] = {}


def _offsets(n: int, width: int) -> np.ndarray:
    """String offsets of n strings of `width` bytes each (kept: every batch of a size has the same)."""
    key = (n, width)
    if key not in _OFFSETS:
        if len(_OFFSETS) > 64:
            _OFFSETS.clear()
        _OFFSETS[key] = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    return _OFFSETS[key]


class _Layout:
    """What repeats with every cycle of (person + auction + bid proportion) events, for batches of up to
    `size` events: the event type, each type's rows, the persons and auctions before each event and the index
    times splitmix64's gamma, counted from the start of a cycle. A batch starting at event s reads them from
    offset s % cycle and adds what the cycles before s contribute."""

    def __init__(self, cfg: NexmarkConfig, size: int):
        self.size = size
        span = np.arange(size + cfg.cycle, dtype=np.int64)
        cycle, pos = np.divmod(span, cfg.cycle)
        self.etype = (pos >= cfg.person).astype(np.int32) + (pos >= cfg.person + cfg.auction)
        self.rows = [np.flatnonzero(self.etype == t) for t in range(3)]
        self.present = [self.etype == t for t in range(3)]
        self.persons_before = cycle * cfg.person + np.minimum(pos, cfg.person)
        self.auctions_before = cycle * cfg.auction + np.clip(pos - cfg.person, 0, cfg.auction)
        self.scaled = span.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)

    @staticmethod
    def of(cfg: NexmarkConfig, n: int) -> "_Layout":
        layout = cfg.layout
        if layout is None or layout.size < n:
            layout = cfg.layout = _Layout(cfg, max(n, 1024))
        return layout

    def sel(self, t: int, offset: int, n: int) -> np.ndarray:
        """The rows of event type t in the batch of n events whose first event is at `offset` in its cycle."""
        rows = self.rows[t]
        return rows[np.searchsorted(rows, offset):np.searchsorted(rows, offset + n)] - offset


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
        self.layout: _Layout | None = None  # made for the first batch


# Each builder returns {field: function making its values}, so only the ROW fields a query reads are made.
# `ts` is the event time of the builder's rows, `every_ts` that of all the batch's events (the dateTime field
# is used as it is rather than spread out).
def _person(cfg: NexmarkConfig, bits: _Bits, ts: np.ndarray, every_ts: np.ndarray, before: np.ndarray) -> dict:
    return {
        "id": lambda: (FIRST_ID + before, I64),
        "name": lambda: _pick(FULL_NAMES, bits.below(0, len(FULL_NAMES))),
        "emailAddress": lambda: _Text(_letters(bits, 1, 7), "@", _letters(bits, 2, 5), ".com"),
        "creditCard": lambda: _Text(_digits(bits.below(3, 10000), 4), " ", _digits(bits.below(4, 10000), 4), " ",
                                    _digits(bits.below(5, 10000), 4), " ", _digits(bits.below(6, 10000), 4)),
        "city": lambda: _pick(CITIES, bits.below(7, len(CITIES))),
        "state": lambda: _pick(STATES, bits.below(8, len(STATES))),
        "dateTime": lambda: (every_ts, TS),
        "extra": lambda: _Text(_letters(bits, 9, 8)),
    }


def _auction(cfg: NexmarkConfig, bits: _Bits, ts: np.ndarray, every_ts: np.ndarray, before: np.ndarray,
             persons_before: np.ndarray) -> dict:
    def seller():
        last_person = FIRST_ID + np.maximum(persons_before - 1, 0)
        return _hot_or(bits.chance(0, cfg.hot_seller), (last_person // 100) * 100,
                       last_person - bits.below(1, cfg.active)), I64

    def initial():
        return (1 + bits.below(2, 99)) * 100
    return {
        "id": lambda: (FIRST_ID + before, I64),
        "itemName": lambda: _Text(_letters(bits, 3, 7)),
        "description": lambda: _Text(_letters(bits, 4, 5), _letters(bits, 5, 5)),
        "initialBid": lambda: (initial(), I64),
        "reserve": lambda: (initial() + (1 + bits.below(6, 49)) * 100, I64),
        "dateTime": lambda: (every_ts, TS),
        "expires": lambda: (ts + 10_000 + bits.below(7, 50_000), TS),
        "seller": seller,
        "category": lambda: (10 + bits.below(8, 5), I64),
        "extra": lambda: _Text(_letters(bits, 9, 8)),
    }


def _bid(cfg: NexmarkConfig, bits: _Bits, ts: np.ndarray, every_ts: np.ndarray, auctions_before: np.ndarray,
         persons_before: np.ndarray) -> dict:
    def auction():
        last = FIRST_ID + np.maximum(auctions_before - 1, 0)
        return _hot_or(bits.chance(0, cfg.hot_auction), (last // 100) * 100,
                       last - bits.below(1, cfg.in_flight)), I64

    def bidder():
        last = FIRST_ID + np.maximum(persons_before - 1, 0)
        return _hot_or(bits.chance(2, cfg.hot_bidder), (last // 100) * 100 + 1,
                       last - bits.below(3, cfg.active)), I64

    def channel():
        # one bid in five comes through one of 1000 numbered channels, the rest through the four named ones
        chan = bits.below(5, len(CHANNELS) + 1)
        return _pick(CHANNEL_NAMES, np.where(chan == len(CHANNELS), len(CHANNELS) + bits.below(6, 1000), chan))
    return {
        "auction": auction,
        "bidder": bidder,
        "price": lambda: (np.take(PRICES, bits.word(4)), I64),
        "channel": channel,
        "url": lambda: _Text("https://www.nexmark.com/", _letters(bits, 7, 4), "/", _letters(bits, 8, 5),
                             "/item.htm?query=1&channel_id=", _digits(bits.below(6, 1000), 3)),
        "dateTime": lambda: (every_ts, TS),
        "extra": lambda: _Text(_letters(bits, 9, 8)),
    }


def _hot_or(hot: np.ndarray, hot_ids: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """hot_ids where `hot`, else ids, at least FIRST_ID (arithmetic: a random mask makes np.where branch)."""
    hot_ids -= ids
    hot_ids *= hot
    ids += hot_ids
    return np.maximum(ids, FIRST_ID, out=ids)


FIELDS = {"person": ["id", "name", "emailAddress", "creditCard", "city", "state", "dateTime", "extra"],
          "auction": ["id", "itemName", "description", "initialBid", "reserve", "dateTime", "expires", "seller",
                      "category", "extra"],
          "bid": ["auction", "bidder", "price", "channel", "url", "dateTime", "extra"]}


def generate(cfg: NexmarkConfig, start: int, n: int, names: list[str],
             fields: dict[str, list[str]] | None = None) -> pa.RecordBatch:
    """Events start .. start+n-1; each event type's fields are built for its own rows only, and only for the
    columns asked for (and of a ROW column, only the `fields` named for it)."""
    layout = _Layout.of(cfg, n)
    at, first_cycle = start % cfg.cycle, start // cfg.cycle
    span = slice(at, at + n)
    idx = np.arange(start, start + n, dtype=np.int64)
    ts = _event_times(cfg, idx)
    if cfg.ooo:
        ts -= _Bits(cfg.seed, idx, 0).below(0, cfg.ooo + 1)
    cols = {"event_type": pa.array(layout.etype[span])}
    wanted = [t for t, name in enumerate(("person", "auction", "bid")) if name in names]
    scaled = None
    for t in wanted:
        sel = layout.sel(t, at, n)
        # bids are most events: build them for every row rather than gather and scatter
        rows = slice(None) if t == 2 else sel
        persons_before = layout.persons_before[span][rows] + first_cycle * cfg.person
        if t == 2:
            if scaled is None:
                scaled = layout.scaled[:n] + np.uint64(start * 0x9E3779B97F4A7C15 & 0xFFFFFFFFFFFFFFFF)
            bits = _Bits(cfg.seed, idx, 3, scaled)
        else:
            bits = _Bits(cfg.seed, idx[sel], t + 1)
        if t == 0:
            builders = _person(cfg, bits, ts[rows], ts, persons_before)
        else:
            auctions_before = layout.auctions_before[span][rows] + first_cycle * cfg.auction
            make = _auction if t == 1 else _bid
            builders = make(cfg, bits, ts[rows], ts, auctions_before, persons_before)
        name = ("person", "auction", "bid")[t]
        chosen = (fields or {}).get(name) or list(builders)
        cols[name] = _spread({f: builders[f]() for f in chosen}, sel, n, layout.present[t][span])
    return rows_batch([cols[c] for c in names], names, n)


def _event_times(cfg: NexmarkConfig, idx: np.ndarray) -> np.ndarray:
    """Event time of each event (epoch ms): base time + index * 1000 / rate, truncated. With a whole rate and
    index * 1000 below 2**53 the integer quotient is the same number, and cheaper."""
    rate = cfg.rate
    if rate == int(rate) and len(idx) and (int(idx[-1]) + 1) * 1000 + rate < 2 ** 53:
        ts = idx * 1000
        ts //= int(rate)
    else:
        ts = (idx * 1000 / rate).astype(np.int64)
    ts += cfg.base
    return ts


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
