"""Each operator's parallelism and the exchanges it implies, chosen as Flink 2.3's planner chooses them.

Flink's rules, as its stream graphs show them (`tests/parallel_plans/` holds what Flink printed):
- A source runs at its connector's 'scan.parallelism' (a VALUES list at 1), else 'table.exec.resource.default-parallelism' (when set),
  else 'parallelism.default'. A source with 'scan.parallelism' is followed by a partitioner: hash on the primary
  key for a changelog source, otherwise rows are rebalanced unless both sides have the same parallelism.
- After a hash exchange an operator runs at 'parallelism.default'; after a single exchange at 1; a forwarded
  operator keeps its input's parallelism (the first input's, for a union), and a forward edge between operators of
  different parallelism rebalances rows round-robin.
- A sink runs at 'sink.parallelism', else at its input's. A sink with a primary key gets its rows hashed on the key
  when its parallelism differs from its input's and is not 1 ('table.exec.sink.keyed-shuffle' AUTO; FORCE: whenever
  it is not 1; NONE: never). An updating input into a sink of another parallelism needs that key.

Flink tells an operator whose parallelism was set (a source, a single exchange's consumer, a configured sink) from
one left at the default (after a hash or rebalance), and compares a sink's configured parallelism with the latter
as "-1": a sink with 'sink.parallelism' after a hash exchange is always "different". `_Placed.fixed` keeps that.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from sqlstream.connectors.values import NAME as VALUES
from sqlstream.core.errors import OptionError, ValidationError
from sqlstream.plan import logical as L
from sqlstream.plan.physical import (BROADCAST, FORWARD, HASH, REBALANCE, SINGLE, Distribution, Edge,
                                     OperatorSpec)

DEFAULT_MAX_PARALLELISM = 128
MAX_PARALLELISM_LIMIT = 32768  # Flink's upper bound for 'pipeline.max-parallelism' (2^15 key groups)
SCAN_PARALLELISM = "scan.parallelism"
SINK_PARALLELISM = "sink.parallelism"
PARALLELISM_OPTIONS = (SCAN_PARALLELISM, SINK_PARALLELISM)
KEYED_SHUFFLE = ("AUTO", "NONE", "FORCE")


@dataclass(frozen=True)
class ParallelismSettings:
    """The job-wide settings: the default, the table default for sources (0: not set), the number of key groups
    and the sink keyed-shuffle mode."""

    default: int = 1
    table_default: int = 0
    max_parallelism: int = DEFAULT_MAX_PARALLELISM
    sink_keyed_shuffle: str = "AUTO"

    @property
    def source_default(self) -> int:
        return self.table_default or self.default


def _int_setting(config: dict, key: str, low: int, high: int, fallback: int, unset: int | None = None) -> int:
    value = config.get(key)
    if value is None or str(value).strip() == "":
        return fallback
    try:
        n = int(str(value).strip())
    except ValueError:
        raise ValidationError(f"Configuration '{key}' must be an integer from {low} to {high}, got '{value}'") \
            from None
    if unset is not None and n == unset:
        return fallback
    if not low <= n <= high:
        extra = f" (or {unset}: not set)" if unset is not None else ""
        raise ValidationError(f"Configuration '{key}' must be from {low} to {high}{extra}, got {n}")
    return n


def settings_of(config: dict) -> ParallelismSettings:
    """The parallelism settings of a job's configuration, checked (a clear error names the setting and its range)."""
    default = _int_setting(config, "parallelism.default", 1, MAX_PARALLELISM_LIMIT, 1)
    table_default = _int_setting(config, "table.exec.resource.default-parallelism", 1, MAX_PARALLELISM_LIMIT, 0,
                                 unset=-1)
    max_parallelism = _int_setting(config, "pipeline.max-parallelism", 1, MAX_PARALLELISM_LIMIT,
                                   DEFAULT_MAX_PARALLELISM, unset=-1)
    shuffle = str(config.get("table.exec.sink.keyed-shuffle") or "AUTO").strip().upper()
    if shuffle not in KEYED_SHUFFLE:
        raise ValidationError(f"Configuration 'table.exec.sink.keyed-shuffle' must be one of "
                              f"{', '.join(KEYED_SHUFFLE)}, got '{config.get('table.exec.sink.keyed-shuffle')}'")
    return ParallelismSettings(default, table_default, max_parallelism, shuffle)


def configured(node, key: str) -> int | None:
    """A connector's 'scan.parallelism' / 'sink.parallelism' (None when not given), as a positive integer; a
    connector that Flink gives no such option refuses it, listing the options it has."""
    value = node.options.get(key)
    if value is None:
        return None
    from sqlstream.connectors import registry
    if node.connector in registry.LOADERS:
        valid = registry.load(node.connector).options
        if key not in valid:
            raise OptionError(f"Unsupported options found for connector '{node.connector}' of table "
                              f"'{node.table}': {key}", valid)
    try:
        n = int(str(value).strip())
    except ValueError:
        n = None
    if n is None or n < 1:
        raise ValidationError(f"Invalid configured parallelism {value} for table '{node.table}': '{key}' must be a "
                              f"positive integer")
    return n


@dataclass(frozen=True)
class _Placed:
    """Where an operator's output arrives: its parallelism, whether it was set rather than left at the default,
    and (for a source with 'scan.parallelism') the partitioner that follows it."""

    parallelism: int
    fixed: bool
    partitioned: bool = False


def assign(specs: list[OperatorSpec], settings: ParallelismSettings) -> None:
    """Set every spec's parallelism and turn its edges into the exchanges Flink would run (in place; inputs first)."""
    placed: list[_Placed] = []
    for spec in specs:
        node = spec.node
        if isinstance(node, L.Scan):
            scan = configured(node, SCAN_PARALLELISM)
            spec.parallelism = 1 if node.connector == VALUES else scan or settings.source_default
            placed.append(_Placed(spec.parallelism, True, partitioned=scan is not None))
            continue
        arrivals = [_arrival(placed[e.source], settings) for e in spec.inputs]
        kinds = [e.distribution.kind for e in spec.inputs]
        keyed: Edge | None = None
        if SINGLE in kinds:
            here = _Placed(1, True)
        elif kinds and kinds[0] in (HASH, BROADCAST):
            here = _Placed(settings.default, False)
        elif arrivals:
            here = arrivals[0]
        else:
            here = _Placed(settings.default, False)
        if isinstance(node, L.Sink):
            here, keyed = _sink(node, spec.inputs[0], arrivals[0], settings)
        edges = [_edge(e, specs[e.source], placed[e.source], here.parallelism) for e in spec.inputs]
        if keyed is not None:
            edges[0] = keyed
        spec.parallelism = here.parallelism
        spec.inputs = tuple(edges)
        placed.append(_Placed(here.parallelism, here.fixed))
    for spec in specs:
        if spec.parallelism > settings.max_parallelism:
            raise ValidationError(
                f"The parallelism {spec.parallelism} of {spec.name} is larger than the maximum parallelism "
                f"{settings.max_parallelism} ('pipeline.max-parallelism', the number of key groups keyed state is "
                f"divided into); SET 'pipeline.max-parallelism' to at least {spec.parallelism}")


def _arrival(producer: _Placed, settings: ParallelismSettings) -> _Placed:
    """What a forward edge hands on: a configured source's partitioner runs at the default parallelism."""
    return _Placed(settings.default, False) if producer.partitioned else producer


def _edge(edge: Edge, producer: OperatorSpec, placed: _Placed, parallelism: int) -> Edge:
    """A forward edge as it runs: hashed after a configured changelog source, rebalanced between operators of
    different parallelism."""
    if edge.distribution.kind != FORWARD:
        return edge
    if placed.partitioned and edge.changelog != "I":
        keys = _key_columns(producer.node)
        if keys:
            return replace(edge, distribution=Distribution(HASH, keys))
    if placed.parallelism != parallelism:
        return replace(edge, distribution=Distribution(REBALANCE))
    return edge


def _key_columns(node) -> tuple[int, ...]:
    names = list(node.names)
    return tuple(names.index(k) for k in node.primary_key if k in names)


def _sink(node: L.Sink, edge: Edge, arrival: _Placed,
          settings: ParallelismSettings) -> tuple[_Placed, Edge | None]:
    """The sink's parallelism and, when Flink shuffles rows to it by its primary key, that hashed edge."""
    wanted = configured(node, SINK_PARALLELISM)
    given = arrival.parallelism if arrival.fixed else -1  # Flink's view of the input: -1 when left at the default
    keys = _sink_key_columns(node)
    if wanted is not None and edge.changelog != "I" and wanted != given and not keys:
        raise ValidationError(
            f"The sink for table '{node.table}' has a configured parallelism of {wanted}, while the input "
            f"parallelism is {arrival.parallelism}{'' if arrival.fixed else ' (the default)'}. Since the configured "
            f"parallelism is different from the input's parallelism and the changelog mode is not insert-only, a "
            f"primary key is required but could not be found: declare the sink's PRIMARY KEY (NOT ENFORCED) or "
            f"drop '{SINK_PARALLELISM}'")
    here = arrival if wanted is None else _Placed(wanted, True)
    sink_parallelism = given if wanted is None else wanted
    shuffle = {"AUTO": sink_parallelism != given and sink_parallelism != 1,
               "FORCE": sink_parallelism != 1, "NONE": False}[settings.sink_keyed_shuffle]
    if not (keys and shuffle) or edge.distribution.kind != FORWARD:
        return here, None
    if wanted is None:
        here = _Placed(settings.default, False)
    return here, replace(edge, distribution=Distribution(HASH, keys))


def _sink_key_columns(node: L.Sink) -> tuple[int, ...]:
    """The sink's primary key as columns of its input (the input's columns are the table's, in order)."""
    columns = [c.name for c in node.columns] or list(node.names)
    return tuple(columns.index(k) for k in node.primary_key if k in columns)
