"""sqlglot statement trees -> plain relational plans: the Binder, made of one part per clause (planner/bind/);
the streaming shapes are recognized by the rules in planner/rules/streaming.py."""
from __future__ import annotations

from sqlglot import exp

from sqlstream.catalog import CatalogManager
from sqlstream.planner.bind.from_clause import FromClause
from sqlstream.planner.bind.group_by import GroupBy
from sqlstream.planner.bind.joins import Joins
from sqlstream.planner.bind.lateral import Lateral
from sqlstream.planner.bind.legacy_windows import LegacyWindows
from sqlstream.planner.bind.order_by import OrderBy
from sqlstream.planner.bind.over import OverWindows
from sqlstream.planner.bind.select import SelectClause
from sqlstream.planner.bind.set_operations import SetOperations
from sqlstream.planner.bind.statements import Statements
from sqlstream.planner.bind.subqueries import Subqueries
from sqlstream.planner.bind.temporal_joins import TemporalJoins
from sqlstream.planner.bind.top_n import TopN
from sqlstream.planner.bind.window_tvf import WindowTvf


class Binder(Statements, FromClause, Lateral, Joins, TemporalJoins, WindowTvf, SelectClause,
             OrderBy, TopN, Subqueries, OverWindows, GroupBy, LegacyWindows, SetOperations):
    """Resolves names, types and time attributes of a statement into logical plan nodes."""

    def __init__(self, catalog: CatalogManager, functions: dict | None = None):
        self.catalog = catalog
        self.functions = functions if functions is not None else {}
        self.ctes: list[dict[str, exp.Expr]] = []  # WITH scopes, innermost last: name -> query (an inline view)
