"""The physical plan: operator specs the planner emits and the runtime builds operators from by name.

Each spec names a registered runtime operator, carries its configuration (the operator's constructor
arguments), and lists its input edges. An edge says how rows travel from the producer to this operator
(`Distribution`: forward, hash on key columns, single, broadcast, rebalance) and which changelog mode it carries,
and each spec says how many parallel subtasks run it, so a parallel runtime can split every operator into
subtasks and route rows between them by the plan alone.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

FORWARD = "forward"
HASH = "hash"
SINGLE = "single"
BROADCAST = "broadcast"
REBALANCE = "rebalance"  # round-robin: a forward edge between operators of different parallelism


@dataclass(frozen=True)
class Distribution:
    """How an edge partitions rows among the consumer's subtasks; `keys` are producer columns (hash only)."""

    kind: str
    keys: tuple[int, ...] = ()

    def describe(self, names: list[str]) -> str:
        if self.kind == HASH:
            return f"hash[{', '.join(names[k] for k in self.keys)}]"
        return self.kind


def hash_or_single(keys) -> Distribution:
    """Hash on the keys; with no keys every row meets in one subtask, as Flink's `single` exchange."""
    keys = tuple(keys)
    return Distribution(HASH, keys) if keys else Distribution(SINGLE)


def common_keys(keys: list[int], grouping_sets: list[list[int]] | None) -> list[int]:
    """Key columns every grouping set groups by: hashing on them keeps each set's groups together (and they are
    what an aggregation's state splits by when rescaled)."""
    if not grouping_sets:
        return list(keys)
    return [k for i, k in enumerate(keys) if all(i in s for s in grouping_sets)]


@dataclass(frozen=True)
class Edge:
    """An input of an operator: the producing spec (its position in `PhysicalPlan.operators`), the
    distribution of the rows and the changelog mode they carry."""

    source: int
    distribution: Distribution
    changelog: str


@dataclass(eq=False)
class OperatorSpec:
    """One operator of the physical plan.

    `uid` is stable across runs of the same plan (the checkpoint keys state by it); `name` is the registered
    operator; `config` its constructor arguments; `node` the plan node it implements (sources and sinks are
    created from it); `description` what EXPLAIN prints; `signature` the structure that ids and the job
    fingerprint hash, free of column names so that renaming an alias keeps a job's checkpoints.
    """

    uid: str
    name: str
    config: dict[str, Any]
    inputs: tuple[Edge, ...]
    changelog: str
    node: Any
    description: str = ""
    signature: str = ""
    names: list[str] = field(default_factory=list)
    parallelism: int = 1


@dataclass(eq=False)
class PhysicalPlan:
    """Operators in topological order (inputs first); `roots` are the sinks; `fingerprint` identifies the job.

    `parallelism` is the job's default ('parallelism.default'); `max_parallelism` the number of key groups keyed
    state is divided into ('pipeline.max-parallelism'), which bounds every operator's parallelism.
    """

    operators: list[OperatorSpec]
    roots: list[int]
    fingerprint: str
    parallelism: int = 1
    max_parallelism: int = 128

    def spec_of(self, node) -> OperatorSpec:
        return self._by_node()[id(node)]

    def _by_node(self) -> dict[int, OperatorSpec]:
        by = self.__dict__.get("_by")
        if by is None:
            by = self.__dict__["_by"] = {id(s.node): s for s in self.operators}
        return by
