"""A real PostgreSQL server for the tests: ``initdb`` in a temporary folder, started on a unix socket.

Debian's ``postgresql`` package provides the binaries (``make test`` installs it). The
server listens on no TCP port at all (``listen_addresses=''``), only on a socket in
its own folder, so parallel test workers never collide. PostgreSQL refuses to run as
root, so when the tests run as root (CI) the cluster is owned by the ``postgres``
user that the Debian package creates.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path


def bindir() -> Path | None:
    """The folder of initdb/pg_ctl: on PATH, or Debian's /usr/lib/postgresql/N/bin."""
    found = shutil.which("initdb")
    if found:
        return Path(os.path.realpath(found)).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(versions[-1]).parent if versions else None


class Cluster:
    """One throwaway PostgreSQL cluster; ``url`` is a libpq URI to its database ``test``."""

    def __init__(self, fsync: bool = False) -> None:
        """``fsync`` False (tests): fast and unsafe; True (benchmarks): as in production."""
        self.fsync = fsync
        bin_ = bindir()
        if bin_ is None:
            raise RuntimeError(
                "PostgreSQL is not installed: run `make test` (it installs Debian's postgresql)"
            )
        self.bin = bin_
        self.root = Path(tempfile.mkdtemp(prefix="kiosk-pg-"))
        self.data = self.root / "data"
        self.sock = self.root / "sock"
        self.sock.mkdir()
        self.user: str | None = None
        if os.geteuid() == 0:
            self.user = "postgres"
            pw = pwd.getpwnam(self.user)
            for p in (self.root, self.sock):
                os.chown(p, pw.pw_uid, pw.pw_gid)
        self._run(
            [
                str(self.bin / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "kiosk",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ]
        )
        self.start()
        self._run([str(self.bin / "createdb"), "-h", str(self.sock), "-U", "kiosk", "test"])

    def _run(self, cmd: list[str]) -> None:
        if self.user:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    @property
    def url(self) -> str:
        return f"postgresql://kiosk@/test?host={self.sock}"

    def start(self) -> None:
        fsync = "on" if self.fsync else "off"
        opts = f"-k {self.sock} -c listen_addresses='' -c fsync={fsync} -c max_connections=200"
        self._run(
            [
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.root / "log"),
                "-o",
                opts,
                "-w",
                "start",
            ]
        )

    def stop(self, mode: str = "fast") -> None:
        self._run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"])

    def restart(self, down_seconds: float = 0.0) -> None:
        """Stop the server (dropping every connection), wait, start it again."""
        self.stop()
        time.sleep(down_seconds)
        self.start()

    def destroy(self) -> None:
        try:
            self.stop("immediate")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.root, ignore_errors=True)
