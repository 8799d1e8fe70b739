"""Runs one Nexmark query on Apache Flink; started with a PyFlink interpreter by the runner (never imported by
the engine). Flink runs as the oracle runs it: streaming mode, UTC, a watermark per event; at parallelism 1 unless
the spec's "config" sets 'parallelism.default'.

    PYFLINK_PYTHON flink_job.py SPEC.json

SPEC: {"oracle": flink-oracle folder, "script": DDL + query (the last statement), "mode": "collect" | "blackhole",
"out": where collect mode writes the changelog as JSON lines, "config": Flink configuration (optional)}. Prints one JSON line: startup_s (JVM, table
environment and two one-row jobs, i.e. what every job pays before reading input), job_s (the query, submit to
finish), one_row_job_s (what any job costs before its first row, a floor under job_s: the second one-row job's
time, as the first also loads the classes every later job finds loaded), rows, columns and types (collect
mode).
"""
import json
import os
import sys
import time


def sink_columns(t_env, query: str) -> str:
    """The query's columns as blackhole sink DDL (time attributes become plain timestamps)."""
    schema = t_env.sql_query(query)._j_table.getResolvedSchema()
    cols = []
    for c in schema.getColumns():
        t = c.getDataType().toString().replace(" *ROWTIME*", "").replace(" *PROCTIME*", "")
        t = t.replace("TIMESTAMP_LTZ(3) NOT NULL", "TIMESTAMP_LTZ(3)")
        cols.append("`%s` %s" % (c.getName(), t))
    return ", ".join(cols)


def main() -> int:
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    sys.path.insert(0, spec["oracle"])
    import run_flink
    from sqlfile import dump_row, split_statements
    t0 = time.perf_counter()
    t_env = run_flink.make_env(spec.get("config"))
    t_env.execute_sql("CREATE TABLE warmup_sink (x INT) WITH ('connector' = 'blackhole')")
    t_env.execute_sql("INSERT INTO warmup_sink VALUES (1)").wait()  # the first job also loads Flink's classes
    tw = time.perf_counter()
    t_env.execute_sql("INSERT INTO warmup_sink VALUES (1)").wait()
    one_row_job = time.perf_counter() - tw
    startup = time.perf_counter() - t0
    *setup, query = split_statements(spec["script"])
    for stmt in setup:
        t_env.execute_sql(stmt)
    rows, cols, types = 0, [], []
    t1 = time.perf_counter()
    if spec["mode"] == "blackhole":
        t_env.execute_sql("CREATE TABLE result_sink (%s) WITH ('connector' = 'blackhole')"
                          % sink_columns(t_env, query))
        t1 = time.perf_counter()
        t_env.execute_sql("INSERT INTO result_sink " + query).wait()
    else:
        from pyflink.java_gateway import get_gateway
        res = t_env.execute_sql(query)
        schema = res._j_table_result.getResolvedSchema()
        cols = [c.getName() for c in schema.getColumns()]
        types = [c.getDataType().toString() for c in schema.getColumns()]
        text = get_gateway().jvm.oracle.OracleCollect.drain(res._j_table_result)
        with open(spec["out"], "w") as out:
            for line in text.splitlines():
                if line:
                    obj = json.loads(line)
                    out.write(dump_row({k: obj[k] for k in cols + ["op"]}) + "\n")
                    rows += 1
    job = time.perf_counter() - t1
    print(json.dumps({"startup_s": startup, "one_row_job_s": one_row_job, "job_s": job, "rows": rows,
                      "columns": cols, "types": types}), flush=True)
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)  # the gateway JVM is not waited for
