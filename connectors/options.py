"""Typed access to WITH (...) options; unknown keys are an error that lists the valid ones."""
from __future__ import annotations

import re

from sqlstream.core.errors import OptionError


class Options:
    """Pull options one at a time; `finish()` rejects whatever nobody asked for."""

    def __init__(self, table: str, connector: str, raw: dict[str, str], valid: list[str],
                 prefixes: tuple[str, ...] = ()):
        self.table, self.connector, self.raw = table, connector, dict(raw)
        self.valid, self.prefixes = valid, prefixes
        self.used: set[str] = {"connector"}

    def get(self, key: str, default: str | None = None) -> str | None:
        self.used.add(key)
        return self.raw.get(key, default)

    def require(self, key: str) -> str:
        self.used.add(key)
        if key not in self.raw:
            raise OptionError(f"Table '{self.table}': connector '{self.connector}' requires option '{key}'",
                              self.valid)
        return self.raw[key]

    def get_int(self, key: str, default: int | None = None) -> int | None:
        v = self.get(key)
        if v is None:
            return default
        try:
            return int(v)
        except ValueError:
            raise OptionError(f"Table '{self.table}': option '{key}' must be an integer, got '{v}'") from None

    def get_bool(self, key: str, default: bool = False) -> bool:
        v = self.get(key)
        if v is None:
            return default
        if v.lower() not in ("true", "false"):
            raise OptionError(f"Table '{self.table}': option '{key}' must be 'true' or 'false', got '{v}'")
        return v.lower() == "true"

    def get_choice(self, key: str, choices: tuple[str, ...], default: str) -> str:
        v = self.get(key, default)
        if v not in choices:
            raise OptionError(f"Table '{self.table}': option '{key}' must be one of "
                              f"{', '.join(choices)}; got '{v}'")
        return v

    def with_prefix(self, prefix: str) -> dict[str, str]:
        out = {}
        for k, v in self.raw.items():
            if k.startswith(prefix):
                self.used.add(k)
                out[k[len(prefix):]] = v
        return out

    def finish(self) -> None:
        unknown = [k for k in self.raw if k not in self.used and not k.startswith(self.prefixes)
                   and k not in self.valid]
        if unknown:
            raise OptionError(
                f"Unsupported options found for connector '{self.connector}' of table '{self.table}': "
                f"{', '.join(sorted(unknown))}", self.valid)


def parse_duration_ms(text: str) -> int:
    """'10s', '10 s', '5 min', '200ms', '1h' -> milliseconds."""
    m = re.fullmatch(r"\s*(\d+)\s*([a-zA-Z]*)\s*", text or "")
    if not m:
        raise OptionError(f"Cannot parse duration '{text}'")
    n, unit = int(m.group(1)), m.group(2).lower()
    scale = {"": 1, "ms": 1, "milli": 1, "millis": 1, "s": 1000, "sec": 1000, "second": 1000,
             "seconds": 1000, "min": 60000, "m": 60000, "minute": 60000, "minutes": 60000,
             "h": 3600000, "hour": 3600000, "hours": 3600000, "d": 86400000, "day": 86400000,
             "days": 86400000}.get(unit)
    if scale is None:
        raise OptionError(f"Cannot parse duration '{text}': unknown unit '{unit}'")
    return n * scale
