"""A sink's writer in a parallel subtask: the subtask's rows are written where they are made.

Flink runs a sink as parallel subtasks, each with its own writer, fed by a forward edge where the sink's parallelism
is its input's. A sink whose writers keep no order across subtasks and commit nothing (`Sink.subtask_writers`) is
written so here: the subtask's output never goes back to the job's process, which only counts it.
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

    def close(self) -> None:
        self.writer.close()


def writes_in_subtasks(sink: OperatorSpec, remote: bool = False) -> bool:
    """Whether a sink's writers run in the subtasks feeding it: its connector allows it and it is fed by a forward
    edge (its parallelism is its input's); `remote`: the subtasks run on other machines (Ray), where a console
    sink (print) would not reach the job's console."""
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
        return bool(sink.subtask_writers) and not (remote and sink.console)
    except Exception:  # noqa: BLE001 -- the job's own start reports a sink that cannot open
        return False
