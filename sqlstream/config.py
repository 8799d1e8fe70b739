"""Session configuration: Flink keys users SET, plus sqlstream's own, with defaults.

Numeric and duration settings are checked when they are SET (and on the command line), so a value that
cannot work (a batch size of 0 or -1 would never finish a batch) is refused at once, naming the valid range.
"""
from __future__ import annotations

from sqlstream.core.errors import ValidationError
from sqlstream.core.secrets import is_secret, remember

INT_MAX = 2 ** 31 - 1
INT_RANGES = {
    "sqlstream.batch-size": (1, INT_MAX),
    "execution.checkpointing.num-retained": (1, INT_MAX),
    "parallelism.default": (1, 32768),
    "rest.port": (0, 65535),  # the web UI and REST API; 0 picks a free port
    "restart-strategy.fixed-delay.attempts": (0, INT_MAX),
    "restart-strategy.failure-rate.max-failures-per-interval": (0, INT_MAX),
    "restart-strategy.exponential-delay.attempts-before-reset-backoff": (0, INT_MAX),
}
DURATIONS = ("execution.checkpointing.interval", "table.exec.state.ttl", "table.exec.source.idle-timeout",
             "pipeline.auto-watermark-interval", "restart-strategy.fixed-delay.delay",
             "restart-strategy.failure-rate.failure-rate-interval", "restart-strategy.failure-rate.delay",
             "restart-strategy.exponential-delay.initial-backoff", "restart-strategy.exponential-delay.max-backoff",
             "restart-strategy.exponential-delay.reset-backoff-threshold")


def check_int(key: str, value, name: str | None = None) -> int:
    """`value` as an int within the valid range of setting `key`, or a ValidationError naming the range."""
    lo, hi = INT_RANGES[key]
    shown = name or f"Configuration '{key}'"
    try:
        n = int(str(value).strip())
    except ValueError:
        raise ValidationError(f"{shown} must be an integer from {lo} to {hi}, got '{value}'") from None
    if not lo <= n <= hi:
        raise ValidationError(f"{shown} must be from {lo} to {hi}, got {n}")
    return n


def parse_ports(spec: str, key: str = "metrics.reporter.prom.port") -> tuple[int, int]:
    """(first, last) port of '9249' or of a range '9249-9259' (Flink's form for a reporter's port)."""
    parts = [p.strip() for p in str(spec).split("-")]
    if len(parts) in (1, 2) and all(p.isdigit() for p in parts):
        low, high = int(parts[0]), int(parts[-1])
        if 0 <= low <= high <= 65535:
            return low, high
    raise ValidationError(f"Configuration '{key}' must be a port (0 to 65535; 0: any free port) or a range "
                          f"such as '9249-9259', got '{spec}'")


PORTS = ("metrics.reporter.prom.port",)
# checked by the planner's own rules (-1 means "not set" for the last two, as in Flink)
PARALLELISM_KEYS = ("table.exec.resource.default-parallelism", "pipeline.max-parallelism",
                    "table.exec.sink.keyed-shuffle")

DEFAULTS = {
    "sqlstream.batch-size": "65536",
    "sql-client.execution.result-mode": "table",
    "table.local-time-zone": "UTC",
    "parallelism.default": "1",
    "pipeline.auto-watermark-interval": "0 ms",
    "execution.runtime-mode": "streaming",
}


class Config:
    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def set(self, key: str, value: str) -> None:
        if key in INT_RANGES:
            check_int(key, value)
        elif key in PORTS:
            parse_ports(value, key)
        elif key == "execution.target":
            from sqlstream.runtime.ray_host import TARGETS
            if str(value).strip().lower() not in TARGETS:
                raise ValidationError(f"Configuration 'execution.target' must be one of {', '.join(TARGETS)} "
                                      f"(this process, or a Ray cluster: 'ray.address'), got '{value}'")
        elif key in PARALLELISM_KEYS:
            from sqlstream.planner.parallelism import settings_of
            settings_of({key: value})
        elif key in DURATIONS:
            from sqlstream.connectors.options import parse_duration_ms
            from sqlstream.core.errors import OptionError
            try:
                parse_duration_ms(value)
            except OptionError as e:
                raise ValidationError(f"Configuration '{key}': {e} (a duration such as '10 s', '500 ms', "
                                      f"'5 min')") from None
        if is_secret(key):
            remember(value)
        self.values[key] = value

    def reset(self, key: str | None = None) -> None:
        if key is None:
            self.values.clear()
        else:
            self.values.pop(key, None)

    def get(self, key: str, default: str | None = None) -> str | None:
        return self.values.get(key, DEFAULTS.get(key, default))

    def get_int(self, key: str, default: int) -> int:
        v = self.get(key)
        if v is None:
            return default
        if key in INT_RANGES:
            return check_int(key, v)
        try:
            return int(v)
        except ValueError:
            raise ValidationError(f"Configuration '{key}' must be an integer, got '{v}'") from None

    def effective(self) -> dict[str, str]:
        return {**DEFAULTS, **self.values}
