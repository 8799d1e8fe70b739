"""FROM: tables, views, WITH names, subqueries and VALUES, each a relation; a table as scan, computed columns and watermark."""
from __future__ import annotations

import dataclasses

from sqlglot import exp

from sqlstream.catalog import TableDef, ViewDef
from sqlstream.connectors import values as values_source
from sqlstream.core.errors import ValidationError
from sqlstream.core.types import BIGINT
from sqlstream.dialect import expressions as fx
from sqlstream.plan import logical as L
from sqlstream.plan.expr import Ref
from sqlstream.planner.bind.relation import fields_scope, project, Relation, row_numbers
from sqlstream.planner.hints import query_hints, table_options
from sqlstream.planner.scalar_binder import ScalarBinder, Scope, _where


class FromClause:
    """The Binder's FROM items: named tables and views, subqueries, VALUES."""

    def _bind_from(self, sel: exp.Select) -> Relation:
        frm = sel.args.get("from_") or sel.args.get("from")
        if frm is None:  # SELECT 1 + 1: one row, as in Flink
            if sel.args.get("joins"):
                raise ValidationError(f"{_where(sel)}JOIN without FROM")
            return Relation(row_numbers(1), Scope([]))
        rel = self._bind_from_item(frm.this)
        if sel.args.get("match") is not None:
            if sel.args.get("joins"):
                raise ValidationError(f"{_where(sel.args['match'])}MATCH_RECOGNIZE cannot be combined with joins "
                                      f"in one FROM clause; join its result in an outer query")
            from sqlstream.planner.match_binder import bind_match_recognize
            node, scope = bind_match_recognize(rel.node, rel.scope, sel.args["match"])
            rel = Relation(node, scope)
        ttl = query_hints(sel).state_ttl
        left_name = frm.this.alias_or_name if isinstance(frm.this, (exp.Table, exp.Subquery)) else None
        for join in sel.args.get("joins") or []:
            # a STATE_TTL hint names the inputs of a join: the first FROM item, or the item joined
            sides = (ttl.get(left_name), ttl.get(join.this.alias_or_name)) if ttl else (None, None)
            rel = self._bind_join(rel, join, sides if sides != (None, None) else None)
            left_name = None
        return rel

    def _bind_from_item(self, item: exp.Expr) -> Relation:
        alias = item.alias or None
        if isinstance(item, exp.Table):
            inner = item.this
            if isinstance(inner, exp.Anonymous) and inner.name.upper() == "TABLE" and len(inner.expressions) == 1:
                inner = inner.expressions[0]
            if isinstance(inner, (fx.WindowTVF, exp.Anonymous)):
                return self._bind_tvf_call(inner, alias)
            if isinstance(inner, exp.Func) and not isinstance(inner, exp.Identifier):
                raise ValidationError(f"{_where(item)}Unsupported table function {inner.sql(dialect='flink')}")
            return self._bind_named(item, alias or item.name, item)
        if isinstance(item, exp.Subquery):
            node = self.bind_query(item.this)
            return Relation(node, fields_scope(node, alias))
        if isinstance(item, fx.WindowTVF):
            return self._bind_tvf_call(item, alias)
        if isinstance(item, exp.Values):
            node = self._bind_values(item)
            return Relation(node, fields_scope(node, alias))
        if isinstance(item, exp.Lateral) or isinstance(item, exp.Unnest):
            raise ValidationError(f"{_where(item)}LATERAL/UNNEST is not supported yet")
        raise ValidationError(f"{_where(item)}Unsupported FROM item: {item.sql(dialect='flink')[:80]}")

    def _bind_named(self, name: exp.Expr, qualifier: str, where: exp.Expr) -> Relation:
        simple = isinstance(name, exp.Identifier) or isinstance(name, exp.Table) and not name.args.get("db") \
            and not name.args.get("catalog")
        cte = self._cte(name.name) if simple else None
        if cte is not None:
            if where.args.get("hints"):
                raise ValidationError(f"{_where(where)}Hints can only be applied to tables: '{name.name}' is a WITH "
                                      f"query")
            node = self.bind_query(cte)
            return Relation(node, fields_scope(node, qualifier))
        try:
            obj = self.catalog.lookup(name)
        except ValidationError as e:
            raise ValidationError(f"{_where(where)}{e}") from None
        hinted = table_options(where, obj) if isinstance(where, exp.Table) else None
        if isinstance(obj, ViewDef):
            node = self.bind_query(obj.query)
            return Relation(node, fields_scope(node, qualifier))
        node = self.bind_table(obj if hinted is None else dataclasses.replace(obj, options=hinted))
        return Relation(node, fields_scope(node, qualifier))

    def _bind_values(self, v: exp.Values) -> L.Node:
        """VALUES (..), (..): each column an expression over the row number, typed as the common type of its
        rows; named by the alias's column list, else EXPR$0, EXPR$1, .. as in Flink."""
        rows = [t.expressions if isinstance(t, exp.Tuple) else [t] for t in v.expressions]
        width = len(rows[0])
        if any(len(r) != width for r in rows):
            raise ValidationError(f"{_where(v)}Values passed to VALUES operator must have compatible types: every "
                                  f"row needs {width} value{'s' if width != 1 else ''}")
        alias = v.args.get("alias")
        names = [c.name for c in alias.columns] if alias is not None and alias.columns else \
            [f"EXPR${j}" for j in range(width)]
        if len(names) != width:
            raise ValidationError(f"{_where(v)}List of column aliases must have same degree as table; table has "
                                  f"{width} columns, whereas alias list has {len(names)} columns")
        node = row_numbers(len(rows))
        binder = ScalarBinder(Scope.of([values_source.ROW], [BIGINT.with_nullable(False)]))
        row = exp.column(values_source.ROW, quoted=True)
        exprs = []
        for j in range(width):
            if len(rows) == 1:
                exprs.append(binder.bind(rows[0][j]))
                continue
            case = exp.Case(ifs=[exp.If(this=exp.EQ(this=row.copy(), expression=exp.Literal.number(i)),
                                        true=r[j].copy()) for i, r in enumerate(rows[:-1])],
                            default=rows[-1][j].copy())
            exprs.append(binder.bind(case))
        return project(node, exprs, names)

    def bind_table(self, t: TableDef) -> L.Node:
        """Scan -> computed columns -> watermark assigner, in the table's declared column order."""
        stored = [c for c in t.columns if c.kind != "computed"]
        scan_fields = [L.Field(c.name, c.type) for c in stored]
        changelog = L.INSERT_ONLY
        from sqlstream.connectors.registry import changelog_mode_of
        changelog = changelog_mode_of(t)
        metadata = {c.name: c.metadata_key for c in t.columns if c.kind == "metadata"}
        node: L.Node = L.Scan(scan_fields, changelog, table=t.qualified_name, connector=t.connector,
                              options=dict(t.options), columns=list(scan_fields), primary_key=list(t.primary_key),
                              partition_keys=list(t.partition_keys),
                              metadata=metadata)
        if changelog == "I,UA,D":
            keys = [[f.name for f in scan_fields].index(k) for k in t.primary_key]
            node = L.ChangelogNormalize(scan_fields, L.RETRACT, input=node, keys=keys)
        return self._computed_and_watermark(t, node, scan_fields)

    def check_schema(self, t: TableDef) -> L.Node:
        """Resolve a table's computed columns and watermark as Flink does at CREATE TABLE, so that an unknown
        function or a wrong type fails there rather than at the first query. The connector is not consulted
        (as in Flink, CREATE TABLE and DESCRIBE do not need it); returns the table's schema as a plan."""
        scan_fields = [L.Field(c.name, c.type) for c in t.columns if c.kind != "computed"]
        scan = L.Scan(scan_fields, L.INSERT_ONLY, table=t.name, connector=t.connector, options=dict(t.options),
                      columns=list(scan_fields))
        return self._computed_and_watermark(t, scan, scan_fields)

    def _computed_and_watermark(self, t: TableDef, node: L.Node, scan_fields: list[L.Field]) -> L.Node:
        if any(c.kind == "computed" for c in t.columns) or [c.name for c in t.columns] != [f.name for f in scan_fields]:
            scope = Scope.of([f.name for f in scan_fields], [f.type for f in scan_fields], t.name)
            binder = ScalarBinder(scope)
            exprs, names = [], []
            for c in t.columns:
                if c.kind == "computed":
                    e = binder.bind(c.expr)
                    c.type = e.type
                else:
                    i = [f.name for f in scan_fields].index(c.name)
                    e = Ref(scan_fields[i].type, i, c.name)
                exprs.append(e)
                names.append(c.name)
            node = project(node, exprs, names)
        if t.watermark_column is not None:
            idx = node.names.index(t.watermark_column)
            rt = node.fields[idx].type
            if not (rt.is_timestamp and rt.precision <= 3):
                raise ValidationError(
                    f"Invalid data type of time field for watermark definition. The field must be of type "
                    f"TIMESTAMP(p) or TIMESTAMP_LTZ(p), the supported precision 'p' is from 0 to 3, but the "
                    f"time field type is {rt}")
            scope = Scope.of(node.names, [f.type for f in node.fields], t.name)
            wm = ScalarBinder(scope).bind(t.watermark_expr)
            if not (wm.type.is_timestamp):
                raise ValidationError(f"Watermark strategy {t.watermark_expr.sql(dialect='flink')} must be of "
                                      f"type TIMESTAMP or TIMESTAMP_LTZ but is of type '{wm.type}'")
            fields = list(node.fields)
            fields[idx] = L.Field(fields[idx].name, rt.as_rowtime())
            node = L.WatermarkAssigner(fields, node.changelog, input=node, rowtime=idx, watermark=wm)
        return node
