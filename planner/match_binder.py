"""Binds MATCH_RECOGNIZE (..): partition and order keys, the PATTERN, DEFINE conditions and MEASURES.

Pattern-variable navigation (`B.price`, `LAST(A.price, 1)`, `FIRST(..)`, `SUM(A.x)`, `MATCH_ROWTIME()`) becomes
a MatchSlot the operator fills from the rows of the match; what is left is an ordinary expression over the
current row and those slots, so the runtime evaluates it like any other.
"""
from __future__ import annotations

from sqlglot import exp

from sqlstream.plan import logical as L
from sqlstream.plan.expr import Call, Expr, Ref
from sqlstream.planner.functions import aggregate_type
from sqlstream.plan.match_pattern import parse_pattern
from sqlstream.planner.scalar_binder import Scope, ScopeField, ScalarBinder, _where, interval_value
from sqlstream.core.errors import ValidationError
from sqlstream.core.types import TIMESTAMP3, FlinkType

AGGREGATES = {exp.Count: "COUNT", exp.Sum: "SUM", exp.Avg: "AVG", exp.Min: "MIN", exp.Max: "MAX"}


def bind_match_recognize(node: L.Node, scope: Scope, mr: exp.Expr) -> tuple[L.Node, Scope]:
    where = _where(mr)
    if node.updating:
        raise ValidationError(f"{where}Match Recognize doesn't support consuming update and delete changes "
                              f"(its input's changelog mode is [{node.changelog}])")
    if mr.args.get("rows") is not None and mr.args["rows"].name.startswith("ALL"):
        raise ValidationError(f"{where}All rows per match mode is not supported yet.")
    binder = ScalarBinder(scope)
    partition = []
    for p in mr.args.get("partition_by") or []:
        e = binder.bind(p)
        if not isinstance(e, Ref):
            raise ValidationError(f"{_where(p)}PARTITION BY of MATCH_RECOGNIZE takes columns")
        partition.append(e.index)
    order = mr.args.get("order")
    keys = list(order.expressions) if order is not None else []
    first = binder.bind(keys[0].this) if keys else None
    if first is None or not isinstance(first, Ref) or first.type.time_attr is None or keys[0].args.get("desc"):
        raise ValidationError(f"{where}You must specify either rowtime or proctime for order by as the first one "
                              f"(ascending).")
    more = []
    for k in keys[1:]:
        e = binder.bind(k.this)
        if not isinstance(e, Ref):
            raise ValidationError(f"{_where(k)}ORDER BY of MATCH_RECOGNIZE takes columns")
        more.append((e.index, bool(k.args.get("desc"))))
    pattern = parse_pattern(mr.args["pattern"].name, where)
    variables = [t.var for t in pattern]
    skip = _skip(mr.args.get("after"), variables, where)
    within = interval_value(mr.args["within"])[0] if mr.args.get("within") is not None else 0

    nav = _Navigation(node, scope, variables)
    defines = {}
    for d in mr.args.get("define") or []:
        var = d.alias
        if var not in variables:
            raise ValidationError(f"{_where(d)}Unknown pattern variable '{var}' in DEFINE")
        slots: list[L.MatchSlot] = []
        cond = nav.bind(d.this, slots, current=var)
        if cond.type.name not in ("BOOLEAN", "NULL"):
            raise ValidationError(f"{_where(d)}DEFINE {var} must be a BOOLEAN condition, not {cond.type}")
        defines[var] = (cond, slots)
    measure_slots: list[L.MatchSlot] = []
    measures, names = [], []
    for m in mr.args.get("measures") or []:
        item = m.this
        if not isinstance(item, exp.Alias):
            raise ValidationError(f"{_where(item)}Each MEASURES expression needs a name (AS ..)")
        measures.append(nav.bind(item.this, measure_slots, current=None))
        names.append(item.alias)
    base = nav.input_node()
    defines = {v: (nav.place_slots(c), slots) for v, (c, slots) in defines.items()}
    measures = [nav.place_slots(m) for m in measures]
    fields = [L.Field(base.fields[i].name, base.fields[i].type.without_time_attr()) for i in partition]
    n_in = len(base.fields)
    for name, e in zip(names, measures):
        is_rowtime = isinstance(e, Ref) and e.index >= n_in and measure_slots[e.index - n_in].kind == "rowtime"
        fields.append(L.Field(name, e.type if is_rowtime else e.type.without_time_attr()))
    out = L.MatchRecognize(fields, L.INSERT_ONLY, input=base, partition=partition, time_index=first.index,
                           proctime=first.type.time_attr == "proctime",
                           order=more, pattern=pattern, skip=skip, within=within, defines=defines,
                           measures=measures, measure_slots=measure_slots)
    alias = mr.alias or None
    return out, Scope([ScopeField(alias, f.name, f.type) for f in fields])


def _skip(after: exp.Expr | None, variables: list[str], where: str) -> tuple[str, str | None]:
    if after is None:
        return ("TO NEXT ROW", None)
    text = after.name[len("AFTER MATCH SKIP "):]
    for kind in ("TO FIRST", "TO LAST"):
        if text.startswith(kind + " "):
            var = text[len(kind) + 1:]
            if var not in variables:
                raise ValidationError(f"{where}AFTER MATCH SKIP {text}: '{var}' is not a pattern variable")
            return (kind, var)
    return (text, None)


class _Navigation:
    """Rewrites pattern-variable references into slots; arguments that are expressions become extra columns
    computed before the operator."""

    def __init__(self, node: L.Node, scope: Scope, variables: list[str]):
        self.node, self.scope, self.variables = node, scope, set(variables)
        self.extra: list[Expr] = []
        self.input_binder = ScalarBinder(Scope([ScopeField(None, f.name, f.type) for f in scope.fields]))

    def input_node(self) -> L.Node:
        if not self.extra:
            return self.node
        exprs = [Ref(f.type, i, f.name) for i, f in enumerate(self.node.fields)] + self.extra
        names = self.node.names + [f"$m{i}" for i in range(len(self.extra))]
        return L.Calc([L.Field(n, e.type) for n, e in zip(names, exprs)], self.node.changelog, input=self.node,
                      projections=exprs)

    def bind(self, tree: exp.Expr, slots: list[L.MatchSlot], current: str | None) -> Expr:
        def slot(s: L.MatchSlot) -> exp.Expr:
            if s not in slots:
                slots.append(s)
            return exp.column(f"$slot{slots.index(s)}", quoted=True)

        def visit(n: exp.Expr) -> exp.Expr:
            if isinstance(n, (exp.First, exp.Last)) or _anonymous(n, "PREV", "NEXT"):
                return slot(self._offset_slot(n, current))
            if type(n) in AGGREGATES and not isinstance(n.this, exp.Window):
                return slot(self._aggregate_slot(n, current))
            if _anonymous(n, "MATCH_ROWTIME"):
                if current is not None:
                    raise ValidationError(f"{_where(n)}MATCH_ROWTIME() can only be used in MEASURES")
                return slot(L.MatchSlot("rowtime", type=TIMESTAMP3.with_nullable(False).as_rowtime()))
            if _anonymous(n, "MATCH_PROCTIME", "CLASSIFIER"):
                raise ValidationError(f"{_where(n)}{n.name}() in MATCH_RECOGNIZE is not supported")
            if isinstance(n, exp.Column):
                var = n.table or None
                if var is not None and var not in self.variables:
                    raise ValidationError(f"{_where(n)}Unknown pattern variable '{var}'")
                if current is not None and var in (None, current):
                    return exp.column(n.name, quoted=True)  # the row being matched
                col, t = self._argument(n)
                return slot(L.MatchSlot("last", var, col, 0, type=t.with_nullable(True)))
            return n
        rewritten = tree.copy().transform(visit)  # top-down: a replaced call's arguments are not visited
        fields = [ScopeField(None, f.name, f.type) for f in self.scope.fields]
        fields += [ScopeField(None, f"$slot{i}", s.type) for i, s in enumerate(slots)]
        return ScalarBinder(Scope(fields)).bind(rewritten)

    def place_slots(self, e: Expr) -> Expr:
        """Slots were bound right after the input columns; the operator finds them after the computed ones."""
        return _shift(e, len(self.node.fields), len(self.extra))

    def _offset_slot(self, n: exp.Expr, current: str | None) -> L.MatchSlot:
        name = n.name.upper() if isinstance(n, exp.Anonymous) else type(n).__name__.upper()
        args = list(n.expressions) if isinstance(n, exp.Anonymous) else [n.this] + (
            [n.expression] if n.args.get("expression") is not None else [])
        if not args or len(args) > 2:
            raise ValidationError(f"{_where(n)}{name} takes a column and an optional offset")
        offset = 1 if name in ("PREV", "NEXT") else 0
        if len(args) == 2:
            if not (isinstance(args[1], exp.Literal) and not args[1].is_string and args[1].this.isdigit()):
                raise ValidationError(f"{_where(n)}The offset of {name} must be a whole number literal")
            offset = int(args[1].this)
        var = self._variable(args[0])
        if name in ("PREV", "NEXT"):
            if current is None:
                raise ValidationError(f"{_where(n)}Cannot use PREV/NEXT in MEASURE '{n.sql(dialect='flink')}'")
            if name == "NEXT" or var in (None, current):
                raise ValidationError(f"{_where(n)}Flink does not support physical offsets within partition.")
            name = "LAST"
        col, t = self._argument(args[0])
        return L.MatchSlot(name.lower(), var, col, offset, type=t.with_nullable(True))

    def _aggregate_slot(self, n: exp.Expr, current: str | None) -> L.MatchSlot:
        fn = AGGREGATES[type(n)]
        arg = n.this
        if isinstance(arg, exp.Distinct):
            raise ValidationError(f"{_where(n)}DISTINCT aggregates are not supported in MATCH_RECOGNIZE")
        if isinstance(arg, exp.Star) or arg is None:
            if fn != "COUNT":
                raise ValidationError(f"{_where(n)}{fn}(*) is not valid")
            return L.MatchSlot("agg", None, None, fn=fn, type=aggregate_type(fn, []))
        var = self._variable(arg)
        col, t = self._argument(arg)
        return L.MatchSlot("agg", var, col, fn=fn, type=aggregate_type(fn, [t]))

    def _variable(self, arg: exp.Expr) -> str | None:
        quals = {c.table for c in arg.find_all(exp.Column) if c.table}
        unknown = quals - self.variables
        if unknown:
            raise ValidationError(f"{_where(arg)}Unknown pattern variable '{sorted(unknown)[0]}'")
        if len(quals) > 1:
            raise ValidationError(f"{_where(arg)}An argument may reference only one pattern variable, "
                                  f"found {', '.join(sorted(quals))}")
        return next(iter(quals), None)

    def _argument(self, arg: exp.Expr) -> tuple[int, FlinkType]:
        """The input column holding the argument's value per row (a new computed column if needed)."""
        plain = arg.copy().transform(lambda c: exp.column(c.name, quoted=True) if isinstance(c, exp.Column) else c)
        e = self.input_binder.bind(plain)
        if isinstance(e, Ref):
            return e.index, e.type.without_time_attr()
        for i, x in enumerate(self.extra):
            if str(x) == str(e):
                return len(self.node.fields) + i, e.type
        self.extra.append(e)
        return len(self.node.fields) + len(self.extra) - 1, e.type


def _anonymous(n: exp.Expr, *names: str) -> bool:
    return isinstance(n, exp.Anonymous) and n.name.upper() in names


def _shift(e: Expr, n_input: int, by: int) -> Expr:
    if by == 0:
        return e
    if isinstance(e, Ref) and e.index >= n_input:
        return Ref(e.type, e.index + by, e.name)
    if isinstance(e, Call):
        return Call(e.type, e.fn, tuple(_shift(a, n_input, by) for a in e.args))
    return e
