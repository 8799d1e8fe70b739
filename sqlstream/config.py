"""Session configuration: Flink keys users SET, plus sqlstream's own, with defaults."""
from __future__ import annotations

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
        try:
            return int(v) if v is not None else default
        except ValueError:
            from sqlstream.errors import ValidationError
            raise ValidationError(f"Configuration '{key}' must be an integer, got '{v}'") from None

    def effective(self) -> dict[str, str]:
        return {**DEFAULTS, **self.values}
