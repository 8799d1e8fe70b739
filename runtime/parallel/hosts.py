"""Where subtasks run: worker processes on this machine (a Ray actor host runs the same `SubtaskUnit`s).

A host has three calls: `start(unit)` -> (channel, handle), `stop(handle)`, `describe_end(handle)`. Local workers
are forked from the job's process, so starting one costs milliseconds and imports nothing (a fork server or spawn
would import the user's main module again and pay the interpreter's start-up per worker); the region planner has
checked that the unit pickles, as a remote host needs.
"""
from __future__ import annotations

import multiprocessing as mp

from sqlstream.runtime.parallel.channel import PipeChannel
from sqlstream.runtime.parallel.subtask import SubtaskUnit, worker_main


def _context():
    return mp.get_context("fork")


class LocalProcessHost:
    """Each subtask in a worker process of its own, connected by a duplex pipe."""

    def start(self, unit: SubtaskUnit):
        ctx = _context()
        ours, theirs = ctx.Pipe(duplex=True)
        process = ctx.Process(target=worker_main, args=(unit, theirs), daemon=True,
                              name=f"sqlstream-subtask-{unit.index}")
        process.start()
        theirs.close()  # the worker's end lives only in the worker: its death is an EOF here
        return PipeChannel(ours), process

    def stop(self, process) -> None:
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
            process.join()

    def describe_end(self, process) -> str:
        process.join(timeout=1)
        code = process.exitcode
        if code is None:
            return f"{process.pid} stopped answering"
        if code < 0:
            import signal
            try:
                return f"{process.pid} was killed by {signal.Signals(-code).name}"
            except ValueError:
                return f"{process.pid} was killed by signal {-code}"
        return f"{process.pid} exited with code {code}"
