"""Java date-time patterns (`yyyy-MM-dd HH:mm:ss.SSS`) over Arrow arrays, as Flink's functions read them.

Flink formats and parses with java.time's DateTimeFormatter (DATE_FORMAT, FROM_UNIXTIME, TO_TIMESTAMP) and with
the lenient java.text.SimpleDateFormat in UNIX_TIMESTAMP; both under the JVM's default locale (en_US: weeks
start on Sunday and week 1 holds January 1st). Formatting builds each pattern field as a string column and joins
them; parsing matches one RE2 pattern over the whole column, then assembles the fields with integer arithmetic.
"""
from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.core.errors import ExecutionError
from sqlstream.functions.arrow import full

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]  # Sunday first
ZONE_LETTERS = set("zZXxOVv")
NUMERIC = set("yuYDdMLQqwWeEcFhHkKmsSAnNg")
NANOS_PER_DAY = 86_400 * 1_000_000_000


def tokenize(pattern: str) -> list[tuple[str, int | str]]:
    """[(letter, count)] for pattern letters and ("'", text) for literal text ('quoted' or not a letter)."""
    out: list[tuple[str, int | str]] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "'":
            j = i + 1
            text = []
            while j < len(pattern):
                if pattern[j] == "'":
                    if j + 1 < len(pattern) and pattern[j + 1] == "'":
                        text.append("'")
                        j += 2
                        continue
                    break
                text.append(pattern[j])
                j += 1
            out.append(("'", "".join(text) if j > i + 1 else "'"))
            i = j + 1
            continue
        if ch.isascii() and ch.isalpha():
            j = i
            while j < len(pattern) and pattern[j] == ch:
                j += 1
            out.append((ch, j - i))
            i = j
            continue
        if ch in "[]":  # optional sections: always printed, optional when parsing (not modelled)
            i += 1
            continue
        out.append(("'", ch))
        i += 1
    return out


# ---- formatting ---------------------------------------------------------------------------------
PER_SECOND = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}


def day_and_time(ts: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(valid, days since 1970-01-01, nanoseconds into the day) of wall-clock timestamps, split in the array's own
    unit: nanoseconds since the epoch in an int64 end in 2262, and TIMESTAMPs run to 9999-12-31."""
    if not pa.types.is_timestamp(ts.type):  # NULLs of no type, DATEs
        ts = pc.cast(ts, pa.timestamp("ms"))
    raw = pc.cast(ts, pa.int64())
    valid = np.asarray(pc.is_valid(raw).to_numpy(zero_copy_only=False))
    v = np.asarray(pc.fill_null(raw, 0).to_numpy(zero_copy_only=False)).astype(np.int64)
    per_second = PER_SECOND[ts.type.unit]
    days = np.floor_divide(v, 86_400 * per_second)
    return valid, days, (v - days * (86_400 * per_second)) * (1_000_000_000 // per_second)


def format_local(ts: pa.Array, pattern: str, simple: bool = False) -> pa.Array:
    """Format wall-clock TIMESTAMP values (a naive Arrow timestamp array) with a DateTimeFormatter pattern, or
    with `simple`, a SimpleDateFormat one (there `u` is the day of the week, Monday 1, `F` the week of the month
    the day falls in, counted from its 1st, and `S` a number of milliseconds)."""
    valid, days, nano_of_day = day_and_time(ts)
    unit = _finest_unit(tokenize(pattern))
    out = None
    if unit and len(days) > 64:
        # the batch's values fall on few days (minutes, ..) the pattern can tell apart: format those once each
        per_day = NANOS_PER_DAY // unit
        enc = pc.dictionary_encode(pa.array(days * per_day + nano_of_day // unit))
        if len(enc.dictionary) * 4 <= len(days):
            periods = np.asarray(enc.dictionary.to_numpy(), np.int64)
            first_days = np.floor_divide(periods, per_day)
            out = _format(first_days, (periods - first_days * per_day) * unit, pattern, simple).take(enc.indices)
    if out is None:
        out = _format(days, nano_of_day, pattern, simple)
    return out if valid.all() else pc.if_else(pa.array(valid), out, pa.scalar(None, pa.string()))


def _format(days: np.ndarray, nano_of_day: np.ndarray, pattern: str, simple: bool) -> pa.Array:
    f = _Fields(days, nano_of_day, julian=simple)
    parts = []
    for letter, count in tokenize(pattern):
        if letter == "'":
            parts.append(count)
            continue
        if simple and letter == "u":
            parts.append(_padded(np.where(f.dow0 == 0, 7, f.dow0), count))
        elif simple and letter == "F":
            parts.append(_padded((f.day - 1) // 7 + 1, count))
        elif simple and letter == "S":
            parts.append(_padded(f.nano_of_day % 1_000_000_000 // 1_000_000, count))
        else:
            parts.append(f.text(letter, count))
    if not parts:
        return _const(len(days), "")
    cols = [_const(len(days), p) if isinstance(p, str) else p for p in parts]
    return pc.binary_join_element_wise(*cols, "") if len(cols) > 1 else cols[0]


_UNIT_OF_LETTER = {**dict.fromkeys("GuyYMLQqdDwWEecF", NANOS_PER_DAY), **dict.fromkeys("aHkKh", 3_600_000_000_000),
                   "m": 60_000_000_000, "s": 1_000_000_000}


def _finest_unit(tokens: list[tuple[str, int | str]]) -> int:
    """The length in nanoseconds of the periods (days, hours, minutes, seconds) within which every field of the
    pattern stays the same; 0 when a field changes faster (fractions) or the pattern has other letters."""
    unit = NANOS_PER_DAY
    for letter, _ in tokens:
        if letter == "'":
            continue
        if letter not in _UNIT_OF_LETTER:
            return 0
        unit = min(unit, _UNIT_OF_LETTER[letter])
    return unit


class _Fields:
    """Calendar fields of wall-clock values (days since the epoch, nanoseconds into the day), computed once each."""

    def __init__(self, days: np.ndarray, nano_of_day: np.ndarray, julian: bool = False):
        self.days = days
        self.nano_of_day = nano_of_day
        self.to_civil, self.from_civil = ((hybrid_civil_from_days, hybrid_days_from_civil) if julian
                                          else (civil_from_days, days_from_civil))
        self.year, self.month, self.day = self.to_civil(self.days)
        self.dow0 = np.mod(self.days + 4, 7)  # 0 = Sunday (1970-01-01 was a Thursday)

    def number(self, letter: str) -> np.ndarray:
        nod = self.nano_of_day
        hour = nod // 3_600_000_000_000
        if letter in "uy":
            return self.year
        if letter == "Y":
            return self.week_year()[0]
        if letter in "ML":
            return self.month
        if letter in "Qq":
            return (self.month - 1) // 3 + 1
        if letter == "d":
            return self.day
        if letter == "D":
            return self.days - self.from_civil(self.year, np.ones_like(self.year), np.ones_like(self.year)) + 1
        if letter == "w":
            return self.week_year()[1]
        if letter == "W":
            first = self.days - self.day + 1
            return (self.day + np.mod(first + 4, 7) - 1) // 7 + 1
        if letter in "ec":
            return self.dow0 + 1
        if letter == "F":
            return (self.day - 1) % 7 + 1
        if letter == "H":
            return hour
        if letter == "k":
            return np.where(hour == 0, 24, hour)
        if letter == "K":
            return hour % 12
        if letter == "h":
            return np.where(hour % 12 == 0, 12, hour % 12)
        if letter == "m":
            return nod // 60_000_000_000 % 60
        if letter == "s":
            return nod // 1_000_000_000 % 60
        if letter == "A":
            return nod // 1_000_000
        if letter == "n":
            return nod % 1_000_000_000
        if letter == "N":
            return nod
        raise ExecutionError(f"Unknown pattern letter: {letter}")

    def week_year(self) -> tuple[np.ndarray, np.ndarray]:
        """(week-based year, week of it): weeks start on Sunday; week 1 is the week holding January 1st."""
        week_start = self.days - self.dow0
        wy, _, _ = self.to_civil(week_start + 6)
        jan1 = self.from_civil(wy, np.ones_like(wy), np.ones_like(wy))
        first_start = jan1 - np.mod(jan1 + 4, 7)
        return wy, (week_start - first_start) // 7 + 1

    def text(self, letter: str, count: int) -> pa.Array:
        n = len(self.days)
        if letter in ZONE_LETTERS:
            raise ExecutionError(f"Pattern letter '{letter}' needs a time zone, and a TIMESTAMP has none "
                                 f"(Flink fails the same way)")
        if letter == "G":
            return _const(n, "AD" if count < 4 else "Anno Domini")
        if letter == "a":
            hour = self.nano_of_day // 3_600_000_000_000
            return pa.array(np.where(hour < 12, "AM", "PM").astype(object), pa.string())
        if letter in "ML" and count >= 3:
            return _names(MONTHS, self.month - 1, count)
        if letter == "E" or (letter in "ec" and count >= 3):
            return _names(DAYS, self.dow0, max(count, 3) if letter == "E" else count)
        if letter in "Qq" and count >= 3:
            q = (self.month - 1) // 3 + 1
            if count == 3:
                return pc.binary_join_element_wise("Q", pc.cast(pa.array(q), pa.string()), "")
            return _names(["1st quarter", "2nd quarter", "3rd quarter", "4th quarter"], q - 1, 4)
        if letter == "S":
            frac = self.nano_of_day % 1_000_000_000
            digits = frac // (10 ** max(9 - count, 0)) if count <= 9 else frac * 10 ** (count - 9)
            return _padded(digits, count)
        if letter not in NUMERIC:
            raise ExecutionError(f"Unknown pattern letter: {letter}")
        v = self.number(letter)
        if count == 2 and letter in "uyY":
            return _padded(np.mod(v, 100), 2)
        return _padded(v, count if count > 1 else 1)


def _const(n: int, s: str) -> pa.Array:
    return pa.array(np.full(n, s, dtype=object), pa.string())


def _names(names: list[str], idx: np.ndarray, count: int) -> pa.Array:
    table = [s[:3] for s in names] if count <= 3 else (names if count == 4 else [s[0] for s in names])
    return pa.array(table, pa.string()).take(pa.array(idx.astype(np.int64)))


def _padded(v: np.ndarray, width: int) -> pa.Array:
    s = pc.cast(pa.array(v.astype(np.int64)), pa.string())
    return pc.utf8_lpad(s, width, "0") if width > 1 else s


# ---- calendar arithmetic ------------------------------------------------------------------------
def days_from_civil(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of proleptic Gregorian dates (months beyond 1..12 roll into the year)."""
    y = y.astype(np.int64) + np.floor_divide(m.astype(np.int64) - 1, 12)
    m = np.mod(m.astype(np.int64) - 1, 12) + 1
    y = y - (m <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    doy = (153 * (m + np.where(m > 2, -3, 9)) + 2) // 5 + d.astype(np.int64) - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def civil_from_days(z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    z = z.astype(np.int64) + 719468
    era = np.floor_divide(z, 146097)
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = np.where(mp < 10, mp + 3, mp - 9)
    return y + (m <= 2), m, d


GREGORIAN_CUTOVER = -141_427  # 1582-10-15, the first Gregorian day of java.util's calendar (Julian before)


def hybrid_days_from_civil(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of dates as java.util.GregorianCalendar reads them (SimpleDateFormat): Julian
    before 1582-10-15, Gregorian from then on; months and days beyond their range roll over."""
    gregorian = days_from_civil(y, m, d)
    if not (gregorian < GREGORIAN_CUTOVER).any():
        return gregorian
    y = y.astype(np.int64) + np.floor_divide(m.astype(np.int64) - 1, 12)
    m = np.mod(m.astype(np.int64) - 1, 12) + 1
    a = (14 - m) // 12
    yy, mm = y + 4800 - a, m + 12 * a - 3
    julian = d.astype(np.int64) + (153 * mm + 2) // 5 + 365 * yy + np.floor_divide(yy, 4) - 32083 - 2_440_588
    return np.where(gregorian < GREGORIAN_CUTOVER, julian, gregorian)


def hybrid_civil_from_days(z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(year, month, day) of days since 1970-01-01 as java.util's calendar shows them: Julian before 1582-10-15."""
    y, m, d = civil_from_days(z)
    early = z < GREGORIAN_CUTOVER
    if not early.any():
        return y, m, d
    c = z.astype(np.int64) + 2_440_588 + 32082
    dd = np.floor_divide(4 * c + 3, 1461)
    e = c - np.floor_divide(1461 * dd, 4)
    mm = (5 * e + 2) // 153
    jd, jm = e - (153 * mm + 2) // 5 + 1, mm + 3 - 12 * (mm // 10)
    jy = dd - 4800 + mm // 10
    return np.where(early, jy, y), np.where(early, jm, m), np.where(early, jd, d)


def add_months(ts, months, sign, rt, n):
    """Months added to DATE/TIMESTAMP values as Java adds them: the day is clamped to the last of the month.
    Calendar arithmetic on whole columns, in any year (Python's datetime stops at year 1)."""
    ts, months = full(ts, n), full(months, n)
    if not (pa.types.is_date(ts.type) or pa.types.is_timestamp(ts.type)):
        ts = pc.cast(ts, rt.to_arrow())
    target = rt.to_arrow()
    valid = np.asarray(pc.and_(pc.is_valid(ts), pc.is_valid(months)).to_numpy(zero_copy_only=False))
    k = np.asarray(pc.fill_null(pc.cast(months, pa.int64()), 0).to_numpy(zero_copy_only=False)).astype(np.int64)
    if pa.types.is_date(ts.type):
        days, rest, per_day = np.asarray(pc.fill_null(pc.cast(ts, pa.int32()), 0).to_numpy(
            zero_copy_only=False)).astype(np.int64), 0, 1
    else:
        raw = np.asarray(pc.fill_null(pc.cast(ts, pa.int64()), 0).to_numpy(zero_copy_only=False)).astype(np.int64)
        per_day = 86_400 * PER_SECOND[ts.type.unit]
        days = np.floor_divide(raw, per_day)
        rest = raw - days * per_day
    year, month, day = civil_from_days(days)
    total = year * 12 + (month - 1) + sign * k
    y, m = np.floor_divide(total, 12), np.mod(total, 12) + 1
    one = np.ones_like(y)
    month_days = days_from_civil(y, m + 1, one) - days_from_civil(y, m, one)
    moved = days_from_civil(y, m, np.minimum(day, month_days))
    if pa.types.is_date(ts.type):
        return pa.array(moved.astype(np.int32), pa.int32(), mask=~valid).cast(pa.date32()).cast(target)
    out = pa.array(moved * per_day + rest, pa.int64(), mask=~valid).cast(pa.timestamp(ts.type.unit, tz=ts.type.tz))
    return out if out.type == target else pc.cast(out, target, safe=False)


# ---- parsing ------------------------------------------------------------------------------------
def parse_local(s: pa.Array, pattern: str, lenient: bool = False, unit: str = "ns") -> pa.Array:
    """Parse strings into wall-clock timestamp[unit] values (a finer fraction cut off), NULL where a string does
    not match. Assembled in that unit: nanoseconds in an int64 end in 2262, and years go to 9999.

    Strict (DateTimeFormatter): the whole string must match, field widths follow the letter counts and values
    must be in range. Lenient (SimpleDateFormat): a matching prefix is enough, numbers take any width unless
    another number follows directly, and out-of-range values roll over (month 13 is January next year)."""
    tokens = tokenize(pattern)
    regex, fields = _regex(tokens, lenient)
    found = pc.extract_regex(s, ("^" + regex + ("" if lenient else "$")))
    n = len(s)
    ok = np.asarray(pc.is_valid(found).to_numpy(zero_copy_only=False))
    values: dict[str, np.ndarray] = {}
    for i, (letter, count) in enumerate(fields):
        col = pc.struct_field(found, [i])
        if letter in "ML" and count >= 3:
            names = [m[:3] for m in MONTHS] if count == 3 else MONTHS
            v = pc.index_in(col, value_set=pa.array(names))
            values["M"] = np.asarray(pc.fill_null(v, 0).to_numpy(zero_copy_only=False)).astype(np.int64) + 1
            continue
        if letter == "a":
            values["a"] = np.asarray(pc.fill_null(pc.equal(col, "PM"), False).to_numpy(zero_copy_only=False))
            continue
        if letter in "EGec":
            continue
        digits = pc.if_else(ok, col, "0")
        if letter == "S":
            if lenient:  # SimpleDateFormat reads S as a number of milliseconds
                values["S"] = _ints(digits) * 1_000_000
            else:
                padded = pc.utf8_slice_codeunits(pc.utf8_rpad(digits, 9, "0"), 0, 9)
                values["S"] = _ints(padded)
            continue
        v = _ints(digits)
        if count == 2 and letter in "uyY" and not lenient:
            v = v + 2000
        values["y" if letter in "uY" else ("M" if letter == "L" else letter)] = v
    one = np.ones(n, dtype=np.int64)
    year, month, day = values.get("y", one * 1970), values.get("M", one), values.get("d", one)
    from_civil = hybrid_days_from_civil if lenient else days_from_civil
    if "D" in values:
        days = from_civil(year, one, one) + values["D"] - 1
    else:
        days = from_civil(year, month, day)
    hour = values.get("H", np.zeros(n, dtype=np.int64))
    for letter in "kKh":
        if letter in values:
            h = values[letter]
            hour = h % 24 if letter == "k" else h % 12
    if "a" in values:
        hour = np.where(values["a"], hour + 12 if "H" not in values else hour, hour)
    minute = values.get("m", np.zeros(n, dtype=np.int64))
    second = values.get("s", np.zeros(n, dtype=np.int64))
    nanos = values.get("S", np.zeros(n, dtype=np.int64))
    if not lenient:
        ok &= (1 <= month) & (month <= 12) & (day >= 1) & (hour <= 23) & (minute <= 59) & (second <= 59)
        if "d" in values:
            _, m2, d2 = civil_from_days(days)
            ok &= (m2 == month) & (d2 == day)
    per_second = PER_SECOND[unit]
    if unit == "ns":  # the years 1677 to 2262 only
        ok &= np.abs(days) < 106_000
    total = (days * 86_400 + (hour * 60 + minute) * 60 + second) * per_second + nanos // (1_000_000_000 // per_second)
    return pa.array(np.where(ok, total, 0), pa.timestamp(unit), mask=~ok)


def _ints(strings: pa.Array) -> np.ndarray:
    return np.asarray(pc.cast(strings, pa.int64()).to_numpy(zero_copy_only=False)).astype(np.int64)


def _regex(tokens, lenient: bool) -> tuple[str, list[tuple[str, int]]]:
    parts, fields = [], []
    for k, (letter, count) in enumerate(tokens):
        if letter == "'":
            parts.append(re.escape(count))
            continue
        nxt = tokens[k + 1] if k + 1 < len(tokens) else None
        adjacent = nxt is not None and nxt[0] in NUMERIC and nxt[0] != "'" and not (nxt[0] in "ML" and nxt[1] >= 3)
        if letter in ZONE_LETTERS:
            raise ExecutionError(f"Pattern letter '{letter}' is not supported when parsing a TIMESTAMP")
        if letter in "ML" and count >= 3:
            names = [m[:3] for m in MONTHS] if count == 3 else MONTHS
            body = "|".join(names)
        elif letter == "E" or (letter in "ec" and count >= 3):
            body = "|".join(DAYS + [d[:3] for d in DAYS])
        elif letter == "a":
            body = "AM|PM"
        elif letter == "G":
            body = "AD|BC"
        elif letter not in NUMERIC:
            raise ExecutionError(f"Unknown pattern letter: {letter}")
        elif letter == "S" and not lenient:
            body = r"\d{%d}" % count
        elif lenient:
            body = r"\d{%d}" % count if adjacent else r"\d+"
        elif letter in "uyY":
            body = r"\d{2}" if count == 2 else (r"\d{%d,9}" % count if not adjacent else r"\d{%d}" % max(count, 4))
        elif count >= 2:
            body = r"\d{%d}" % count
        else:
            body = r"\d{1,2}" if not adjacent else r"\d"
        parts.append(f"(?P<f{len(fields)}>{body})")
        fields.append((letter, count))
    return "".join(parts), fields
