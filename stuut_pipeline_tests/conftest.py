"""Shared fixtures: an isolated data dir and Dagster instance per test, no real API; Postgres."""

from __future__ import annotations

import pytest

from stuut_pipeline import settings

# Server fixtures for every test folder (SeaweedFS S3 starts only when a test asks for it).
from stuut_pipeline_tests.servers.fixtures import location, s3_location, seaweedfs  # noqa: F401


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path, monkeypatch):
    """No test reads a real API, the project's data dir or its Dagster instance."""
    for name in settings.EXTERNAL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("STUUT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    (tmp_path / "dagster_home").mkdir()


@pytest.fixture(scope="session")
def postgres_server():
    """One throwaway PostgreSQL cluster for the session (see servers/postgres.py)."""
    from .servers.postgres import postgres_server as serve

    with serve(fsync=False) as server:
        yield server


@pytest.fixture
def postgres_url(postgres_server) -> str:
    """A fresh database on the session's cluster: its `postgresql+psycopg2://` URL."""
    import secrets

    return postgres_server.create_database(f"t_{secrets.token_hex(6)}")
