"""A sink's writer in a parallel subtask: the subtask's rows are written where they are made.

Flink runs a sink as parallel subtasks, each with its own writer, fed by a forward edge where the sink's parallelism
is its input's. A sink whose writers keep no order across subtasks (`Sink.subtask_writers`: blackhole, print, the
filesystem's part files) is written so here: the subtask's output never goes back to the job's process, which
counts it and runs the checkpoint's two phases: each subtask prepares its committable at the barrier, the
checkpoint stores their merge, and once it is complete each subtask commits its own.
"""
from __future__ import annotations

import pyarrow as pa

from sqlstream.core.changelog import strip_wm
from sqlstream.plan import logical as L
from sqlstream.plan.physical import OperatorSpec


class SubtaskSink:
    """The writer of one sink in one subtask, with the sink's NOT NULL checks, counting the rows it wrote."""

    def __init__(self, spec: OperatorSpec, config: dict, job: str, index: int, parallelism: int) -> None:
        from sqlstream.runtime.constraint_enforcer import NotNullEnforcer
        from sqlstream.runtime.executor import open_sink
        node: L.Sink = spec.node
        self.writer = open_sink(node).subtask_writer(job, index, parallelism)
        self.enforcer = NotNullEnforcer.for_sink(node.fields, config)
        self.rows = 0

    def write(self, batches: list[pa.RecordBatch]) -> None:
        for b in batches:
            if not b.num_rows:
                continue
            b, error = strip_wm(b), None
            if self.enforcer is not None:
                b, error = self.enforcer.apply(b)
            if b.num_rows:
                self.rows += b.num_rows
                self.writer.write(b)
            if error is not None:
                raise error

    def end_input(self) -> None:
        self.writer.end_input()

    def prepare_commit(self, checkpoint_id: int):
        return self.writer.prepare_commit(checkpoint_id)

    def commit(self, committable) -> None:
        self.writer.commit(committable)

    def close(self) -> None:
        self.writer.close()

    def cancel(self) -> None:
        self.writer.cancel()


class SubtasksSinkWriter:
    """In the job's process, the writer of a sink its subtasks write: the checkpoint's two phases go to them. Each
    subtask prepares its own committable at the barrier; the checkpoint stores their merge (what a restore
    recovers); once it is complete each subtask commits its own, as Flink's two-phase-commit sinks do."""

    def __init__(self, region, local) -> None:
        """region: the RegionOperator of the subtasks; local: the job-process writer (it gets no rows)."""
        self.region, self.local = region, local
        self.prepared: list = []

    def write(self, batch: pa.RecordBatch) -> None:
        self.local.write(batch)

    def end_input(self) -> None:
        pass  # each subtask's writer ends its input when its operators close

    def prepare_commit(self, checkpoint_id: int):
        from sqlstream.runtime.parallel.subtask import PREPARE
        self.prepared = self.region.request(PREPARE, [checkpoint_id] * self.region.parallelism)
        return merge_committables(self.prepared)

    def commit(self, committable) -> None:
        from sqlstream.runtime.parallel.subtask import COMMIT
        prepared, self.prepared = self.prepared, []
        if any(c is not None for c in prepared):
            self.region.request(COMMIT, prepared)

    def abort(self, committable) -> None:
        self.prepared = []

    def outage(self) -> str | None:
        return None

    def close(self) -> None:
        """The job ended: each subtask's writer closes (without checkpoints, committing what it wrote)."""
        from sqlstream.runtime.parallel.subtask import CLOSE_SINK
        self.region.drain()  # a job stopped early may have messages unanswered (their rows went to the sink)
        self.region.request(CLOSE_SINK)
        self.local.close()

    def cancel(self) -> None:
        """The subtasks' writers cancel when their workers stop (or died: a restore removes their hidden files)."""
        self.local.cancel()


def merge_committables(committables: list):
    """One committable for the checkpoint from the subtasks': None, or each key's lists joined (a sink written
    by subtasks gives None or a dict of lists, as the filesystem sink's files and in-progress files)."""
    given = [c for c in committables if c]
    if not given:
        return None
    merged: dict = {}
    for c in given:
        for key, items in c.items():
            merged.setdefault(key, []).extend(items)
    return merged


def writes_in_subtasks(sink: OperatorSpec, remote: bool = False) -> bool:
    """Whether a sink's writers run in the subtasks feeding it: its connector allows it and it is fed by a forward
    edge (its parallelism is its input's); `remote`: the subtasks run on other machines (Ray), where a sink
    writing to this machine (print's console, a local folder) would write to theirs."""
    from sqlstream.plan.physical import FORWARD
    node = sink.node
    if not isinstance(node, L.Sink) or node.connector == "collect" or len(sink.inputs) != 1 \
            or sink.inputs[0].distribution.kind != FORWARD:
        return False
    from sqlstream.connectors import registry
    if node.connector not in registry.LOADERS:
        return False
    try:
        from sqlstream.runtime.executor import open_sink
        sink = open_sink(node)
        return bool(sink.subtask_writers) and not (remote and sink.local_output)
    except Exception:  # noqa: BLE001 -- the job's own start reports a sink that cannot open
        return False
