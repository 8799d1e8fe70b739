"""A `sqlstream run` process under test. Its stdout and stderr are read as they arrive, so a test waits for
what the job has observably done (a line it printed, a checkpoint it wrote, rows it produced) and never for
a span of wall-clock time: on a loaded machine a job is slower, not wrong."""
from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parent.parent
PATIENCE_S = 300.0  # the bound of every wait: only a stuck job takes this long, however busy the machine
POLL_S = 0.005


def wait_until(condition: Callable[[], bool], what: str, timeout: float = PATIENCE_S,
               alive: Callable[[], bool] = lambda: True, describe: Callable[[], str] = lambda: "") -> None:
    """Poll `condition` until it holds; fail once `alive` says the waited-on process has gone, or after
    `timeout` seconds, naming `what` was awaited."""
    deadline = time.monotonic() + timeout
    while not condition():
        if not alive():
            if condition():
                return
            raise AssertionError(f"gone before {what}{describe()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f} s{describe()}")
        time.sleep(POLL_S)


class CliJob:
    """`python -m sqlstream.cli run JOB ARGS..` with its output collected line by line in the background."""

    def __init__(self, job: Path, *args: str):
        self.proc = subprocess.Popen([sys.executable, "-m", "sqlstream.cli", "run", str(job), *args], cwd=REPO,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        self._out: list[str] = []
        self._err: list[str] = []
        self._readers = [threading.Thread(target=self._drain, args=(s, buf), daemon=True)
                         for s, buf in ((self.proc.stdout, self._out), (self.proc.stderr, self._err))]
        for t in self._readers:
            t.start()

    @staticmethod
    def _drain(stream, buf: list[str]) -> None:
        for line in stream:
            buf.append(line)
        stream.close()

    @property
    def out(self) -> str:
        return "".join(self._out)

    @property
    def err(self) -> str:
        return "".join(self._err)

    def exited(self) -> bool:
        return self.proc.poll() is not None

    def alive(self) -> bool:
        """False once the process has exited and everything it wrote has been read."""
        if self.proc.poll() is None:
            return True
        for t in self._readers:
            t.join()
        return False

    def _describe(self) -> str:
        state = "running" if self.proc.poll() is None else f"exit code {self.proc.returncode}"
        return f" (job {state}); stderr:\n{self.err}"

    def wait_for(self, condition: Callable[[], bool], what: str, timeout: float = PATIENCE_S) -> None:
        """Wait until `condition` holds; fail if the job exits first."""
        wait_until(condition, what, timeout, self.alive, self._describe)

    def wait_for_stderr(self, text: str) -> None:
        self.wait_for(lambda: text in self.err, f"{text!r} on stderr")

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def kill(self) -> None:
        self.signal(signal.SIGKILL)

    def freeze(self) -> bool:
        """SIGSTOP, returning once every thread of the job has stopped (False: the job had already exited), so
        that nothing it does can happen between what a test observes next and what it does then (a kill, or
        `thaw`)."""
        self.signal(signal.SIGSTOP)
        tasks = Path(f"/proc/{self.proc.pid}/task")

        def stopped() -> bool:
            if self.exited():
                return True
            try:
                states = [(t / "stat").read_text().rsplit(")", 1)[1].split()[0] for t in tasks.iterdir()]
            except FileNotFoundError:
                return False  # a thread ended while being listed: look again
            return all(st in "tTZX" for st in states)
        wait_until(stopped, "the job stopped (SIGSTOP)", describe=self._describe)
        return not self.exited()

    def thaw(self) -> None:
        self.signal(signal.SIGCONT)

    def request_savepoint(self, *args: str) -> subprocess.CompletedProcess:
        """`sqlstream savepoint PID ARGS` sent while the job is frozen, thawed once the request is pending in it:
        the command's start-up takes seconds on a loaded machine, and a job that may reach its end meanwhile
        would answer that no job is running."""
        assert self.freeze(), f"the job ended before the savepoint request{self._describe()}"
        sig = signal.SIGUSR2 if "--stop" in args else signal.SIGUSR1
        try:
            command = subprocess.Popen([sys.executable, "-m", "sqlstream.cli", "savepoint", str(self.proc.pid),
                                        "--timeout", str(PATIENCE_S), *args], cwd=REPO, stdin=subprocess.DEVNULL,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            wait_until(lambda: signal_pending(self.proc.pid, sig) or command.poll() is not None,
                       f"the savepoint request ({sig.name}) pending in the job")
        finally:
            self.thaw()
        out, err = command.communicate(timeout=PATIENCE_S * 2)
        return subprocess.CompletedProcess(command.args, command.returncode, out, err)

    def finish(self, timeout: float = PATIENCE_S) -> tuple[int, str, str]:
        """Wait for the job to exit: (return code, stdout, stderr)."""
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            self.proc.wait()
            raise AssertionError(f"the job did not exit within {timeout:.0f} s; stderr:\n{self.err}") from None
        for t in self._readers:
            t.join()
        return self.proc.returncode, self.out, self.err


def signal_pending(pid: int, sig: int) -> bool:
    """Whether signal `sig` was sent to process `pid` and not yet delivered (held while the process is stopped)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    pending = next(line.split()[1] for line in status.splitlines() if line.startswith("ShdPnd:"))
    return bool(int(pending, 16) >> (sig - 1) & 1)


def latest_checkpoint_id(checkpoints: Path) -> int:
    """The id of the newest completed checkpoint under a job's `execution.checkpointing.dir` (0: none yet)."""
    from sqlstream.runtime.checkpoint import CheckpointStorage
    best = 0
    for root in checkpoints.iterdir() if checkpoints.exists() else []:
        latest = CheckpointStorage(str(root)).latest()
        if latest is not None:
            best = max(best, int(Path(latest).name[len("chk-"):]))
    return best
