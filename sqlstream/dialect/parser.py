"""Flink SQL parser: the base sqlglot parser plus Flink's DDL, window TVFs and client statements."""
from __future__ import annotations

import difflib

from sqlglot import exp, parser
from sqlglot.tokens import TokenType

from sqlstream.dialect import expressions as fx

WINDOW_TVFS = ("TUMBLE", "HOP", "CUMULATE", "SESSION")


class FlinkParser(parser.Parser):
    """Parses Flink SQL; constructs it does not know raise ParseError instead of becoming a Command."""

    CONSTRAINT_PARSERS = {
        **parser.Parser.CONSTRAINT_PARSERS,
        "WATERMARK": lambda self: self.expression(
            exp.WatermarkColumnConstraint(
                this=self._match(TokenType.FOR) and self._parse_column(),
                expression=self._match(TokenType.ALIAS) and self._parse_disjunction(),
            )
        ),
        "METADATA": lambda self: self._parse_metadata_constraint(),
    }

    SCHEMA_UNNAMED_CONSTRAINTS = {*parser.Parser.SCHEMA_UNNAMED_CONSTRAINTS, "WATERMARK"}

    PROPERTY_PARSERS = {
        **parser.Parser.PROPERTY_PARSERS,
        "PARTITIONED BY": lambda self: self._parse_flink_partitioned_by(),
        "PARTITIONED_BY": lambda self: self._parse_flink_partitioned_by(),
        "TBLPROPERTIES": lambda self: self.raise_error(
            "TBLPROPERTIES is Hive's syntax, not Flink's: give table options as WITH ('key' = 'value')",
            self._prev),
    }

    FUNC_TOKENS = {*parser.Parser.FUNC_TOKENS, TokenType.SESSION}

    FUNCTION_PARSERS = {
        **parser.Parser.FUNCTION_PARSERS,
        **{name: (lambda self, name=name: self._parse_window_function(name)) for name in WINDOW_TVFS},
        "TIMESTAMPADD": lambda self: self._parse_unit_function("TIMESTAMPADD"),
        "TIMESTAMPDIFF": lambda self: self._parse_unit_function("TIMESTAMPDIFF"),
        "DESCRIPTOR": lambda self: self.expression(
            fx.Descriptor(expressions=self._parse_csv(self._parse_column))
        ),
    }

    TYPE_LITERAL_PARSERS = {
        **parser.Parser.TYPE_LITERAL_PARSERS,
        exp.DType.TIMESTAMP: lambda self, this, _: self._timestamp_literal(this),
    }

    STATEMENT_WORDS = ("SHOW", "EXPLAIN", "SET", "RESET", "DESCRIBE", "DESC", "STOP", "EXECUTE", "BEGIN", "END",
                       "HELP", "QUIT", "EXIT")
    STATEMENT_STARTS = ("SELECT", "INSERT", "CREATE", "DROP", "WITH", "VALUES", *STATEMENT_WORDS)

    # a word followed by one of these cannot begin an expression: it was meant as a statement keyword (SELEC x)
    NOT_AFTER_AN_EXPRESSION_START = {TokenType.VAR, TokenType.NUMBER, TokenType.STRING, TokenType.IDENTIFIER,
                                     TokenType.FROM}

    def _parse_statement(self) -> exp.Expr | None:
        if not self._curr:
            return None
        word = self._curr.text.upper()
        if self._curr.token_type == TokenType.VAR and word not in self.STATEMENT_WORDS and self._next and \
                (self._next.token_type in self.NOT_AFTER_AN_EXPRESSION_START or
                 self._next.token_type == TokenType.STAR and self._index + 2 < len(self._tokens) and
                 self._tokens[self._index + 2].token_type == TokenType.FROM):
            close = difflib.get_close_matches(word, self.STATEMENT_STARTS, n=1)
            self.raise_error(f"Unknown statement '{self._curr.text}'" + (f"; did you mean {close[0]}?" if close else
                             "; expected " + ", ".join(self.STATEMENT_STARTS[:5]) + ", SET, SHOW, ..."),
                             self._curr)
        if word in self.STATEMENT_WORDS and self._curr.token_type != TokenType.STRING:
            handler = getattr(self, "_parse_flink_" + ("describe" if word == "DESC" else word.lower()))
            start = self._curr
            self._advance()
            stmt = handler()
            if stmt is not None:
                return stmt
            self._retreat(self._tokens.index(start))
        first = self._curr
        stmt = super()._parse_statement()
        if isinstance(stmt, exp.Command):
            self.raise_error(f"Unsupported statement '{stmt.name}'", first)
        return stmt

    # ---- client statements -------------------------------------------------------------
    def _parse_flink_show(self) -> exp.Expr:
        what = self._curr
        if not what or what.text.upper() not in ("TABLES", "VIEWS", "FUNCTIONS", "JOBS", "CATALOGS",
                                                 "DATABASES", "CURRENT", "MODULES"):
            self.raise_error("Expected TABLES, VIEWS, FUNCTIONS or JOBS after SHOW")
        self._advance()
        return self.expression(fx.ShowStatement(this=exp.var(what.text.upper())))

    EXPLAIN_DETAILS = ("ESTIMATED_COST", "CHANGELOG_MODE", "JSON_EXECUTION_PLAN", "PLAN_ADVICE")

    def _parse_flink_explain(self) -> exp.Expr:
        self._match_text_seq("PLAN", "FOR")
        details = []
        while self._curr and self._curr.text.upper() in self.EXPLAIN_DETAILS:
            details.append(self._curr.text.upper())
            self._advance()
            if not self._match(TokenType.COMMA):
                break
        inner = self._parse_statement()
        if inner is None:
            self.raise_error("Expected a statement after EXPLAIN")
        return self.expression(fx.ExplainStatement(this=inner, details=exp.var(", ".join(details)) if details
                                                   else None))

    def _parse_flink_set(self) -> exp.Expr:
        if not self._curr or self._curr.token_type == TokenType.SEMICOLON:
            return self.expression(fx.SetStatement())
        key = self._parse_string() or self._parse_raw_text(TokenType.EQ)
        if key is None:
            self.raise_error("Expected a quoted configuration key after SET")
        if not self._match(TokenType.EQ):
            self.raise_error("Expected '=' after the SET key")
        value = self._parse_string() or self._parse_raw_text()
        if value is None:
            self.raise_error("Expected a quoted value after '='")
        return self.expression(fx.SetStatement(this=key, expression=value))

    def _parse_flink_partitioned_by(self) -> exp.Expr:
        """PARTITIONED BY (a, b) names columns of the table; a typed partition column is Hive's syntax."""
        start = self._index
        prop = self._parse_partitioned_by()
        for col in prop.this.expressions if isinstance(prop.this, exp.Schema) else []:
            if isinstance(col, exp.ColumnDef) and col.args.get("kind") is not None:
                names = [i for i in range(start, self._index) if self._tokens[i].text == col.name]
                token = self._tokens[names[0] + 1] if names else self._prev  # the type after the name
                self.raise_error(f"Encountered \"{token.text}\": PARTITIONED BY takes the names of columns "
                                 f"declared in the table, as PARTITIONED BY ({col.name}); a typed partition "
                                 f"column is Hive's syntax", token)
        return prop

    def _parse_raw_text(self, stop: TokenType | None = None) -> exp.Expr | None:
        """The text of the tokens up to `stop`, ';' or the end, as written: Flink's client takes
        `SET sql-client.execution.result-mode = tableau` unquoted."""
        first = last = None
        while self._curr and self._curr.token_type not in (TokenType.SEMICOLON, stop):
            first = first or self._curr
            last = self._curr
            self._advance()
        if first is None:
            return None
        return exp.Literal.string(self.sql[first.start:last.end + 1])

    def _parse_flink_reset(self) -> exp.Expr:
        key = self._parse_string() or self._parse_raw_text()
        return self.expression(fx.ResetStatement(this=key))

    def _parse_flink_help(self) -> exp.Expr:
        return self.expression(fx.ClientCommand(this=exp.var("HELP")))

    def _parse_flink_quit(self) -> exp.Expr:
        return self.expression(fx.ClientCommand(this=exp.var("QUIT")))

    _parse_flink_exit = _parse_flink_quit

    def _parse_flink_describe(self) -> exp.Expr:
        if self._curr and self._curr.text.upper() == "JOB" and self._next and \
                self._next.token_type == TokenType.STRING:
            self._advance()
            return self.expression(fx.DescribeJobStatement(this=self._parse_string()))
        self._match_text_seq("EXTENDED")
        table = self._parse_table_parts()
        if table is None:
            self.raise_error("Expected a table name after DESCRIBE")
        return self.expression(fx.DescribeStatement(this=table))

    def _parse_flink_stop(self) -> exp.Expr:
        if not self._match_text_seq("JOB"):
            self.raise_error("Expected JOB after STOP")
        job = self._parse_string()
        if job is None:
            self.raise_error("Expected a quoted job id after STOP JOB")
        savepoint = self._match_text_seq("WITH", "SAVEPOINT")
        return self.expression(fx.StopJobStatement(this=job, savepoint=savepoint or None))

    def _parse_flink_execute(self) -> exp.Expr:
        if not self._match_text_seq("STATEMENT", "SET", "BEGIN"):
            self.raise_error("Expected STATEMENT SET BEGIN after EXECUTE")
        first = super()._parse_statement() if self._curr else None
        if first is not None and not isinstance(first, exp.Insert):
            self.raise_error("Only INSERT INTO statements may appear in a STATEMENT SET")
        return self.expression(fx.StatementSetBegin(this=first))

    def _parse_flink_begin(self) -> exp.Expr | None:
        if not self._match_text_seq("STATEMENT", "SET"):
            return None
        return self.expression(fx.StatementSetBegin())

    def _parse_flink_end(self) -> exp.Expr:
        return self.expression(fx.StatementSetEnd())

    # ---- MATCH_RECOGNIZE -------------------------------------------------------------------
    def _parse_match_recognize(self) -> exp.Expr | None:
        if not self._match(TokenType.MATCH_RECOGNIZE):
            return None
        self._match_l_paren()
        partition = self._parse_partition_by()
        order = self._parse_order()
        measures = self._parse_csv(self._parse_match_recognize_measure) if self._match_text_seq("MEASURES") else None
        rows = None
        if self._match_text_seq("ONE", "ROW", "PER", "MATCH"):
            rows = exp.var("ONE ROW PER MATCH")
        elif self._match_text_seq("ALL", "ROWS", "PER", "MATCH"):
            rows = exp.var("ALL ROWS PER MATCH")
        after = None
        if self._match_text_seq("AFTER", "MATCH", "SKIP"):
            if self._match_text_seq("PAST", "LAST", "ROW"):
                after = exp.var("AFTER MATCH SKIP PAST LAST ROW")
            elif self._match_text_seq("TO", "NEXT", "ROW"):
                after = exp.var("AFTER MATCH SKIP TO NEXT ROW")
            elif self._match_text_seq("TO", "FIRST") or self._match_text_seq("TO", "LAST"):
                direction = self._prev.text.upper()
                target = self._parse_id_var(any_token=False)
                if target is None:
                    self.raise_error(f"Expected a pattern variable after AFTER MATCH SKIP TO {direction}")
                after = exp.var(f"AFTER MATCH SKIP TO {direction} {target.name}")
            else:
                self.raise_error("Expected PAST LAST ROW, TO NEXT ROW, TO FIRST <var> or TO LAST <var>")
        if not self._match_text_seq("PATTERN"):
            self.raise_error("Expected PATTERN in MATCH_RECOGNIZE")
        pattern = self._parse_pattern_text()
        within = self._parse_interval() if self._match_text_seq("WITHIN") else None
        if not self._match_text_seq("DEFINE"):
            self.raise_error("Expected DEFINE in MATCH_RECOGNIZE")
        define = self._parse_csv(self._parse_name_as_expression)
        self._match_r_paren()
        return self.expression(fx.MatchRecognize(
            partition_by=partition, order=order, measures=measures, rows=rows, after=after, pattern=pattern,
            within=within, define=define, alias=self._parse_table_alias()))

    def _parse_pattern_text(self) -> exp.Expr:
        """PATTERN (..): the row pattern's text, parsed by planner.match_pattern."""
        self._match_l_paren()
        depth, start, end = 1, self._curr, None
        while self._curr and depth:
            depth += {TokenType.L_PAREN: 1, TokenType.R_PAREN: -1}.get(self._curr.token_type, 0)
            if depth:
                end = self._curr
            self._advance()
        if depth or end is None:
            self.raise_error("Expected a row pattern and ')' after PATTERN (")
        return exp.var(self._find_sql(start, end))

    # ---- table hints ---------------------------------------------------------------------------
    # Flink writes a table hint right after the table name: `FROM t /*+ OPTIONS('k' = 'v') */ [AS] x`,
    # `INSERT INTO t /*+ OPTIONS(..) */ ..`, `TABLE t /*+ OPTIONS(..) */` in a window TVF: they become the Table's
    # "hints". The base parser asks for a table's hints later (after its alias): it gets these back.
    _hinted_table: exp.Expr | None = None

    def _parse_hint_tokens(self) -> list[exp.Expr]:
        hints = []
        while self._match(TokenType.HINT):
            token = self._prev
            text = token.comments[0] if token.comments else None
            if text is None and self._curr and self._curr.comments:  # a hint spanning lines comes out detached
                text = self._curr.comments[0]
                self._curr.comments = self._curr.comments[1:]
                token.comments = [text]
            self._prev_comments = []  # the hint's text is not a comment of the next expression
            hint = exp.maybe_parse(text or "", into=exp.Hint, dialect=self.dialect)
            start = token.col - len(token.text) + 1 if "\n" not in token.text else token.col
            hint.meta.update(line=token.line, col=max(1, start))
            hints.append(hint)
        return hints

    def _parse_table_parts(self, *args, **kwargs) -> exp.Expr:
        table = super()._parse_table_parts(*args, **kwargs)
        if table is not None:
            hints = self._parse_hint_tokens()
            if hints:
                table.set("hints", hints)
            self._hinted_table = table
        return table

    def _parse_table_hints(self) -> list[exp.Expr] | None:
        table, self._hinted_table = self._hinted_table, None
        own = table.args.get("hints") if table is not None else None
        return [*(own or []), *(super()._parse_table_hints() or [])] or None

    # ---- DDL -------------------------------------------------------------------------
    def _parse_metadata_constraint(self) -> exp.Expr:
        key = self._parse_string() if self._match(TokenType.FROM) else None
        virtual = self._match_text_seq("VIRTUAL")
        return exp.ColumnConstraint(kind=exp.Var(this="METADATA"), this=key,
                                    expression=exp.true() if virtual else exp.false())

    def _parse_types(self, *args, **kwargs) -> exp.Expr | None:
        # ROW<a INT, b STRING> and ROW(a INT, b STRING) are Flink's struct types.
        if self._curr and self._curr.text.upper() == "ROW" and self._next and \
                self._next.token_type in (TokenType.LT, TokenType.L_PAREN):
            index = self._index
            self._advance()
            closing = TokenType.GT if self._match(TokenType.LT) else (
                TokenType.R_PAREN if self._match(TokenType.L_PAREN) else None)
            fields = self._parse_csv(self._parse_struct_field) if closing else None
            if closing and fields and self._match(closing):
                return exp.DataType(this=exp.DType.STRUCT, expressions=fields, nested=True)
            self._retreat(index)
        return super()._parse_types(*args, **kwargs)

    def _timestamp_literal(self, this: exp.Expr) -> exp.Expr:
        """TIMESTAMP '..' has the precision of its fraction digits (TIMESTAMP(0) without any), as in Flink."""
        text = this.name if isinstance(this, exp.Literal) else ""
        frac = text.strip().partition(".")[2] if ":" in text else ""
        precision = len(frac) if frac.isdigit() else 0
        to = exp.DataType(this=exp.DType.TIMESTAMP,
                          expressions=[exp.DataTypeParam(this=exp.Literal.number(precision))])
        return self.expression(exp.Cast(this=this, to=to))

    def _parse_struct_field(self) -> exp.Expr | None:
        name = self._parse_id_var(any_token=True)
        kind = self._parse_types()
        if name is None or kind is None:
            return None
        return exp.ColumnDef(this=name, kind=kind)

    def _parse_unit_function(self, name: str) -> exp.Expr:
        """TIMESTAMPADD(unit, n, ts) / TIMESTAMPDIFF(unit, a, b): Flink puts the time unit first."""
        unit = self._parse_var(any_token=True)
        if unit is None or not self._match(TokenType.COMMA):
            self.raise_error(f"Expected a time unit and ',' in {name}")
        args = self._parse_csv(self._parse_lambda)
        return self.expression(exp.Anonymous(this=name, expressions=[unit, *args]))

    # ---- window TVFs / legacy group windows ---------------------------------------------
    def _parse_window_function(self, name: str) -> exp.Expr:
        if not self._match(TokenType.TABLE, advance=False) and not self._is_named_table_arg():
            # legacy group window: TUMBLE(ts, INTERVAL ..) inside GROUP BY
            args = self._parse_csv(self._parse_lambda)
            return self.expression(exp.Anonymous(this=name, expressions=args))
        args = self._parse_csv(self._parse_tvf_argument)
        return self.expression(fx.WindowTVF(this=exp.var(name), expressions=args))

    def _is_named_table_arg(self) -> bool:
        return bool(self._curr and self._next and self._curr.text.upper() == "DATA"
                    and self._next.token_type == TokenType.FARROW)

    def _parse_tvf_argument(self) -> exp.Expr | None:
        if self._curr and self._next and self._next.token_type == TokenType.FARROW:
            pname = self._curr.text.upper()
            self._advance(2)
            value = self._parse_tvf_argument()
            return self.expression(exp.Kwarg(this=exp.var(pname), expression=value))
        if self._match(TokenType.TABLE):
            table = self._parse_table_parts()
            if table.args.get("hints"):
                self.raise_error("A hint cannot follow TABLE <name> in a window function (Flink's parser rejects "
                                 "it too); put OPTIONS on the table in a view or subquery")
            partition = None
            if self._match(TokenType.PARTITION_BY):
                # several keys must be parenthesized: PARTITION BY (a, b), a single one need not
                partition = (self._parse_wrapped_csv(self._parse_column)
                             if self._match(TokenType.L_PAREN, advance=False) else [self._parse_column()])
            return self.expression(fx.TableArgument(this=table, partition_by=partition))
        return self._parse_lambda()
