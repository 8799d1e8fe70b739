"""Ask Apache Flink how it runs each case of tests/parallel_plans at parallelism > 1, and keep its answer.

Each line of `cases.txt` is `name | settings | statement`; `tables.sql` holds the tables they use. For each case
Flink's EXPLAIN with the JSON execution plan (every operator's parallelism and each edge's ship strategy) or its
error goes to `flink/<name>.txt`. `tests/test_parallel_plans.py` compares sqlstream's plans with these files.
Needs the PyFlink virtualenv:

    /tmp/flink/bin/python tests/tools/run_flink_parallel_plans.py [NAME ...]
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = os.path.join(HERE, "..", "parallel_plans")
sys.path.insert(0, os.path.abspath(os.path.join(HERE, "..", "..", "..", "shared", "flink-oracle")))

from sqlfile import split_statements  # noqa: E402


def read_cases(path=os.path.join(CASES, "cases.txt")):
    """(name, settings, statement) of every case line."""
    cases = []
    with open(path) as f:
        for line in f:
            if not line.strip() or line.startswith("--"):
                continue
            name, settings, statement = (part.strip() for part in line.split("|", 2))
            cases.append((name, dict(kv.split("=", 1) for kv in settings.split(",")), statement))
    return cases


def tables_sql():
    with open(os.path.join(CASES, "tables.sql")) as f:
        return f.read().replace("${DATA}", os.path.abspath(os.path.join(CASES, "data")))


def main(names):
    from pyflink.table import EnvironmentSettings, TableEnvironment
    from pyflink.table.explain_detail import ExplainDetail
    envs = {}
    for name, settings, statement in read_cases():
        if names and name not in names:
            continue
        key = tuple(sorted(settings.items()))
        if key not in envs:
            env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
            for k, v in {"table.local-time-zone": "UTC", **settings}.items():
                env.get_config().set(k, v)
            for s in split_statements(tables_sql()):
                env.execute_sql(s)
            envs[key] = env
        try:
            text = envs[key].explain_sql(statement, ExplainDetail.JSON_EXECUTION_PLAN)
        except Exception as e:  # Flink's refusal is the expected answer
            errors = [ln.strip() for ln in str(e).splitlines() if "Exception:" in ln]
            text = "ERROR " + (errors[-1] if errors else str(e).splitlines()[0])
        with open(os.path.join(CASES, "flink", name + ".txt"), "w") as f:
            f.write(text.rstrip() + "\n")
        print(f"{name:45s} {text.splitlines()[0][:90]}")


if __name__ == "__main__":
    main(sys.argv[1:])
