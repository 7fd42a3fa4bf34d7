"""The throwaway Postgres helper: it serves on loopback and leaves nothing behind, even on error."""

from __future__ import annotations

import os

import psycopg2
import pytest

from ..servers.postgres import postgres_server


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it is gone once its state is Z or it vanished.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


def test_serves_password_auth_on_loopback_and_cleans_up_after_an_error() -> None:
    with pytest.raises(RuntimeError, match="boom"), postgres_server(fsync=False) as server:
        pid = int((server.data_dir / "postmaster.pid").read_text().split()[0])
        url = server.create_database("probe")
        assert url.startswith("postgresql+psycopg2://") and url.endswith(f":{server.port}/probe")
        assert server.password not in repr(server)
        with psycopg2.connect(server.dsn("probe")) as conn, conn.cursor() as cur:
            cur.execute("SHOW listen_addresses")
            assert cur.fetchone() == ("127.0.0.1",)
        with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
            psycopg2.connect(server.dsn("probe").replace(server.password, "wrong"))
        raise RuntimeError("boom")
    assert not _alive(pid)
    assert not server.root.exists()
