"""Which part of a physical plan runs as parallel subtasks, and why the rest does not.

A region is an operator whose every input edge is a hash exchange (the head: a GROUP BY, a join, a keyed window
aggregation, ...) followed by the chain of operators that forward its rows, one consumer each, to a sink. The
region runs as N subtasks, each owning a contiguous range of key groups; everything upstream of the region runs in
the job's process as at parallelism 1 and feeds the exchange. Because a region ends at a sink, no second exchange
has to merge the subtasks' outputs back into parallelism 1's per-key order: a key lives in one subtask, which sees
that key's rows in the same order, with the same per-row watermarks and between the same watermark advances, as
parallelism 1 does.
"""
from __future__ import annotations

import pickle
from dataclasses import dataclass, field

from sqlstream.plan import logical as L
from sqlstream.plan.physical import FORWARD, HASH, SINGLE, OperatorSpec, PhysicalPlan
from sqlstream.runtime.parallel.subtask_sink import writes_in_subtasks


@dataclass
class SourceChain:
    """A source read by the subtasks themselves, each its share of every round, with the stateless operators
    (calculations, the watermark assigner) between it and the exchange (or the sink)."""

    scan: OperatorSpec
    specs: list[OperatorSpec]  # bottom up, the scan excluded
    module: str = ""  # the connector's module
    reader_modules: tuple[str, ...] = ()  # what the source's readers import when they start
    kind: str = "rows"  # how subtasks divide it: "rows" of a row-indexed source, "bytes" of each file in turn,
    # "splits" of a partitioned source (Kafka partitions, each read by one subtask)
    splits: int = 1  # a partitioned source's partitions
    idle_timeout_ms: int = 0  # after which a partition without rows stops holding the watermark back


@dataclass
class Fork:
    """A divided source whose rows several operators read (nexmark q7's bid view: the MAX per window and the join
    back to the bids): the source's chain (`Region.source`) ends at the operator they share, and each subtask
    runs every branch over its piece. `inputs`: per head input fed by the source, the stateless operators between
    the shared one and the head (bottom up) and the exchange's keys; `returned`: per other reader, its stateless
    operators and the window aggregation they feed, which runs in the job's process as the global phase of the
    local one the subtasks run over each piece (`window_aggregate.local_partials`)."""

    inputs: dict[int, tuple[list[OperatorSpec], tuple[int, ...]]]
    returned: list[tuple[list[OperatorSpec], OperatorSpec]] = field(default_factory=list)

    @property
    def specs(self) -> list[OperatorSpec]:
        """The branches' operators (all run in the subtasks)."""
        return [s for specs, _ in self.inputs.values() for s in specs] + [s for specs, _ in self.returned
                                                                         for s in specs]


@dataclass
class Region:
    """Specs (head first, then the forward chain) and the hash keys of each head input; `source`: the source the
    subtasks read themselves (then `specs` may be empty: the source's chain runs up to the sink)."""

    specs: list[OperatorSpec]
    keys: list[tuple[int, ...]]
    source: SourceChain | None = None
    sink: OperatorSpec | None = None  # the sink the subtasks write themselves (`subtask_sink.py`), else None
    returns: bool = False  # its output goes back into the job's dataflow (`_returning_regions`), not to a sink
    fork: Fork | None = None  # the source's rows reach the head through several branches (`_add_forks`)

    @property
    def head(self) -> OperatorSpec:
        """The operator standing for the region in the job's dataflow."""
        return self.specs[0] if self.specs else self.source.specs[-1]

    @property
    def inner(self) -> list[OperatorSpec]:
        """The region's other operators (forwarding in the job's dataflow)."""
        chain = self.source.specs if self.source is not None else []
        chain = chain + (self.fork.specs if self.fork is not None else [])
        return [s for s in chain + self.specs if s is not self.head]

    @property
    def every(self) -> list[OperatorSpec]:
        """Every operator the region's subtasks run, its source's scan too."""
        return self.specs + self.inner + ([self.source.scan] if self.source is not None else [])

    def describe(self) -> str:
        first = self.source.scan if self.source is not None else self.specs[0]
        last = self.sink if self.sink is not None else self.specs[-1] if self.specs else self.source.specs[-1]
        return first.uid if first is last else f"{first.uid} .. {last.uid}"


@dataclass
class RegionPlan:
    """The regions of a plan at a parallelism, and a notice for each sink whose operators stay in one process."""

    parallelism: int
    regions: list[Region] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)


def find_regions(plan: PhysicalPlan, parallelism: int | None = None, late_rows: bool = False,
                 capped: bool = False, sink_writers: bool = True, remote: bool = False,
                 two_phase: bool = True) -> RegionPlan:
    """The region feeding each sink, where its shape allows, at the parallelism the plan gives its head
    (`parallelism` overrides it); `late_rows`: the job writes late rows to a table; `capped`: its sources end
    after a number of rows (--max-rows-in); `sink_writers`: sinks that allow it are written in the subtasks
    (False: every row goes back to the job's process, which counts them, for --max-rows-out); `remote`: the
    subtasks run on other machines; `two_phase`: aggregations may run in two phases (not with
    'table.optimizer.agg-phase-strategy' ONE_PHASE)."""
    found = RegionPlan(parallelism or plan.parallelism)
    consumers: dict[int, int] = {}
    for spec in plan.operators:
        for e in spec.inputs:
            consumers[e.source] = consumers.get(e.source, 0) + 1
    for root in plan.roots:
        sink = plan.operators[root]
        region, why = _region_into(plan, sink, consumers, late_rows, capped)
        if region is not None and parallelism is None and region.head.parallelism != found.parallelism:
            region, why = None, f"{region.head.uid} runs at parallelism {region.head.parallelism}"
        if region is None:
            found.notices.append(f"sink {sink.uid}: its operators run in the job's process at parallelism 1 "
                                 f"({why})")
            continue
        if sink_writers and writes_in_subtasks(sink, remote):
            region.sink = sink
        found.regions.append(region)
    if not late_rows:
        if not remote:
            _add_forks(plan, found, consumers, capped, two_phase)
        _add_returning_regions(plan, found, parallelism is None, capped)
    return found


EXACT_ANY_ORDER = {"COUNT", "MIN", "MAX", "SUM", "SUM0", "AVG"}  # with the argument types `_exact_any_order` allows


def _add_returning_regions(plan: PhysicalPlan, found: RegionPlan, at_plans: bool, capped: bool) -> None:
    """Keyed window aggregations over a source the subtasks divide, whose output goes back into the job's
    dataflow (their results feed several operators, or a chain that is not a region of its own).

    A subtask's output for each of the source's watermark advances comes back with that advance, and the job's
    process pushes every subtask's rows of a step (in subtask order) before it advances the operators after the
    region: they get parallelism 1's rows between the same watermark advances, in another order within a step.
    So only where nothing after the region, up to the sinks, depends on that order: calculations, window
    aggregations of counts, extremes and exact sums, window joins, sinks, fed by the region alone.

    A region after it (fed by the job's process) then runs in the job's process too: its rows would cross the
    job's process between two sets of subtasks, hashed and piped twice (nexmark q5: the window join after the
    count per auction cost more CPU and time in 2 more subtasks than in the job's process)."""
    taken = {id(s) for r in found.regions for s in r.every}
    readers: dict[int, list[int]] = {}
    for i, spec in enumerate(plan.operators):
        for e in spec.inputs:
            readers.setdefault(e.source, []).append(i)
    counts = {i: len(r) for i, r in readers.items()}
    for index, head in enumerate(plan.operators):
        if head.name != "WindowAggregate" or id(head) in taken or len(head.inputs) != 1 \
                or head.inputs[0].distribution.kind != HASH or head.config["window"].proctime \
                or (at_plans and head.parallelism != found.parallelism):
            continue
        chain, last = [head], index
        while len(readers.get(last, [])) == 1:
            after = plan.operators[readers[last][0]]
            if not _order_free(after) or not isinstance(after.node, L.Calc) \
                    or after.inputs[0].distribution.kind != FORWARD:
                break
            chain.append(after)
            last = readers[last][0]
        below = _fed_by(plan, readers, last)
        if not below:
            continue
        source, _ = _source_below(plan, head, counts, capped)
        if source is None:
            continue
        region, _ = _picklable(Region(chain, [head.inputs[0].distribution.keys], source, returns=True))
        if region is None:
            continue
        for after in [r for r in found.regions if r.source is None and id(r.head) in below]:
            found.regions.remove(after)
            found.notices.append(f"{after.describe()}: runs in the job's process at parallelism 1 (its rows come "
                                 f"back there from {region.describe()})")
        found.regions.append(region)


def _fed_by(plan: PhysicalPlan, readers: dict[int, list[int]], last: int) -> set[int]:
    """The operators after `last` up to the sinks (their ids), where each reads only rows coming from it and
    none depends on the order of the rows it gets between two watermark advances; else an empty set."""
    below, todo = {last}, list(readers.get(last, []))
    while todo:
        i = todo.pop()
        if i in below:
            continue
        spec = plan.operators[i]
        if not _order_free(spec):
            return set()
        below.add(i)
        todo += readers.get(i, [])
    if len(below) == 1 or any(e.source not in below for i in below - {last} for e in plan.operators[i].inputs):
        return set()
    return {id(plan.operators[i]) for i in below - {last}}


def _order_free(spec: OperatorSpec) -> bool:
    """An operator whose results (as rows with their changes) do not depend on the order of its input rows
    between two watermark advances, given the same rows with the same watermarks."""
    node = spec.node
    if isinstance(node, L.Sink):
        return all(e.changelog == "I" for e in spec.inputs)
    if isinstance(node, L.Calc):
        return not _calls(node, ORDER_DEPENDENT)
    if spec.name == "WindowJoin":
        return True
    if spec.name == "WindowAggregate" and not spec.config["window"].proctime \
            or spec.name == "WindowGroupAggregate":
        return all(_exact_any_order(a, node.input) for a in node.aggs)
    return False


def _exact_any_order(agg, input_node) -> bool:
    """An aggregate giving the same value for its rows in any order: counts, extremes of non-floating values,
    sums of integers and decimals."""
    if agg.fn not in EXACT_ANY_ORDER:
        return False
    if agg.fn == "COUNT" or not agg.args:
        return True
    kind = input_node.fields[agg.args[0]].type.name
    if agg.fn in ("MIN", "MAX"):
        return kind not in ("FLOAT", "DOUBLE", "REAL")
    return kind in ("TINYINT", "SMALLINT", "INT", "INTEGER", "BIGINT", "DECIMAL")


def _region_into(plan: PhysicalPlan, sink: OperatorSpec, consumers: dict[int, int], late_rows: bool,
                 capped: bool = False):
    chain: list[OperatorSpec] = []
    spec = sink
    while True:
        # the sink writes in the job's process whatever its exchange; between operators only forward edges
        if len(spec.inputs) != 1 or (spec.inputs[0].distribution.kind != FORWARD and spec is not sink):
            break
        index = spec.inputs[0].source
        below = plan.operators[index]
        if isinstance(below.node, (L.Scan, L.WatermarkAssigner)):
            source, why = _source_below(plan, sink, consumers, capped)
            if source is None:
                return None, f"no keyed operator between the sources and the sink, and {why}"
            return _picklable(Region([], [], source))
        if consumers.get(index, 0) != 1:
            return None, f"{below.uid} feeds several operators"
        chain.insert(0, below)
        spec = below
    if spec is sink:
        return None, "no input"
    head = spec
    kinds = {e.distribution.kind for e in head.inputs}
    if kinds != {HASH}:
        other = "/".join(sorted(kinds - {HASH}))
        return None, f"{head.uid} reads a single exchange: all its rows meet in one subtask" if other == "single" \
            else f"{head.uid} reads {other} input: a region starts at an operator whose inputs are all hashed"
    wall_clock = [s.uid for s in chain if getattr(s.config.get("window"), "proctime", False)]
    if wall_clock:
        return None, f"{wall_clock[0]} fires by the wall clock, which subtasks do not follow yet"
    if late_rows and any(_drops_late_rows(s) for s in chain):
        return None, "the job writes late rows to a table, which subtasks cannot do yet"
    region = Region(chain, [e.distribution.keys for e in head.inputs])
    if len(head.inputs) == 1:
        region.source, _ = _source_below(plan, head, consumers, capped)
        if region.source is not None and _picklable(region)[0] is None:
            region.source = None
    return _picklable(region)


def _add_forks(plan: PhysicalPlan, found: RegionPlan, consumers: dict[int, int], capped: bool,
               two_phase: bool = True) -> None:
    """Regions whose head reads a divided source through one or several stateless branches of an operator that
    other operators read too (`Fork`; nexmark q7: the bids feed the join and the MAX per window). The subtasks read
    the source once and run every branch over their piece: rows for the head cross straight to the subtask
    owning them; the rows of the other branches each feed a window aggregation in the job's process, which gets
    the local phase's partials of every piece, each with its rows' watermarks, and the source's watermark advances
    after each piece as at parallelism 1 (so its results and late rows are parallelism 1's). Only where the other
    readers are such window aggregations, and where the head's results cannot depend on how its inputs
    interleave when it has several: an inner join of insert-only inputs without a state TTL (its output, insert
    only, is the same rows whichever side's row came first), the operators after it too (`_order_free`).
    `two_phase` False (ONE_PHASE): no other readers."""
    readers: dict[int, list[int]] = {}
    for i, spec in enumerate(plan.operators):
        for e in spec.inputs:
            readers.setdefault(e.source, []).append(i)
    index_of = {id(s): i for i, s in enumerate(plan.operators)}
    for region in list(found.regions):
        if region.source is not None or not region.specs:
            continue
        taken = {id(s) for r in found.regions for s in r.every}
        fork = _fork_of(plan, region, consumers, readers, index_of, taken, two_phase)
        if fork is None:
            continue
        shared, made = fork
        source, _ = _source_from(plan, shared, consumers, capped, shared=shared)
        if source is None or source.kind not in ("rows", "bytes"):
            continue
        trial = Region(region.specs, region.keys, source, region.sink, fork=made)
        if _picklable(trial)[0] is not None:
            found.regions[found.regions.index(region)] = trial


def _fork_of(plan: PhysicalPlan, region: Region, consumers: dict[int, int], readers: dict[int, list[int]],
             index_of: dict[int, int], taken: set[int], two_phase: bool = True):
    """(the shared operator's index, the `Fork`) of a region's head, else None."""
    head = region.specs[0]
    shared, inputs = None, {}
    for i, edge in enumerate(head.inputs):
        specs, index = [], edge.source
        while consumers.get(index, 0) == 1 and _stateless(plan.operators[index]):
            specs.insert(0, plan.operators[index])
            index = plan.operators[index].inputs[0].source
        if not isinstance(plan.operators[index].node, (L.Calc, L.WatermarkAssigner)):
            continue  # fed by the job's process (another source, a keyed operator)
        if shared is not None and index != shared:
            return None
        shared, inputs[i] = index, (specs, tuple(edge.distribution.keys))
    if shared is None:
        return None
    several = len(head.inputs) > 1
    if several and not (head.name == "InnerJoin" and not head.config.get("ttl_ms")
                        and all(e.changelog == "I" for e in head.inputs)
                        and all(_order_free(s) for s in region.specs[1:])):
        return None
    heads = {index_of[id(specs[0] if specs else head)] for specs, _ in inputs.values()}
    returned = []
    for reader in readers.get(shared, []):
        if reader in heads or index_of[id(head)] == reader:
            continue
        specs, index = [], reader
        while _stateless(plan.operators[index]) and len(readers.get(index, [])) == 1:
            specs.append(plan.operators[index])
            index = readers[index][0]
        target = plan.operators[index]
        if not two_phase or index == reader or not _takes_partials(target) or id(target) in taken or any(id(s) in taken for s in specs):
            return None
        returned.append((specs, target))
    if not returned and len(inputs) == 1 and consumers.get(shared, 0) > 1:
        return None
    return shared, Fork(inputs, returned)


def _stateless(spec: OperatorSpec) -> bool:
    """A calculation forwarding its one input's rows, each row's values its own."""
    return isinstance(spec.node, L.Calc) and len(spec.inputs) == 1 and spec.inputs[0].distribution.kind == FORWARD \
        and not _calls(spec.node, ORDER_DEPENDENT)


def _takes_partials(spec: OperatorSpec) -> bool:
    """A window aggregation over event time in the job's process whose partial states merge exactly, so the
    subtasks can run its local phase over each piece (`window_aggregate.splits_in_two`, keyed or not)."""
    if spec.name != "WindowAggregate" or len(spec.inputs) != 1 or spec.inputs[0].changelog != "I" \
            or spec.inputs[0].distribution.kind not in (HASH, SINGLE):
        return False
    from sqlstream.runtime.operators import registry
    op = registry.build(spec)
    return op.splits_in_two(keyed=False)


def _picklable(region: Region):
    try:
        pickle.dumps((region.specs, region.source))
    except Exception as e:  # a Python UDF defined where a worker process cannot import it
        return None, f"its operators cannot be sent to a worker process ({type(e).__name__}: {e})"
    return region, ""


ORDER_DEPENDENT = {"CURRENT_WATERMARK", "RAND", "RAND_INTEGER", "UUID"}  # a row's value depends on rows before it


def _source_below(plan: PhysicalPlan, spec: OperatorSpec, consumers: dict[int, int], capped: bool = False,
                  shared: int | None = None):
    """The source and stateless chain below `spec`'s one input, where subtasks can read it divided, else
    (None, why); `shared`: the operator (its index) where the chain may feed several operators (a `Fork`)."""
    return _source_from(plan, spec.inputs[0].source, consumers, capped, shared)


def _source_from(plan: PhysicalPlan, index: int, consumers: dict[int, int], capped: bool = False,
                 shared: int | None = None):
    """The source and stateless chain up to operator `index` (included), as `_source_below`."""
    chain: list[OperatorSpec] = []
    while True:
        below = plan.operators[index]
        if consumers.get(index, 0) != 1 and index != shared:
            return None, f"{below.uid} feeds several operators"
        if isinstance(below.node, L.Scan):
            break
        if not isinstance(below.node, (L.Calc, L.WatermarkAssigner)) or len(below.inputs) != 1 \
                or below.inputs[0].distribution.kind != FORWARD:
            return None, f"{below.uid} is not a calculation or watermark assigner forwarding a source's rows"
        if isinstance(below.node, L.Calc) and _calls(below.node, ORDER_DEPENDENT):
            return None, f"{below.uid} computes values that depend on the rows before each row"
        chain.insert(0, below)
        index = below.inputs[0].source
    scan = below
    try:
        from sqlstream.runtime.executor import open_source
        source = open_source(scan.node)
        kind = "rows" if source.indexed and len(source.splits()) == 1 else \
            "bytes" if getattr(source, "ranged", False) else \
            "splits" if getattr(source, "partitioned", False) else None
        splits = len(source.splits()) if kind == "splits" else 1
    except Exception as e:  # noqa: BLE001 -- the job's own start reports a source that cannot open
        return None, f"source {scan.uid} cannot be opened here ({type(e).__name__})"
    if kind is None:
        return None, f"source {scan.node.table} ({scan.node.connector}) is not divided among subtasks"
    if kind == "splits" and capped:
        return None, f"source {scan.node.table} ends after --max-rows-in rows, counted over its partitions in " \
                     f"parallelism 1's order"
    if kind == "bytes" and capped and not source.bounded:
        return None, f"source {scan.node.table} ends after --max-rows-in rows, counted as parallelism 1 reads its " \
                     f"files as they are discovered"
    if not chain:
        return None, f"source {scan.uid} feeds the exchange directly"
    return SourceChain(scan, chain, module=type(source).__module__, kind=kind, splits=splits,
                       idle_timeout_ms=_idle_timeout_ms(scan, chain), reader_modules=tuple(source.reader_modules)), ""


def _idle_timeout_ms(scan: OperatorSpec, chain: list[OperatorSpec]) -> int:
    """The table's 'scan.watermark.idle-timeout', else the assigner's (table.exec.source.idle-timeout)."""
    from sqlstream.connectors.options import parse_duration_ms
    idle = scan.node.options.get("scan.watermark.idle-timeout")
    if idle:
        return parse_duration_ms(idle)
    return max([int(s.config.get("idle_timeout_ms") or 0) for s in chain if isinstance(s.node, L.WatermarkAssigner)],
               default=0)


def _calls(node: L.Calc, names: set[str]) -> bool:
    from sqlstream.plan.expr import Call

    def walk(e) -> bool:
        return isinstance(e, Call) and (e.fn.upper() in names or any(walk(a) for a in e.args))
    exprs = list(node.projections) + ([node.condition] if node.condition is not None else [])
    return any(walk(e) for e in exprs)


def _drops_late_rows(spec: OperatorSpec) -> bool:
    from sqlstream.runtime.operators import registry
    return bool(registry.operator_class(spec.name).drops_late_rows)
