"""`stuut-pipeline run` on an instance stored in Postgres (deploy/dagster.yaml + DAGSTER_PG_URL)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest
from dagster import DagsterEventType

from stuut_pipeline.settings import PROJECT_ROOT, SimulatorSettings, embedded_simulator

DEPLOY_YAML = PROJECT_ROOT / "deploy" / "dagster.yaml"
CLI = str(Path(sys.executable).with_name("stuut-pipeline"))
SIM = SimulatorSettings(calls=100, workflows=2)


@pytest.fixture
def pg_env(tmp_path, postgres_url) -> dict[str, str]:
    """The environment of a `stuut-pipeline` process on a Postgres-backed instance."""
    home = tmp_path / "pg_home"
    home.mkdir()
    shutil.copy(DEPLOY_YAML, home / "dagster.yaml")
    return dict(
        os.environ,
        DAGSTER_HOME=str(home),
        DAGSTER_PG_URL=postgres_url,
        STUUT_DATA_DIR=str(tmp_path / "data"),
        STUUT_AUTOMATION_DEFAULT="stopped",
        STUUT_SIM_CALLS=str(SIM.calls),
        STUUT_SIM_WORKFLOWS=str(SIM.workflows),
    )


def _cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CLI, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300
    )


def test_run_records_the_run_and_its_events_in_postgres(pg_env, postgres_server, tmp_path) -> None:
    workflow = embedded_simulator(SIM).store.workflow_ids()[0]
    cwd = tmp_path / "cwd"
    cwd.mkdir()

    run = _cli(["run", "--workflow", workflow], pg_env, cwd)
    assert run.returncode == 0, run.stdout + run.stderr
    summary = next(line for line in run.stdout.splitlines() if line.startswith(f"{workflow}: ok"))
    rows = summary.split("rows: ")[1].split(";")[0].split(", ")
    checks_passed = int(summary.split("checks: ")[1].split(" passed")[0])
    assert postgres_server.password not in run.stdout + run.stderr

    db = pg_env["DAGSTER_PG_URL"].rsplit("/", 1)[1]
    with psycopg2.connect(postgres_server.dsn(db)) as conn, conn.cursor() as cur:
        cur.execute("SELECT run_id, pipeline_name, status, partition FROM runs")
        runs = cur.fetchall()
        assert len(runs) == 1
        run_id, job_name, status, partition = runs[0]
        assert (job_name, status, partition) == ("stuut_pipeline_job", "SUCCESS", workflow)
        assert run_id in run.stdout
        cur.execute(
            "SELECT dagster_event_type, count(*) FROM event_logs WHERE run_id = %s GROUP BY 1",
            (run_id,),
        )
        events = dict(cur.fetchall())
        # The event log keys the legacy names (RUN_SUCCESS is stored as PIPELINE_SUCCESS).
        assert events[DagsterEventType.RUN_SUCCESS.value] == 1
        # every asset with rows, plus kpi_report (a page: no row count in the summary)
        assert events[DagsterEventType.ASSET_MATERIALIZATION.value] == len(rows) + 1
        assert events[DagsterEventType.ASSET_CHECK_EVALUATION.value] == checks_passed
        cur.execute(
            "SELECT partition FROM dynamic_partitions WHERE partitions_def_name = 'workflow'"
        )
        assert [r[0] for r in cur.fetchall()] == [workflow]

    # Nothing went to a local sqlite instance beside the yaml.
    home = Path(pg_env["DAGSTER_HOME"])
    assert not list(home.rglob("*.db")), sorted(p.name for p in home.rglob("*"))

    listed = _cli(["partitions", "list"], pg_env, cwd)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split() == [workflow]


def test_the_instance_refuses_to_start_without_the_url(pg_env, tmp_path) -> None:
    env = {k: v for k, v in pg_env.items() if k != "DAGSTER_PG_URL"}
    listed = _cli(["partitions", "list"], env, tmp_path)
    assert listed.returncode != 0
    assert "DAGSTER_PG_URL" in listed.stderr
