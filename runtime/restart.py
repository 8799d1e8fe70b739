"""Flink's restart strategies: whether, and after how long, a job that failed while running starts again from
its last checkpoint. `restart-strategy.type` and its options take Flink's names and defaults; unlike Flink,
which restarts a checkpointed job without end by default (exponential-delay), the default here is none: a
failure ends `sqlstream run` unless the job asks for restarts."""
from __future__ import annotations

import random
import time

from sqlstream.connectors.options import parse_duration_ms
from sqlstream.core.errors import OptionError, ValidationError

TYPES = {"none": "none", "off": "none", "disable": "none", "fixed-delay": "fixed-delay",
         "fixeddelay": "fixed-delay", "failure-rate": "failure-rate", "failurerate": "failure-rate",
         "exponential-delay": "exponential-delay", "exponentialdelay": "exponential-delay"}
PREFIX = "restart-strategy."
DEFAULTS = {  # Flink 2.3's
    "fixed-delay.attempts": "1", "fixed-delay.delay": "1 s",
    "failure-rate.max-failures-per-interval": "1", "failure-rate.failure-rate-interval": "1 min",
    "failure-rate.delay": "1 s",
    "exponential-delay.initial-backoff": "1 s", "exponential-delay.max-backoff": "1 min",
    "exponential-delay.backoff-multiplier": "1.5", "exponential-delay.reset-backoff-threshold": "1 h",
    "exponential-delay.jitter-factor": "0.1", "exponential-delay.attempts-before-reset-backoff": "2147483647",
}


class RestartStrategy:
    """`next_delay()` after each failure: seconds to wait before restarting, or None to fail the job."""

    def __init__(self, config: dict[str, str]):
        given = config.get(PREFIX + "type") or "none"
        self.type = TYPES.get(given.lower())
        if self.type is None:
            raise ValidationError(f"Configuration '{PREFIX}type' = '{given}' is not a restart strategy; use one "
                                  f"of none, fixed-delay, failure-rate, exponential-delay")
        self.config = config
        self.restarts = 0
        self.failures: list[float] = []  # monotonic times, for failure-rate
        self.backoff_s = self._seconds("exponential-delay.initial-backoff")
        self.last_failure: float | None = None

    def _text(self, key: str) -> str:
        return self.config.get(PREFIX + key) or DEFAULTS[key]

    def _seconds(self, key: str) -> float:
        try:
            return parse_duration_ms(self._text(key)) / 1000
        except OptionError as e:
            raise ValidationError(f"Configuration '{PREFIX}{key}': {e}") from None

    def _number(self, key: str, kind=int):
        text = self._text(key)
        try:
            value = kind(text)
        except ValueError:
            raise ValidationError(f"Configuration '{PREFIX}{key}' must be a number, got '{text}'") from None
        if value < 0:
            raise ValidationError(f"Configuration '{PREFIX}{key}' must not be negative, got '{text}'")
        return value

    def check(self) -> None:
        """Reject bad options when the job starts, not at its first failure."""
        keys = [k for k in DEFAULTS if k.startswith(self.type + ".")]
        for key in keys:
            self._seconds(key) if key.endswith(("delay", "backoff", "interval", "threshold")) else \
                self._number(key, float)

    def next_delay(self) -> float | None:
        now = time.monotonic()
        if self.type == "none":
            return None
        if self.type == "fixed-delay":
            if self.restarts >= self._number("fixed-delay.attempts"):
                return None
            delay = self._seconds("fixed-delay.delay")
        elif self.type == "failure-rate":
            interval = self._seconds("failure-rate.failure-rate-interval")
            self.failures = [t for t in self.failures if now - t < interval] + [now]
            if len(self.failures) > self._number("failure-rate.max-failures-per-interval"):
                return None
            delay = self._seconds("failure-rate.delay")
        else:
            initial = self._seconds("exponential-delay.initial-backoff")
            if (self.last_failure is not None and
                    now - self.last_failure >= self._seconds("exponential-delay.reset-backoff-threshold")):
                self.backoff_s, self.restarts = initial, 0
            self.last_failure = now
            if self.restarts >= self._number("exponential-delay.attempts-before-reset-backoff"):
                return None
            delay = self.backoff_s
            jitter = self._number("exponential-delay.jitter-factor", float) * delay
            delay = max(0.0, delay + random.uniform(-jitter, jitter))
            self.backoff_s = min(self.backoff_s * self._number("exponential-delay.backoff-multiplier", float),
                                 self._seconds("exponential-delay.max-backoff"))
        self.restarts += 1
        return delay

    def describe(self) -> str:
        if self.type == "fixed-delay":
            return f"restart {self.restarts} of {self._number('fixed-delay.attempts')}, '{PREFIX}type' = fixed-delay"
        return f"restart {self.restarts}, '{PREFIX}type' = {self.type}"
