"""A job that reads a file imports only what it uses: no Kafka, avro, faker, PostgreSQL, shell or numba modules at
start-up."""
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
UNUSED = ("confluent_kafka", "fastavro", "faker", "prompt_toolkit", "sqlstream.connectors.kafka",
          "sqlstream.connectors.nexmark", "sqlstream.connectors.datagen", "sqlstream.connectors.faker",
          "psycopg", "sqlstream.connectors.jdbc", "pyiceberg", "sqlalchemy", "sqlstream.connectors.iceberg",
          "aiohttp", "sqlstream.web",  # the web UI only with --web or 'rest.port'
          "prometheus_client", "sqlstream.prometheus",  # metrics only with a port
          "multiprocessing", "sqlstream.runtime.parallel",  # parallel subtasks only above parallelism 1
          "subprocess", "ctypes.util",  # no child process: the C library is found without ldconfig
          "sqlstream.core.udf", "sqlstream.planner.match_binder", "sqlstream.plan.match_pattern",  # used when used
          "sqlstream.functions.math",  # function families load on a call of theirs
          "numba", "llvmlite", "sqlstream.runtime.operators.rank_lists")  # an updating Top-N's loops, compiled late
PROBE = ("import gc, sys, json\n"
         "from sqlstream.cli import main\n"
         "rc = main(['run', sys.argv[1]])\n"
         "sys.stderr.write('MODULES ' + json.dumps(sorted(sys.modules)) + '\\n')\n"
         "sys.stderr.write(f'FROZEN {gc.get_freeze_count()}\\n')\n"
         "sys.exit(rc)\n")


def _modules_after(job: str, printed: str = "+I[3, n3]") -> tuple[set[str], int]:
    env = dict(os.environ, PYTHONPATH=ROOT)
    p = subprocess.run([sys.executable, "-c", PROBE, job], capture_output=True, text=True, env=env,
                       stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stderr
    assert printed in p.stdout
    line = next(x for x in p.stderr.splitlines() if x.startswith("MODULES "))
    frozen = next(x for x in p.stderr.splitlines() if x.startswith("FROZEN "))
    return set(json.loads(line[len("MODULES "):])), int(frozen.split()[1])


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_a_file_job_imports_no_unused_connector(tmp_path, fmt):
    data = tmp_path / f"data.{fmt}"
    rows = [(i, f"n{i}") for i in range(10)]
    data.write_text("".join(json.dumps({"id": i, "name": n}) + "\n" if fmt == "json" else f"{i},{n}\n"
                            for i, n in rows))
    job = tmp_path / "job.sql"
    job.write_text(f"CREATE TABLE src (id INT, name STRING) WITH ('connector' = 'filesystem', "
                   f"'path' = '{data}', 'format' = '{fmt}');\n"
                   "CREATE TABLE out_t (id INT, name STRING) WITH ('connector' = 'print');\n"
                   "INSERT INTO out_t SELECT id, name FROM src WHERE id > 2;\n")
    modules, frozen = _modules_after(str(job))
    loaded = sorted(m for m in modules if m.split(".")[0] in UNUSED or m in UNUSED
                    or any(m.startswith(u + ".") for u in UNUSED))
    assert loaded == []
    if fmt == "csv":
        assert "duckdb" not in modules  # JSON decoding uses DuckDB; a CSV job never starts it
    # one import root: the engine's layers load as sqlstream.planner/runtime/connectors, never as top-level names
    assert not modules & {"planner", "runtime", "connectors"}
    assert {"sqlstream.planner", "sqlstream.runtime", "sqlstream.connectors"} <= modules
    assert frozen > 10_000  # the objects the imports made are frozen: no collection walks them again


def test_a_short_updating_top_n_does_not_compile(tmp_path):
    """An updating Top-N steps its first rows in Python: a short job neither imports numba nor compiles. (Ordered
    by a count ascending: descending, Flink's update-fast Top-N runs instead, which compiles nothing.)"""
    data = tmp_path / "data.json"
    data.write_text("".join(json.dumps({"k": k % 3, "a": k % 5}) + "\n" for k in range(40)))
    job = tmp_path / "job.sql"
    job.write_text(f"CREATE TABLE src (k INT, a INT) WITH ('connector' = 'filesystem', 'path' = '{data}', "
                   "'format' = 'json');\n"
                   "CREATE TABLE out_t (k INT, a INT, c BIGINT) WITH ('connector' = 'print');\n"
                   "INSERT INTO out_t SELECT k, a, c FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY k ORDER BY c ASC) "
                   "AS rn FROM (SELECT k, a, COUNT(*) AS c FROM src GROUP BY k, a)) WHERE rn <= 1;\n")
    modules, _ = _modules_after(str(job), "+I[0, 0, 1]")
    assert "sqlstream.runtime.operators.rank_lists" in modules
    assert "numba" not in modules and "llvmlite" not in modules
