"""Sources divided among parallel subtasks (each reads its piece of every round, with the stateless operators up
to the exchange) give parallelism 1's results: for every output row the same changes, the same rows dropped as
late (each row's watermark is re-derived from the pieces before it), and, without an exchange, the same rows in
the same order."""
from __future__ import annotations

import io
import signal

import pytest

from tests.golden import run_sql
from tests.test_parallel import changes_per_row

OUT_OF_ORDER = """
CREATE TABLE t (i BIGINT, j INT, k INT, ts AS TO_TIMESTAMP_LTZ(1700000000000 + i * 20 + j, 3),
                WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
WITH ('connector' = 'datagen', 'rows-per-second' = '0', 'fields.i.kind' = 'sequence', 'fields.i.start' = '0',
      'fields.i.end' = '{last}', 'fields.j.min' = '-3000', 'fields.j.max' = '0', 'fields.k.min' = '0',
      'fields.k.max' = '40');
"""

QUERIES = [
    "SELECT k, window_start, COUNT(*) AS c, SUM(j) AS s FROM TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), "
    "INTERVAL '2' SECOND)) GROUP BY k, window_start, window_end",
    "SELECT k, window_start, COUNT(*) AS c FROM TABLE(HOP(TABLE t, DESCRIPTOR(ts), INTERVAL '1' SECOND, "
    "INTERVAL '3' SECOND)) WHERE MOD(i, 3) <> 0 GROUP BY k, window_start, window_end",
]


def run(sql: str, p: int, batch_size: int | None = None) -> tuple[list[dict], str]:
    from sqlstream.script import ScriptRunner
    import json
    out, err = io.StringIO(), io.StringIO()
    ScriptRunner(out=out, err=err, fmt="jsonl", batch_size=batch_size).run(
        f"SET 'parallelism.default' = '{p}';\n{sql}")
    return [json.loads(ln) for ln in out.getvalue().splitlines() if ln.strip()], err.getvalue()


@pytest.mark.parametrize("query", QUERIES)
def test_late_rows_and_changes_equal_parallelism_1_when_subtasks_read_the_source(query):
    sql = OUT_OF_ORDER.format(last=150_000 - 1) + query + ";"
    reference, err1 = run(sql, 1)
    late = int(err1.split("late rows dropped: ")[1].split(",")[0])
    assert reference and (late > 1000 or "HOP" in query), err1  # out of order enough for rows to be late
    for p, batch in ((2, None), (3, 1000)):
        got, err = run(sql, p, batch)
        assert "source divided among them" in err, err
        assert f"late rows dropped: {late}," in err, err
        assert changes_per_row(got) == changes_per_row(reference), f"parallelism {p}"


COUNTS = ("SELECT k, COUNT(*) AS c, MIN(j) AS lo, window_start AS ws, window_end AS we FROM TABLE(TUMBLE(TABLE t, "
          "DESCRIPTOR(ts), INTERVAL '1' SECOND)) GROUP BY k, window_start, window_end")
# a keyed window aggregation read by two operators (nexmark q5's shape), and one feeding another window's
RETURNING = [f"SELECT a.k, a.c, a.ws FROM ({COUNTS}) a JOIN (SELECT MAX(c) AS m, ws, we FROM ({COUNTS}) GROUP BY ws, we) b "
             f"ON a.ws = b.ws AND a.we = b.we AND a.c >= b.m",
             f"CREATE TEMPORARY VIEW counts AS SELECT k, c, lo, window_time AS wt FROM "
             f"({COUNTS.replace('window_end AS we', 'window_end AS we, window_time')});\n"
             f"SELECT window_start, COUNT(*) AS keys, SUM(c) AS c, MIN(lo) AS lo FROM TABLE(TUMBLE(TABLE counts, "
             f"DESCRIPTOR(wt), INTERVAL '6' SECOND)) GROUP BY window_start, window_end"]


@pytest.mark.parametrize("query", RETURNING, ids=["branches", "stacked"])
def test_a_window_aggregation_over_a_divided_source_feeds_the_operators_after_it_as_at_parallelism_1(query):
    sql = OUT_OF_ORDER.format(last=10_000 - 1) + query + ";"
    reference, err1 = run(sql, 1)
    late = err1.split("late rows dropped: ")[1].split(",")[0]
    assert reference and int(late) > 0, err1
    for p, batch in ((2, None), (3, 700)):
        got, err = run(sql, p, batch)
        assert "output back to the job's process" in err, err
        assert f"late rows dropped: {late}," in err, err
        assert changes_per_row(got) == changes_per_row(reference), f"parallelism {p}"


# a source read by several operators: nexmark q7's shape (a global MAX per window and the join of the rows with it)
# and two filtered branches into one join; and a join of a divided source with another table
FORKED = {"q7": "CREATE TEMPORARY VIEW v AS SELECT i, j, k, ts FROM t WHERE k <> 13 AND MOD(i, 11) <> 0;\n"
                "SELECT a.k, a.j, a.i, b.we FROM v a JOIN (SELECT MAX(j) AS m, window_time AS we FROM TABLE(TUMBLE("
                "TABLE v, DESCRIPTOR(ts), INTERVAL '2' SECOND)) GROUP BY window_start, window_end) b ON a.j = b.m "
                "WHERE a.ts BETWEEN b.we - INTERVAL '2' SECOND AND b.we",
          "self_join": "SELECT a.i, b.i AS bi, a.k FROM (SELECT i, k FROM t WHERE MOD(i, 3) = 0) a JOIN (SELECT i, k "
                       "FROM t WHERE MOD(i, 5) = 0 AND i < 2000) b ON a.k = b.k",
          "beside": "CREATE TABLE u (k INT, name STRING) WITH ('connector' = 'datagen', 'number-of-rows' = '300', "
                    "'fields.k.min' = '0', 'fields.k.max' = '40', 'fields.name.length' = '4');\n"
                    "SELECT a.i, a.k, u.name FROM (SELECT i, k FROM t WHERE MOD(i, 4) = 0) a JOIN u ON a.k = u.k"}


@pytest.mark.parametrize("query", list(FORKED))
def test_a_source_read_by_several_branches_is_divided_and_gives_parallelism_1s_rows(query):
    """Each subtask reads its piece once and runs every branch: rows for the join go to the subtask owning them,
    the window aggregation's partials to the job's process, which fires it as parallelism 1 does (same windows,
    same late rows); the join's output is the same rows."""
    for rows, runs in ((12_000, ((2, None), (3, 700))), (1_500, ((4, 1),) if query == "q7" else ())):
        sql = OUT_OF_ORDER.format(last=rows - 1) + FORKED[query] + ";"
        reference, err1 = run(sql, 1)
        late = err1.split("late rows dropped: ")[1].split(",")[0]
        assert len(reference) > 10 and (int(late) > 0 or query != "q7"), err1
        for p, batch in runs:
            got, err = run(sql, p, batch)
            assert "source divided among them" in err and f"rows in: {rows + (300 if query == 'beside' else 0)}," \
                in err, err
            assert f"late rows dropped: {late}," in err, err
            assert changes_per_row(got) == changes_per_row(reference), f"parallelism {p}, batches of {batch}"


def test_one_phase_aggregation_keeps_a_source_several_operators_read_in_the_job_process():
    """'table.optimizer.agg-phase-strategy' = 'ONE_PHASE': no local phase, so the MAX per window's rows cannot
    come back from the subtasks as partials; the source stays in the job's process."""
    sql = "SET 'table.optimizer.agg-phase-strategy' = 'ONE_PHASE';\n" + OUT_OF_ORDER.format(last=3_999) + \
        FORKED["q7"] + ";"
    reference, _ = run(sql, 1)
    got, err = run(sql, 2)
    assert "run as 2 subtasks" in err and "source divided" not in err, err
    assert changes_per_row(got) == changes_per_row(reference)


def test_a_chain_without_exchange_gives_parallelism_1s_rows_in_order():
    sql = OUT_OF_ORDER.format(last=200_000 - 1) + "SELECT k, i, ts FROM t WHERE MOD(i, 7) < 5;"
    reference, _ = run(sql, 1)
    got, err = run(sql, 2)
    assert "rows back to the sink in the source's order" in err, err
    assert got == reference


def test_nexmark_divided_gives_parallelism_1s_changes():
    from benchmarks.nexmark.queries import QUERIES as NEXMARK, generator_ddl
    sql = generator_ddl(200_000, 5_000) + NEXMARK["tumble_count"] + ";"
    reference = changes_per_row(run_sql(sql))
    got = changes_per_row(run_sql("SET 'parallelism.default' = '2';\n" + sql))
    assert got == reference


KILL_JOB = """
SET 'parallelism.default' = '{p}';
SET 'restart-strategy.type' = 'fixed-delay';
SET 'restart-strategy.fixed-delay.attempts' = '1000';
SET 'restart-strategy.fixed-delay.delay' = '0 s';
SET 'execution.checkpointing.interval' = '100 ms';
SET 'execution.checkpointing.dir' = '{dir}/checkpoints';
CREATE TABLE t (i BIGINT, j INT, k INT, ts AS TO_TIMESTAMP_LTZ(1700000000000 + i * 20 + j, 3),
                WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
WITH ('connector' = 'filesystem', 'path' = '{data}', 'format' = 'json'{source});
CREATE TABLE windowed (k INT, ws TIMESTAMP(3), cnt BIGINT, total BIGINT)
WITH ('connector' = 'filesystem', 'path' = '{dir}/out/windowed', 'format' = 'json'{files});
"""
COUNTS20 = COUNTS.replace("INTERVAL '1' SECOND", "INTERVAL '20' SECOND")
KILLED = {"keyed": (300_000, """INSERT INTO windowed SELECT k, window_start, COUNT(*), SUM(j)
FROM TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '2' SECOND)) GROUP BY k, window_start, window_end;"""),
          # the counts per key come back to the job's process, whose operators' state is in the checkpoints too
          # (windows of 20 s: windows fire, and checkpoints are taken, round after round rather than at the end)
          "returning": (200_000, "INSERT INTO windowed SELECT a.k, a.ws, a.c, a.lo FROM (" + COUNTS20 + ") a "
                        "JOIN (SELECT MAX(c) AS m, ws, we FROM (" + COUNTS20 + ") GROUP BY ws, we) b "
                        "ON a.ws = b.ws AND a.we = b.we AND a.c >= b.m;"),
          # nexmark q7's shape: the rows feed the MAX per window (partials back to the job's process) and the join
          "forked": (200_000, "CREATE TEMPORARY VIEW v AS SELECT i, j, k, ts FROM t "
                     "WHERE k <> 13 AND MOD(i, 11) <> 0;\nINSERT INTO windowed SELECT a.k, b.ws, a.i, a.j FROM v a JOIN (SELECT MAX(j) AS m, window_start "
                     "AS ws, window_time AS wt FROM TABLE(TUMBLE(TABLE v, DESCRIPTOR(ts), INTERVAL '10' SECOND)) "
                     "GROUP BY window_start, window_end, window_time) b ON a.j = b.m "
                     "WHERE a.ts BETWEEN b.wt - INTERVAL '10' SECOND AND b.wt;")}


def out_of_order_lines(rows: int) -> list[str]:
    """OUT_OF_ORDER's rows as JSON lines: i in sequence, j in [-3000, 0], k in [0, 40]."""
    import numpy as np
    rng = np.random.default_rng(5)
    j, k = rng.integers(-3000, 1, rows), rng.integers(0, 41, rows)
    return [f'{{"i":{a},"j":{b},"k":{c}}}\n' for a, b, c in zip(range(rows), j.tolist(), k.tolist())]


@pytest.mark.parametrize("shape", list(KILLED))
def test_killed_workers_reading_the_source_restart_with_exactly_once_output(tmp_path, shape):
    """The killed job reads a monitored folder (divided among the subtasks as a bounded folder is) holding half
    the rows, so it cannot end before the kills however fast it reads; then the rest and a row far ahead, which
    fires every window, arrive, and the job is stopped once it committed the bounded reference run's output."""
    import random
    from tests.cli_job import CliJob
    from tests.test_checkpoints import ROLLING, committed
    from tests.test_parallel import arrive, kill_workers
    rows, insert = KILLED[shape]
    lines = out_of_order_lines(rows)
    reference = tmp_path / "reference"
    (reference / "in").mkdir(parents=True)
    (reference / "in" / "t.json").write_text("".join(lines))
    (reference / "job.sql").write_text(KILL_JOB.format(p=1, dir=reference, data=reference / "in", source="",
                                                       files="") + insert)
    rc, _, err = CliJob(reference / "job.sql").finish()
    assert rc == 0, err
    expected = committed(reference)["windowed"]
    assert sum(expected.values()) > 200

    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    folder = tmp_path / "killed"
    data = folder / "in"
    data.mkdir(parents=True)
    arrive(data, "a.json", "".join(lines[:rows // 2]))  # the rest arrives once the workers were killed
    (folder / "job.sql").write_text(KILL_JOB.format(p=2, dir=folder, data=data, files=ROLLING["rolling"],
                                                    source=", 'source.monitor-interval' = '50 ms'") + insert)
    job = CliJob(folder / "job.sql")

    def release() -> None:
        arrive(data, "b.json", "".join(lines[rows // 2:]))
        arrive(data, "c.json", '{"i":120122240000,"j":0,"k":0}\n')  # at 2100-01-01
        job.wait_for(lambda: committed(folder)["windowed"] == expected, f"seed {seed}: the reference's rows committed")
        job.signal(signal.SIGTERM)

    kills, err = kill_workers(job, folder / "checkpoints", rng, seed, 3, release)
    assert kills == 3 and "source divided among them" in err, err
    assert (shape == "returning") == ("output back to the job's process" in err), err
    got = committed(folder)["windowed"]
    assert got == expected, (f"seed {seed}: {sum((expected - got).values())} missing, "
                             f"{sum((got - expected).values())} duplicated or unexpected after {kills} kills")


def test_subtasks_reading_files_count_skipped_records_and_name_a_bad_line(tmp_path):
    import json
    path = tmp_path / "t.json"
    lines = [json.dumps({"k": i % 13, "v": i}) for i in range(3000)]
    lines[1234], lines[2345] = '{"k": 1, "v": oops}', "not json"
    path.write_text("\n".join(lines) + "\n")
    ddl = (f"CREATE TABLE t (k INT, v BIGINT) WITH ('connector' = 'filesystem', 'path' = '{path}', "
           f"'format' = 'json'{{}});\nSELECT k, COUNT(*) AS c, SUM(v) AS s FROM t GROUP BY k;")
    got, err = run(ddl.format(", 'json.ignore-parse-errors' = 'true'"), 2, 100)
    assert "source divided among them" in err and "records with parse errors: 2 " in err, err
    final = {r["k"]: (r["c"], r["s"]) for r in got if r["op"] in ("+I", "+U")}
    good = [i for i in range(3000) if i not in (1234, 2345)]
    assert final == {k: (sum(1 for i in good if i % 13 == k), sum(i for i in good if i % 13 == k)) for k in range(13)}
    with pytest.raises(Exception, match=rf"{path}:1235\)"):
        run(ddl.format(""), 2, 100)


def test_a_divided_source_written_by_the_subtasks_restarts_after_sigkill_with_exactly_once_output(tmp_path):
    """The source's chain ends at a filesystem sink the subtasks write: a round's rows reach the sink as it is read,
    ahead of its merge, so a checkpoint's position takes in every round read (else a restore reads them again)."""
    import collections
    import json
    import random
    from tests.cli_job import CliJob, latest_checkpoint_id
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    (tmp_path / "job.sql").write_text(f"""
SET 'execution.checkpointing.interval' = '100 ms';
SET 'execution.checkpointing.dir' = '{tmp_path}/checkpoints';
SET 'parallelism.default' = '2';
CREATE TABLE t (i BIGINT, j INT) WITH ('connector' = 'datagen', 'rows-per-second' = '0',
  'fields.i.kind' = 'sequence', 'fields.i.start' = '0', 'fields.i.end' = '1999999');
CREATE TABLE o (i BIGINT, j INT) WITH ('connector' = 'filesystem', 'path' = '{tmp_path}/out', 'format' = 'json',
  'sink.rolling-policy.rollover-interval' = '200 ms', 'sink.rolling-policy.check-interval' = '50 ms');
INSERT INTO o SELECT i, j FROM t WHERE MOD(i, 2) = 0;
""")
    checkpoints, kills = tmp_path / "checkpoints", 0
    for _ in range(3):
        p = CliJob(tmp_path / "job.sql")
        target = latest_checkpoint_id(checkpoints) + 1 + rng.randint(0, 2)
        p.wait_for(lambda: latest_checkpoint_id(checkpoints) >= target or p.exited(), f"seed {seed}: checkpoint")
        if p.exited():
            break
        p.kill()
        p.finish()
        kills += 1
    rc, _, err = CliJob(tmp_path / "job.sql").finish()
    assert rc == 0, err
    assert kills == 0 or "restored from checkpoint" in err, err
    got = collections.Counter(json.loads(line)["i"] for f in (tmp_path / "out").glob("part-*")
                              for line in f.read_text().splitlines())
    assert got == collections.Counter(range(0, 2_000_000, 2)), \
        f"seed {seed}: {sum(v - 1 for v in got.values() if v > 1)} duplicated, {1_000_000 - len(got)} missing"
