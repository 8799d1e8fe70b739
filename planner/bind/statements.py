"""Statements: a query (WITH, set operations, SELECT, VALUES) and INSERT INTO a table."""
from __future__ import annotations

import dataclasses

from sqlglot import exp

from sqlstream.catalog import TableDef, ViewDef
from sqlstream.core.errors import ValidationError
from sqlstream.core.types import implicitly_castable
from sqlstream.plan import logical as L
from sqlstream.plan.expr import Expr, Lit, Ref
from sqlstream.planner.bind.relation import project
from sqlstream.planner.hints import table_options
from sqlstream.planner.scalar_binder import cast, ScalarBinder, Scope, _where


class Statements:
    """The Binder's statements: queries and INSERT."""

    def bind_query(self, q: exp.Expr) -> L.Node:
        with_ = q.args.get("with_") if isinstance(q, exp.Query) else None
        if with_ is not None:
            return self._bind_with(q, with_)
        if isinstance(q, exp.Subquery):
            return self.bind_query(q.this)
        if isinstance(q, exp.Union):
            return self._bind_union(q)
        if isinstance(q, (exp.Intersect, exp.Except)):
            return self._bind_intersect_except(q)
        if isinstance(q, exp.Select):
            return self._bind_select(q)
        if isinstance(q, exp.Values):
            return self._bind_values(q)
        raise ValidationError(f"{_where(q)}Unsupported query: {q.sql(dialect='flink')[:80]}")

    def _bind_with(self, q: exp.Query, with_: exp.With) -> L.Node:
        """WITH name [(cols)] AS (query), ..: each name is an inline view for the query and the later CTEs."""
        if with_.args.get("recursive"):
            raise ValidationError(f"{_where(with_)}WITH RECURSIVE is not supported")
        body = q.copy()
        body.set("with_", None)
        scope: dict[str, exp.Expr] = {}
        self.ctes.append(scope)
        try:
            for cte in with_.expressions:
                query = cte.this
                cols = cte.args["alias"].columns if cte.args.get("alias") is not None else []
                if cols:
                    query = exp.select(*[exp.alias_(exp.column(n, quoted=True), c.name, quoted=True)
                                         for n, c in zip(self.bind_query(query).names, cols)]).from_(
                        exp.Subquery(this=query.copy(), alias=exp.TableAlias(this=exp.to_identifier("$cte"))))
                scope[cte.alias] = query
            return self.bind_query(body)
        finally:
            self.ctes.pop()

    def _cte(self, name: str) -> exp.Expr | None:
        for scope in reversed(self.ctes):
            if name in scope:
                return scope[name]
        return None

    def bind_insert(self, ins: exp.Insert) -> L.Sink:
        target = ins.this
        cols = None
        if isinstance(target, exp.Schema):
            cols = [c.name for c in target.expressions]
            target = target.this
        if not isinstance(target, (exp.Table, exp.Identifier)):
            raise ValidationError(f"{_where(ins)}INSERT INTO needs a table name before its query")
        tdef = self.catalog.lookup(target)
        name = tdef.qualified_name
        hinted = table_options(target, tdef)
        if isinstance(tdef, ViewDef):
            raise ValidationError(f"Cannot INSERT INTO view '{name}'")
        if hinted is not None:
            tdef = dataclasses.replace(tdef, options=hinted)
        if ins.expression is None:
            raise ValidationError(f"{_where(ins)}INSERT INTO {name} needs a query after the table: "
                                  "SELECT .. or VALUES (..)")
        query = self.bind_query(ins.expression)
        writable = [c for c in tdef.columns if c.kind == "physical" or (c.kind == "metadata" and not c.virtual)]
        if cols is not None:
            for c in cols:
                if not any(w.name == c for w in writable):
                    raise ValidationError(f"Unknown target column '{c}' in table '{name}'")
        static = self._static_partition(target, tdef)
        targets = [w for w in writable if (cols is None or w.name in cols) and w.name not in static]
        if len(query.fields) != len(targets):
            raise ValidationError(
                f"Column types of query result and sink for '{name}' do not match.\n"
                f"Cause: Different number of columns.\n\nQuery schema: "
                f"[{', '.join(f'{f.name}: {f.type}' for f in query.fields)}]\nSink schema:  "
                f"[{', '.join(f'{c.name}: {c.type}' for c in targets)}]")
        exprs: list[Expr] = []
        for i, (f, c) in enumerate(zip(query.fields, targets)):
            r: Expr = Ref(f.type, i, f.name)
            if f.type.without_time_attr().with_nullable(True) != c.type.with_nullable(True):
                if not implicitly_castable(f.type, c.type):
                    raise ValidationError(
                        f"Column types of query result and sink for '{name}' do not match.\n"
                        f"Cause: Incompatible types for sink column '{c.name}' at position {i + 1}.\n\nQuery schema: "
                        f"[{', '.join(f'{f.name}: {f.type.without_time_attr()}' for f in query.fields)}]\n"
                        f"Sink schema:  [{', '.join(f'{c.name}: {c.type}' for c in targets)}]\n"
                        f"A CAST in the query writes a value of another type")
                r = cast(r, c.type)
            exprs.append(r)
        if cols is not None or static:
            full = []
            for c in writable:
                if c.name in static:
                    full.append(static[c.name])
                elif cols is None or c.name in cols:
                    full.append(exprs[[t.name for t in targets].index(c.name)])
                else:
                    full.append(Lit(c.type.with_nullable(True), None))
            exprs, targets = full, writable
        node = project(query, exprs, [c.name for c in targets])
        fields = [L.Field(c.name, c.type) for c in targets]
        return L.Sink(fields, query.changelog, input=node, table=name, connector=tdef.connector,
                      options=dict(tdef.options), columns=fields, primary_key=list(tdef.primary_key),
                      metadata={c.name: c.metadata_key for c in tdef.columns if c.kind == "metadata"},
                      partition_keys=list(tdef.partition_keys))

    def _static_partition(self, target: exp.Expr, tdef: TableDef) -> dict[str, Expr]:
        """`INSERT INTO t PARTITION (k = 'v', ..)`: the partition columns given as constants (the query supplies the
        other columns), each cast to its column's type."""
        spec = target.args.get("partition")
        if spec is None:
            return {}
        out = {}
        for item in spec.expressions:
            if not isinstance(item, exp.EQ) or not isinstance(item.this, exp.Column):
                raise ValidationError(f"{_where(item)}A static partition is written `column = constant`")
            col = tdef.column(item.this.name)
            if col is None or col.name not in tdef.partition_keys:
                raise ValidationError(f"{_where(item)}'{item.this.name}' is not a partition column of table "
                                      f"'{tdef.name}' (partition keys: {', '.join(tdef.partition_keys) or 'none'})")
            value = ScalarBinder(Scope([])).bind(item.expression)
            out[col.name] = value if value.type == col.type else cast(value, col.type)
        return out
