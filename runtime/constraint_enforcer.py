"""Sink constraints Flink enforces on what is written: a NOT NULL column never receives a NULL.

`table.exec.sink.not-null-enforcer` = ERROR (the default) fails the job at the first such row, after writing the
rows before it (as Flink's row-at-a-time enforcer does, so where a job stops does not depend on batch size);
DROP leaves such rows out."""
from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.core.errors import ExecutionError, ValidationError

MODES = ("ERROR", "DROP")


class NotNullEnforcer:
    def __init__(self, names: list[str], not_null: list[int], mode: str):
        mode = (mode or "ERROR").upper()
        if mode not in MODES:
            raise ValidationError(f"Invalid value '{mode}' for 'table.exec.sink.not-null-enforcer': expected "
                                  f"{' or '.join(MODES)}")
        self.names, self.not_null, self.mode = names, not_null, mode

    @staticmethod
    def for_sink(fields, config: dict) -> "NotNullEnforcer | None":
        """An enforcer for a sink's fields, or None when no column is NOT NULL."""
        idx = [i for i, f in enumerate(fields) if not f.type.nullable]
        if not idx:
            return None
        return NotNullEnforcer([f.name for f in fields], idx, config.get("table.exec.sink.not-null-enforcer"))

    def apply(self, batch: pa.RecordBatch) -> tuple[pa.RecordBatch, ExecutionError | None]:
        """The rows to write, and the error to raise after writing them (ERROR mode, a NULL was found)."""
        bad = None
        for i in self.not_null:
            col = batch.column(i + 1)  # after the `_op` column
            if col.null_count:
                nulls = col.is_null()
                bad = nulls if bad is None else pc.or_(bad, nulls)
        if bad is None:
            return batch, None
        if self.mode == "DROP":
            return batch.filter(pc.invert(bad)), None
        first = pc.index(bad, True).as_py()
        column = next(self.names[i] for i in self.not_null if not batch.column(i + 1)[first].is_valid)
        return batch.slice(0, first), ExecutionError(
            f"Column '{column}' is NOT NULL, however, a null value is being written into it. You can set job "
            f"configuration 'table.exec.sink.not-null-enforcer'='DROP' to suppress this exception and drop such "
            f"records silently.")
