"""Parallel execution gives parallelism 1's results: Flink's final rows for the golden and conformance cases at
parallelism 2 and 4, and for every output row the same sequence of changes as at parallelism 1; a worker killed
mid-job restarts the job from its checkpoint with exactly-once output."""
from __future__ import annotations

import collections
import json
import os
import pickle
import random
import signal
from pathlib import Path
from typing import Callable

import pytest

from tests.cli_job import CliJob, latest_checkpoint_id
from tests.test_checkpoints import JOB as CHECKPOINTED_JOB
from tests.test_checkpoints import ROLLING, committed
from tests.golden import (CONFORMANCE, GOLDEN, GOLDEN_STATIC, case_dirs, case_sql, expected, oracle, run_sql,
                          static_case_sql)

# every golden case runs at parallelism 2; these, covering each keyed operator and joins, also at 4
AT_4 = {"agg_over_agg", "agg_retract_over_join", "changelog_topn_double", "dedup_last_ties", "join_full_outer_cond",
        "join_interval_outer", "join_window_full_outer", "late_session", "match_v_shape_orders", "over_range_late",
        "semi_anti_in", "temporal_join", "window_topn_after_agg", "window_stacked", "set_ops_all",
        "session_partition_more_keys", "session_global_grouped_by_key", "group_count_distinct"}
CASES = [(c, "golden") for c in case_dirs(GOLDEN)] + [(c, "static") for c in case_dirs(GOLDEN_STATIC)] + \
    [(c, "conformance") for c in case_dirs(CONFORMANCE)]
RUNS = [(c, kind, p) for c, kind in CASES for p in (2, 4) if p == 2 or c.name in AT_4]


def changes_per_row(rows: list[dict]) -> dict[str, list[str]]:
    """For each row value, the sequence of its changes (+I, -U, +U, -D): a key's changelog, whatever the key."""
    seqs: dict[str, list[str]] = collections.defaultdict(list)
    for r in rows:
        seqs[json.dumps({k: v for k, v in r.items() if k != "op"}, sort_keys=True, default=str)].append(r["op"])
    return dict(seqs)


def at_parallelism(sql: str, p: int, batch_size: int | None = None) -> list[dict]:
    return run_sql(f"SET 'parallelism.default' = '{p}';\n{sql}", batch_size)


@pytest.mark.golden
@pytest.mark.parametrize("case,kind,p", RUNS, ids=[f"{c.name}-p{p}" for c, _, p in RUNS])
def test_parallel_run_gives_flinks_rows_and_parallelism_1s_changes(case, kind, p):
    sql = static_case_sql(case) if kind == "static" else case_sql(case)
    compare, _ = oracle()
    rows, cols, types = expected(case)
    got = at_parallelism(sql, p)
    ok, msg = compare.compare_rows(rows, got, cols, types)
    assert ok, f"{case.name} at parallelism {p}: {msg}"
    assert changes_per_row(got) == changes_per_row(run_sql(sql)), \
        f"{case.name}: the changes of some row differ between parallelism {p} and 1"


RANDOM_JOB = """
CREATE TABLE t (k INT, g STRING, v BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)
WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = 'json');
SELECT k, window_start, COUNT(*) AS c, SUM(v) AS s, MAX(g) AS m
FROM TABLE(HOP(TABLE t, DESCRIPTOR(ts), INTERVAL '3' SECOND, INTERVAL '6' SECOND)) GROUP BY k, window_start, window_end;
SELECT g, COUNT(DISTINCT k) AS ks, SUM(v) AS s FROM t GROUP BY g;
"""


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_data_and_batch_sizes_give_the_same_changes_at_any_parallelism(tmp_path, seed):
    from datetime import datetime, timezone
    rng = random.Random(seed)
    path = tmp_path / "t.json"
    start = 1_700_000_000_000
    with open(path, "w") as f:
        for i in range(3000):
            ts = start + i * 40 + rng.randint(-3000, 500)  # out of order, some rows late
            text = datetime.fromtimestamp(ts // 1000, timezone.utc).strftime("%Y-%m-%d %H:%M:%S") + f".{ts % 1000:03d}"
            f.write(json.dumps({"k": rng.randint(0, 40), "g": rng.choice("abcdefg"), "v": rng.randint(-50, 50),
                                "ts": text}) + "\n")
    table, *queries = [q for q in RANDOM_JOB.format(path=path).split(";") if q.strip()]
    for query in queries:
        script = f"{table};\n{query};"
        reference = changes_per_row(run_sql(script))
        assert reference
        for p in (2, 3):
            got = changes_per_row(at_parallelism(script, p, batch_size=rng.choice([50, 500, 10_000])))
            assert got == reference, f"seed {seed}, parallelism {p}: {query.strip()[:60]}"


def test_a_subtask_unit_pickles_for_a_remote_host():
    from sqlstream.runtime.parallel.subtask import SubtaskUnit
    import sqlstream.script as script
    plans = []
    real = script.build_job

    def keep(session, targets, results=None, **options):
        job = real(session, targets, results, **options)
        plans.append(job.plan)
        return job
    script.build_job = keep
    try:
        run_sql(case_sql(GOLDEN / "agg_over_agg"))
    finally:
        script.build_job = real
    from sqlstream.runtime.parallel import find_regions
    region = find_regions(plans[0], 2).regions[0]
    unit = pickle.loads(pickle.dumps(SubtaskUnit(region.specs, {"parallelism.default": "2"}, 1, 2)))
    assert [s.uid for s in unit.specs] == [s.uid for s in region.specs] and unit.index == 1


KILL_JOB = """
SET 'parallelism.default' = '2';
SET 'restart-strategy.type' = 'fixed-delay';
SET 'restart-strategy.fixed-delay.attempts' = '1000';
SET 'restart-strategy.fixed-delay.delay' = '0 s';""" + CHECKPOINTED_JOB.replace("{interval}", "100 ms").replace(
    "{batch}", "500")


@pytest.fixture(scope="module")
def events(tmp_path_factory):
    from benchmarks.core import make_data
    path = tmp_path_factory.mktemp("data") / "events.json"
    make_data(str(path), 100_000, 300)
    return str(path)


def children_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def workers_of(pid: int) -> list[int]:
    """The job's worker processes: the children of its fork server (a child of the job)."""
    return [w for child in children_of(pid) for w in children_of(child)]


def arrive(folder: Path, name: str, text: str) -> None:
    """A file appears whole in a monitored folder: the folder's listing skips dot names, and a rename is atomic."""
    (folder / f".{name}").write_text(text)
    os.rename(folder / f".{name}", folder / name)


def kill_workers(job: CliJob, checkpoints: Path, rng: random.Random, seed: int, times: int,
                 release: Callable[[], None] | None = None) -> tuple[int, str]:
    """Up to `times` SIGKILLs of a random worker of a running parallel job, each after a checkpoint of its own
    and each followed by the restart; then `release` (which lets a job that cannot end on its own end or stops
    it) and the job runs to its end. The number of kills and the job's stderr (asserted: the job succeeded and
    at least one worker was killed: a bounded job may end before the first kill, a held one cannot)."""
    kills = 0
    for _ in range(times):
        target = latest_checkpoint_id(checkpoints) + 1
        job.wait_for(lambda: latest_checkpoint_id(checkpoints) >= target or job.exited(),
                     f"seed {seed}: checkpoint {target}")
        workers = workers_of(job.proc.pid)
        if job.exited() or not workers:
            break
        os.kill(rng.choice(workers), signal.SIGKILL)
        kills += 1
        job.wait_for(lambda: job.err.count("restarting from") >= kills or job.exited(), "the restart")
    if release is not None:
        release()
    rc, _, err = job.finish()
    assert rc == 0, f"seed {seed}: {err}"
    assert kills >= 1 and "was killed by SIGKILL" in err, f"seed {seed}: no worker was killed ({err})"
    return kills, err


def test_killed_workers_restart_the_job_with_exactly_once_output(tmp_path, events):
    """The killed job reads a monitored folder (its source divided among the subtasks as a bounded folder is), so
    it cannot end before the kills however fast it reads; then a file with one row far ahead fires every window
    and the job is stopped once it committed the output of the bounded reference run (its sinks roll their part
    files, so a running job commits them)."""
    reference = tmp_path / "reference"
    reference.mkdir()
    (reference / "job.sql").write_text(KILL_JOB.format(dir=reference, data=events, source="", files="")
                                       .replace("'parallelism.default' = '2'", "'parallelism.default' = '1'"))
    rc, _, err = CliJob(reference / "job.sql").finish()
    assert rc == 0, err
    expected_rows = committed(reference)
    assert sum(expected_rows["windowed"].values()) > 1000

    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    folder = tmp_path / "killed"
    data = folder / "in"
    data.mkdir(parents=True)
    lines = Path(events).read_text().splitlines(keepends=True)
    (data / "a.json").write_text("".join(lines[:len(lines) // 2]))  # the rest arrives while workers are killed
    (folder / "job.sql").write_text(KILL_JOB.format(dir=folder, data=data, files=ROLLING["rolling"],
                                                    source=", 'source.monitor-interval' = '50 ms'"))
    job = CliJob(folder / "job.sql")

    def release() -> None:
        arrive(data, "b.json", "".join(lines[len(lines) // 2:]))
        arrive(data, "c.json", '{"key":"k0","val":0,"payload":"","ts":"2100-01-01 00:00:00.000"}\n')
        job.wait_for(lambda: committed(folder) == expected_rows, f"seed {seed}: the reference's rows committed")
        job.signal(signal.SIGTERM)

    kills, err = kill_workers(job, folder / "checkpoints", rng, seed, 4, release)
    assert kills == 4 and "source divided among them" in err, err
    # each subtask writes its part files, prepared at the barrier and committed once the checkpoint is complete
    assert err.count("written by each subtask") == 2, err
    got = committed(folder)
    for sink in ("windowed", "totals"):
        assert got[sink] == expected_rows[sink], (
            f"seed {seed}, sink {sink}: {sum((expected_rows[sink] - got[sink]).values())} missing, "
            f"{sum((got[sink] - expected_rows[sink]).values())} duplicated or unexpected after {kills} kills")


def test_a_plan_part_that_cannot_run_as_subtasks_says_so_and_runs_as_at_parallelism_1(tmp_path):
    import io
    from sqlstream.script import ScriptRunner
    data = tmp_path / "t.csv"
    data.write_text("".join(f"{i % 3},{i}\n" for i in range(20)))
    sql = (f"SET 'parallelism.default' = '2';\n"
           f"CREATE TABLE t (k INT, v INT) WITH ('connector' = 'filesystem', 'path' = '{data}', 'format' = 'csv');\n"
           f"SELECT COUNT(*) AS c, SUM(v) AS s FROM t;\n")
    out, err = io.StringIO(), io.StringIO()
    ScriptRunner(out=out, err=err, fmt="jsonl").run(sql)
    last = json.loads(out.getvalue().splitlines()[-1])
    assert last == {"c": 20, "s": 190, "op": "+U"}
    assert ("its operators run in the job's process at parallelism 1 (002-GroupAggregate reads a single exchange: "
            "all its rows meet in one subtask)") in err.getvalue(), err.getvalue()
    assert "parallelism: 2 (nothing as subtasks; 1 sink(s) at parallelism 1)" in err.getvalue(), err.getvalue()


def test_a_blackhole_sink_is_written_by_each_subtask_with_parallelism_1s_rows():
    import io
    from benchmarks.nexmark.queries import generator_ddl
    from sqlstream.script import ScriptRunner
    jobs = {"chain": "CREATE TABLE bh (a BIGINT, p BIGINT) WITH ('connector' = 'blackhole');\n"
                     "INSERT INTO bh SELECT auction, price FROM bid WHERE price > 1000;\n",
            "keyed": "CREATE TABLE bh (a BIGINT, c BIGINT) WITH ('connector' = 'blackhole');\n"
                     "INSERT INTO bh SELECT auction, COUNT(*) FROM bid GROUP BY auction;\n"}
    for name, job in jobs.items():
        outs = {}
        for p in (1, 2):
            err = io.StringIO()
            ScriptRunner(out=io.StringIO(), err=err).run(
                f"SET 'parallelism.default' = '{p}';\n{generator_ddl(20_000, 10_000_000)}\n{job}")
            outs[p] = int(err.getvalue().split("rows out: ")[1].split(",")[0])
            if p == 2:
                assert "Sink written by each subtask" in err.getvalue(), err.getvalue()
        assert outs[1] == outs[2] > 0, (name, outs)


PRINT_JOB = """SET 'parallelism.default' = '{p}';
CREATE TABLE src (k INT, v INT) WITH ('connector' = 'datagen', 'number-of-rows' = '3000', 'rows-per-second' = '0',
  'fields.k.min' = '0', 'fields.k.max' = '20', 'fields.v.min' = '0', 'fields.v.max' = '9');
CREATE TABLE counts (k INT, c BIGINT) WITH ('connector' = 'print', 'print-identifier' = 'id');
CREATE TABLE single (k INT, v INT) WITH ('connector' = 'print', 'sink.parallelism' = '1');
EXECUTE STATEMENT SET BEGIN
INSERT INTO counts SELECT k, COUNT(*) FROM src GROUP BY k;
INSERT INTO single SELECT k, v FROM src WHERE v = 0;
END;
"""


def test_a_print_sink_is_written_by_each_subtask_with_flinks_subtask_prefix(tmp_path):
    """Flink 2.3 prints 'id:N> ' (or 'N> ') at a sink parallelism above 1 and no subtask at 1 (checked on PyFlink:
    datagen into print at parallelism.default 2); per key, the changes are parallelism 1's."""
    import re
    outs = {}
    for p in (1, 2):
        (tmp_path / f"p{p}.sql").write_text(PRINT_JOB.format(p=p))
        rc, out, err = CliJob(tmp_path / f"p{p}.sql").finish()
        assert rc == 0, err
        outs[p] = [line for line in out.splitlines() if not line.startswith("[INFO]")]
    assert "written by each subtask" in err, err
    assert {line.split("> ")[0] for line in outs[2] if line.startswith("id")} == {"id:1", "id:2"}
    assert all(line.startswith("id> ") or line.startswith("+I[") for line in outs[1])

    def per_key(lines):
        keyed = collections.defaultdict(list)
        for line in lines:
            change = re.sub(r"^id(:\d)?> ", "", line)
            keyed[(line.startswith("id"), change[3:].split(",")[0])].append(change)
        return dict(keyed)
    assert per_key(outs[2]) == per_key(outs[1])


def test_a_program_read_from_stdin_runs_at_parallelism_2(tmp_path):
    """A Python program piped to `python -` has no main file for a worker to import again; its job still runs in
    subtasks (the worker starts without the main module, as under `python -c`)."""
    import subprocess
    import sys
    job = tmp_path / "job.sql"
    job.write_text(PRINT_JOB.format(p=2))
    program = f"import sys; sys.argv = ['sqlstream', 'run', {str(job)!r}]\nfrom sqlstream.cli import main\nmain()\n"
    r = subprocess.run([sys.executable, "-"], input=program, capture_output=True, text=True, timeout=300,
                       cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)})
    assert r.returncode == 0, r.stderr
    assert "written by each subtask" in r.stderr, r.stderr
    assert {line.split("> ")[0] for line in r.stdout.splitlines() if line.startswith("id")} == {"id:1", "id:2"}
