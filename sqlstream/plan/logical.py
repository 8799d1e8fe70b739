"""Logical plan nodes: each knows its output fields and the changelog mode of its output edge."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlstream.plan.expr import Expr
from sqlstream.core.types import FlinkType

INSERT_ONLY = "I"
RETRACT = "I,UB,UA,D"


@dataclass(frozen=True)
class Field:
    name: str
    type: FlinkType


@dataclass(eq=False)
class Node:
    fields: list[Field]
    changelog: str  # INSERT_ONLY or an updating mode such as "I,UB,UA" / RETRACT

    def inputs(self) -> list["Node"]:
        return []

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.fields]

    @property
    def updating(self) -> bool:
        return self.changelog != INSERT_ONLY

    @property
    def rowtime_index(self) -> int | None:
        for i, f in enumerate(self.fields):
            if f.type.time_attr == "rowtime":
                return i
        return None


@dataclass(eq=False)
class SingleInput(Node):
    """A node over one input."""

    input: Node = None

    def inputs(self):
        return [self.input]


@dataclass(eq=False)
class Scan(Node):
    """Reads a table through its connector; `columns` are the physical columns read."""

    table: str = ""
    connector: str = ""
    options: dict[str, str] = field(default_factory=dict)
    columns: list[Field] = field(default_factory=list)
    primary_key: list[str] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)  # column -> connector metadata key
    partition_keys: list[str] = field(default_factory=list)


@dataclass(eq=False)
class ChangelogNormalize(SingleInput):
    """Turns an upsert stream (upsert-kafka) into a retract changelog keyed by the primary key."""

    keys: list[int] = field(default_factory=list)


@dataclass(eq=False)
class Calc(SingleInput):
    """Projection and filter in one vectorized pass."""

    projections: list[Expr] = field(default_factory=list)
    condition: Expr | None = None


@dataclass(eq=False)
class WatermarkAssigner(SingleInput):
    """Per-row watermark: max rowtime seen before the row minus the WATERMARK delay expression."""

    rowtime: int = 0
    watermark: Expr = None


@dataclass(frozen=True)
class WindowSpec:
    """TUMBLE/HOP/CUMULATE/SESSION over the rowtime column `time_index` (sizes in milliseconds)."""

    kind: str
    time_index: int
    size: int = 0
    slide: int = 0
    step: int = 0
    gap: int = 0
    offset: int = 0
    partition: tuple[int, ...] = ()
    proctime: bool = False  # windows over a PROCTIME() attribute fire by the wall clock, not the watermark
    # of a TIMESTAMP_LTZ time attribute: the session zone's UTC offset. Windows are that zone's wall clock, as in
    # Flink: aligned on local time, window_start/window_end local times, window_time and firing in UTC
    zone_offset: int = field(default=0, metadata={"signature_default": True})

    @property
    def align(self) -> int:
        """Where window starts fall, modulo the size (or slide), in UTC milliseconds: `offset` on the local clock."""
        return self.offset - self.zone_offset

    def __str__(self) -> str:
        k = self.kind
        if self.proctime:
            return "proctime " + WindowSpec(k, self.time_index, self.size, self.slide, self.step, self.gap,
                                            self.offset, zone_offset=self.zone_offset).__str__()
        # offset and zone are shown only when set: ids of other plans stay
        offset = f", offset={self.offset}ms" if self.offset else ""
        offset += f", zone_offset={self.zone_offset}ms" if self.zone_offset else ""
        if k == "TUMBLE":
            return f"TUMBLE(size={self.size}ms{offset})"
        if k == "HOP":
            return f"HOP(slide={self.slide}ms, size={self.size}ms{offset})"
        if k == "CUMULATE":
            return f"CUMULATE(step={self.step}ms, max_size={self.size}ms{offset})"
        return f"SESSION(gap={self.gap}ms{offset})"


@dataclass(frozen=True)
class AggCall:
    """One aggregate: function over input columns, optional DISTINCT and FILTER column. `retracts`: over an
    updating input, a row's retraction takes its value back (False: a MAX of a column that only increases, a MIN
    of one that only decreases, leaves the result as it is, as Flink plans them)."""

    fn: str
    args: tuple[int, ...]
    type: FlinkType
    distinct: bool = False
    filter: int | None = None
    name: str = ""
    retracts: bool = field(default=True, metadata={"signature_default": True})

    def __str__(self) -> str:
        a = ", ".join(f"${i}" for i in self.args) or "*"
        s = f"{self.fn}({'DISTINCT ' if self.distinct else ''}{a})"
        if self.filter is not None:
            s += f" FILTER ${self.filter}"
        return s


@dataclass(eq=False)
class WindowAggregate(SingleInput):
    """Aggregation per (keys, window); emits insert-only rows when the watermark closes a window.

    Output layout: keys..., window_start, window_end, window_time, aggs..., the layout of the GROUP BY keyed on
    the window that a rule makes it of (the SELECT above reads them in the user's order).
    """

    window: WindowSpec = None
    keys: list[int] = field(default_factory=list)
    aggs: list[AggCall] = field(default_factory=list)
    grouping_sets: list[list[int]] | None = None


@dataclass(eq=False)
class WindowTableFunction(SingleInput):
    """A window TVF used without aggregation: appends window_start, window_end, window_time to rows."""

    window: WindowSpec = None


@dataclass(eq=False)
class GroupAggregate(SingleInput):
    """Non-windowed GROUP BY: updating output (-U/+U per change, -D when a group empties).

    With `window_end` set, the keys hold window_start and window_end of a windowed insert-only input (a
    window aggregation cascaded on another, as Flink plans it): each window's groups are aggregated once, when
    the watermark closes the window, and the output is insert-only."""

    keys: list[int] = field(default_factory=list)
    aggs: list[AggCall] = field(default_factory=list)
    grouping_sets: list[list[int]] | None = None
    window_end: int | None = None  # key column holding the window end
    # STATE_TTL hint: how long a group's state lives (ms), over table.exec.state.ttl; like it, not the job's structure
    state_ttl: int | None = field(default=None, metadata={"signature": False})


@dataclass(eq=False)
class Join(Node):
    """Regular join on equality keys (+ an optional condition over the joined row); keeps both sides in state."""

    left: Node = None
    right: Node = None
    kind: str = "INNER"  # INNER | LEFT | RIGHT | FULL
    left_keys: list[int] = field(default_factory=list)
    right_keys: list[int] = field(default_factory=list)
    condition: Expr | None = None
    null_aware: bool = False  # NOT IN: a NULL on either side makes the comparison unknown, blocking the row
    nulls_equal: bool = False  # INTERSECT / EXCEPT: NULL keys match each other
    # STATE_TTL hint: how long each side's rows live (ms; None: table.exec.state.ttl), not the job's structure
    state_ttl: tuple[int | None, int | None] | None = field(default=None, metadata={"signature": False})

    def inputs(self):
        return [self.left, self.right]


@dataclass(eq=False)
class TemporalJoin(Join):
    """Event-time temporal join (`JOIN versioned FOR SYSTEM_TIME AS OF left.rowtime`): each left row, once the
    watermark passes its time, joins the version of the right row (by key) valid at that time."""

    left_time: int = 0  # rowtime column of the left input
    right_time: int = 0  # rowtime column of the right (versioned) input


@dataclass(eq=False)
class LookupJoin(SingleInput):
    """Processing-time temporal join (`JOIN dim FOR SYSTEM_TIME AS OF l.proctime`): each input row looks up the
    rows of a lookup table with equal keys when it arrives; the table is not a stream of the job."""

    kind: str = "INNER"  # INNER | LEFT
    table: str = ""
    connector: str = ""
    options: dict[str, str] = field(default_factory=dict)
    columns: list[Field] = field(default_factory=list)  # the lookup table's columns (the right side)
    left_keys: list[int] = field(default_factory=list)
    right_keys: list[int] = field(default_factory=list)
    condition: Expr | None = None  # over left + right columns


@dataclass(eq=False)
class Snapshot(SingleInput):
    """A table as of a time (`t FOR SYSTEM_TIME AS OF l.time`): the right side of the plain join the binder builds
    for it, which a rule turns into a TemporalJoin or a LookupJoin; it never reaches the physical plan."""

    time: Expr | None = None  # the left row's time attribute; None: the table's own processing time
    table: str = ""  # the table's name as written, for messages


@dataclass(eq=False)
class IntervalJoin(Join):
    """A join whose condition bounds right.rowtime - left.rowtime to [lower, upper] ms: rows are kept only while
    the other side can still bring a match, and outer joins pad a row once its interval has passed the
    watermark, so the result is append-only."""

    left_time: int = 0
    right_time: int = 0
    lower: int = 0
    upper: int = 0


@dataclass(eq=False)
class WindowJoin(Join):
    """A join of two windowed inputs on equal window_start and window_end (plus keys): each window's rows are
    joined when the watermark closes it, outer joins pad then, and the window's rows are dropped; late rows
    are dropped. The result is append-only."""

    left_end: int = 0  # window_end column of the left input
    right_end: int = 0


@dataclass(eq=False)
class SetOpAll(Join):
    """INTERSECT ALL / EXCEPT ALL (kind "INTERSECT" / "EXCEPT"): each row as many times as min(left, right) /
    max(0, left - right) copies of it; NULLs equal. A join on all columns that counts instead of pairing."""


@dataclass(eq=False)
class Unnest(SingleInput):
    """CROSS JOIN UNNEST(array): one output row per element (input columns + the element [+ its position from
    1, WITH ORDINALITY]); rows with an empty or NULL array disappear, as in Flink, unless `outer` (LEFT JOIN
    UNNEST .. ON ..), which keeps each such row once, padded with NULLs. An array of ROWs gives a column per
    field. `condition`: the ON of a join with UNNEST, over the input's columns and the element's."""

    array: Expr = None
    outer: bool = False
    ordinality: bool = False
    condition: Expr | None = None


@dataclass(eq=False)
class Correlate(SingleInput):
    """`LATERAL TABLE(f(..))`: a Python table function's rows for each input row, after the input's columns;
    LEFT keeps a row the function gives nothing for, padded with NULLs. The changelog passes through."""

    function: str = ""
    args: list[Expr] = field(default_factory=list)
    left: bool = False


@dataclass(eq=False)
class RowNumber(SingleInput):
    """ROW_NUMBER() OVER (PARTITION BY .. ORDER BY ..) as bound: each row's position in its partition, after the
    input's columns. A stream has no last position, so it runs only as a Top-N: a rule makes a Rank of a filter
    to the first N row numbers over it, and it never reaches the physical plan."""

    partition: list[int] = field(default_factory=list)
    order: list[tuple[int, bool]] = field(default_factory=list)  # (column, descending)


@dataclass(eq=False)
class Rank(SingleInput):
    """ROW_NUMBER() OVER (PARTITION BY .. ORDER BY ..) <= limit: Top-N and deduplication (updating)."""

    partition: list[int] = field(default_factory=list)
    order: list[tuple[int, bool]] = field(default_factory=list)  # (column, descending)
    limit: int = 1
    with_rank: bool = False
    # keep-last deduplication (ROW_NUMBER() OVER (.. ORDER BY time attribute DESC) = 1 on an insert-only
    # input): as in Flink, a row replaces the kept one when its time is not older, so a tie goes to the newer row
    newest_wins_ties: bool = False


@dataclass(eq=False)
class WindowRank(Rank):
    """Top-N per window (the PARTITION BY holds window_start and window_end of a windowed insert-only input):
    each window's rows are ranked once when the watermark closes it; the result is append-only."""

    window_end: int = 0  # window_end column of the input


@dataclass(eq=False)
class FirstRowDeduplicate(Rank):
    """Keep-first deduplication on a time attribute (ROW_NUMBER() OVER (PARTITION BY .. ORDER BY time ASC) = 1
    over an insert-only input): insert-only, as Flink's. On rowtime a key's row is final once the watermark
    reaches its time, and later or late rows never replace it; on proctime the first row of a key is final."""

    rowtime: bool = True


@dataclass(eq=False)
class TemporalSort(SingleInput):
    """ORDER BY a time attribute ascending [, more keys] on a stream: on rowtime, rows wait until the watermark
    passes them and come out in (time, keys) order, late rows dropped; on proctime, each arrival is sorted by
    the other keys."""

    time_index: int = 0
    rowtime: bool = True
    keys: list[tuple[int, bool]] = field(default_factory=list)  # (column, descending) after the time


@dataclass(eq=False)
class OverAggregate(SingleInput):
    """Aggregates over a window of preceding rows per partition, ordered by rowtime; rows emitted by watermark."""

    partition: list[int] = field(default_factory=list)
    time_index: int = 0
    frame: str = "ROWS"  # ROWS | RANGE
    preceding: int | None = None  # rows or milliseconds; None = unbounded
    aggs: list[AggCall] = field(default_factory=list)
    rowtime: bool = True  # False: ordered by a processing-time attribute (each row at once, in arrival order)


@dataclass(frozen=True)
class MatchSlot:
    """A value a MATCH_RECOGNIZE expression reads from the rows of a (partial) match: the `offset`-th last or
    first row of pattern variable `var` (None: every row), an aggregate over them, or the match's rowtime."""

    kind: str  # last | first | agg | rowtime
    var: str | None = None
    column: int | None = None  # input column (None for COUNT(*))
    offset: int = 0
    fn: str = ""
    type: FlinkType = None

    def __str__(self) -> str:
        v = f"{self.var}." if self.var else ""
        arg = f"{v}${self.column}" if self.column is not None else f"{v}*"
        if self.kind == "agg":
            return f"{self.fn}({arg})"
        if self.kind == "rowtime":
            return "MATCH_ROWTIME()"
        return f"{self.kind.upper()}({arg}, {self.offset})"


@dataclass(eq=False)
class MatchRecognize(SingleInput):
    """MATCH_RECOGNIZE: rows per partition in rowtime order run through the PATTERN's automaton (Flink's CEP
    NFA); each match gives one row of the partition keys and MEASURES. DEFINE conditions and measures read the
    current row (input columns) and then `slots` (positions after the input's)."""

    partition: list[int] = field(default_factory=list)
    time_index: int = 0
    proctime: bool = False  # ordered by a PROCTIME() attribute: rows are matched as they arrive
    order: list[tuple[int, bool]] = field(default_factory=list)  # further ORDER BY columns: (column, descending)
    pattern: list = field(default_factory=list)  # planner.match_pattern.PatternTerm
    skip: tuple[str, str | None] = ("TO NEXT ROW", None)
    within: int = 0  # ms; 0 = no time limit
    defines: dict = field(default_factory=dict)  # var -> (condition Expr, [MatchSlot])
    measures: list = field(default_factory=list)  # Exprs over the measure slots
    measure_slots: list = field(default_factory=list)


@dataclass(eq=False)
class Union(Node):
    """UNION ALL of inputs with identical field types."""

    children: list[Node] = field(default_factory=list)

    def inputs(self):
        return list(self.children)


@dataclass(eq=False)
class Sink(SingleInput):
    """Writes its input to a connector (INSERT INTO) or to the client (SELECT)."""

    table: str = ""
    connector: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    columns: list[Field] = field(default_factory=list)
    primary_key: list[str] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)  # column -> connector metadata key
    partition_keys: list[str] = field(default_factory=list)


def walk(node: Node):
    """Nodes of a plan, children before parents, each once."""
    seen: set[int] = set()
    order: list[Node] = []

    def visit(n: Node):
        if id(n) in seen:
            return
        seen.add(id(n))
        for c in n.inputs():
            visit(c)
        order.append(n)
    visit(node)
    return order
