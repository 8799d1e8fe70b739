"""Completion for the shell: keywords, functions, tables and views, their columns, and connector options
inside WITH (..) for the connector the statement names."""
from __future__ import annotations

import re

from prompt_toolkit.completion import Completer, Completion

from sqlstream.session import Session

KEYWORDS = ["SELECT", "FROM", "WHERE", "GROUP BY", "HAVING", "ORDER BY", "INSERT INTO", "CREATE TABLE",
            "CREATE TEMPORARY TABLE", "CREATE VIEW", "CREATE TEMPORARY VIEW", "DROP TABLE", "DROP VIEW", "WITH",
            "WATERMARK FOR", "PRIMARY KEY", "NOT ENFORCED", "METADATA", "VIRTUAL", "TABLE", "DESCRIPTOR",
            "INTERVAL", "SECOND", "MINUTE", "HOUR", "DAY", "AS", "AND", "OR", "NOT", "NULL", "IS", "IN", "LIKE",
            "BETWEEN", "CASE", "WHEN", "THEN", "ELSE", "END", "CAST", "JOIN", "LEFT JOIN", "RIGHT JOIN",
            "FULL JOIN", "ON", "UNION ALL", "OVER", "PARTITION BY", "ROWS BETWEEN", "RANGE BETWEEN", "PRECEDING",
            "CURRENT ROW", "SHOW TABLES", "SHOW VIEWS", "SHOW FUNCTIONS", "SHOW JOBS", "DESCRIBE", "EXPLAIN",
            "SET", "RESET", "STOP JOB", "DESCRIBE JOB", "WITH SAVEPOINT", "HELP", "QUIT", "EXIT", "BIGINT", "INT",
            "STRING", "DOUBLE", "DECIMAL", "BOOLEAN", "TIMESTAMP", "TIMESTAMP_LTZ", "DATE", "ARRAY", "MAP", "ROW"]

WORD = re.compile(r"[\w.`'$-]*$")


class SqlCompleter(Completer):
    def __init__(self, session: Session):
        self.session = session

    def get_completions(self, document, complete_event):
        text = document.text_before_cursor
        word = WORD.search(text).group(0)
        for cand, meta in self.candidates(text, word):
            yield Completion(cand, start_position=-len(word), display_meta=meta)

    def candidates(self, text: str, word: str) -> list[tuple[str, str]]:
        """(completion, kind) for the word being typed at the end of `text`."""
        statement = text[text.rfind(";") + 1:]
        options = self._option_context(statement)
        if options is not None:
            prefix = word.lstrip("'")
            return [(f"'{o}'", "option") for o in options if o.startswith(prefix)]
        out: list[tuple[str, str]] = []
        low = word.lower()
        if "." in word:  # alias.column
            qual, _, part = word.rpartition(".")
            table = self._alias_table(statement, qual.strip("`"))
            for c in self._columns(table):
                if c.lower().startswith(part.lower()):
                    out.append((f"{qual}.{c}", "column"))
            return out
        cat = self.session.catalog
        for name in sorted(cat.tables) + sorted(cat.views):
            if name.lower().startswith(low):
                out.append((name, "table" if name in cat.tables else "view"))
        mentioned = self._statement_tables(statement) or sorted(cat.tables) + sorted(cat.views)
        for name in mentioned:
            for c in self._columns(name):
                if c.lower().startswith(low):
                    out.append((c, f"column of {name}"))
        out += [(k, "keyword") for k in KEYWORDS if k.lower().startswith(low) and word]
        out += [(f, "function") for f in self.session.function_names() if f.lower().startswith(low) and word]
        seen, unique = set(), []
        for c in out:
            if c[0] not in seen:
                seen.add(c[0])
                unique.append(c)
        return unique

    def _option_context(self, statement: str) -> list[str] | None:
        """Connector option keys when the cursor is inside CREATE TABLE .. WITH ( .. )."""
        m = re.search(r"\bWITH\s*\((?P<body>[^)]*)$", statement, re.IGNORECASE | re.DOTALL)
        if not m or not re.search(r"\bCREATE\b", statement, re.IGNORECASE):
            return None
        body = m.group("body")
        if body.count("'") % 2 == 0 and not body.rstrip().endswith((",", "(")) and body.strip():
            last = body.rstrip()
            if not last.endswith("'") or last.endswith("= '"):
                return None
        from sqlstream.connectors import registry
        conn = re.search(r"'connector'\s*=\s*'([\w-]+)'", body)
        if conn and conn.group(1) in registry.LOADERS:
            return sorted(o for o in registry.load(conn.group(1)).options if "#" not in o)
        return ["connector"] if "'connector'" not in body else []

    def _statement_tables(self, statement: str) -> list[str]:
        cat = self.session.catalog
        names = set(cat.tables) | set(cat.views)
        return [n for n in sorted(names) if re.search(rf"\b{re.escape(n)}\b", statement)]

    def _alias_table(self, statement: str, alias: str) -> str | None:
        cat = self.session.catalog
        if alias in cat.tables or alias in cat.views:
            return alias
        m = re.search(rf"\b(\w+)\s+(?:AS\s+)?{re.escape(alias)}\b", statement, re.IGNORECASE)
        return m.group(1) if m else None

    def _columns(self, name: str | None) -> list[str]:
        if not name:
            return []
        cat = self.session.catalog
        if name in cat.tables:
            return [c.name for c in cat.tables[name].columns]
        if name in cat.views:
            try:
                return self.session.binder.bind_query(cat.views[name].query).names
            except Exception:
                return []
        return []
