"""Late rows as data: rows a window, OVER, interval join or MATCH_RECOGNIZE operator drops as late go to the table
'table.exec.late-rows.sink' names (Flink SQL drops them silently; its DataStream API has side outputs).

The table's columns are filled by name: a column named like a column the operator reads gets the dropped row's
value, `late_operator` the operator's name, `late_rowtime` the row's time and `late_watermark` the watermark that
made it late; any other column is NULL for that operator's rows. The table is a sink like any other, written
exactly once when its connector commits on checkpoints.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from sqlstream.core.changelog import INSERT, make_batch
from sqlstream.core.errors import ValidationError
from sqlstream.runtime.event_time import MIN_WM

OPTION = "table.exec.late-rows.sink"
EXTRA_COLUMNS = ("late_operator", "late_rowtime", "late_watermark")


@dataclass(frozen=True)
class LateRowsTable:
    """The table 'table.exec.late-rows.sink' names, as a job opens it: a sink beside its INSERT targets."""

    table: str
    connector: str
    options: dict[str, str]
    names: list[str]
    types: list  # FlinkType per column
    primary_key: list[str] = field(default_factory=list)
    partition_keys: list[str] = field(default_factory=list)


class LateRowsOutput:
    """The late-rows table of a job: its columns, its writer and how many rows it got."""

    def __init__(self, table: str, names: list[str], types: list[pa.DataType], writer):
        self.table, self.names, self.types, self.writer = table, names, types, writer
        self.rows = 0

    def check_columns(self, readable: list[list[str]]) -> None:
        """Every column must be one an operator can fill: one of the extra columns or a column it reads."""
        known = set(EXTRA_COLUMNS).union(*readable) if readable else set(EXTRA_COLUMNS)
        unknown = [n for n in self.names if n not in known]
        if unknown:
            offered = sorted(set().union(*readable) - set(EXTRA_COLUMNS)) if readable else []
            raise ValidationError(
                f"Late-rows table '{self.table}' ({OPTION}) has column(s) {', '.join(unknown)} that no operator "
                f"dropping late rows can fill; its columns may be {', '.join(EXTRA_COLUMNS)} and the columns those "
                f"operators read: {', '.join(offered) or 'none'}")

    def collector(self, operator: str, input_names: list[list[str]]) -> "LateRowCollector":
        return LateRowCollector(self, operator, input_names)


class LateRowCollector:
    """Writes one operator's late rows into the late-rows table, in the order the operator saw them."""

    def __init__(self, output: LateRowsOutput, operator: str, input_names: list[list[str]]):
        self.output, self.operator = output, operator
        self.inputs = [{name: i for i, name in reversed(list(enumerate(names)))} for names in input_names]

    def add(self, columns: list[pa.Array], late: np.ndarray, rowtimes: np.ndarray, watermarks: np.ndarray,
            input: int = 0) -> None:
        """`columns` are the columns of the operator's input `input` (without `_op`/`_wm`); `late` marks the
        dropped rows; `rowtimes` and `watermarks` (ms) are per input row."""
        positions = self.inputs[input]
        rows = np.flatnonzero(late)
        if not len(rows):
            return
        take = pa.array(rows)
        n = len(rows)
        arrays = []
        for name, typ in zip(self.output.names, self.output.types):
            if name == "late_operator":
                value = pa.array([self.operator] * n, pa.string())
            elif name == "late_rowtime":
                value = pa.array(rowtimes[rows], pa.int64()).cast(pa.timestamp("ms"))
            elif name == "late_watermark":
                wm = watermarks[rows]
                value = pa.array(wm, pa.int64(), mask=wm <= MIN_WM).cast(pa.timestamp("ms"))
            elif name in positions:
                value = columns[positions[name]].take(take)
            else:
                value = pa.nulls(n, typ)
            arrays.append(value if value.type == typ else value.cast(typ))
        self.output.writer.write(make_batch(INSERT, arrays, self.output.names))
        self.output.rows += n
