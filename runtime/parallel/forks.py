"""A divided source whose rows several operators read (`regions.Fork`), in a source subtask: each branch over the
subtask's piece of a round.

The rows of the branches into the region's head are routed by that input's keys and go to the subtask owning them
(one message per branch and subtask, `peers.py`); the rows of every other branch go through the local phase of the
window aggregation they feed (`WindowAggregateOperator.local_partials`), and its partials go back to the job's
process, where that aggregation runs as the global phase, piece by piece in logical order.
"""
from __future__ import annotations

import pyarrow as pa

from sqlstream.core.changelog import strip_wm
from sqlstream.runtime.operators import registry as operators
from sqlstream.runtime.parallel.source_share import route_through, stateless_ops, through


class ForkBranches:
    """The branches of a `Fork` over the pieces one subtask reads."""

    def __init__(self, fork, config: dict, parallelism: int, max_parallelism: int,
                 row_watermarks: bool = True) -> None:
        """row_watermarks: whether the head reads its input rows' watermarks (`Operator.reads_row_watermarks`);
        where not, its rows cross the exchange without them (nexmark q7's join: 8 of a bid's ~54 bytes)."""
        self.parallelism, self.max_parallelism = parallelism, max_parallelism
        self.inputs = [(stateless_ops(specs, config), keys) for _, (specs, keys) in sorted(fork.inputs.items())]
        # per head input, whether its rows keep their watermarks (a calculation reading CURRENT_WATERMARK reads them)
        self.keeps_wm = [row_watermarks or any(getattr(op, "reads_watermark", False) for op in ops)
                         for ops, _ in self.inputs]
        self.returned = []
        for specs, target in fork.returned:
            local = operators.build(target)  # only its local phase runs here: it keeps no state
            self.returned.append((stateless_ops(specs, config), local))

    def split(self, batches: list[pa.RecordBatch]) -> tuple[list[list], list[tuple[int, pa.RecordBatch]]]:
        """A piece's rows (through the source's chain): per subtask, its rows of each head input in input order
        (None: none); and per returned branch with rows, (its index, the local phase's partials)."""
        routed = [[] for _ in range(self.parallelism)]
        stripped = None
        for (ops, keys), keeps_wm in zip(self.inputs, self.keeps_wm):
            if not keeps_wm and stripped is None:
                stripped = [strip_wm(b) for b in batches]
            rows_in = batches if keeps_wm else stripped
            for d, rows in enumerate(route_through(ops, rows_in, keys, self.parallelism, self.max_parallelism)):
                routed[d].append(rows)
        partials = []
        for j, (ops, local) in enumerate(self.returned):
            rows = through(ops, batches)
            partial = local.local_partials(rows) if rows else None
            if partial is not None and partial.num_rows:
                partials.append((j, partial))
        return routed, partials
