"""The instance's pooled Postgres storage (`stuut_pipeline.instance.postgres`, deploy/dagster.yaml):
a run opens a handful of connections instead of hundreds, and a forked child never shares its
parent's."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psycopg2
import pytest
import sqlalchemy
from dagster import DagsterInstance

from stuut_pipeline.instance.postgres import PooledPostgresStorage
from stuut_pipeline.settings import PROJECT_ROOT, SimulatorSettings, embedded_simulator

DEPLOY_YAML = PROJECT_ROOT / "deploy" / "dagster.yaml"
CLI = str(Path(sys.executable).with_name("stuut-pipeline"))
SIM = SimulatorSettings(calls=100, workflows=2)


def _sessions(server, db: str) -> int:
    """Connections ever established to `db` (the cumulative statistics, flushed first)."""
    time.sleep(1.2)  # backends flush their statistics at most once a second
    with psycopg2.connect(server.dsn(db)) as conn, conn.cursor() as cur:
        cur.execute("SELECT pg_stat_clear_snapshot()")
        cur.execute("SELECT sessions FROM pg_stat_database WHERE datname = %s", (db,))
        return int(cur.fetchone()[0])


@pytest.fixture
def home(tmp_path, postgres_url, monkeypatch) -> Path:
    home = tmp_path / "pg_home"
    home.mkdir()
    shutil.copy(DEPLOY_YAML, home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("DAGSTER_PG_URL", postgres_url)
    return home


def test_deploy_instance_uses_the_pooled_storage(home) -> None:
    with DagsterInstance.get() as instance:
        storage = instance.get_ref().storage
        assert isinstance(storage, PooledPostgresStorage)
        for part in (storage.run_storage, storage.event_log_storage, storage.schedule_storage):
            assert isinstance(part._engine.pool, sqlalchemy.pool.QueuePool)
        storage.dispose()


def test_a_whole_run_opens_a_handful_of_connections(
    home, postgres_server, postgres_url, tmp_path
) -> None:
    db = postgres_url.rsplit("/", 1)[1]
    workflow = embedded_simulator(SIM).store.workflow_ids()[0]
    env = dict(
        os.environ,
        STUUT_DATA_DIR=str(tmp_path / "data"),
        STUUT_AUTOMATION_DEFAULT="stopped",
        STUUT_SIM_CALLS=str(SIM.calls),
        STUUT_SIM_WORKFLOWS=str(SIM.workflows),
    )
    warm = subprocess.run(
        [CLI, "partitions", "add", workflow], env=env, capture_output=True, text=True
    )
    assert warm.returncode == 0, warm.stderr  # the schema is created before counting
    before = _sessions(postgres_server, db)
    run = subprocess.run(
        [CLI, "run", "--workflow", workflow], env=env, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stdout + run.stderr
    opened = _sessions(postgres_server, db) - before - 1  # our own reading session
    with psycopg2.connect(postgres_server.dsn(db)) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM event_logs")
        events = cur.fetchone()[0]
    # dagster-postgres's own engines (NullPool) open ~470 for such a run: one per statement
    assert events > 100
    assert 0 < opened <= 30, f"{opened} connections for {events} events"


def _child_backend_pid(instance, queue) -> None:
    with instance._run_storage._engine.connect() as conn:
        queue.put(conn.exec_driver_sql("SELECT pg_backend_pid()").scalar())
    instance._run_storage._engine.dispose()


def test_a_forked_child_opens_its_own_connections(home) -> None:
    with DagsterInstance.get() as instance:
        engine = instance._run_storage._engine
        with engine.connect() as conn:
            parent_pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        ctx = multiprocessing.get_context("fork")
        queue = ctx.Queue()
        child = ctx.Process(target=_child_backend_pid, args=(instance, queue))
        child.start()
        child_pid = queue.get(timeout=60)
        child.join(timeout=60)
        assert child.exitcode == 0
        assert child_pid != parent_pid  # the child did not take the parent's pooled connection
        with engine.connect() as conn:  # and the parent's is intact after the child exited
            assert conn.exec_driver_sql("SELECT pg_backend_pid()").scalar() == parent_pid
        assert instance.get_runs() == []
