"""Connector interfaces: Source/SplitReader and Sink/SinkWriter (two-phase commit shaped)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from sqlstream.core.types import FlinkType


@dataclass
class TableSchema:
    """What a connector is asked to read or write: column names and Flink types, plus metadata columns."""

    names: list[str]
    types: list[FlinkType]
    metadata: dict[str, str] = field(default_factory=dict)  # column -> metadata key
    primary_key: list[str] = field(default_factory=list)
    partition_keys: list[str] = field(default_factory=list)  # PARTITIONED BY: values live in the path
    physical_names: list[str] | None = None  # all physical columns, when `names` is a projection of them
    physical_types: list[FlinkType] | None = None

    @property
    def all_names(self) -> list[str]:
        return self.physical_names if self.physical_names is not None else self.names

    @property
    def all_types(self) -> list[FlinkType]:
        return self.physical_types if self.physical_types is not None else self.types

    def arrow(self) -> pa.Schema:
        return pa.schema([pa.field(n, t.to_arrow()) for n, t in zip(self.names, self.types)])


def rows_batch(columns: list[pa.Array], names: list[str], num_rows: int) -> pa.RecordBatch:
    """A batch of `num_rows` rows. A query that reads no column of a table (`SELECT COUNT(*)`, `SELECT 'k'`)
    still needs to know how many rows there are: with no columns, the batch keeps the row count alone."""
    if columns:
        return pa.RecordBatch.from_arrays(columns, names=names)
    return pa.RecordBatch.from_arrays([pa.nulls(num_rows)], names=["_"]).select([])


class SplitReader:
    """Reads one split. `poll` never blocks long; `position` is the offset after the last returned row."""

    finished: bool = False
    paced: bool = False  # data arrives over time (a rate, a broker): a short poll means "nothing more yet"

    def poll(self, max_rows: int) -> pa.RecordBatch | None:
        raise NotImplementedError

    def position(self) -> Any:
        return None

    def close(self) -> None:
        pass

    def metrics(self) -> dict:
        return {}

    def outage(self) -> str | None:
        """What the reader is waiting for while its system is unreachable (it keeps retrying), else None."""
        return None

    def pending_records(self) -> int | None:
        """Records not read yet, where the system can tell cheaply (a Kafka partition's lag); None otherwise."""
        return None


class Source:
    bounded: bool = True
    # one split whose reader at position i gives exactly the rows that reader from the start gives from its i-th
    # row on (a generator indexed by event number): source subtasks then divide each round by row index
    indexed: bool = False
    # splits each read from a position of their own (Kafka partitions): source subtasks divide the splits among
    # them, a split read by one subtask
    partitioned: bool = False
    reader_modules: tuple[str, ...] = ()  # what its readers import when they start (a worker's host imports them ahead)

    def splits(self) -> list[str]:
        return ["0"]

    def reader(self, split: str, position: Any = None) -> SplitReader:
        raise NotImplementedError


class SinkWriter:
    def write(self, batch: pa.RecordBatch) -> None:
        raise NotImplementedError

    def end_input(self) -> None:
        """Bounded input ended (Flink's endInput): the final checkpoint follows and must commit everything."""

    def prepare_commit(self, checkpoint_id: int) -> Any:
        return None

    def commit(self, committable: Any) -> None:
        pass

    def abort(self, committable: Any) -> None:
        pass

    def outage(self) -> str | None:
        """Called every few hundred ms: serve pending events (raising if the writer has failed, so the job fails
        now rather than at its next write) and say what the writer is waiting for, else None."""
        return None

    def close(self) -> None:
        pass

    def cancel(self) -> None:
        """The job stops without a final checkpoint: output since the last checkpoint is not committed (the
        restored job writes it again); sinks without two-phase commit just close."""
        self.close()


class Sink:
    accepts_updates: bool = False
    needs_checkpoints: bool = False  # commits only on checkpoints: an unbounded job must enable them
    # a writer per parallel subtask may write the subtask's rows where they are made (Flink's parallel sink): the
    # sink keeps no order across subtasks, and its committable is None or a dict of lists (the subtasks' are
    # joined key by key for the checkpoint) that each writer commits for its own output
    subtask_writers: bool = False
    # writes to this machine (its console, a local folder): subtasks on other machines (Ray) leave it to the job
    local_output: bool = False

    def subtask_writer(self, job: str, index: int, parallelism: int) -> SinkWriter:
        """The writer of subtask `index` of `parallelism` (Flink's SinkWriter opened with its subtask)."""
        return self.writer(job)

    def writer(self, job: str = "job") -> SinkWriter:
        """A writer for one job; `job` (a stable fingerprint) names its files, transactions, etc."""
        raise NotImplementedError

    def rollback(self, job: str, checkpoint_id: int) -> str | None:
        """A restore fell back past newer checkpoints: take back what they committed, saying what was done.

        None when committed output cannot be taken back (it will be written again)."""
        return None

    def recover(self, job: str, committables: list) -> None:
        """After a restore: commit what the last checkpoint prepared, drop what later attempts left behind."""
