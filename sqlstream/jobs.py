"""Background jobs of an interactive session: INSERT INTO statements run in threads while the user types."""
from __future__ import annotations

import io
import threading
import time
import uuid
from dataclasses import dataclass, field

from planner import logical as L
from sqlstream.script import ScriptRunner
from sqlstream.session import Session


@dataclass
class JobInfo:
    id: str
    name: str
    runner: ScriptRunner
    thread: threading.Thread | None = None
    status: str = "RUNNING"
    started: float = field(default_factory=time.time)
    error: str | None = None
    log: io.StringIO = field(default_factory=io.StringIO)

    def row(self) -> list:
        job = self.runner.current_job
        rows_in = job.stats.rows_in if job is not None else 0
        rows_out = job.stats.rows_out if job is not None else 0
        wm = None
        if job is not None and job.assigners:
            current = min(op.state.current for op in job.assigners)
            if current > -(2 ** 63):
                wm = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(current / 1000))
        return [self.id, self.name, self.status, time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.started)),
                rows_in, rows_out, wm]


class JobManager:
    """Starts INSERT jobs in background threads and tracks them for SHOW JOBS / STOP JOB."""

    def __init__(self, session: Session):
        self.session = session
        self.jobs: dict[str, JobInfo] = {}

    def submit(self, inserts: list[L.Sink]) -> JobInfo:
        job_id = uuid.uuid4().hex[:8]
        info = JobInfo(job_id, "insert-into_" + ",".join(s.table for s in inserts), runner=None)  # type: ignore
        info.runner = ScriptRunner(self.session, out=info.log, err=info.log, fmt="jsonl")

        def run():
            try:
                info.runner._run_job(inserts, None)
                info.status = "CANCELED" if info.runner.stop_requested else "FINISHED"
            except Exception as e:  # reported by SHOW JOBS, never a traceback in the prompt
                info.status, info.error = "FAILED", str(e)
        info.thread = threading.Thread(target=run, name=f"job-{job_id}", daemon=True)
        self.jobs[job_id] = info
        info.thread.start()
        return info

    def stop(self, job_id: str, savepoint: bool = False) -> str:
        info = self.jobs.get(job_id)
        if info is None:
            raise KeyError(f"Job '{job_id}' not found. Running jobs: {', '.join(self.jobs) or 'none'}")
        if info.status != "RUNNING":
            return f"Job '{job_id}' is already {info.status}"
        if savepoint and not self.session.config.get("execution.checkpointing.dir"):
            raise ValueError("STOP JOB .. WITH SAVEPOINT needs SET 'execution.checkpointing.dir' = '...'")
        info.runner.savepoint_on_stop = savepoint
        info.runner.stop_requested = True
        info.thread.join(timeout=30)
        where = [ln for ln in info.log.getvalue().splitlines() if "savepoint written to" in ln]
        return f"Job '{job_id}' stopped" + (f"; {where[-1]}" if where else "")

    def rows(self) -> list[list]:
        return [j.row() for j in self.jobs.values()]
