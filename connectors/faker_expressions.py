"""Java Faker expressions (`#{Name.fullName}`, `#{number.numberBetween '0','100'}`, `#{regexify '(a|b){1}'}` ..)
evaluated for a whole block of rows at once.

An expression is a template: literal text with `#{provider.method 'arg', ..}` placeholders. Each placeholder is
looked up in EXPRESSIONS (case and underscores do not matter, as in Java Faker, which also accepts its YAML keys
such as `harry_potter.characters`) and yields one Arrow array for all rows: numbers and dates from numpy,
picks from word lists by random index, values of the Python `faker` library from a seeded pool of its values.
An expression that is not in the table is an error naming it.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.connectors import faker_words as W
from sqlstream.core.errors import OptionError

POOL = 1024  # distinct values drawn from the Python faker library per placeholder


@dataclass(frozen=True)
class Placeholder:
    name: str  # as written, for messages
    key: str  # normalized: lower case, no underscores
    args: tuple[str, ...]


def normalize(name: str) -> str:
    return name.replace("_", "").lower()


# ---- parsing -----------------------------------------------------------------------------------------------
def parse_template(text: str) -> list[str | Placeholder]:
    """Literal strings and placeholders, in order. Quotes inside a placeholder protect `}` (regexify patterns)."""
    parts: list[str | Placeholder] = []
    i, lit = 0, []
    while i < len(text):
        if text.startswith("#{", i):
            if lit:
                parts.append("".join(lit))
                lit = []
            ph, i = _parse_placeholder(text, i + 2)
            parts.append(ph)
        else:
            lit.append(text[i])
            i += 1
    if lit:
        parts.append("".join(lit))
    return parts


def _parse_placeholder(text: str, i: int) -> tuple[Placeholder, int]:
    m = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_.]*)").match(text, i)
    if not m:
        raise OptionError(f"Invalid faker expression '{text}': expected a name after '#{{'")
    name, i = m.group(1), m.end()
    args: list[str] = []
    while i < len(text):
        c = text[i]
        if c == "}":
            return Placeholder(name, normalize(name), tuple(args)), i + 1
        if c == "'":
            end = text.find("'", i + 1)
            if end < 0:
                break
            args.append(text[i + 1:end])
            i = end + 1
        elif c in " ,)\t":
            i += 1
        else:
            m = re.compile(r"[^\s,)}']+").match(text, i)
            args.append(m.group(0))
            i = m.end()
    raise OptionError(f"Invalid faker expression '{text}': '#{{{name}' is not closed with '}}'")


# ---- generators: (rng, n, args) -> pa.Array ----------------------------------------------------------------
Gen = Callable[[np.random.Generator, int, tuple], pa.Array]


def _choice(words) -> Gen:
    values = pa.array(list(words), pa.string())
    return lambda rng, n, args: values.take(pa.array(rng.integers(0, len(values), n)))


def _args(args: tuple, name: str, counts: tuple[int, ...]) -> None:
    if len(args) not in counts:
        raise OptionError(f"Faker expression '{name}' takes {' or '.join(map(str, counts))} argument(s), got "
                          f"{len(args)}")


def _number_between(rng, n, args):
    _args(args, "number.numberBetween", (2,))
    lo, hi = int(args[0]), int(args[1])
    if hi <= lo:
        return pa.array(np.full(n, lo, dtype=np.int64))
    return pa.array(rng.integers(lo, hi, n, dtype=np.int64))  # Java Faker: max is exclusive


def _random_double(rng, n, args):
    _args(args, "number.randomDouble", (3,))
    decimals, lo, hi = int(args[0]), float(args[1]), float(args[2])
    return pa.array(np.round(lo + (hi - lo) * rng.random(n), decimals))


def _random_number(rng, n, args):
    digits = int(args[0]) if args else 9
    return pa.array(rng.integers(0, 10 ** min(digits, 18), n, dtype=np.int64))


def _random_digit(rng, n, args):
    return pa.array(rng.integers(0, 10, n, dtype=np.int64))


UNIT_MS = {"NANOSECONDS": 1e-6, "MICROSECONDS": 1e-3, "MILLISECONDS": 1, "SECONDS": 1000, "MINUTES": 60_000,
           "HOURS": 3_600_000, "DAYS": 86_400_000}


def _span_ms(args: tuple, name: str) -> tuple[int, int]:
    """(at most, at least) milliseconds of `date.past|future 'atMost', ['minimum',] 'UNIT'`."""
    _args(args, name, (2, 3))
    unit = args[-1].upper()
    if unit not in UNIT_MS:
        raise OptionError(f"Faker expression '{name}': unknown time unit '{args[-1]}' (one of "
                          f"{', '.join(UNIT_MS)})")
    most = int(float(args[0]) * UNIT_MS[unit])
    least = int(float(args[1]) * UNIT_MS[unit]) if len(args) == 3 else 0
    return most, least


def _date(sign: int, name: str) -> Gen:
    def gen(rng, n, args):
        most, least = _span_ms(args, name)
        now = int(time.time() * 1000)
        offsets = rng.integers(least, max(most, least + 1), n, dtype=np.int64)
        return pa.array(now + sign * offsets).cast(pa.timestamp("ms"))
    return gen


def _birthday(rng, n, args):
    lo, hi = (int(args[0]), int(args[1])) if len(args) == 2 else (18, 65)
    today = int(time.time() // 86400)
    days = rng.integers(lo * 365, hi * 365 + 1, n)
    return pa.array((today - days).astype(np.int32)).cast(pa.date32())


def _option(rng, n, args):
    if not args:
        raise OptionError("Faker expression 'Options.option' needs at least one option")
    return _choice(args)(rng, n, args)


def _bool(rng, n, args):
    return pa.array(rng.integers(0, 2, n).astype(bool))


def _uuid(rng, n, args):
    """Random (version 4) UUIDs, formatted without a per-row Python call."""
    raw = rng.integers(0, 256, (n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    hexes = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    chars = np.empty((n, 36), dtype=np.uint8)
    pos = [i for i in range(36) if i not in (8, 13, 18, 23)]
    chars[:, [8, 13, 18, 23]] = ord("-")
    chars[:, pos[0::2]] = hexes[raw >> 4]
    chars[:, pos[1::2]] = hexes[raw & 0x0F]
    offsets = np.arange(0, 36 * (n + 1), 36, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(chars.tobytes()))


def _public_ipv4(rng, n, args):
    """Addresses outside the private, loopback, link-local and multicast ranges."""
    a = rng.integers(1, 224, n)
    a = np.where(np.isin(a, [10, 127]), a + 1, a)
    b, c, d = (rng.integers(0, 256, n) for _ in range(3))
    b = np.where((a == 172) & (b >= 16) & (b < 32), b + 16, b)
    b = np.where((a == 192) & (b == 168), 169, b)
    b = np.where((a == 169) & (b == 254), 253, b)
    parts = [pc.cast(pa.array(x), pa.string()) for x in (a, b, c, d)]
    return pc.binary_join_element_wise(*parts, ".")


def _ipv4(rng, n, args):
    parts = [pc.cast(pa.array(rng.integers(lo, 256, n)), pa.string()) for lo in (1, 0, 0, 0)]
    return pc.binary_join_element_wise(*parts, ".")


def _join(*gens: Gen, sep: str = " ") -> Gen:
    return lambda rng, n, args: pc.binary_join_element_wise(*[g(rng, n, ()) for g in gens], sep)


def _python_faker(method: str, *call_args) -> Gen:
    """Values of the Python faker library: a seeded pool drawn once per placeholder, then picked by index."""
    def gen(rng, n, args):
        from faker import Faker
        f = Faker("en_US")
        f.seed_instance(int(rng.integers(0, 2 ** 31)))
        pool = pa.array([str(getattr(f, method)(*call_args)) for _ in range(POOL)], pa.string())
        return pool.take(pa.array(rng.integers(0, POOL, n)))
    gen.faker_method = method
    return gen


def _weighted_words(words) -> list[str]:
    return list(words.keys()) if hasattr(words, "keys") else list(words)


def _person_names():
    from faker.providers.person.en_US import Provider
    return _weighted_words(Provider.first_names), _weighted_words(Provider.last_names)


def _first_name(rng, n, args):
    return _choice(_person_names()[0])(rng, n, args)


def _last_name(rng, n, args):
    return _choice(_person_names()[1])(rng, n, args)


def _city(rng, n, args):
    from faker.providers.address.en_US import Provider
    firsts, lasts = _person_names()
    prefix = _choice(Provider.city_prefixes)(rng, n, args)
    suffix = _choice(Provider.city_suffixes)(rng, n, args)
    first = _choice(firsts)(rng, n, args)
    last = _choice(lasts)(rng, n, args)
    form = rng.integers(0, 4, n)
    forms = [pc.binary_join_element_wise(prefix, pc.binary_join_element_wise(first, suffix, ""), " "),
             pc.binary_join_element_wise(prefix, first, " "),
             pc.binary_join_element_wise(first, suffix, ""),
             pc.binary_join_element_wise(last, suffix, "")]
    return pc.choose(pa.array(form), *forms)


def _street_address(rng, n, args):
    from faker.providers.address.en_US import Provider
    number = pc.cast(pa.array(rng.integers(1, 100000, n)), pa.string())
    street = pc.binary_join_element_wise(_last_name(rng, n, args), _choice(Provider.street_suffixes)(rng, n, args),
                                         " ")
    return pc.binary_join_element_wise(number, street, " ")


def _zip(rng, n, args):
    return pc.utf8_lpad(pc.cast(pa.array(rng.integers(501, 99951, n)), pa.string()), 5, "0")


def _full_address(rng, n, args):
    from faker.providers.address.en_US import Provider
    region = pc.binary_join_element_wise(_choice(Provider.states_abbr)(rng, n, args), _zip(rng, n, args), " ")
    return pc.binary_join_element_wise(_street_address(rng, n, args), _city(rng, n, args), region, ", ")


def _currency_code(rng, n, args):
    from faker.providers.currency import Provider
    return _choice([code for code, _ in Provider.currencies])(rng, n, args)


def _currency_name(rng, n, args):
    from faker.providers.currency import Provider
    return _choice([name for _, name in Provider.currencies])(rng, n, args)


def _product_name(rng, n, args):
    return _join(_choice(W.PRODUCT_ADJECTIVES), _choice(W.PRODUCT_MATERIALS), _choice(W.PRODUCTS))(rng, n, args)


def _superhero_name(rng, n, args):
    prefix = _choice(W.SUPERHERO_PREFIXES)(rng, n, args)
    descriptor = _choice(W.SUPERHERO_DESCRIPTORS)(rng, n, args)
    suffix = _choice(W.SUPERHERO_SUFFIXES)(rng, n, args)
    form = rng.integers(0, 3, n)
    return pc.choose(pa.array(form), pc.binary_join_element_wise(prefix, descriptor, " "),
                     pc.binary_join_element_wise(descriptor, suffix, " "),
                     pc.binary_join_element_wise(prefix, descriptor, suffix, " "))


def _regexify(rng, n, args):
    _args(args, "regexify", (1,))
    from sqlstream.connectors.faker_regex import generate
    return generate(args[0], rng, n)


EXPRESSIONS: dict[str, Gen] = {
    # numbers, dates, options
    "number.numberbetween": _number_between,
    "number.randomdouble": _random_double,
    "number.randomnumber": _random_number,
    "number.randomdigit": _random_digit,
    "date.past": _date(-1, "date.past"),
    "date.future": _date(1, "date.future"),
    "date.birthday": _birthday,
    "options.option": _option,
    "bool.bool": _bool,
    "regexify": _regexify,
    # internet
    "internet.uuid": _uuid,
    "internet.publicipv4address": _public_ipv4,
    "internet.ipv4address": _ipv4,
    "internet.useragentany": _python_faker("user_agent"),
    "internet.emailaddress": _python_faker("email"),
    "internet.domainname": _python_faker("domain_name"),
    "internet.url": _python_faker("url"),
    # people and places
    "name.fullname": _join(_first_name, _last_name),
    "name.name": _join(_first_name, _last_name),
    "name.firstname": _first_name,
    "name.lastname": _last_name,
    "name.username": _python_faker("user_name"),
    "name.title": _python_faker("job"),
    "address.city": _city,
    "address.fulladdress": _full_address,
    "address.streetaddress": _street_address,
    "address.zipcode": _zip,
    "address.country": _python_faker("country"),
    "address.state": _python_faker("state"),
    "address.stateabbr": _python_faker("state_abbr"),
    "company.name": _python_faker("company"),
    "phonenumber.phonenumber": _python_faker("phone_number"),
    "lorem.sentence": _python_faker("sentence"),
    "lorem.word": _python_faker("word"),
    "color.name": _python_faker("color_name"),
    "currency.code": _currency_code,
    "currency.name": _currency_name,
    "commerce.productname": _product_name,
    "commerce.department": _choice(W.DEPARTMENTS),
    "commerce.material": _choice(W.PRODUCT_MATERIALS),
    "commerce.color": _python_faker("color_name"),
    # themed word lists
    "superhero.name": _superhero_name,
    "superhero.power": _choice(W.SUPERHERO_POWERS),
    "harrypotter.character": _choice(W.HARRY_POTTER_CHARACTERS),
    "harrypotter.characters": _choice(W.HARRY_POTTER_CHARACTERS),
    "harrypotter.spell": _choice(W.HARRY_POTTER_SPELLS),
    "harrypotter.spells": _choice(W.HARRY_POTTER_SPELLS),
    "harrypotter.location": _choice(W.HARRY_POTTER_LOCATIONS),
    "harrypotter.locations": _choice(W.HARRY_POTTER_LOCATIONS),
    "harrypotter.house": _choice(W.HARRY_POTTER_HOUSES),
    "harrypotter.houses": _choice(W.HARRY_POTTER_HOUSES),
    "harrypotter.quote": _choice(W.HARRY_POTTER_QUOTES),
    "harrypotter.quotes": _choice(W.HARRY_POTTER_QUOTES),
    "drwho.thedoctors": _choice(W.DR_WHO_DOCTORS),
    "drwho.character": _choice(W.DR_WHO_CHARACTERS),
    "rickandmorty.character": _choice(W.RICK_AND_MORTY_CHARACTERS),
    "rickandmorty.characters": _choice(W.RICK_AND_MORTY_CHARACTERS),
    "rickandmorty.location": _choice(W.RICK_AND_MORTY_LOCATIONS),
    "rickandmorty.locations": _choice(W.RICK_AND_MORTY_LOCATIONS),
    "space.nasaspacecraft": _choice(W.NASA_SPACECRAFT),
    "space.star": _choice(W.STARS),
    "space.planet": _choice(W.PLANETS),
    "hitchhikersguidetothegalaxy.character": _choice(W.HHGTTG_CHARACTERS),
    "hitchhikersguidetothegalaxy.characters": _choice(W.HHGTTG_CHARACTERS),
    "hitchhikersguidetothegalaxy.starship": _choice(W.HHGTTG_STARSHIPS),
    "hitchhikersguidetothegalaxy.starships": _choice(W.HHGTTG_STARSHIPS),
    "hitchhikersguidetothegalaxy.location": _choice(W.HHGTTG_LOCATIONS),
    "hitchhikersguidetothegalaxy.locations": _choice(W.HHGTTG_LOCATIONS),
}


def markdown() -> str:
    """FAKER.md: the supported expressions, one line each, as written in flink-faker tables."""
    lines = ["# Java Faker expressions the `faker` connector supports", "",
             "Generated from `connectors/faker_expressions.py` (`EXPRESSIONS`); a test keeps it true. Write them as",
             "flink-faker does, `'fields.<f>.expression' = '#{Name.fullName}'`; case and underscores in the name",
             "do not matter (`#{name.full_name}` is the same). Any other expression is an error naming it.", "",
             "| expression | arguments | values |", "|---|---|---|"]
    for key in sorted(EXPRESSIONS):
        args, what = DOCS.get(key, ("", "a pick from a word list" if key not in PYTHON_FAKER else
                                     f"the Python faker library's `{PYTHON_FAKER[key]}()` (a seeded pool)"))
        lines.append(f"| `{key}` | {args} | {what} |")
    return "\n".join(lines) + "\n"


DOCS = {
    "number.numberbetween": ("'min','max'", "an integer, min inclusive, max exclusive"),
    "number.randomdouble": ("'decimals','min','max'", "a double with at most that many decimals"),
    "number.randomnumber": ("['digits']", "a non-negative integer of up to that many digits"),
    "number.randomdigit": ("", "0 to 9"),
    "date.past": ("'atMost',['atLeast',]'UNIT'", "a TIMESTAMP that long before now (UNIT: SECONDS, MINUTES, HOURS, "
                                                 "DAYS, MILLISECONDS, ..)"),
    "date.future": ("'atMost',['atLeast',]'UNIT'", "a TIMESTAMP that long after now"),
    "date.birthday": ("['minAge','maxAge']", "a DATE 18 to 65 (or minAge to maxAge) years ago"),
    "options.option": ("'a','b',..", "one of the arguments"),
    "bool.bool": ("", "true or false"),
    "regexify": ("'regex'", "a string matching the regular expression (groups, alternatives, classes, "
                            "quantifiers)"),
    "internet.uuid": ("", "a random UUID"),
    "internet.publicipv4address": ("", "an IPv4 address outside the private and reserved ranges"),
    "internet.ipv4address": ("", "an IPv4 address"),
    "name.fullname": ("", "first and last name (the Python faker library's en_US names)"),
    "name.name": ("", "first and last name"),
    "name.firstname": ("", "a first name (en_US)"),
    "name.lastname": ("", "a last name (en_US)"),
    "address.city": ("", "a city name in the en_US forms"),
    "address.fulladdress": ("", "street address, city, state abbreviation and ZIP code"),
    "address.streetaddress": ("", "number and street"),
    "address.zipcode": ("", "a five-digit ZIP code"),
    "currency.code": ("", "an ISO 4217 code"),
    "currency.name": ("", "a currency's name"),
    "commerce.productname": ("", "adjective, material and product"),
    "superhero.name": ("", "a made-up hero name"),
}
PYTHON_FAKER = {k: g.faker_method for k, g in EXPRESSIONS.items() if hasattr(g, "faker_method")}


def generator(ph: Placeholder, expression: str) -> Gen:
    gen = EXPRESSIONS.get(ph.key)
    if gen is None:
        raise OptionError(f"Unsupported faker expression '#{{{ph.name}}}' in '{expression}'. Supported: "
                          f"{', '.join(sorted(EXPRESSIONS))} (case and underscores do not matter)")
    return gen


def evaluate(parts: list, gens: list, rng_for: Callable[[int], np.random.Generator], n: int) -> pa.Array:
    """One template for n rows. A lone placeholder keeps its own type (a number, a timestamp); text with
    several parts is joined as strings."""
    values = []
    for k, (part, gen) in enumerate(zip(parts, gens)):
        if gen is None:
            values.append(pa.array([part] * n, pa.string()) if len(parts) > 1 else pa.array([part] * n))
        else:
            values.append(gen(rng_for(k), n, part.args))
    if len(values) == 1:
        return values[0]
    return pc.binary_join_element_wise(*[_text(v) for v in values], "")


def _text(arr: pa.Array) -> pa.Array:
    if pa.types.is_timestamp(arr.type):
        arr = arr.cast(pa.timestamp("ms"))
    return pc.cast(arr, pa.string())
