"""Flink SQL as a sqlglot dialect, registered under the name "flink"."""
from __future__ import annotations

from sqlglot import tokens
from sqlglot.dialects.dialect import Dialect
from sqlglot.tokens import TokenType

from sqlstream.dialect.generator import FlinkGenerator
from sqlstream.dialect.parser import FlinkParser


class Flink(Dialect):
    """Flink SQL: backtick identifiers, single-quoted strings, `||` concatenation."""

    class Tokenizer(tokens.Tokenizer):
        IDENTIFIERS = ["`"]
        QUOTES = ["'"]
        STRING_ESCAPES = ["'"]
        HEX_STRINGS = [("x'", "'"), ("X'", "'")]  # X'0aff': a BINARY(n) literal
        KEYWORDS = {
            **tokens.Tokenizer.KEYWORDS,
            "STRING": TokenType.TEXT,
            "BYTES": TokenType.VARBINARY,
            "TIMESTAMP_LTZ": TokenType.TIMESTAMPLTZ,
            "EXPLAIN": TokenType.VAR,
            "MATCH_RECOGNIZE": TokenType.MATCH_RECOGNIZE,
        }
        COMMANDS = tokens.Tokenizer.COMMANDS - {TokenType.SHOW, TokenType.EXECUTE}
        # `/*+ .. */` after a table name is a table hint (`t /*+ OPTIONS('k' = 'v') */`), not a comment
        TOKENS_PRECEDING_HINT = {*tokens.Tokenizer.TOKENS_PRECEDING_HINT, TokenType.VAR, TokenType.IDENTIFIER}

    Parser = FlinkParser
    Generator = FlinkGenerator


__all__ = ["Flink"]
