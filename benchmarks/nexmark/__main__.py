"""Nexmark runner: python -m benchmarks.nexmark [--queries q0,q5] [--events N]

Each supported query reads the generated stream into a blackhole; the table shows events, seconds, events/s,
result rows, peak RSS and p50/p99 latency (from reading a source batch to its results reaching the sink,
weighted by rows), each query in its own process.

    --write-json DIR            write the stream as JSON lines (what other engines are fed)
    --check-flink PY            run each query on the same JSON input on Flink (PY: a PyFlink interpreter) and
                                on sqlstream, and compare the final results (--events defaults to 100 000)
    --compare-flink PY          throughput of both engines on the same JSON files, run alternately (Flink, then
                                sqlstream, per query and per --repeat round), with the ratio per query; Flink's
                                start (JVM, environment, and a one-row job's time taken off its job time) shown
                                apart; results (with the machine, date and versions) kept in benchmarks/results/
    --json-size N               events in the JSON files of --check-flink/--compare-flink (5M, 100k, 1000000)
    --repeat N                  rounds of --compare-flink; medians are reported
    --parallelism N             run the queries at parallelism N; the table adds the job process's CPU time and
                                its worker processes' (sampled from /proc); --compare-flink/--check-flink run
                                Flink at N too (parallelism.default)
    --json DIR                  read the JSON files --write-json wrote instead of the generator
    --generator                 the generator alone: events/s for the whole stream (every field of every
                                event type) and for bids only, in the engine's batch size
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

from benchmarks.nexmark.queries import QUERIES, UNSUPPORTED, files_ddl, generator_ddl
from sqlstream.connectors.base import SinkWriter

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.normpath(os.path.join(HERE, "..", "results"))
ORACLE = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "flink-oracle"))
# not comparable with Flink: processing time decides q12's windows; Flink's filesystem tables have no lookup (q13)
# Flink emits these results as upserts (+U without -U) keyed by the Top-N partition: its final result is the
# last row per key
UPSERT_KEYS = {"q9": ["id"]}
NOT_COMPARABLE = {"q10": "writes partitioned files rather than returning rows",
                  "q12": "processing-time windows: results depend on timing",
                  "q13": "Flink's filesystem connector has no lookup source"}


class Counter(SinkWriter):
    """Counts result rows and keeps none; notes each batch's latency since its source batch was read."""

    def __init__(self):
        self.rows = 0
        self.stats = None
        self.latency: list[float] = []
        self.weight: list[int] = []

    def attach(self, stats) -> None:
        self.stats = stats

    def write(self, batch):
        self.rows += batch.num_rows
        if batch.num_rows and self.stats is not None and self.stats.read_at:
            self.latency.append(time.perf_counter() - self.stats.read_at)
            self.weight.append(batch.num_rows)

    def percentile(self, q: float) -> float | None:
        if not self.latency:
            return None
        order = np.argsort(self.latency)
        cum = np.cumsum(np.asarray(self.weight)[order])
        return float(np.asarray(self.latency)[order][np.searchsorted(cum, q * cum[-1])])


def side_input() -> str:
    """q13's side input: 10 000 lines `key,value` (key 0..9999), written once."""
    path = os.path.join(tempfile.gettempdir(), "nexmark_side_input.csv")
    if not os.path.exists(path):
        with open(path + ".tmp", "w") as f:
            f.write("".join(f"{k},{k * 7 % 10000}\n" for k in range(10000)))
        os.replace(path + ".tmp", path)
    return path


PARALLELISM = int(os.environ.get("NEXMARK_PARALLELISM", "1"))  # --parallelism, for the query processes


def script(query: str, events: int, rate: int, data: str | None, output: str = "") -> str:
    ddl = files_ddl(data) if data else generator_ddl(events, rate)
    text = QUERIES[query].replace("${SIDE_INPUT}", side_input()).replace("${OUTPUT}", output)
    setting = f"SET 'parallelism.default' = '{PARALLELISM}';\n" if PARALLELISM > 1 else ""
    return setting + ddl + "\n" + text + ";\n"


class TreeCPU:
    """CPU seconds (user + sys) of this process's descendants (a parallel job's fork server and workers), sampled
    from /proc every 50 ms while a query runs: they end with the job, before anything could wait for them. Only
    what they spend during the job counts, as for the job's own process: the fork server and multiprocessing's
    resource tracker start with the session, before the job (~0.12 s of CPU, once per process). The sampling
    thread's own CPU (`own`: ~0.4 ms a sample, 0.1-0.25 s over a 10M-event query on a loaded machine) is the
    measurement's, not the job's: the job's process CPU is counted without it, as parallelism 1 has no sampler."""

    def __init__(self) -> None:
        import threading
        self.seen: dict[int, float] = {}
        self.before: dict[int, float] = {}
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)
        self.own = 0.0  # CPU seconds the sampling thread spent

    def __enter__(self) -> "TreeCPU":
        self._sample()
        self.before = dict(self.seen)
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()
        self.thread.join()

    @property
    def seconds(self) -> float:
        return sum(self.seen.values()) - sum(self.before.values())

    def _poll(self) -> None:
        while True:
            self._sample()
            self.own = time.thread_time()
            if self.stopped.wait(0.05):
                return

    def _sample(self) -> None:
        """Each descendant's CPU so far, found through the kernel's lists of children (/proc/PID/task/TID/children):
        a few small reads, where reading every process's stat took 4 ms a sample (8% of a core, next to the
        workers it measures)."""
        tick = os.sysconf("SC_CLK_TCK")
        todo = _children(os.getpid())
        while todo:
            pid = todo.pop()
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            self.seen[pid] = max(self.seen.get(pid, 0.0), (int(fields[11]) + int(fields[12])) / tick)
            todo += _children(pid)


def _children(pid: int) -> list[int]:
    """The processes any thread of `pid` started (Linux); none where the process is gone."""
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                found += [int(c) for c in f.read().split()]
        except OSError:
            continue
    return found


def process_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def run_one(query: str, events: int, rate: int, data: str | None = None, out: str | None = None) -> dict:
    """One query on sqlstream, from the generator or (data) the JSON files; `out` collects the changelog as
    JSON lines in the oracle's format."""
    import io
    from sqlstream.plan import logical as L
    from sqlstream.output import ResultWriter
    from sqlstream.script import ScriptRunner
    from sqlstream.session import parse_script
    if "INSERT INTO" in QUERIES[query]:
        return run_insert(query, events, rate, data)
    runner = ScriptRunner(out=io.StringIO(), err=io.StringIO(), summary=False)
    text = script(query, events, rate, data)
    *setup, last = parse_script(text)
    for stmt in setup:
        runner.session.execute(stmt, text)
    plan = runner.session.plan(last)
    root = L.Sink(plan.fields, plan.changelog, input=plan, table="<blackhole>", connector="collect")
    counter = Counter()
    sink = counter
    if out:
        sink = ResultWriter(plan.names, [f.type for f in plan.fields], "jsonl", open(out, "w"))
    elif PARALLELISM > 1:  # a blackhole table, as Flink's nexmark writes: its writers run in the subtasks
        return run_blackhole(runner, plan, query, events)
    cpu = process_cpu()
    t = time.perf_counter()
    workers = TreeCPU()
    if PARALLELISM > 1:
        with workers:
            runner.run_query(root, sink)
    else:  # no worker processes: the sampler would only take the job's CPU and GIL
        runner.run_query(root, sink)
    secs = time.perf_counter() - t
    cpu = process_cpu() - cpu - workers.own
    if out:
        sink.stream.close()
    p50, p99 = counter.percentile(0.5), counter.percentile(0.99)
    return {"query": query, "events": events, "seconds": secs, "events_per_s": events / secs,
            "job_cpu_s": cpu, "workers_cpu_s": workers.seconds,
            "rows": counter.rows, "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            "p50_ms": None if p50 is None else p50 * 1000, "p99_ms": None if p99 is None else p99 * 1000}


def run_blackhole(runner, plan, query: str, events: int) -> dict:
    """A query at parallelism above 1 into a blackhole table (rows counted by the job; no latency measured)."""
    from sqlstream.plan import logical as L
    root = L.Sink(plan.fields, plan.changelog, input=plan, table="nexmark_blackhole", connector="blackhole",
                  options={"connector": "blackhole"}, columns=list(plan.fields))
    cpu = process_cpu()
    t = time.perf_counter()
    workers = TreeCPU()
    with workers:
        job = runner.run_job([root], None)
    secs = time.perf_counter() - t
    cpu = process_cpu() - cpu - workers.own
    return {"query": query, "events": events, "seconds": secs, "events_per_s": events / secs,
            "job_cpu_s": cpu, "workers_cpu_s": workers.seconds, "rows": job.dataflow.stats.rows_out,
            "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, "p50_ms": None, "p99_ms": None}


def run_insert(query: str, events: int, rate: int, data: str | None) -> dict:
    """A query that writes a table (q10: partitioned files), into a temporary folder."""
    import io
    import shutil
    from sqlstream.script import ScriptRunner
    out = tempfile.mkdtemp(prefix=f"nexmark_{query}_")
    err = io.StringIO()
    try:
        t = time.perf_counter()
        ScriptRunner(out=io.StringIO(), err=err).run(script(query, events, rate, data, output=out))
        secs = time.perf_counter() - t
        files = sum(len(f) for _, _, f in os.walk(out))
    finally:
        shutil.rmtree(out, ignore_errors=True)
    if "rows out: " not in err.getvalue():
        raise RuntimeError(err.getvalue().strip().splitlines()[-1] if err.getvalue().strip() else "no summary")
    rows = int(err.getvalue().split("rows out: ")[1].split(",")[0])
    return {"query": query, "events": events, "seconds": secs, "events_per_s": events / secs, "rows": rows,
            "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, "p50_ms": None, "p99_ms": None,
            "files": files}


def children_cpu() -> float:
    """CPU seconds (user + sys) of the child processes waited for so far."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def in_process(args: list[str]) -> dict:
    """Runs `--one` in a fresh process (peak RSS per query) and returns its result line, with the process's CPU
    time (`cpu_s`: user + sys, start-up included) and its wall time from start to exit (`process_s`)."""
    before = children_cpu()
    started = time.perf_counter()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # load bytecode, as installed
    p = subprocess.run([sys.executable, "-m", "benchmarks.nexmark", *args], capture_output=True, text=True,
                       env={**env, "OMP_NUM_THREADS": "1"})
    if p.returncode != 0:
        raise RuntimeError((p.stderr.strip().splitlines() or ["?"])[-1][:200])
    return {**json.loads(p.stdout.strip().splitlines()[-1]), "cpu_s": children_cpu() - before,
            "process_s": time.perf_counter() - started}


def compile_modules() -> None:
    """Bytecode for every module, as an installed sqlstream has it (an environment with PYTHONDONTWRITEBYTECODE
    would have each query process compile every module it imports, a cost no user pays)."""
    import compileall
    import sqlstream
    package = os.path.dirname(sqlstream.__file__)
    linked = [os.path.realpath(os.path.join(package, d)) for d in os.listdir(package)
              if os.path.islink(os.path.join(package, d))]  # planner/, runtime/.. (compile_dir skips links)
    for folder in [package, os.path.dirname(HERE)] + linked:
        compileall.compile_dir(folder, quiet=1)


def on_flink(pyflink: str, query: str, data: str, mode: str, out: str | None = None) -> dict:
    """One query on Flink (benchmarks/nexmark/flink_job.py in the PyFlink interpreter), at --parallelism too
    (through Flink's configuration: the script's SET is sqlstream's)."""
    text = script(query, 0, 0, data).split("\n", 1)[1] if PARALLELISM > 1 else script(query, 0, 0, data)
    spec = {"oracle": ORACLE, "script": text, "mode": mode, "out": out,
            "config": {"parallelism.default": str(PARALLELISM),
                       "table.exec.resource.default-parallelism": str(PARALLELISM)}}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(spec, f)
    try:
        p = subprocess.run([pyflink, os.path.join(HERE, "flink_job.py"), f.name], capture_output=True, text=True)
    finally:
        os.unlink(f.name)
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    if p.returncode != 0 or not lines:
        err = [ln for ln in p.stderr.splitlines() if "Exception" in ln or "Error" in ln]
        raise RuntimeError((err or p.stderr.strip().splitlines() or ["?"])[-1][:300])
    return json.loads(lines[-1])


def write_json(events: int, rate: int, out_dir: str) -> str:
    """The generated stream as JSON lines in out_dir (kept when it already holds this many events)."""
    from benchmarks.nexmark.queries import COLUMNS
    from sqlstream.script import ScriptRunner
    marker = os.path.join(out_dir, "_events")
    if os.path.exists(marker) and open(marker).read() == f"{events} {rate}":
        return out_dir
    os.makedirs(out_dir, exist_ok=True)
    for name in os.listdir(out_dir):
        os.unlink(os.path.join(out_dir, name))
    sql = (f"CREATE TABLE gen ({COLUMNS}) WITH ('connector' = 'nexmark', 'events.num' = '{events}', "
           f"'first-event.rate' = '{rate}');\n"
           f"CREATE TABLE files ({COLUMNS}) WITH ('connector' = 'filesystem', 'path' = '{out_dir}', "
           f"'format' = 'json');\nINSERT INTO files SELECT * FROM gen;\n")
    import io
    ScriptRunner(out=io.StringIO(), err=sys.stderr, summary=False).run(sql)
    with open(marker, "w") as f:
        f.write(f"{events} {rate}")
    return out_dir


def check_flink(pyflink: str, queries: list[str], events: int, rate: int, data: str) -> int:
    """Final results of sqlstream and Flink on the same input, compared as the oracle compares them."""
    sys.path.insert(0, ORACLE)
    import compare
    failed = 0
    print(f"{'query':<6} {'flink rows':>10} {'result':<}")
    for q in queries:
        if QUERIES.get(q) is None or q in NOT_COMPARABLE:
            print(f"{q:<6} {'':>10} skipped: {UNSUPPORTED.get(q) or NOT_COMPARABLE.get(q)}")
            continue
        with tempfile.TemporaryDirectory() as tmp:
            expected_path, actual_path = os.path.join(tmp, "flink.jsonl"), os.path.join(tmp, "ours.jsonl")
            try:
                flink = on_flink(pyflink, q, data, "collect", expected_path)
                in_process(["--one", q, "--events", str(events), "--rate", str(rate), "--data", data,
                            "--out", actual_path])
            except RuntimeError as e:
                print(f"{q:<6} {'':>10} FAILED to run: {e}")
                failed += 1
                continue
            expected = compare.parse_output(open(expected_path).read())
            if q in UPSERT_KEYS:
                expected = upserted(expected, UPSERT_KEYS[q])
            actual = compare.parse_output(open(actual_path).read())
            ok, msg = compare.compare_rows(expected, actual, flink["columns"], flink["types"])
        failed += not ok
        print(f"{q:<6} {len(expected):>10} {'match' if ok else 'DIFFERENT'}: {msg}", flush=True)
    return 1 if failed else 0


def upserted(rows: list[dict], key: list[str]) -> list[dict]:
    """An upsert changelog's final rows, as inserts."""
    final: dict[tuple, dict] = {}
    for r in rows:
        k = tuple(r[c] for c in key)
        if r["op"] in ("+I", "+U"):
            final[k] = {**r, "op": "+I"}
        else:
            final.pop(k, None)
    return list(final.values())


def compare_flink(pyflink: str, queries: list[str], events: int, rate: int, data: str, repeat: int = 1,
                  results_dir: str | None = None) -> str:
    """Both engines on the same files, alternately, `repeat` rounds; prints the medians per query and writes
    them, with the machine, date and versions, to a JSON file in `results_dir` (its path is returned).

    Flink's rate leaves out its start: the JVM and table environment (startup_s) and what any job costs before
    its first row (a one-row job's time, taken off the query's job time). sqlstream's is its job's, from the
    first read to the last row (imports and planning left out, as Flink's start is), and, apart, its whole
    process's (interpreter start, imports, planning and exit included); its CPU time (user + sys; its worker
    processes' too at parallelism above 1) is kept too."""
    results = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
               "machine": machine(), "versions": versions(pyflink), "events": events, "rate": rate,
               "repeat": repeat, "parallelism": PARALLELISM, "data": data, "queries": {}}
    print(f"{'query':<12} {'sqlstream ev/s':>15} {'per CPU-s':>12} {'flink ev/s':>12} {'ratio':>7} "
          f"{'flink start s':>14} {'flink ev/s w/o start':>21} {'ratio':>7} {'whole process':>13}")
    for q in queries:
        if QUERIES.get(q) is None or q in ("q10", "q13"):
            print(f"{q:<12} skipped: {UNSUPPORTED.get(q) or NOT_COMPARABLE.get(q)}")
            continue
        runs: list[tuple[dict, dict]] = []
        try:
            for _ in range(repeat):
                flink = on_flink(pyflink, q, data, "blackhole")
                ours = in_process(["--one", q, "--events", str(events), "--rate", str(rate), "--data", data])
                runs.append((flink, ours))
        except RuntimeError as e:
            print(f"{q:<12} failed: {e}")
            results["queries"][q] = {"error": str(e)}
            continue
        row = summary(runs, events)
        results["queries"][q] = row
        print(f"{q:<12} {row['sqlstream_events_per_s']:>15,.0f} {row['sqlstream_events_per_cpu_s']:>12,.0f} "
              f"{row['flink_events_per_s']:>12,.0f} {row['ratio']:>6.2f}x {row['flink_startup_s']:>12.1f} s "
              + (f"{row['flink_events_per_s_without_start']:>21,.0f} {row['ratio_without_flink_start']:>6.2f}x"
                 f" {row['ratio_whole_process_without_flink_start']:>12.2f}x"
                 if row["ratio_without_flink_start"] is not None else f"{'(input too small)':>21} {'-':>7}"),
              flush=True)
    os.makedirs(results_dir or RESULTS, exist_ok=True)
    stamp = results["date"].replace(":", "").replace("-", "")[:15]
    at = f"-p{PARALLELISM}" if PARALLELISM > 1 else ""
    path = os.path.join(results_dir or RESULTS, f"compare-flink-{stamp}-{events}{at}.json")
    with open(path, "w") as f:
        json.dump(results, f, indent=1)
        f.write("\n")
    print(f"results: {path}")
    return path


def summary(runs: list[tuple[dict, dict]], events: int) -> dict:
    """Medians over the rounds of one query: rates, Flink's start apart, and the ratios."""
    def med(values) -> float:
        return float(np.median(list(values)))
    job = med(f["job_s"] for f, _ in runs)
    one_row = med(f.get("one_row_job_s", 0.0) for f, _ in runs)
    secs = med(o["seconds"] for _, o in runs)
    # at parallelism above 1 the workers (and their fork server) are not the query process's waited-for children
    cpu = med(o["cpu_s"] + o.get("workers_cpu_s", 0.0) for _, o in runs)
    flink_rate = events / job
    # a query that took no longer than a one-row job: the input is too small to tell Flink's rate without start
    net = events / (job - one_row) if job > one_row else None
    ours = events / secs
    whole = events / med(o["process_s"] for _, o in runs)
    return {"sqlstream_seconds": secs, "sqlstream_process_events_per_s": whole, "sqlstream_cpu_s": cpu,
            "sqlstream_events_per_s": ours,
            "sqlstream_events_per_cpu_s": events / cpu, "sqlstream_rows": runs[0][1]["rows"],
            "sqlstream_peak_rss": max(o["peak_rss"] for _, o in runs),
            "flink_job_s": job, "flink_one_row_job_s": one_row,
            "flink_startup_s": med(f["startup_s"] for f, _ in runs),
            "flink_events_per_s": flink_rate, "flink_events_per_s_without_start": net,
            "ratio": ours / flink_rate, "ratio_without_flink_start": None if net is None else ours / net,
            "ratio_whole_process_without_flink_start": None if net is None else whole / net,
            "runs": [{"flink": f, "sqlstream": o} for f, o in runs]}


def machine() -> dict:
    """What the figures depend on: cores, CPU model, memory, and how busy the machine was when measured."""
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            model = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), "?")
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") if hasattr(os, "sysconf") else None
    return {"cores": os.cpu_count(), "cpu_model": model, "memory_bytes": mem,
            "load_average_at_start": list(os.getloadavg()), "platform": sys.platform}


def versions(pyflink: str) -> dict:
    import duckdb
    import pyarrow
    out = {"python": sys.version.split()[0], "pyarrow": pyarrow.__version__, "duckdb": duckdb.__version__}
    try:
        out["sqlstream_commit"] = subprocess.run(["git", "-C", HERE, "rev-parse", "HEAD"], capture_output=True,
                                                 text=True).stdout.strip() or None
    except OSError:
        out["sqlstream_commit"] = None
    p = subprocess.run([pyflink, "-c", "import importlib.metadata as m; print(m.version('apache-flink'))"],
                       capture_output=True, text=True)
    out["flink"] = p.stdout.strip() or None
    return out


def size(text: str) -> int:
    """'5M', '100k', '1000000' -> events."""
    t = text.strip().lower().replace("_", "")
    scale = {"k": 1_000, "m": 1_000_000}.get(t[-1:], 1)
    return int(float(t[:-1] if scale > 1 else t) * scale)


def generator_speed(events: int, rate: int, batch: int = 65_536) -> None:
    from sqlstream.connectors.nexmark import FIELDS, NexmarkConfig, generate
    from sqlstream.connectors.options import Options
    cfg = NexmarkConfig(Options("nexmark", "nexmark", {"connector": "nexmark", "first-event.rate": str(rate)},
                                ["connector", "first-event.rate"]))
    for label, names, fields in (("whole stream, every field", ["event_type", "person", "auction", "bid"], FIELDS),
                                 ("bids only, every field", ["event_type", "bid"], FIELDS)):
        t0 = time.perf_counter()
        held = None  # as in the engine, a batch is still referenced while the next one is made
        for start in range(0, events, batch):
            held = generate(cfg, start, min(batch, events - start), names, fields)
        secs = time.perf_counter() - t0
        del held
        print(f"{label:<28} {events:>11,} events {secs:>7.2f} s {events / secs:>12,.0f} events/s", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--queries", default=",".join(QUERIES))
    ap.add_argument("--events", type=int)
    ap.add_argument("--rate", type=int, default=10_000_000, help="event-time rate of the generator (events/s)")
    ap.add_argument("--write-json", metavar="DIR")
    ap.add_argument("--check-flink", metavar="PYFLINK_PYTHON")
    ap.add_argument("--compare-flink", metavar="PYFLINK_PYTHON")
    ap.add_argument("--json-size", type=size, help="events in the JSON files compared with Flink (5M, 100k)")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--results-dir", help=argparse.SUPPRESS)
    ap.add_argument("--generator", action="store_true")
    ap.add_argument("--parallelism", type=int, help="run each query at this parallelism ('parallelism.default')")
    ap.add_argument("--json", metavar="DIR", help="read the stream from JSON files in DIR (--write-json) instead "
                                                  "of the generator")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    ap.add_argument("--data", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.parallelism:
        os.environ["NEXMARK_PARALLELISM"] = str(a.parallelism)  # the query processes read it
        global PARALLELISM
        PARALLELISM = a.parallelism
    queries = a.queries.split(",")
    if not a.one:
        compile_modules()
    if a.one:
        if PARALLELISM > 1:  # as `sqlstream run --parallelism N` starts the subtasks' fork server before the session
            from sqlstream.runtime.parallel.hosts import warm_up
            warm_up()
        print(json.dumps(run_one(a.one, a.events, a.rate, a.data, a.out)))
        return 0
    if a.generator:
        generator_speed(a.events or 10_000_000, a.rate)
        return 0
    if a.write_json:
        write_json(a.events or 1_000_000, a.rate, a.write_json)
        return 0
    if a.check_flink or a.compare_flink:
        events = a.json_size or a.events or (100_000 if a.check_flink else 1_000_000)
        data = write_json(events, a.rate, os.path.join(tempfile.gettempdir(), f"nexmark-json-{events}-{a.rate}"))
        if a.check_flink:
            return check_flink(a.check_flink, queries, events, a.rate, data)
        compare_flink(a.compare_flink, queries, events, a.rate, data, a.repeat, a.results_dir)
        return 0
    events = a.events or 1_000_000
    print(f"{'query':<6} {'events':>11} {'seconds':>8} {'events/s':>12} {'rows out':>10} {'peak RSS':>9} "
          f"{'p50 ms':>8} {'p99 ms':>8} {'job CPU s':>9} {'workers CPU s':>13}")
    for q in queries:
        if QUERIES.get(q) is None:
            print(f"{q:<6} not supported: {UNSUPPORTED.get(q, 'unknown query')}")
            continue
        try:
            r = in_process(["--one", q, "--events", str(events), "--rate", str(a.rate)]
                           + (["--data", a.json] if a.json else []))
        except RuntimeError as e:
            print(f"{q:<6} failed: {e}")
            continue
        lat = " ".join(f"{'-' if r[k] is None else format(r[k], '.1f'):>8}" for k in ("p50_ms", "p99_ms"))
        print(f"{q:<6} {r['events']:>11,} {r['seconds']:>8.2f} {r['events_per_s']:>12,.0f} {r['rows']:>10,} "
              f"{r['peak_rss'] / 2**20:>7.0f} MB {lat} {r['job_cpu_s']:>9.2f} {r['workers_cpu_s']:>13.2f}",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
