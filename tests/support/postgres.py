"""A real PostgreSQL server (Debian's ``postgresql`` package) on a free loopback port, in a
temporary folder, for the tests of Dagster's Postgres storage.

Debian's server refuses to run as root: as root, the folder is given to the ``postgres`` user
and every server command runs through ``runuser``. Host connections need a password (SCRAM), so
the tests prove that the password reaches Dagster through the environment only.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from support.smtp import free_port

SUPERUSER = "postgres"


@dataclass(frozen=True)
class Postgres:
    port: int
    user: str
    password: str
    database: str

    @property
    def url(self) -> str:
        """The settings' dagster.postgres_url: no password in it."""
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{self.database}"

    def new_database(self, name: str) -> Postgres:
        """A new, empty database on the same server (each test its own Dagster storage)."""
        con = self.connect()
        try:
            con.autocommit = True
            with con.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{name}"')
        finally:
            con.close()
        return replace(self, database=name)

    def connect(self):
        import psycopg2

        return psycopg2.connect(
            host="127.0.0.1",
            port=self.port,
            user=self.user,
            password=self.password,
            dbname=self.database,
        )


def server_bin() -> Path | None:
    """The newest installed server's bin folder, or None (``apt-get install postgresql``)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", SUPERUSER, "--", *command]
    return command


def _give_to_server_user(*paths: Path) -> None:
    if os.geteuid() == 0:
        for path in paths:
            shutil.chown(path, SUPERUSER, SUPERUSER)


@contextmanager
def running_postgres(password: str, database: str = "dagster") -> Iterator[Postgres]:
    """initdb in a new temporary folder, start on 127.0.0.1:<free port>, create ``database``;
    stop the server and remove the folder after.

    The folder is made directly under the system's temporary folder, not in pytest's tmp_path:
    the server user must be able to reach it, and pytest's folders are private to root."""
    folder = Path(tempfile.mkdtemp(prefix="ratedeck-postgres-"))
    try:
        with _server(folder, password, database) as server:
            yield server
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def _server(folder: Path, password: str, database: str) -> Iterator[Postgres]:
    bin_dir = server_bin()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL is not installed: apt-get install -y postgresql")
    data, sockets, pwfile = folder / "data", folder / "sockets", folder / "pwfile"
    sockets.mkdir()
    pwfile.write_text(password + "\n", encoding="utf-8")
    folder.chmod(0o755)
    _give_to_server_user(folder, sockets, pwfile)
    _run(
        [
            str(bin_dir / "initdb"),
            "-D",
            str(data),
            "-U",
            SUPERUSER,
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            f"--pwfile={pwfile}",
            "--no-sync",
        ]
    )
    port = free_port()
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
    log = folder / "server.log"
    pg_ctl = str(bin_dir / "pg_ctl")
    _run([pg_ctl, "-D", str(data), "-o", options, "-l", str(log), "-w", "start"])
    try:
        _run([str(bin_dir / "createdb"), "-h", str(sockets), "-p", str(port), database])
        yield Postgres(port=port, user=SUPERUSER, password=password, database=database)
    finally:
        _run([pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"])


def _run(command: list[str]) -> None:
    result = subprocess.run(
        _as_server_user(command), capture_output=True, text=True, check=False, timeout=120
    )
    if result.returncode != 0:
        raise RuntimeError(f"{Path(command[0]).name} failed: {result.stderr.strip()[-500:]}")
