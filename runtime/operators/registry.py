"""Operators by name: the runtime builds each physical spec's operator from this table.

Modules are imported when a plan uses them, so a job loads only its own operators.
"""
from __future__ import annotations

import importlib

from sqlstream.core.errors import ValidationError
from sqlstream.plan.physical import OperatorSpec
from sqlstream.runtime.operator import Operator

OPERATORS: dict[str, str] = {
    "Calc": "calc:CalcOperator",
    "WatermarkAssigner": "watermark_assigner:WatermarkAssignerOperator",
    "WindowTableFunction": "window_table_function:WindowTableFunctionOperator",
    "WindowAggregate": "window_aggregate:WindowAggregateOperator",
    "SessionWindowAggregate": "session_window_aggregate:SessionWindowAggregateOperator",
    "WindowGroupAggregate": "window_group_aggregate:WindowGroupAggregateOperator",
    "GroupAggregate": "group_aggregate:GroupAggregateOperator",
    "Union": "union:UnionOperator",
    "LookupJoin": "lookup_join:LookupJoinOperator",
    "WindowJoin": "window_join:WindowJoinOperator",
    "IntervalJoin": "interval_join:IntervalJoinOperator",
    "TemporalJoin": "temporal_join:TemporalJoinOperator",
    "SetOpAll": "set_op_all:SetOpAllOperator",
    "InnerJoin": "inner_join:InnerJoinOperator",
    "OuterJoin": "outer_join:OuterJoinOperator",
    "Join": "join:JoinOperator",
    "OverAggregate": "over_aggregate:OverAggregateOperator",
    "Correlate": "correlate:CorrelateOperator",
    "MatchRecognize": "match_recognize:MatchRecognizeOperator",
    "Unnest": "unnest:UnnestOperator",
    "WindowRank": "window_rank:WindowRankOperator",
    "TemporalSort": "temporal_sort:TemporalSortOperator",
    "FirstRowDeduplicate": "first_row_deduplicate:FirstRowDeduplicateOperator",
    "Top1": "top1:Top1Operator",
    "AppendRank": "rank_append:AppendRankOperator",
    "Rank": "rank:RankOperator",
    "UpdatableRank": "rank_updatable:UpdatableRankOperator",
    "ChangelogNormalize": "changelog_normalize:ChangelogNormalizeOperator",
}


def operator_class(name: str) -> type[Operator]:
    _, cls = _where(name).split(":")
    return getattr(importlib.import_module(operator_module(name)), cls)


def operator_module(name: str) -> str:
    """The module an operator lives in, without importing it (a job's process names the modules its subtasks'
    operators need, which it need not load itself)."""
    return f"sqlstream.runtime.operators.{_where(name).split(':')[0]}"


def _where(name: str) -> str:
    where = OPERATORS.get(name)
    if where is None:
        raise ValidationError(f"no runtime operator named {name!r}; registered: {', '.join(sorted(OPERATORS))}")
    return where


def build(spec: OperatorSpec) -> Operator:
    """The operator a spec names, constructed from the spec's configuration."""
    return operator_class(spec.name)(**spec.config)
