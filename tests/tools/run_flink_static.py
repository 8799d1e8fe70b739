"""Run golden cases whose input files ship inside the case (tests/golden_static/<case>/data) on Apache Flink.

Uses ../shared/flink-oracle (same Flink settings and collector as run_flink.py); only the data comes from the
case folder instead of a generator. A case may start with `SET 'key' = 'value';` statements (such as
'table.local-time-zone'): PyFlink's executeSql does not take SET, so they become the job's configuration, and
meta.json records them under "session_settings". Needs a PyFlink virtualenv:

    /tmp/flink/bin/python tests/tools/run_flink_static.py tests/golden_static/<case> [...]

With --record-error, a case whose job Flink fails gets the two deepest causes of Flink's failure (one 'Caused by'
line each: what failed and why, below the job's runtime) written to expected_error.txt instead of
expected.jsonl: an error case, which sqlstream must fail with the same messages.
"""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ORACLE = os.path.join(HERE, "..", "..", "..", "shared", "flink-oracle")
sys.path.insert(0, os.path.abspath(ORACLE))

import gen  # noqa: E402
import run_flink  # noqa: E402
from sqlfile import split_statements  # noqa: E402

SET = re.compile(r"\s*SET\s+'([^']+)'\s*=\s*'([^']*)'\s*$", re.IGNORECASE)


def session_settings(case: str) -> dict:
    with open(os.path.join(case, "case.sql")) as f:
        return {m.group(1): m.group(2) for m in map(SET.match, split_statements(f.read())) if m}


def keep_hints(split):
    """The oracle's statement splitter drops comments, and with them `/*+ .. */` hints: keep those."""
    def split_keeping_hints(sql):
        hints = []

        def stash(m):
            hints.append(m.group(0))
            return f"__sqlstream_hint_{len(hints) - 1}__"
        parts = split(re.sub(r"/\*\+.*?\*/", stash, sql, flags=re.S))
        return [re.sub(r"__sqlstream_hint_(\d+)__", lambda m: hints[int(m.group(1))], p) for p in parts]
    return split_keeping_hints


def without_set(sql: str) -> list:
    return [s for s in keep_hints(split_statements)(sql) if not SET.match(s)]


def main(cases, record_error=False):
    ok = True
    run_flink.split_statements = without_set
    for case in cases:
        case = os.path.abspath(case)
        data = os.path.join(case, "data")
        gen.ensure_data = lambda spec, root, data=data: data
        if not os.path.exists(os.path.join(case, "gen.json")):
            with open(os.path.join(case, "gen.json"), "w") as f:
                f.write('{"generator": "static", "params": {}}\n')
        try:
            settings = session_settings(case)
            out = run_flink.run_case_once(case, "unused", extra_conf=settings)
            meta = run_flink.write_outputs(case, out, {"session_settings": settings} if settings else {})
            print(f"{os.path.basename(case):30s} ok {meta['result_kind']} rows={meta['changelog_rows']}")
        except Exception as e:  # report and continue with the next case
            ok = False
            causes = [ln.strip() for ln in str(e).splitlines() if "Caused by" in ln or "Exception:" in ln]
            print(f"{os.path.basename(case):30s} ERROR {' | '.join(causes[-2:])[:500]}")
            if record_error:
                with open(os.path.join(case, "expected_error.txt"), "w") as f:
                    f.write("".join(ln + "\n" for ln in [c for c in causes if c.startswith("Caused by")][-2:]))
    return 0 if ok else 1


if __name__ == "__main__":
    args = sys.argv[1:]
    sys.exit(main([a for a in args if a != "--record-error"], "--record-error" in args))
