"""Mutation fuzzing of sqlstream's front door: the shipped examples and the golden cases' SQL, mutated (tokens
deleted, duplicated, swapped, replaced by other keywords, literals or names, scripts truncated, expressions nested
deeply), each planned, and every fourth also run through the CLI's `run` entry bounded to a few rows.

A mutant may be refused (an error with a message is the point), but never with a Python traceback, an internal
error or a hang. `python -m tests.fuzz --count N --seed S` prints one JSON object: the inputs tried and the
findings (each with the mutated SQL and what went wrong); tests/test_fuzz.py runs it in a subprocess.

The number of inputs, not the clock, bounds a run; a watchdog names an input that takes longer than
HANG_SECONDS and ends the process, so a hang is reported rather than waited out.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HANG_SECONDS = 120
RUN_EVERY = 4  # every RUN_EVERY-th runnable mutant is run (bounded), the others planned only
MAX_ROWS = "20"

KEYWORDS = ["SELECT", "FROM", "WHERE", "GROUP", "BY", "HAVING", "ORDER", "LIMIT", "JOIN", "LEFT", "ON", "AS",
            "AND", "OR", "NOT", "NULL", "IS", "IN", "BETWEEN", "LIKE", "CASE", "WHEN", "THEN", "ELSE", "END",
            "CAST", "INTERVAL", "SECOND", "MINUTE", "HOUR", "DAY", "TABLE", "TUMBLE", "HOP", "CUMULATE", "SESSION",
            "DESCRIPTOR", "WATERMARK", "FOR", "PRIMARY", "KEY", "NOT ENFORCED", "WITH", "INSERT", "INTO", "VALUES",
            "UNION", "ALL", "DISTINCT", "OVER", "PARTITION", "ROWS", "RANGE", "PRECEDING", "CURRENT", "ROW",
            "ROW_NUMBER()", "COUNT(*)", "SUM", "MAX", "MIN", "AVG", "LATERAL", "UNNEST", "EXPLAIN", "CREATE",
            "VIEW", "TEMPORARY", "SET", "RESET", "SHOW", "DESCRIBE", "MATCH_RECOGNIZE", "MEASURES", "PATTERN",
            "DEFINE", "INT", "BIGINT", "STRING", "DOUBLE", "DECIMAL(10, 2)", "TIMESTAMP(3)", "TIMESTAMP_LTZ(3)",
            "BOOLEAN", "ARRAY<INT>", "MAP<STRING, INT>", "ROW<a INT>", "PROCTIME()", "CURRENT_TIMESTAMP",
            "METADATA", "VIRTUAL", "EXISTS", "ANY", "TRUE", "FALSE", "DATE", "TIME", "TIMESTAMP", "BEGIN",
            "STATEMENT", "FIRST", "LAST", "WINDOW", "FETCH", "OFFSET", "ESCAPE", "FILTER", "WITHIN", "GROUPING",
            "CUBE", "ROLLUP", "SETS", "CROSS", "FULL", "RIGHT", "INNER", "OUTER", "USING", "NATURAL"]
LITERALS = ["0", "-1", "1", "2147483648", "-9223372036854775809", "1e308", "-0.0", "3.14", "1.0E-400", "NULL",
            "TRUE", "''", "'x'", "'abc''def'", "'2024-02-30 25:61:61'", "'2024-03-01 09:00:00.000'", "'NaN'",
            "'-1'", "'ü☃'", "'" + "a" * 2000 + "'", "DATE '2024-01-01'", "TIMESTAMP '2024-01-01 00:00:00'",
            "INTERVAL '1' SECOND", "INTERVAL '-5' MINUTE", "INTERVAL '0' DAY", "X'00ff'", "'1 s'", "'0'",
            "'true'", "'false'", "'json'", "'csv'", "'datagen'", "'print'", "'-'", "'%'", "'\\'", "'${DATA}'"]
SYMBOLS = [",", "(", ")", ";", "*", ".", "=", "<>", "+", "-", "/", "||", "[", "]", "'", "`", "?", ":", "--", "/*"]
TOKEN = re.compile(r"'(?:[^']|'')*'?|`[^`]*`?|--[^\n]*|/\*.*?(?:\*/|$)|\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|\w+|<>|<=|"
                   r">=|\|\||\S", re.S)


@dataclass
class Seed:
    name: str
    sql: str
    runnable: bool


def seeds(data_dir: str) -> list[Seed]:
    """The shipped examples and the golden cases' SQL, with their data paths made absolute."""
    out = []
    for f in sorted((ROOT / "sql_examples").rglob("*.sql")):
        sql = f.read_text().replace("'sql_examples/", f"'{ROOT}/sql_examples/")
        out.append(Seed(str(f.relative_to(ROOT)), sql, runnable="kafka" not in f.parts))
    for kind, runnable in (("golden_static", True), ("golden", False), ("golden_udf", False)):
        for f in sorted((ROOT / "tests" / kind).glob("*/case.sql")):
            data = str(f.parent / "data") if runnable else data_dir
            out.append(Seed(str(f.relative_to(ROOT)), f.read_text().replace("${DATA}", data), runnable))
    return out


def tokens(sql: str) -> list[tuple[int, int]]:
    return [m.span() for m in TOKEN.finditer(sql)]


def _splice(sql: str, spans: list[tuple[int, int]], texts: list[str]) -> str:
    """The SQL with each span replaced by its text (spans in order, not overlapping)."""
    out, at = [], 0
    for (s, e), t in zip(spans, texts):
        out.append(sql[at:s])
        out.append(t)
        at = e
    out.append(sql[at:])
    return "".join(out)


def _code_tokens(sql: str, spans: list[tuple[int, int]]) -> list[int]:
    return [i for i, (s, e) in enumerate(spans) if not sql.startswith(("--", "/*"), s)]


def _nested(expr: str, rng: random.Random) -> str:
    kind = rng.choice(["parens", "case", "or", "plus", "subquery"])
    depth = rng.choice([3, 60, 300, 1001])
    if kind == "parens":
        return "(" * depth + expr + ")" * depth
    if kind == "case":
        for i in range(min(depth, 200)):
            expr = f"CASE WHEN {i} > 0 THEN {expr} ELSE NULL END"
        return expr
    if kind == "or":
        return "(" + " OR ".join([f"{expr} IS NULL"] * depth) + ")"
    if kind == "plus":
        return expr + " + 1" * depth
    return "(SELECT " * min(depth, 300) + expr + ")" * min(depth, 300)


def mutate(sql: str, rng: random.Random) -> tuple[str, list[str]]:
    """The SQL with one to three random mutations, and their names."""
    ops = []
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        spans = tokens(sql)
        code = _code_tokens(sql, spans)
        if not code:
            break
        i = rng.choice(code)
        s, e = spans[i]
        text = sql[s:e]
        op = rng.choice(["delete", "duplicate", "swap", "truncate", "keyword", "literal", "name", "symbol",
                         "nest"])
        if op == "delete":
            sql = sql[:s] + sql[e:]
        elif op == "duplicate":
            sql = sql[:e] + " " + text + sql[e:]
        elif op == "swap":
            j = code[min(code.index(i) + 1, len(code) - 1)]
            sql = _splice(sql, [spans[i], spans[j]], [sql[spans[j][0]:spans[j][1]], text]) if j != i else sql
        elif op == "truncate":
            sql = sql[:rng.choice([s, e])]
        elif op == "keyword":
            sql = sql[:s] + rng.choice(KEYWORDS) + sql[e:]
        elif op == "literal":
            lits = [k for k in code if sql[spans[k][0]] in "'0123456789"] or [i]
            k = rng.choice(lits)
            sql = sql[:spans[k][0]] + rng.choice(LITERALS) + sql[spans[k][1]:]
        elif op == "name":
            names = [sql[a:b] for a, b in (spans[k] for k in code) if re.fullmatch(r"[A-Za-z_]\w*", sql[a:b])]
            sql = sql[:s] + (rng.choice(names) if names else "x") + sql[e:]
        elif op == "symbol":
            sql = sql[:s] + rng.choice(SYMBOLS) + " " + sql[s:]
        else:
            names = [k for k in code if re.fullmatch(r"[A-Za-z_]\w*|\d+", sql[spans[k][0]:spans[k][1]])]
            k = rng.choice(names) if names else i
            a, b = spans[k]
            sql = sql[:a] + _nested(sql[a:b], rng) + sql[b:]
        ops.append(op)
    return sql, ops


class Capture(io.StringIO):
    """stdout/stderr while sqlstream runs (its writers bind sys.stdout at import): kept per input."""

    def reset(self) -> str:
        text = self.getvalue()
        self.seek(0)
        self.truncate()
        return text


def plan(sql: str) -> str | None:
    """None when every statement plans or is refused with a sqlstream error; otherwise what went wrong."""
    from sqlstream.core.errors import SqlStreamError
    from sqlstream.session import Session, parse_script
    session = Session()
    try:
        for stmt in parse_script(sql):
            session.execute(stmt, sql)
    except SqlStreamError as e:
        return f"traceback in the message: {e}" if "Traceback" in str(e) else None
    except Exception as e:  # the bug the fuzzer looks for
        import traceback
        return f"internal error: {type(e).__name__}: {e}\n" + traceback.format_exc()[-3000:]
    return None


def run(sql: str, folder: str, capture: Capture) -> str | None:
    """Run through the CLI's `run` entry, bounded; None unless it printed a traceback or an internal error."""
    from sqlstream.cli import run_file
    from sqlstream.script import RestoreOptions, RunLimits
    path = os.path.join(folder, "job.sql")
    with open(path, "w", encoding="utf-8") as f:
        f.write(sql)
    capture.reset()
    os.environ["SQLSTREAM_DEBUG"] = "1"  # an internal error then prints its traceback
    try:
        rc = run_file(path, "csv", None, RestoreOptions(fresh=True),
                      RunLimits(int(MAX_ROWS), int(MAX_ROWS), True))
    except BaseException as e:  # run_file reports every failure itself: anything escaping is a bug
        return f"run_file raised {type(e).__name__}: {e}"
    finally:
        os.environ.pop("SQLSTREAM_DEBUG", None)
    err = capture.reset()
    if rc not in (0, 1) or "Traceback" in err or "internal error" in err:
        return f"rc {rc}: {err[-3000:]}"
    return None


def fuzz(count: int, seed: int, report) -> dict:
    capture = Capture()
    sys.stdout = sys.stderr = capture  # before sqlstream is imported: its writers bind sys.stdout then
    sys.path.insert(0, str(ROOT))  # this tree's modules, also once the current folder is the scratch one
    import sqlstream.cli  # noqa: F401
    import sqlstream.session  # noqa: F401
    rng = random.Random(seed)
    started = {"at": time.monotonic(), "input": None}
    done = threading.Event()

    def watchdog() -> None:
        while not done.wait(1):
            if started["input"] is not None and time.monotonic() - started["at"] > HANG_SECONDS:
                report.write(json.dumps({"hang": started["input"]}) + "\n")
                report.flush()
                os._exit(3)
    threading.Thread(target=watchdog, daemon=True).start()
    findings, planned, ran = [], 0, 0
    with tempfile.TemporaryDirectory(prefix="sqlstream-fuzz-") as folder:
        os.chdir(folder)  # whatever a mutant writes (a sink path become relative) lands here
        pool = seeds(os.path.join(folder, "no-data"))
        runnable = 0
        for n in range(count):
            s = pool[rng.randrange(len(pool))]
            sql, ops = mutate(s.sql, rng)
            mode = "plan"
            if s.runnable:
                runnable += 1
                mode = "run" if runnable % RUN_EVERY == 0 else "plan"
            started.update(at=time.monotonic(), input={"seed": s.name, "ops": ops, "mode": mode, "sql": sql})
            problem = run(sql, folder, capture) if mode == "run" else plan(sql)
            capture.reset()
            ran += mode == "run"
            planned += mode == "plan"
            if problem:
                findings.append({**started["input"], "problem": problem})
        os.chdir(ROOT)
    done.set()
    return {"inputs": count, "planned": planned, "ran": ran, "findings": findings}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--count", type=int, default=1500)
    p.add_argument("--seed", type=int, default=14)
    a = p.parse_args()
    report = sys.__stdout__
    result = fuzz(a.count, a.seed, report)
    report.write(json.dumps(result) + "\n")
    report.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
