"""What the Dagster instance costs a run: sqlite (dagster_home/) vs Postgres (deploy/dagster.yaml).

    .venv/bin/python benchmarks/instance_cost.py [--calls 600] [--workflows 3]

Needs the `deploy` extra and PostgreSQL's server binaries (`make deploy-deps postgres`). For
each backend: a fresh temp instance (Postgres: a throwaway cluster, default durability settings,
via the tests' server helper), then `stuut-pipeline run --workflow X` twice as subprocesses on the
embedded simulator: "cold" (the instance's schema is created on first use) and "warm". Prints the
wall seconds of each process (imports included), the event-log rows the run wrote and, on
Postgres, the connections it opened. "postgres" is deploy/dagster.yaml (the pooled storage of
`stuut_pipeline.instance.postgres`); "postgres-stock" the same file with dagster-postgres's own
`storage: postgres:` block (a connection per statement).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stuut_pipeline_tests.servers.postgres import postgres_server  # noqa: E402

CLI = str(Path(sys.executable).with_name("stuut-pipeline"))


def sessions(server) -> int | None:
    """Connections ever established to the `dagster` database of `server` (None: sqlite)."""
    if server is None:
        return None
    import psycopg2

    time.sleep(1.2)  # backends flush their statistics at most once a second
    with psycopg2.connect(server.dsn("dagster")) as conn, conn.cursor() as cur:
        cur.execute("SELECT sessions FROM pg_stat_database WHERE datname = 'dagster'")
        return int(cur.fetchone()[0]) - 1  # less this reading session


@contextlib.contextmanager
def instance_home(backend: str, work: Path) -> Iterator[tuple[dict[str, str], object]]:
    """A fresh DAGSTER_HOME for `backend` ("sqlite", "postgres" or "postgres-stock"): the env
    to run with, and the Postgres server (None for sqlite)."""
    home = work / f"home-{backend}"
    home.mkdir()
    if backend == "sqlite":
        shutil.copy(ROOT / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
        yield {"DAGSTER_HOME": str(home)}, None
        return
    config = (ROOT / "deploy" / "dagster.yaml").read_text()
    if backend == "postgres-stock":
        config = re.sub(
            r"storage:\n  custom:\n.*?\n(?=\S)",
            "storage:\n  postgres:\n    postgres_url:\n      env: DAGSTER_PG_URL\n\n",
            config,
            flags=re.S,
        )
        assert "PooledPostgresStorage" not in config
    (home / "dagster.yaml").write_text(config)
    with postgres_server() as server:
        url = server.create_database("dagster")
        yield {"DAGSTER_HOME": str(home), "DAGSTER_PG_URL": url}, server


def event_rows(env: dict[str, str], run_id: str) -> int:
    """The event-log records of `run_id`, read back through the instance."""
    import dagster as dg

    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
            return len(instance.all_logs(run_id))
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run_once(env: dict[str, str], workflow: str, cwd: Path) -> tuple[float, str]:
    """One `stuut-pipeline run --workflow` process: (wall seconds, run id)."""
    started = time.perf_counter()
    proc = subprocess.run(
        [CLI, "run", "--workflow", workflow], env=env, cwd=cwd, capture_output=True, text=True
    )
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"run failed:\n{proc.stdout}\n{proc.stderr}")
    line = next(x for x in proc.stdout.splitlines() if x.startswith(f"{workflow}: "))
    return wall, line.rsplit(" run ", 1)[1].strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=600, help="simulated calls (all workflows)")
    parser.add_argument("--workflows", type=int, default=3)
    args = parser.parse_args()

    from stuut_pipeline.settings import SimulatorSettings, embedded_simulator

    sim = SimulatorSettings(calls=args.calls, workflows=args.workflows)
    workflow = embedded_simulator(sim).store.workflow_ids()[0]
    print(f"workflow {workflow} of {args.calls} simulated calls / {args.workflows} workflows")
    print(f"{'backend':<15} {'run':<5} {'wall s':>7} {'event rows':>11} {'connections':>12}")
    with tempfile.TemporaryDirectory(prefix="stuut-instance-cost-") as tmp:
        work = Path(tmp)
        for backend in ("sqlite", "postgres", "postgres-stock"):
            with instance_home(backend, work) as (instance_env, server):
                env = dict(
                    os.environ,
                    **instance_env,
                    STUUT_DATA_DIR=str(work / f"data-{backend}"),
                    STUUT_AUTOMATION_DEFAULT="stopped",
                    STUUT_SIM_CALLS=str(sim.calls),
                    STUUT_SIM_WORKFLOWS=str(sim.workflows),
                )
                for label in ("cold", "warm"):
                    before = sessions(server)
                    wall, run_id = run_once(env, workflow, work)
                    opened = "-" if before is None else str(sessions(server) - before - 1)
                    rows = event_rows(instance_env, run_id)
                    print(f"{backend:<15} {label:<5} {wall:>7.2f} {rows:>11} {opened:>12}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
