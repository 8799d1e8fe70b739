"""Parallel execution of a job's physical plan as N subtasks per keyed region, in worker processes.

Imported only when a job runs at a parallelism above 1 (parallelism 1 imports nothing of it, nor
multiprocessing). `parallel_operators` decides which operators run as subtasks and builds, for the job's
dataflow, the operators that stand for them; see ARCHITECTURE.md, "Parallel execution".
"""
from __future__ import annotations

from sqlstream.plan import logical as L
from sqlstream.plan.physical import OperatorSpec, PhysicalPlan
from sqlstream.runtime.operator import Operator
from sqlstream.runtime.operators import registry
from sqlstream.runtime.parallel.regions import Region, RegionPlan, find_regions
from sqlstream.runtime.parallel.region_operator import (ForwardOperator, RegionOperator, SourceWatermarkOperator,
                                                        SubtaskFailed)
from sqlstream.runtime.split_watermarks import SplitWatermarks


class ParallelOperators:
    """Builds a dataflow's operators at a parallelism: a region's head as a RegionOperator over its subtasks, the
    rest of the region as ForwardOperators, every other operator as at parallelism 1 (in the job's process)."""

    def __init__(self, plan: PhysicalPlan, config: dict, parallelism: int | None = None, late_rows: bool = False,
                 host=None, capped: bool = False, counted: bool = False, job: str = "job") -> None:
        """capped: the job's sources end after a number of rows (--max-rows-in); counted: the job stops after its
        sinks got a number of rows (--max-rows-out), so every row goes to the job's process; job: the job's
        fingerprint (it names a sink writer's files and transactions)."""
        self.config = config
        self.job = job
        if host is None:
            from sqlstream.runtime.ray_host import host_of
            host = host_of(config)  # None: worker processes on this machine
        self.host = host
        one_phase = str(config.get("table.optimizer.agg-phase-strategy", "AUTO")).upper() == "ONE_PHASE"
        self.regions: RegionPlan = find_regions(plan, parallelism, late_rows, capped, sink_writers=not counted,
                                                remote=host is not None, two_phase=not one_phase)
        self.heads: dict[str, Region] = {r.head.uid: r for r in self.regions.regions}
        self.inner = {s.uid for r in self.regions.regions for s in r.inner}
        # a divided source's watermark, kept by its region's operator and checkpointed as its assigner's state
        self.marks = {r.head.uid: SplitWatermarks() for r in self.regions.regions if r.source is not None}
        for r in self.regions.regions:
            if r.source is not None and r.source.kind == "splits":  # a watermark per partition
                self.marks[r.head.uid].set_splits(r.source.splits)
        self.assigners = {s.uid: r.head.uid for r in self.regions.regions if r.source is not None
                          for s in r.source.specs if isinstance(s.node, L.WatermarkAssigner)}
        # window aggregations fed by the local phase the subtasks of a forked source run (`regions.Fork`)
        self.global_phases = {target.uid for r in self.regions.regions if r.fork is not None
                              for _, target in r.fork.returned}

    def build(self, spec: OperatorSpec) -> Operator:
        region = self.heads.get(spec.uid)
        if region is not None:
            return RegionOperator(region, self.config, self.regions.parallelism, self.host,
                                  self.marks.get(spec.uid), self.job)
        if spec.uid in self.assigners:
            return SourceWatermarkOperator(self.marks[self.assigners[spec.uid]])
        if spec.uid in self.inner:
            return ForwardOperator()
        op = registry.build(spec)
        if spec.uid in self.global_phases:
            op.become_global()
        return op

    def describe(self) -> list[str]:
        """What runs where, for the job's log and summary."""
        p = self.regions.parallelism
        lines = [f"parallelism {p}: {r.describe()} run as {p} subtasks ("
                 + ("source divided among them, " + ("then " if r.specs else "") if r.source is not None else "")
                 + (_branches(r) if r.fork is not None else "")
                 + ("hash exchange on key groups" if r.specs else "" if r.sink is not None
                    else "rows back to the sink in the source's order")
                 + ("; output back to the job's process, step by step of the watermark" if r.returns else "")
                 + (("; " if r.specs else "") + f"sink {r.sink.uid} written by each subtask" if r.sink is not None
                    else "")
                 + ")" for r in self.regions.regions]
        return lines + [f"parallelism {p}: {n}" for n in self.regions.notices]


def _branches(region: Region) -> str:
    """How a region's head reads a source several operators read (`regions.Fork`), for `describe`."""
    fork = region.fork
    n = len(fork.inputs) + len(fork.returned)
    text = f"its rows read by {n} branches, " if n > 1 else ""
    text += "".join(f"the local phase of {t.uid} (its global phase in the job's process), " for _, t in fork.returned)
    others = [i for i in range(len(region.head.inputs)) if i not in fork.inputs]
    if others:
        text += f"input {', '.join(str(i) for i in others)} of {region.head.uid} from the job's process, "
    return text + "then "


__all__ = ["ParallelOperators", "SubtaskFailed", "find_regions"]
