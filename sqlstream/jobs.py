"""Background jobs of an interactive session: INSERT INTO statements run in threads while the user types."""
from __future__ import annotations

import io
import threading
import time
import uuid
from dataclasses import dataclass, field

from sqlstream.plan import logical as L
from sqlstream.deep import deep_thread, run_deep
from sqlstream.core.errors import ValidationError
from sqlstream.runtime.job import Job, failure_text
from sqlstream.script import build_job, serve_metrics
from sqlstream.session import Session

ERROR_WIDTH = 60  # SHOW JOBS shortens a failure's reason to this; DESCRIBE JOB shows all of it


@dataclass
class JobInfo:
    id: str
    name: str
    job: Job
    thread: threading.Thread | None = None
    status: str = "RUNNING"
    started: float = field(default_factory=time.time)
    error: str | None = None
    log: io.StringIO = field(default_factory=io.StringIO)
    plans: list = field(default_factory=list)  # the INSERTs' plans, shown by DESCRIBE JOB and the web UI
    ended: float | None = None

    def row(self, full_error: bool = False) -> list:
        job = self.job
        counters = job.counters
        current = job.watermark()
        wm = None if current is None else time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(current / 1000))
        error = self.error
        if error is None and self.status == "RUNNING" and job.outages:
            error = "; ".join(job.outages)
        if error is not None and not full_error:
            first = error.splitlines()[0] if error.splitlines() else error
            error = first if len(first) <= ERROR_WIDTH and first == error else first[:ERROR_WIDTH - 3] + "..."
        return [self.id, self.name, self.status, time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.started)),
                job.plan.parallelism, counters.rows_in, counters.rows_out, wm, error]


class JobManager:
    """Starts INSERT jobs in background threads and tracks them for SHOW JOBS / DESCRIBE JOB / STOP JOB.

    `on_failure(info)` is called (from the job's thread) when a job fails, so the shell can say so at once."""

    def __init__(self, session: Session, on_failure=None):
        self.session = session
        self.jobs: dict[str, JobInfo] = {}
        self.on_failure = on_failure

    def submit(self, inserts: list[L.Sink]) -> JobInfo:
        job_id = uuid.uuid4().hex[:8]
        log = io.StringIO()
        job = run_deep(build_job, self.session, inserts, log=log)  # a deep plan recurses as deeply as planning
        info = JobInfo(job_id, job.name, job, log=log, plans=list(inserts))

        def run():
            try:
                serve_metrics(self.session, log)
                run_deep(job.run)  # setting up a deep plan recurses as deeply as planning
                info.status = job.status
            except Exception as e:  # shown by SHOW JOBS / DESCRIBE JOB and on the shell, never a traceback
                info.status, info.error = "FAILED", failure_text(e)
                if self.on_failure is not None:
                    self.on_failure(info)
            finally:
                info.ended = time.time()
        self.jobs[job_id] = info
        info.thread = deep_thread(run, name=f"job-{job_id}", daemon=True)
        return info

    def get(self, job_id: str) -> JobInfo:
        info = self.jobs.get(job_id)
        if info is None:
            raise ValidationError(f"Job '{job_id}' not found. Jobs of this session: {', '.join(self.jobs) or 'none'}")
        return info

    def stop(self, job_id: str, savepoint: bool = False) -> str:
        info = self.get(job_id)
        if info.status != "RUNNING":
            return f"Job '{job_id}' is already {info.status}"
        if not savepoint:
            info.job.cancel()
            info.thread.join(timeout=30)
            return f"Job '{job_id}' stopped"
        if not (self.session.config.get("execution.checkpointing.dir") or
                self.session.config.get("execution.checkpointing.savepoint-dir")):
            raise ValidationError("Savepoint directory is not configured, can't stop job with savepoint: SET "
                                  "'execution.checkpointing.dir' before starting a job to take savepoints of it")
        req = info.job.stop_with_savepoint()
        while not req.done.wait(0.05):
            if not info.thread.is_alive():
                raise ValidationError(f"Job '{job_id}' ended ({info.status}) before taking the savepoint")
        if req.error:
            raise ValidationError(f"Job '{job_id}' was not stopped: {req.error}")
        info.thread.join(timeout=30)
        return f"Job '{job_id}' stopped; savepoint written to {req.location}"

    def stop_all(self) -> list[str]:
        """Stop every running job (the session is ending); one line per job saying what was stopped and how its
        progress can be kept."""
        lines = []
        for info in self.jobs.values():
            if info.status == "RUNNING" and info.thread.is_alive():
                coordinator = info.job.coordinator
                if coordinator is not None:
                    keep = (f"running it again resumes from its last checkpoint in {coordinator.storage.root}; "
                            f"STOP JOB '{info.id}' WITH SAVEPOINT before quitting keeps its progress up to now")
                else:
                    keep = ("it does not checkpoint: to keep a job's progress, SET 'execution.checkpointing.dir' "
                            "before starting it; to keep a job running, start it with `sqlstream run`")
                lines.append(f"Stopping job '{info.id}' ({info.name}): {keep}")
                info.job.cancel()
        for info in self.jobs.values():
            info.thread.join(timeout=30)
        return lines

    def describe(self, job_id: str) -> list:
        return self.get(job_id).row(full_error=True)

    def details(self, job_id: str) -> str:
        """DESCRIBE JOB's text after the row: plan, operator metrics, last checkpoint, the whole error."""
        from sqlstream.job_status import describe_text
        return describe_text(self.get(job_id))

    def rows(self) -> list[list]:
        return [j.row() for j in self.jobs.values()]
