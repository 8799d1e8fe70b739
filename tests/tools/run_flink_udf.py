"""Run golden cases that call the Python functions of tests/udfs/golden.py on Apache Flink (PyFlink runs them
in its Python workers). Uses ../shared/flink-oracle's runner; needs a PyFlink virtualenv:

    /tmp/flink/bin/python tests/tools/run_flink_udf.py tests/golden_udf/<case> [...]
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.abspath(os.path.join(REPO, "..", "shared", "flink-oracle")))
sys.path.insert(0, REPO)

import run_flink  # noqa: E402
from sqlfile import DEFAULT_DATA_ROOT  # noqa: E402


def main(cases):
    conf = {"python.executable": sys.executable, "python.client.executable": sys.executable, "python.files": REPO}
    ok = True
    for case in cases:
        case = os.path.abspath(case)
        try:
            out = run_flink.run_case_once(case, DEFAULT_DATA_ROOT, extra_conf=conf)
            meta = run_flink.write_outputs(case, out, {})
            print(f"{os.path.basename(case):30s} ok {meta['result_kind']} rows={meta['changelog_rows']}")
        except Exception as e:  # report and continue with the next case
            ok = False
            causes = [ln.strip() for ln in str(e).splitlines() if "Caused by" in ln or "Error" in ln]
            print(f"{os.path.basename(case):30s} ERROR {' | '.join(causes[-3:])[:800]}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
