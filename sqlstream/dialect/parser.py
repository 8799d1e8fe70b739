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
        "WATERMARK": lambda self: self._parse_watermark(),
        "METADATA": lambda self: self._parse_metadata_constraint(),
    }

    SCHEMA_UNNAMED_CONSTRAINTS = {*parser.Parser.SCHEMA_UNNAMED_CONSTRAINTS, "WATERMARK"}

    PROPERTY_PARSERS = {
        **parser.Parser.PROPERTY_PARSERS,
        "LIKE": lambda self: self._parse_flink_like(),
        "PARTITIONED BY": lambda self: self._parse_flink_partitioned_by(),
        "PARTITIONED_BY": lambda self: self._parse_flink_partitioned_by(),
        "TBLPROPERTIES": lambda self: self.raise_error(
            "TBLPROPERTIES is Hive's syntax, not Flink's: give table options as WITH ('key' = 'value')",
            self._prev),
    }

    FUNC_TOKENS = {*parser.Parser.FUNC_TOKENS, TokenType.SESSION}

    # Flink's ARRAY_SORT(arr [, ascending [, nulls_first]]) takes one more argument than older sqlglot allows
    FUNCTIONS = {
        **parser.Parser.FUNCTIONS,
        "ARRAY_SORT": lambda args: exp.Anonymous(this="ARRAY_SORT", expressions=args),
    }

    FUNCTION_PARSERS = {
        **parser.Parser.FUNCTION_PARSERS,
        **{name: (lambda self, name=name: self._parse_window_function(name)) for name in WINDOW_TVFS},
        "TIMESTAMPADD": lambda self: self._parse_unit_function("TIMESTAMPADD"),
        "TIMESTAMPDIFF": lambda self: self._parse_unit_function("TIMESTAMPDIFF"),
        "DESCRIPTOR": lambda self: self.expression(
            fx.Descriptor(expressions=self._parse_csv(self._parse_column))
        ),
        **{name: (lambda self, name=name: self._parse_json_call(name))
           for name in ("JSON_VALUE", "JSON_QUERY", "JSON_EXISTS")},
        "JSON_ARRAYAGG": lambda self: self._parse_json_arrayagg(),
        "JSON_ARRAY": lambda self: self.expression(exp.JSONArray(
            expressions=self._parse_csv(self._parse_bitwise),
            null_handling=self._parse_on_handling("NULL", "NULL", "ABSENT"))),
    }

    TYPE_LITERAL_PARSERS = {
        **parser.Parser.TYPE_LITERAL_PARSERS,
        exp.DType.TIMESTAMP: lambda self, this, _: self._timestamp_literal(this),
    }

    STATEMENT_WORDS = ("SHOW", "EXPLAIN", "SET", "RESET", "DESCRIBE", "DESC", "STOP", "EXECUTE", "BEGIN", "END",
                       "HELP", "QUIT", "EXIT", "USE", "LOAD", "UNLOAD", "ALTER", "CREATE", "DROP")
    STATEMENT_STARTS = ("SELECT", "INSERT", "WITH", "VALUES", *STATEMENT_WORDS)

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

    def _parse_column_def(self, this, computed_column: bool = True):
        column = super()._parse_column_def(this, computed_column)
        if isinstance(column, exp.ColumnDef) and any(
                isinstance(c.args.get("kind"), exp.ComputedColumnConstraint) and c.args["kind"].this is None
                for c in column.args.get("constraints") or []):
            self.raise_error("Expected an expression for the computed column after AS")
        return column

    # ---- client statements -------------------------------------------------------------
    SHOW_WORDS = ("TABLES", "VIEWS", "FUNCTIONS", "JOBS", "CATALOGS", "DATABASES", "MODULES", "COLUMNS")

    def _parse_flink_show(self) -> exp.Expr:
        word = self._curr.text.upper() if self._curr else ""
        target = None
        if word == "CURRENT":
            self._advance()
            if not self._match_texts(("CATALOG", "DATABASE")):
                self.raise_error("Expected CATALOG or DATABASE after SHOW CURRENT")
            return self.expression(fx.ShowStatement(this=exp.var(f"CURRENT {self._prev.text.upper()}")))
        if word == "CREATE":
            self._advance()
            if not self._match_texts(("TABLE", "VIEW", "CATALOG")):
                self.raise_error("Expected TABLE, VIEW or CATALOG after SHOW CREATE")
            kind = self._prev.text.upper()
            target = self._parse_table_parts()
            return self.expression(fx.ShowStatement(this=exp.var(f"CREATE {kind}"), target=target))
        if word in ("FULL", "USER"):
            self._advance()
            nxt = "MODULES" if word == "FULL" else "FUNCTIONS"
            if not self._match_text_seq(nxt):
                self.raise_error(f"Expected {nxt} after SHOW {word}")
            what = f"{word} {nxt}"
        elif word in self.SHOW_WORDS:
            self._advance()
            what = word
        else:
            self.raise_error("Expected TABLES, VIEWS, COLUMNS, FUNCTIONS, CATALOGS, DATABASES, MODULES, JOBS, "
                             "CURRENT CATALOG|DATABASE or CREATE TABLE|VIEW|CATALOG after SHOW")
        if self._match_texts(("FROM", "IN")):
            target = self._parse_table_parts()
        elif what == "COLUMNS":
            self.raise_error("Expected FROM or IN after SHOW COLUMNS")
        not_like = bool(self._match(TokenType.NOT))
        like = ilike = None
        if self._match(TokenType.LIKE):
            like = self._parse_string()
        elif self._match(TokenType.ILIKE):
            if what in ("TABLES", "VIEWS", "COLUMNS"):
                self.raise_error(f"Encountered \"ILIKE\": SHOW {what} takes [NOT] LIKE", self._prev)
            ilike = self._parse_string()
        elif not_like:
            self.raise_error("Expected LIKE or ILIKE after NOT")
        if (self._prev.token_type in (TokenType.LIKE, TokenType.ILIKE)) and like is None and ilike is None:
            self.raise_error("Expected a quoted pattern after LIKE")
        return self.expression(fx.ShowStatement(this=exp.var(what), target=target, like=like or ilike,
                                                not_like=not_like or None, ilike=True if ilike else None))

    def _parse_flink_use(self) -> exp.Expr:
        if self._match_text_seq("CATALOG"):
            return self.expression(fx.UseStatement(this=self._parse_single_name("catalog"),
                                                   kind=exp.var("CATALOG")))
        if self._match_text_seq("MODULES"):
            names = self._parse_csv(lambda: self._parse_single_name("module"))
            return self.expression(fx.UseStatement(this=exp.Tuple(expressions=names), kind=exp.var("MODULES")))
        return self.expression(fx.UseStatement(this=self._parse_table_parts(), kind=exp.var("DATABASE")))

    def _parse_single_name(self, what: str) -> exp.Expr:
        """A one-part name (catalog, module): an identifier, not a string, with no dots."""
        if not self._curr or self._curr.token_type in (TokenType.STRING, TokenType.SEMICOLON):
            found = f"\"{self._curr.text}\"" if self._curr else "the end of the statement"
            self.raise_error(f"Encountered {found}: expected a {what} name (an identifier)")
        name = self._parse_id_var(any_token=True)
        if name is None:
            self.raise_error(f"Expected a {what} name")
        if self._curr and self._curr.token_type == TokenType.DOT:
            self.raise_error(f"Encountered \".\": a {what} name has a single part")
        return name

    def _parse_flink_options(self) -> list[exp.Expr]:
        """WITH ('k' = 'v', ..) or the bare ('k' = 'v', ..) of ALTER .. SET."""
        self._match_l_paren()
        props = []
        while self._curr and self._curr.token_type != TokenType.R_PAREN:
            key = self._parse_string()
            if key is None or not self._match(TokenType.EQ):
                self.raise_error("Expected 'key' = 'value'")
            value = self._parse_string()
            if value is None:
                self.raise_error("Expected a quoted value after '='")
            props.append(exp.Property(this=key, value=value))
            if not self._match(TokenType.COMMA):
                break
        self._match_r_paren()
        return props

    def _parse_flink_keys(self) -> list[exp.Expr]:
        """('k1', 'k2') of RESET."""
        self._match_l_paren()
        keys = []
        while self._curr and self._curr.token_type != TokenType.R_PAREN:
            key = self._parse_string()
            if key is None:
                self.raise_error("Expected a quoted key")
            keys.append(key)
            if not self._match(TokenType.COMMA):
                break
        self._match_r_paren()
        return keys

    def _parse_flink_create(self) -> exp.Expr | None:
        if self._match_text_seq("CATALOG"):
            exists = self._match_text_seq("IF", "NOT", "EXISTS")
            name = self._parse_single_name("catalog")
            comment = self._parse_string() if self._match(TokenType.COMMENT) else None
            options = self._parse_flink_options() if self._match(TokenType.WITH) else []
            self._expect_statement_end()
            return self.expression(fx.CatalogStatement(this=name, action=exp.var("CREATE CATALOG"),
                                                       exists=exists or None, options=options, comment=comment))
        if self._match_text_seq("TEMPORARY", "SYSTEM", "FUNCTION"):
            exists = self._match_text_seq("IF", "NOT", "EXISTS")
            name = self._parse_id_var(any_token=True)
            cls, lang = self._parse_function_class()
            return self.expression(fx.CreateSystemFunction(this=name, expression=cls, exists=exists or None,
                                                           language=lang))
        return None

    def _parse_function_class(self) -> tuple[exp.Expr, exp.Expr | None]:
        if not self._match(TokenType.ALIAS):
            self.raise_error("Expected AS 'identifier' of the function")
        cls = self._parse_string()
        if cls is None:
            self.raise_error("Expected a quoted function identifier after AS")
        lang = self._parse_id_var(any_token=True) if self._match_text_seq("LANGUAGE") else None
        return cls, lang

    def _expect_statement_end(self) -> None:
        if self._curr and self._curr.token_type != TokenType.SEMICOLON:
            self.raise_error(f"Encountered \"{self._curr.text}\"")

    def _parse_flink_drop(self) -> exp.Expr | None:
        if self._match_text_seq("CATALOG"):
            exists = self._match_text_seq("IF", "EXISTS")
            return self.expression(fx.DropObject(this=self._parse_single_name("catalog"), kind=exp.var("CATALOG"),
                                                 exists=exists or None))
        if self._match_text_seq("TEMPORARY", "SYSTEM", "FUNCTION"):
            exists = self._match_text_seq("IF", "EXISTS")
            return self.expression(fx.DropObject(this=self._parse_id_var(any_token=True),
                                                 kind=exp.var("SYSTEM FUNCTION"), exists=exists or None))
        return None

    def _parse_flink_load(self) -> exp.Expr:
        if not self._match_text_seq("MODULE"):
            self.raise_error("Expected MODULE after LOAD")
        name = self._parse_single_name("module")
        options = self._parse_flink_options() if self._match(TokenType.WITH) else []
        return self.expression(fx.CatalogStatement(this=name, action=exp.var("LOAD MODULE"), options=options))

    def _parse_flink_unload(self) -> exp.Expr:
        if not self._match_text_seq("MODULE"):
            self.raise_error("Expected MODULE after UNLOAD")
        return self.expression(fx.CatalogStatement(this=self._parse_single_name("module"),
                                                   action=exp.var("UNLOAD MODULE")))

    def _parse_flink_alter(self) -> exp.Expr | None:
        if self._match_text_seq("CATALOG"):
            name = self._parse_single_name("catalog")
            if self._match(TokenType.SET):
                return self.expression(fx.CatalogStatement(this=name, action=exp.var("ALTER CATALOG"),
                                                           options=self._parse_flink_options()))
            if self._match_text_seq("RESET"):
                return self.expression(fx.CatalogStatement(this=name, action=exp.var("ALTER CATALOG"),
                                                           reset=self._parse_flink_keys()))
            if self._match(TokenType.COMMENT):
                return self.expression(fx.CatalogStatement(this=name, action=exp.var("ALTER CATALOG"),
                                                           comment=self._parse_string()))
            self.raise_error("Expected SET, RESET or COMMENT after ALTER CATALOG name")
        if self._match(TokenType.DATABASE) or self._match_text_seq("DATABASE"):
            name = self._parse_table_parts()
            if not self._match(TokenType.SET):
                self.raise_error("Expected SET after ALTER DATABASE name")
            return self.expression(fx.CatalogStatement(this=name, action=exp.var("ALTER DATABASE"),
                                                       options=self._parse_flink_options()))
        temporary = self._match(TokenType.TEMPORARY) or self._match_text_seq("TEMPORARY")
        system = temporary and self._match_text_seq("SYSTEM")
        if self._match(TokenType.FUNCTION) or self._match_text_seq("FUNCTION"):
            exists = self._match_text_seq("IF", "EXISTS")
            name = self._parse_table_parts()
            cls, lang = self._parse_function_class()
            return self.expression(fx.AlterFunctionStatement(this=name, expression=cls, temporary=temporary or None,
                                                             system=system or None, exists=exists or None,
                                                             language=lang))
        if temporary:
            self.raise_error("Expected FUNCTION after ALTER TEMPORARY")
        if self._match(TokenType.TABLE):
            kind = "TABLE"
        elif self._match(TokenType.VIEW):
            kind = "VIEW"
        else:
            self.raise_error("Expected TABLE, VIEW, FUNCTION, DATABASE or CATALOG after ALTER")
        exists = self._match_text_seq("IF", "EXISTS")
        name = self._parse_table_parts()

        def alter(action: str, **args) -> exp.Expr:
            return self.expression(fx.AlterTableStatement(this=name, kind=exp.var(kind), action=exp.var(action),
                                                          exists=exists or None, **args))
        if kind == "VIEW" and self._match(TokenType.ALIAS):
            return alter("AS", expression=self._parse_select())
        if self._match_text_seq("RENAME", "TO"):
            return alter("RENAME", target=self._parse_table_parts())
        if kind == "VIEW":
            self.raise_error("Expected RENAME TO or AS after ALTER VIEW name")
        if self._match(TokenType.SET):
            return alter("SET", options=self._parse_flink_options())
        if self._match_text_seq("RESET"):
            return alter("RESET", names=self._parse_flink_keys())
        if self._match_text_seq("RENAME"):
            old = self._parse_id_var(any_token=True)
            if not self._match_text_seq("TO"):
                self.raise_error("Expected TO in ALTER TABLE .. RENAME column TO new_name")
            return alter("RENAME_COLUMN", names=[old, self._parse_id_var(any_token=True)])
        if self._match_texts(("ADD", "MODIFY")):
            action = self._prev.text.upper()
            if self._match(TokenType.L_PAREN):
                items = self._parse_csv(self._parse_alter_item)
                self._match_r_paren()
            else:
                items = [self._parse_alter_item()]
            return alter(action, items=items)
        if self._match(TokenType.DROP):
            if self._match(TokenType.PRIMARY_KEY) or self._match_text_seq("PRIMARY", "KEY"):
                return alter("DROP_PRIMARY_KEY")
            if self._match(TokenType.CONSTRAINT):
                return alter("DROP_CONSTRAINT", names=[self._parse_id_var(any_token=True)])
            if self._match_text_seq("WATERMARK"):
                return alter("DROP_WATERMARK")
            if self._match(TokenType.L_PAREN):
                cols = self._parse_csv(lambda: self._parse_id_var(any_token=True))
                self._match_r_paren()
            else:
                cols = [self._parse_id_var(any_token=True)]
            return alter("DROP_COLUMNS", names=cols)
        self.raise_error("Expected ADD, MODIFY, DROP, RENAME, SET or RESET after ALTER TABLE name")
        return None

    def _parse_alter_item(self) -> exp.Expr:
        if self._curr and self._next and self._next.token_type == TokenType.ALIAS and \
                self._curr.token_type in (TokenType.VAR, TokenType.IDENTIFIER):
            # `c AS expr [COMMENT '..']`: parsed here so that a trailing FIRST/AFTER is not read as an alias
            name = self._parse_id_var(any_token=True)
            self._advance()
            constraints = [exp.ColumnConstraint(kind=exp.ComputedColumnConstraint(this=self._parse_disjunction()))]
            if self._match(TokenType.COMMENT):
                constraints.append(exp.ColumnConstraint(kind=exp.CommentColumnConstraint(this=self._parse_string())))
            item = exp.ColumnDef(this=name, constraints=constraints)
        else:
            item = self._parse_constraint() or self._parse_field_def()
        if item is None:
            self.raise_error("Expected a column, a PRIMARY KEY or a WATERMARK")
        parsed = item.args.get("position") if isinstance(item, exp.ColumnDef) else None
        if parsed is not None:  # the base parser reads `FIRST` / `AFTER c` after a column definition itself
            item.set("position", None)
            after = parsed.this
            return self.expression(fx.ColumnPosition(this=item, after=exp.to_identifier(after.name)
                                                     if after is not None else None))
        if self._match_text_seq("FIRST"):
            return self.expression(fx.ColumnPosition(this=item))
        if self._match_text_seq("AFTER"):
            return self.expression(fx.ColumnPosition(this=item, after=self._parse_id_var(any_token=True)))
        return item

    def _parse_flink_like(self) -> exp.Expr:
        """`LIKE source [(INCLUDING|EXCLUDING|OVERWRITING <feature> ..)]` of CREATE TABLE."""
        table = self._parse_table_parts(schema=True)
        options = []
        if self._match(TokenType.L_PAREN):
            while self._match_texts(("INCLUDING", "EXCLUDING", "OVERWRITING")):
                strategy = self._prev.text.upper()
                feature = self._curr.text.upper() if self._curr else ""
                allowed = ("ALL", "CONSTRAINTS", "GENERATED", "METADATA", "OPTIONS", "PARTITIONS", "WATERMARKS")
                if feature not in allowed or (strategy == "OVERWRITING" and feature in ("ALL", "CONSTRAINTS",
                                                                                         "PARTITIONS")):
                    self.raise_error(f"Expected one of {', '.join(allowed)} after {strategy}")
                self._advance()
                options.append(exp.Property(this=exp.var(strategy), value=exp.var(feature)))
            if not self._match(TokenType.R_PAREN):
                self.raise_error("Expected INCLUDING, EXCLUDING or OVERWRITING in LIKE options")
        return self.expression(exp.LikeProperty(this=table, expressions=options))

    EXPLAIN_DETAILS = ("ESTIMATED_COST", "CHANGELOG_MODE", "JSON_EXECUTION_PLAN", "PLAN_ADVICE")

    def _parse_flink_explain(self) -> exp.Expr:
        self._match_text_seq("PLAN", "FOR")
        details = []
        while self._curr and self._curr.text.upper() in self.EXPLAIN_DETAILS:
            details.append(self._curr.text.upper())
            self._advance()
            if not self._match(TokenType.COMMA):
                break
        if self._match_text_seq("STATEMENT", "SET", "BEGIN"):  # EXPLAIN STATEMENT SET BEGIN INSERT ..; ..; END
            first = super()._parse_statement() if self._curr else None
            if not isinstance(first, exp.Insert):
                self.raise_error("Only INSERT INTO statements may appear in a STATEMENT SET")
            return self.expression(fx.ExplainStatement(this=first, statement_set=True,
                                                       details=exp.var(", ".join(details)) if details else None))
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
        if self._match_text_seq("CATALOG"):
            extended = self._match_text_seq("EXTENDED")
            return self.expression(fx.DescribeStatement(this=self._parse_single_name("catalog"),
                                                        kind=exp.var("CATALOG"), extended=extended or None))
        if self._match(TokenType.FUNCTION) or self._match_text_seq("FUNCTION"):
            extended = self._match_text_seq("EXTENDED")
            name = self._parse_table_parts()
            if name is None:
                self.raise_error("Expected a function name after DESCRIBE FUNCTION")
            return self.expression(fx.DescribeStatement(this=name, kind=exp.var("FUNCTION"),
                                                        extended=extended or None))
        extended = self._match_text_seq("EXTENDED")
        table = self._parse_table_parts()
        if table is None:
            self.raise_error("Expected a table name after DESCRIBE")
        return self.expression(fx.DescribeStatement(this=table, extended=extended or None))

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

    def _parse_schema(self, *args, **kwargs) -> exp.Expr | None:
        outer, self._watermarks = getattr(self, "_watermarks", None), []
        try:
            return super()._parse_schema(*args, **kwargs)
        finally:
            self._watermarks = outer

    def _parse_cube_or_rollup(self, with_prefix: bool = False) -> exp.Cube | exp.Rollup | None:
        """CUBE(..) / ROLLUP(..) of any expressions, as Flink takes them (`CUBE(k, a IS NULL)`); sqlglot's
        stops at operators such as IS."""
        if with_prefix or self._curr is None or self._curr.token_type not in (TokenType.CUBE, TokenType.ROLLUP):
            return super()._parse_cube_or_rollup(with_prefix)
        kind = exp.Cube if self._match(TokenType.CUBE) else exp.Rollup
        if kind is exp.Rollup:
            self._match(TokenType.ROLLUP)
        return self.expression(kind(expressions=self._parse_wrapped_csv(self._parse_disjunction)))

    def _parse_watermark(self) -> exp.Expr:
        """WATERMARK FOR col AS expr; a table has at most one, as in Flink."""
        token = self._prev
        seen = getattr(self, "_watermarks", None)
        if seen:
            self.raise_error("Multiple WATERMARK declarations are not supported yet.", token)
        if seen is not None:
            seen.append(token)
        if not self._match(TokenType.FOR):
            self.raise_error("Expecting FOR")
        column = self._parse_column()
        if not self._match(TokenType.ALIAS):  # both words are required, as in Flink's grammar
            self.raise_error("Expecting AS")
        return self.expression(exp.WatermarkColumnConstraint(this=column, expression=self._parse_disjunction()))

    INTEGER_TYPE_WORDS = {"TINYINT", "SMALLINT", "INT", "INTEGER", "BIGINT"}

    def _parse_interval(self, *args, **kwargs) -> exp.Expr | None:
        start = self._curr
        interval = super()._parse_interval(*args, **kwargs)
        if isinstance(interval, exp.Interval) and interval.args.get("unit") is None and start is not None \
                and start.token_type == TokenType.INTERVAL:
            self.raise_error(f"Encountered \"{self._curr.text if self._curr else '<EOF>'}\": INTERVAL "
                             f"'{interval.this.name}' needs a unit, such as INTERVAL '{interval.this.name}' SECOND")
        return interval

    def _parse_types(self, *args, **kwargs) -> exp.Expr | None:
        if self._curr and self._curr.text.upper() in self.INTEGER_TYPE_WORDS and self._next and \
                self._next.token_type == TokenType.L_PAREN:
            self._advance()
            self.raise_error(f"Encountered \"(\": {self._prev.text.upper()} takes no precision or length")
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

    def _parse_json_arrayagg(self) -> exp.Expr:
        """JSON_ARRAYAGG(x [ABSENT ON NULL | NULL ON NULL]): NULL ON NULL is Flink's JSON_ARRAYAGG_NULL_ON_NULL."""
        value = self._parse_assignment()
        handling = str(self._parse_on_handling("NULL", "NULL", "ABSENT") or "").upper()
        name = "JSON_ARRAYAGG_NULL_ON_NULL" if handling.startswith("NULL") else "JSON_ARRAYAGG"
        return self.expression(exp.Anonymous(this=name, expressions=[value]))

    JSON_BEHAVIORS = ("NULL", "ERROR", "DEFAULT", "EMPTY", "TRUE", "FALSE", "UNKNOWN")

    def _parse_json_call(self, name: str) -> exp.Expr:
        """JSON_VALUE / JSON_QUERY / JSON_EXISTS with Flink's RETURNING, wrapper and ON EMPTY / ON ERROR clauses."""
        node = fx.JSONCall(this=exp.var(name), expressions=[self._parse_assignment()])
        if not self._match(TokenType.COMMA):
            self.raise_error(f"{name} takes a JSON text and a path: expected ',' after the first argument")
        node.append("expressions", self._parse_assignment())
        if self._match_text_seq("RETURNING"):
            node.set("returning", self._parse_types())
        if self._match_text_seq("WITHOUT"):
            self._match_text_seq("ARRAY")
            if not self._match_text_seq("WRAPPER"):
                self.raise_error("Expected WRAPPER after WITHOUT [ARRAY]")
            node.set("wrapper", exp.var("WITHOUT"))
        elif self._match(TokenType.WITH):
            kind = "CONDITIONAL" if self._match_text_seq("CONDITIONAL") else "UNCONDITIONAL"
            self._match_text_seq("UNCONDITIONAL")
            self._match_text_seq("ARRAY")
            if not self._match_text_seq("WRAPPER"):
                self.raise_error("Expected WRAPPER after WITH [CONDITIONAL | UNCONDITIONAL] [ARRAY]")
            node.set("wrapper", exp.var(kind))
        while self._curr and self._curr.text.upper() in self.JSON_BEHAVIORS:
            word = self._curr.text.upper()
            self._advance()
            default = None
            if word == "DEFAULT":
                default = self._parse_assignment()
            elif word == "EMPTY":
                if not self._match_texts(("ARRAY", "OBJECT")):
                    self.raise_error("Expected ARRAY or OBJECT after EMPTY")
                word = f"EMPTY {self._prev.text.upper()}"
            if not self._match(TokenType.ON) or not self._match_texts(("EMPTY", "ERROR")):
                self.raise_error(f"Expected ON EMPTY or ON ERROR after {word}")
            where = self._prev.text.lower()
            node.set(f"on_{where}", exp.var(word))
            if default is not None:
                node.set(f"{where}_default", default)
        return node

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
