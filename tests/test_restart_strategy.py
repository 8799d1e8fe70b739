"""Flink's restart strategies: how many restarts, after how long, with Flink's option names and defaults."""
import pytest

from sqlstream.runtime.restart import RestartStrategy
from sqlstream.config import Config
from sqlstream.core.errors import ValidationError


def delays(config: dict, n: int) -> list:
    strategy = RestartStrategy(config)
    strategy.check()
    return [strategy.next_delay() for _ in range(n)]


def test_none_is_the_default_and_never_restarts():
    assert delays({}, 2) == [None, None]
    assert delays({"restart-strategy.type": "disable"}, 1) == [None]


def test_fixed_delay_restarts_its_attempts_then_fails():
    assert delays({"restart-strategy.type": "fixed-delay"}, 2) == [1.0, None], "Flink's defaults: 1 attempt, 1 s"
    assert delays({"restart-strategy.type": "fixeddelay", "restart-strategy.fixed-delay.attempts": "3",
                   "restart-strategy.fixed-delay.delay": "200 ms"}, 4) == [0.2, 0.2, 0.2, None]


def test_exponential_delay_grows_by_its_multiplier_up_to_its_maximum():
    config = {"restart-strategy.type": "exponential-delay", "restart-strategy.exponential-delay.jitter-factor": "0",
              "restart-strategy.exponential-delay.max-backoff": "3 s"}
    assert delays(config, 5) == [1.0, 1.5, 2.25, 3.0, 3.0]
    config["restart-strategy.exponential-delay.attempts-before-reset-backoff"] = "2"
    assert delays(config, 3) == [1.0, 1.5, None]
    jittered = delays({"restart-strategy.type": "exponential-delay"}, 1)[0]
    assert 0.9 <= jittered <= 1.1


def test_failure_rate_fails_past_its_failures_per_interval():
    assert delays({"restart-strategy.type": "failure-rate"}, 2) == [1.0, None]
    assert delays({"restart-strategy.type": "failure-rate",
                   "restart-strategy.failure-rate.max-failures-per-interval": "2"}, 3) == [1.0, 1.0, None]


def test_bad_settings_are_refused_when_set_or_when_the_job_starts():
    with pytest.raises(ValidationError, match="'restart-strategy.type' = 'sometimes' is not a restart strategy; use "
                                              "one of none, fixed-delay, failure-rate, exponential-delay"):
        RestartStrategy({"restart-strategy.type": "sometimes"})
    with pytest.raises(ValidationError, match="'restart-strategy.fixed-delay.attempts' must be an integer"):
        Config().set("restart-strategy.fixed-delay.attempts", "many")
    with pytest.raises(ValidationError, match="'restart-strategy.fixed-delay.delay'"):
        Config().set("restart-strategy.fixed-delay.delay", "soon")
    with pytest.raises(ValidationError, match="'restart-strategy.exponential-delay.backoff-multiplier' must be a "
                                              "number"):
        RestartStrategy({"restart-strategy.type": "exponential-delay",
                         "restart-strategy.exponential-delay.backoff-multiplier": "x"}).check()
