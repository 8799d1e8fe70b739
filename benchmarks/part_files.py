"""How many part files the filesystem sink makes visible per 100 checkpoints, under a given rolling policy.

    python -m benchmarks.part_files [--checkpoints 100] [--rows-per-second 20000] [--options "'k' = 'v', .."]

A datagen job checkpoints every 100 ms into a json filesystem sink; once the job completed the given number
of checkpoints it is killed, and the committed (visible) part files are counted.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.cli_job import latest_checkpoint_id, wait_until

JOB = """
SET 'execution.checkpointing.interval' = '100 ms';
SET 'execution.checkpointing.dir' = '{dir}/checkpoints';
CREATE TABLE gen (id BIGINT, name STRING, price DOUBLE)
WITH ('connector' = 'datagen', 'rows-per-second' = '{rate}', 'seed' = '7');
CREATE TABLE out_files (id BIGINT, name STRING, price DOUBLE)
WITH ('connector' = 'filesystem', 'path' = '{dir}/out', 'format' = 'json'{options});
INSERT INTO out_files SELECT * FROM gen;
"""


def measure(checkpoints: int, rate: int, options: str, engine: str) -> tuple[int, int]:
    """(visible part files, their bytes) after `checkpoints` completed checkpoints."""
    folder = Path(tempfile.mkdtemp(prefix="part_files_"))
    try:
        job = folder / "job.sql"
        job.write_text(JOB.format(dir=folder, rate=rate, options=f", {options}" if options else ""))
        env = dict(os.environ, PYTHONPATH=engine)
        proc = subprocess.Popen([sys.executable, "-m", "sqlstream.cli", "run", str(job)], cwd=engine, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_until(lambda: latest_checkpoint_id(folder / "checkpoints") >= checkpoints,
                       f"checkpoint {checkpoints}", alive=lambda: proc.poll() is None)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        files = [p for p in (folder / "out").rglob("*") if p.is_file() and not p.name.startswith(".")]
        return len(files), sum(p.stat().st_size for p in files)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoints", type=int, default=100)
    parser.add_argument("--rows-per-second", type=int, default=20000)
    parser.add_argument("--options", default="", help="extra WITH options of the sink")
    parser.add_argument("--engine", default=str(Path(__file__).resolve().parent.parent),
                        help="the sqlstream source tree to run (default: this one)")
    args = parser.parse_args()
    files, size = measure(args.checkpoints, args.rows_per_second, args.options, args.engine)
    print(f"{files} visible part files ({size / 1e6:.1f} MB) after {args.checkpoints} checkpoints"
          f"{' with ' + args.options if args.options else ''}")


if __name__ == "__main__":
    main()
