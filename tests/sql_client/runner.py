"""Runs Apache Flink's SQL-client test scripts (.q) through sqlstream's `-f` statement path and compares each
statement's outcome with what Flink printed: success or failure, and the same content (table cells compared as
values, so formatting may differ; an error by the names it mentions).

The .q format: `#` lines outside a statement are comments; a statement runs to a line ending with ';'; the
lines after it, up to a line `!ok`, `!info` or `!error`, are what Flink printed (`!output` may separate the two).

`python -m tests.sql_client.runner [FILE.q ...] [-v] [-s]` prints the per-file numbers (with -v every failure,
with -s the skipped statements by reason).
"""
from __future__ import annotations

import os
import re
import sys
import tempfile
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
FILES = ("table", "view", "set", "statement_set", "function", "misc", "select", "insert", "catalog_database",
         "module")

# Statements that do not apply to a single-process streaming engine, each with why. Keyed by file and the
# statement's first line (whitespace-normalized, lower case); a key may match several statements.
SKIPS: dict[tuple[str, str], str] = {}


def _norm(text: str) -> str:
    return " ".join(text.split()).lower()


def skip(file: str, first_line: str, why: str) -> None:
    SKIPS[(file, _norm(first_line))] = why


JAR = "JAR files: user code for the JVM (ADD/REMOVE/SHOW JARS), nothing a Python engine can load"
JAVA_UDF = "a Java function class from Flink's test jar (LowerUDF, UpperUDF, ...): JVM user code"
HIVE = "Hive: a Hive catalog/module/dialect from Flink's Hive connector, not shipped with Flink itself"
VALUES_SOURCE = "reads Flink's test-only 'values' connector (from Flink's test jars, it has no data to read here)"
CLUSTER = "cluster job submission: the script sets or checks the Flink cluster's deployment (job ids, REST " \
          "endpoint, application mode)"
TABLEAU_WIDTH = "SQL client display setting: column width truncation of the interactive client's tableau view"
PLAN_TEXT = "the text of Flink's optimizer plan (Calcite relational operators and costs)"
DUMMY_MODULE = "Flink's test-only 'dummy' module (a ModuleFactory from Flink's test jars); loading it, and the " \
               "module lists that show it, need that jar"

for f in ("set", "function"):
    for s in ("ADD JAR '$VAR_UDF_JAR_PATH';", "REMOVE JAR '$VAR_UDF_JAR_PATH';", "SHOW JARS;"):
        skip(f, s, JAR)
skip("set", "create function func1 as 'LowerUDF' LANGUAGE JAVA;", JAVA_UDF)
skip("set", "SELECT id, func1(str) FROM (VALUES (1, 'Hello World')) AS T(id, str) ;", JAVA_UDF)
skip("set", "reset 'table.resources.download-dir';", JAR + " (the folder jars are downloaded to)")
skip("select", "SELECT UPPER(str), id FROM src;", VALUES_SOURCE)
skip("function", "SELECT id, func1(str) FROM (VALUES (1, 'Hello World'), (2, 'Hi')) as T(id, str);", JAVA_UDF)
skip("function", "SELECT id, upperudf(str) FROM (VALUES (1, 'hello world'), (2, 'hi')) as T(id, str);", JAR)
for s in ("describe function temp_upperudf;", "describe function extended temp_upperudf;",
          "desc function temp_upperudf;", "desc function extended temp_upperudf;",
          "describe function `c1`.`db`.temp_upperudf;"):
    skip("function", s, JAR + " (the function was created from one: USING JAR)")


@dataclass
class Case:
    """One statement of a .q file and what Flink printed for it."""

    file: str
    line: int
    sql: str
    expect: str  # "ok" | "info" | "error"
    output: str
    skip: str | None = None


def parse_q(path: str) -> list[Case]:
    """The statements of a .q file with Flink's expected outputs."""
    name = os.path.basename(path)[:-2]
    lines = open(path, encoding="utf-8").read().split("\n")
    cases, i = [], 0
    while i < len(lines):
        ln = lines[i]
        if not ln.strip() or ln.startswith("#") or ln.startswith("--") and not ln.rstrip().endswith(";"):
            i += 1
            continue
        start, stmt = i, []
        while i < len(lines):
            stmt.append(lines[i])
            i += 1
            if lines[i - 1].rstrip().endswith(";") and _complete(stmt):
                break
        out = []
        while i < len(lines) and lines[i] not in ("!ok", "!info", "!error"):
            if lines[i] != "!output":
                out.append(lines[i])
            i += 1
        if i >= len(lines):
            break
        kind = lines[i][1:]
        i += 1
        sql = "\n".join(stmt)
        cases.append(Case(name, start + 1, sql, kind, "\n".join(out).strip("\n")))
    return cases


def _complete(stmt_lines: list[str]) -> bool:
    """A statement is complete when it ends with a ';' outside quotes and comments."""
    from sqlstream.client import ends_statement
    return ends_statement("\n".join(stmt_lines))


# ---- expected output ---------------------------------------------------------------------------------------
def parse_table(text: str) -> tuple[list[str], list[list[str]]] | None:
    """Header and rows of a bordered table as Flink prints it (cells may span lines), or None."""
    lines = text.split("\n")
    if not lines or not lines[0].startswith("+-"):
        if text.strip().startswith("Empty set"):
            return [], []
        return None
    borders = [i for i, ln in enumerate(lines) if re.fullmatch(r"\+[-+]*\+", ln) or ln.startswith("+-")]
    if len(borders) < 2:
        return None
    header = _cells(lines[borders[0] + 1:borders[1]])[0] if borders[1] > borders[0] + 1 else []
    body = lines[borders[1] + 1:borders[2]] if len(borders) > 2 else []
    rows, cur = [], ""
    for ln in body:
        cur = ln if not cur else cur + "\n" + ln
        if cur.rstrip().endswith("|") and cur.count("|") >= len(header) + 1:
            rows.append(_split_row(cur))
            cur = ""
    return header, rows


def _cells(lines: list[str]) -> list[list[str]]:
    return [_split_row(ln) for ln in lines]


def _split_row(ln: str) -> list[str]:
    inner = ln.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") else inner
    return [c.strip() for c in inner.split("|")]


def final_rows(changelog: list[list[str]]) -> list[list[str]]:
    """A changelog applied: the rows a batch query over the same input returns (Flink's batch mode prints
    these, with no op column)."""
    rows: list[list[str]] = []
    for op, *values in changelog:
        if op in ("+I", "+U"):
            rows.append(values)
        elif values in rows:
            rows.remove(values)
    return rows


def same_value(ours: str, theirs: str) -> bool:
    a, b = ours.strip(), theirs.strip()
    if a == b or a.lower() == b.lower():
        return True
    if b.endswith("...") and a.startswith(b[:-3]):  # Flink's client cut a long value for display
        return True
    if TEMPORAL.fullmatch(a) and TEMPORAL.fullmatch(b):  # 20:12:11.000 is 20:12:11
        return _trim_fraction(a) == _trim_fraction(b)
    try:
        return float(a) == float(b)
    except ValueError:
        return " ".join(a.split()) == " ".join(b.split())


TEMPORAL = re.compile(r"(\d{4}-\d\d-\d\d )?\d\d:\d\d:\d\d(\.\d+)?")


def _trim_fraction(t: str) -> str:
    return t.rstrip("0").rstrip(".") if "." in t else t


def same_rows(ours: list[list[str]], theirs: list[list[str]]) -> str | None:
    """None when the two row lists hold the same rows (as multisets), else what differs."""
    if len(ours) != len(theirs):
        return f"{len(ours)} rows instead of {len(theirs)}"
    left = list(ours)
    for row in theirs:
        for k, cand in enumerate(left):
            if len(cand) == len(row) and all(same_value(x, y) for x, y in zip(cand, row)):
                del left[k]
                break
        else:
            return f"row {row} missing (ours: {ours[:6]})"
    return None


# ---- running -----------------------------------------------------------------------------------------------
@dataclass
class Verdict:
    case: Case
    passed: bool
    why: str = ""


@dataclass
class FileReport:
    file: str
    verdicts: list[Verdict] = field(default_factory=list)
    skipped: list[Case] = field(default_factory=list)

    @property
    def applicable(self) -> int:
        return len(self.verdicts)

    @property
    def passed(self) -> int:
        return sum(v.passed for v in self.verdicts)


def substitute(sql: str, tmp: str) -> str:
    """Flink's test variables: paths in a fresh folder."""
    def path(m):
        p = os.path.join(tmp, m.group(1).lower())
        return p
    return re.sub(r"\$VAR_([A-Z_0-9]+_PATH[0-9]*)", path, sql)


def run_file(name: str) -> FileReport:
    from sqlstream.client import ClientScript
    cases = parse_q(os.path.join(HERE, name + ".q"))
    report = FileReport(name)
    client = ClientScript(batch_size=None)
    mentioned: set[str] = set()  # configuration keys the script SETs or RESETs
    with tempfile.TemporaryDirectory(prefix=f"sqlclient_{name}_") as tmp:
        for c in cases:
            c.skip = _skip_reason(c, client)
            if c.skip:
                report.skipped.append(c)
                continue
            m = re.match(r"\s*(?:set|reset)\s+'?([^'=;\s]+)", c.sql, re.I)
            if m:
                mentioned.add(m.group(1))
            outcome = client.execute(substitute(c.sql, tmp))
            if _norm(c.sql) == "set;" and outcome.kind == "rows":
                report.verdicts.append(judge_set_listing(c, outcome, mentioned))
            else:
                report.verdicts.append(judge(c, outcome))
    return report


# `SET;` lists the session configuration, which in Flink's test includes the cluster's deployment settings and
# the test harness's own defaults; those rows are not compared.
CLUSTER_KEYS = ("$internal.", "execution.attached", "execution.shutdown-on-attached-exit", "execution.target",
                "execution.state-recovery.", "jobmanager.", "rest.", "pipeline.jars", "pipeline.classpaths")


def judge_set_listing(c: Case, o, mentioned: set[str]) -> Verdict:
    """The keys the script SET or RESET: set in Flink's listing means the same value in ours; absent means
    absent or back at sqlstream's default in ours."""
    from sqlstream.config import DEFAULTS
    table = parse_table(c.output)
    theirs = {r[0]: r[1] for r in table[1]} if table else {}
    ours = {r[0]: r[1] for r in o.rows}
    for key in sorted(mentioned):
        if key.startswith(CLUSTER_KEYS):
            continue
        if key in theirs and not same_value(ours.get(key, "<unset>"), theirs[key]):
            return Verdict(c, False, f"'{key}' is {ours.get(key, '<unset>')!r}, Flink lists {theirs[key]!r}")
        if key not in theirs and ours.get(key) not in (None, DEFAULTS.get(key)):
            return Verdict(c, False, f"'{key}' is still {ours[key]!r}; Flink no longer lists it")
    return Verdict(c, True)


def _skip_reason(c: Case, client) -> str | None:
    why = SKIPS.get((c.file, _norm(c.sql.split("\n")[0] if len(c.sql.split("\n")) == 1 else c.sql)))
    if why is None:
        why = SKIPS.get((c.file, _norm(c.sql.split("\n")[0])))
    if why:
        return why
    if "$VAR_UDF_JAR_PATH" in c.sql:
        return JAR
    if re.search(r"'hive|hive'|\bhive\b", c.sql, re.I) and c.expect != "error":
        return HIVE
    if c.file == "module" and c.expect != "error" and re.search(r"\bdummy\b", c.sql + "\n" + c.output, re.I):
        return DUMMY_MODULE
    return None


def judge(c: Case, o) -> Verdict:
    from sqlstream.client import error_text
    if c.expect == "error":
        if o.ok:
            return Verdict(c, False, "Flink rejects it; sqlstream accepted it")
        return _same_error(c, error_text(o.error))
    if not o.ok:
        return Verdict(c, False, "sqlstream failed: " + error_text(o.error).split("\n")[0][:300])
    if c.expect == "info":
        return Verdict(c, True)
    if re.match(r"\s*explain\b", c.sql, re.I):
        return _same_plan_subject(c, o)
    table = parse_table(c.output)
    if table is not None:
        header, rows = table
        if o.kind == "changelog":
            ours = o.rows if header[:1] == ["op"] else final_rows(o.rows)
        elif o.kind == "rows":
            ours = o.rows
        else:
            return Verdict(c, False, f"expected a table, got: {o.message[:200]!r}")
        theirs_names = [h for h in header if h != "op"]
        if rows and [n.lower() for n in o.columns] != [n.lower() for n in theirs_names] and \
                not all(same_value(a, b) for a, b in zip(o.columns, theirs_names)):
            return Verdict(c, False, f"columns {o.columns} instead of {theirs_names}")
        why = same_rows(ours, rows)
        return Verdict(c, why is None, why or "")
    ours = o.message if o.kind == "info" else ""
    if " ".join(ours.split()) == " ".join(c.output.split()):
        return Verdict(c, True)
    return Verdict(c, False, f"text differs: {ours[:200]!r} vs {c.output[:200]!r}")


def _same_plan_subject(c: Case, o) -> Verdict:
    """EXPLAIN prints the engine's own plan (Flink's is Calcite's optimizer plan, with its costs): it must
    succeed, show each requested section, and read and write the tables Flink's plan does."""
    text = o.message if o.kind == "info" else "\n".join(" ".join(r) for r in o.rows)
    tables = set(re.findall(r"table=\[\[[^\]]*?, (\w+)\]\]", c.output)) | \
        set(re.findall(r"table=\[[\w`]+\.[\w`]+\.`?(\w+)`?\]", c.output))
    missing = [t for t in sorted(tables) if t not in text]
    if missing:
        return Verdict(c, False, f"the plan does not read or write {missing}: {text[:200]!r}")
    for word, section in (("json_execution_plan", "Physical Execution Plan"), ("plan_advice", "Advice")):
        if word in c.sql.lower() and section.lower() not in text.lower():
            return Verdict(c, False, f"EXPLAIN {word.upper()} shows no '{section}' section")
    return Verdict(c, True)


def _same_error(c: Case, ours: str) -> Verdict:
    """An error matches when it names what Flink's names (quoted names, the unknown function, the keyword
    found); a parse error matches a parse error."""
    theirs = c.output.split("\n", 1)[1] if "\n" in c.output else c.output
    names = set(re.findall(r"'([^'\s]{1,60})'|`([^`]+)`|\[([^\]]+)\]|\"([^\"]+)\"", theirs))
    names = {next(g for g in t if g) for t in names}
    names = {n.split(".")[-1].strip("`") for n in names} - {"", "END", ";", ",", ")"}
    low = ours.lower()
    if "ParseException" in theirs or "TokenMgrError" in theirs or "SqlParseException" in theirs:
        if low.startswith("sqlerror") or "parse" in low:
            return Verdict(c, True)
    if names and any(n.lower() in low for n in names):
        return Verdict(c, True)
    if not names:
        words = [w for w in re.findall(r"[A-Za-z]{4,}", theirs.split(":", 1)[-1]) if w.lower() not in
                 {"could", "execute", "statement", "reason", "with", "that", "this", "which", "from", "does",
                  "should", "been", "have", "only"}]
        hits = sum(w.lower() in low for w in words)
        if words and hits * 2 >= len(words):
            return Verdict(c, True)
    return Verdict(c, False, f"different error: ours {ours.splitlines()[0][:200]!r}; Flink's "
                             f"{theirs.splitlines()[0][:200] if theirs else ''!r}")


def run_all(files=FILES) -> list[FileReport]:
    return [run_file(f) for f in files]


def summary(reports: list[FileReport]) -> str:
    out = [f"{'file':<18} {'applicable':>10} {'passing':>8} {'skipped':>8}"]
    for r in reports:
        out.append(f"{r.file:<18} {r.applicable:>10} {r.passed:>8} {len(r.skipped):>8}")
    a, p, s = (sum(r.applicable for r in reports), sum(r.passed for r in reports),
               sum(len(r.skipped) for r in reports))
    out.append(f"{'total':<18} {a:>10} {p:>8} {s:>8}   ({100 * p / max(a, 1):.1f}% of applicable)")
    return "\n".join(out)


def skip_summary(reports: list[FileReport]) -> str:
    """How many statements were skipped, by reason."""
    counts: dict[str, list[str]] = {}
    for r in reports:
        for c in r.skipped:
            counts.setdefault(c.skip, []).append(f"{r.file}.q:{c.line}")
    return "\n".join(f"{len(where):>3}  {why}\n     {', '.join(where)}" for why, where in
                     sorted(counts.items(), key=lambda kv: -len(kv[1])))


def failures(reports: list[FileReport]) -> str:
    out = []
    for r in reports:
        for v in r.verdicts:
            if not v.passed:
                first = " ".join(v.case.sql.split())[:110]
                out.append(f"{r.file}.q:{v.case.line}: {first}\n    {v.why}")
    return "\n".join(out)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("-")]
    reports = run_all([os.path.basename(a)[:-2] if a.endswith(".q") else a for a in args] or FILES)
    if "-v" in sys.argv:
        print(failures(reports))
    if "-s" in sys.argv:
        print(skip_summary(reports))
    print(summary(reports))
