"""A real PostgreSQL server for tests: `initdb` + `pg_ctl` in a temporary folder on a free 127.0.0.1 port.

The server refuses to run as root, so under root it runs as the `postgres` system user (Debian's postgresql
package creates it). Connections are trusted (no password), which is what a throwaway test server needs."""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile

from tests.ports import free_port


def server_bin(name: str) -> str | None:
    """`initdb`/`pg_ctl` on the PATH, else in Debian's versioned folder."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


class PostgresServer:
    """One server; `stop` shuts it down fast and removes its folder."""

    def __init__(self):
        initdb, self.pg_ctl = server_bin("initdb"), server_bin("pg_ctl")
        if initdb is None or self.pg_ctl is None:
            raise RuntimeError("initdb/pg_ctl not found: install PostgreSQL's server (apt-get install postgresql)")
        self.dir = tempfile.mkdtemp(prefix="sqlstream-pg-")
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
            os.chmod(self.dir, 0o700)
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.port = free_port()
        self.data = os.path.join(self.dir, "data")
        self._run([initdb, "-D", self.data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"])
        self._run([self.pg_ctl, "-D", self.data, "-w", "-l", os.path.join(self.dir, "log"), "-o",
                   f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                   f"-c synchronous_commit=off -c full_page_writes=off", "start"])
        self.user, self.db = "postgres", "postgres"

    def _run(self, argv: list[str]) -> None:
        done = subprocess.run(self.as_user + argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              stdin=subprocess.DEVNULL)
        if done.returncode:
            raise RuntimeError(f"{' '.join(argv[:1])} failed:\n{done.stdout}")

    @property
    def url(self) -> str:
        """Flink's JDBC url for this server's default database."""
        return f"jdbc:postgresql://127.0.0.1:{self.port}/{self.db}"

    def connect(self):
        import psycopg
        return psycopg.connect(host="127.0.0.1", port=self.port, user=self.user, dbname=self.db, autocommit=True)

    def execute(self, sql: str, params=None) -> list[tuple]:
        """Run one statement; its rows (if it returns any)."""
        with self.connect() as conn:
            cur = conn.execute(sql, params)
            return cur.fetchall() if cur.description else []

    def stop(self) -> None:
        subprocess.run(self.as_user + [self.pg_ctl, "-D", self.data, "-m", "immediate", "stop"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        shutil.rmtree(self.dir, ignore_errors=True)
