"""The subtasks' fork server forked from a job process that has one thread: its workers start from the modules
the job imported, and nothing the job had buffered for its output is written again by them."""
import os
import subprocess
import sys

PROGRAM = """
import sys
sys.stdout.write("written once\\n")  # still in the buffer when the fork server starts
from sqlstream.runtime.parallel.hosts import warm_up
warm_up()
from multiprocessing import forkserver
assert forkserver._forkserver._forkserver_pid is not None
from sqlstream.script import ScriptRunner
ScriptRunner(fmt="jsonl").run('''SET 'parallelism.default' = '2';
CREATE TABLE t (i BIGINT, ts AS TO_TIMESTAMP_LTZ(i, 3), WATERMARK FOR ts AS ts)
WITH ('connector' = 'datagen', 'number-of-rows' = '2000', 'fields.i.kind' = 'sequence', 'fields.i.start' = '0',
      'fields.i.end' = '1999');
SELECT MOD(i, 3) AS k, COUNT(*) AS c FROM TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '1' SECOND))
GROUP BY MOD(i, 3), window_start, window_end;''')
"""


def test_workers_of_a_forked_fork_server_do_not_repeat_the_jobs_buffered_output(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    p = subprocess.run([sys.executable, "-c", PROGRAM], cwd=tmp_path, env=env, capture_output=True, text=True,
                       timeout=120, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines.count("written once") == 1, p.stdout
    assert sorted(ln for ln in lines if ln.startswith("{")) == sorted(
        f'{{"k": {k}, "c": {c}, "op": "+I"}}' for k, c in ((0, 334), (1, 333), (2, 333), (0, 333), (1, 334), (2, 333)))
