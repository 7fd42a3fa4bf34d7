"""A throwaway PostgreSQL cluster on a free loopback port, for tests and benchmarks.

`initdb` into a fresh temp dir (as the `postgres` OS user when running as root: Postgres refuses
to run as root), `pg_ctl start` on 127.0.0.1 with its Unix socket inside that dir, password auth
over TCP, and `pg_ctl stop -m immediate` on exit, also when the body raised. Debian installs the
binaries in /usr/lib/postgresql/<major>/bin, off PATH; both places are searched.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .ports import free_port

DEBIAN_PG_ROOT = Path("/usr/lib/postgresql")
USER = "stuut"


class PostgresUnavailableError(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


def find_pg_bin() -> Path:
    """The directory holding `initdb`, `pg_ctl` and `postgres` (PATH first, then Debian's)."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl") and shutil.which("postgres"):
        return Path(on_path).resolve().parent
    candidates = sorted(
        (p for p in DEBIAN_PG_ROOT.glob("*/bin") if (p / "initdb").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if candidates:
        return candidates[-1]
    raise PostgresUnavailableError(
        "PostgreSQL server binaries not found on PATH nor in /usr/lib/postgresql/*/bin:"
        " `make postgres` (or `apt-get install postgresql`) installs them"
    )


@dataclass
class PostgresServer:
    """A running cluster: connect with `url(db)` (a `postgresql+psycopg2://` URL)."""

    root: Path
    port: int
    password: str = field(repr=False)
    bin_dir: Path
    as_user: str | None

    @property
    def data_dir(self) -> Path:
        """The cluster's data directory."""
        return self.root / "data"

    @property
    def log_file(self) -> Path:
        """The server log (`pg_ctl -l`)."""
        return self.root / "server.log"

    def url(self, db: str = "postgres", *, driver: str = "postgresql+psycopg2") -> str:
        """The SQLAlchemy URL of database `db` (with the password in it: do not log it)."""
        return f"{driver}://{USER}:{self.password}@127.0.0.1:{self.port}/{db}"

    def dsn(self, db: str = "postgres") -> str:
        """The libpq DSN of database `db`, for psycopg2.connect."""
        return f"host=127.0.0.1 port={self.port} user={USER} password={self.password} dbname={db}"

    def create_database(self, name: str) -> str:
        """Create database `name`; return its URL."""
        import psycopg2
        from psycopg2 import sql

        conn = psycopg2.connect(self.dsn())
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        finally:
            conn.close()
        return self.url(name)

    def stop(self) -> None:
        """`pg_ctl stop -m immediate`; SIGKILL the postmaster if that did not end it."""
        _run(
            [str(self.bin_dir / "pg_ctl"), "stop", "-D", str(self.data_dir), "-m", "immediate"],
            self.as_user,
            check=False,
        )
        pid_file = self.data_dir / "postmaster.pid"
        if pid_file.exists():
            with contextlib.suppress(ValueError, OSError):
                os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)


def _run(argv: list[str], as_user: str | None, *, check: bool = True, **kw):
    extra = {"user": as_user, "group": as_user, "extra_groups": []} if as_user else {}
    return subprocess.run(
        argv, check=check, capture_output=True, text=True, timeout=120, **extra, **kw
    )


def start_postgres(*, fsync: bool = True) -> PostgresServer:
    """initdb a new cluster in a temp dir and start it on a free 127.0.0.1 port.

    `fsync=False` trades crash safety for speed (fine for a cluster thrown away after a test).
    """
    bin_dir = find_pg_bin()
    as_user = "postgres" if os.geteuid() == 0 else None
    # Not under pytest's tmp_path: its parent is 0700 root, which the postgres user cannot enter.
    root = Path(tempfile.mkdtemp(prefix="stuut-pg-"))
    password = secrets.token_hex(16)
    pwfile = root / "pwfile"
    pwfile.write_text(password + "\n")
    if as_user:
        shutil.chown(root, as_user, as_user)
        shutil.chown(pwfile, as_user, as_user)
    server = PostgresServer(root, free_port(), password, bin_dir, as_user)
    try:
        _run(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(server.data_dir),
                "-U",
                USER,
                f"--pwfile={pwfile}",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            as_user,
        )
        pwfile.unlink()
        options = f"-p {server.port} -c listen_addresses=127.0.0.1 -k {root}" + (
            "" if fsync else " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        _run(
            [
                str(bin_dir / "pg_ctl"),
                "start",
                "-D",
                str(server.data_dir),
                "-l",
                str(server.log_file),
                "-w",
                "-t",
                "60",
                "-o",
                options,
            ],
            as_user,
        )
    except BaseException as exc:
        log = server.log_file.read_text() if server.log_file.exists() else ""
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
        if isinstance(exc, subprocess.CalledProcessError):
            raise RuntimeError(
                f"PostgreSQL did not start: {exc.stderr or exc.stdout}\n{log[-2000:]}"
            ) from None
        raise
    return server


@contextlib.contextmanager
def postgres_server(*, fsync: bool = True) -> Iterator[PostgresServer]:
    """A running throwaway cluster, stopped and deleted on exit (also on failure)."""
    server = start_postgres(fsync=fsync)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)
