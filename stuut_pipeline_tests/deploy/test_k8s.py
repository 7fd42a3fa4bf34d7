"""deploy/Dockerfile and deploy/helm/values.yaml: chart keys, and the image's CMD really serves."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from stuut_pipeline.settings import PROJECT_ROOT

from ..servers.ports import free_port

DOCKERFILE = PROJECT_ROOT / "deploy" / "Dockerfile"
VALUES = PROJECT_ROOT / "deploy" / "helm" / "values.yaml"
VENV_BIN = Path(sys.executable).parent

# Key paths of the dagster/dagster chart that deploy/helm/values.yaml may set, checked by hand in
# dagster-io/dagster helm/dagster/values.schema.json (definitions Webserver, UserDeployments,
# UserDeployment, PostgreSQL, Global, RunLauncher, K8sRunLauncherConfig, RunK8sConfig,
# ComputeLogManager, S3ComputeLogManager, Daemon, Telemetry) and, for `concurrency` and
# `dagsterDaemon.runRetries`, helm/dagster/schema/schema/charts/dagster/subschema/concurrency.py
# and daemon.py (the pydantic models the schema is generated from; `runs.tagConcurrencyLimits`
# is a list of {key, value, limit}), and `dagsterDaemon.runMonitoring` in the keys that
# templates/configmap-instance.yaml renders. `[]` is a list item.
CHART_KEYS = frozenset(
    """
    dagsterWebserver dagsterWebserver.replicaCount dagsterWebserver.envSecrets
    dagster-user-deployments dagster-user-deployments.enabled
    dagster-user-deployments.deployments dagster-user-deployments.deployments[]
    dagster-user-deployments.deployments[].name dagster-user-deployments.deployments[].image
    dagster-user-deployments.deployments[].image.repository
    dagster-user-deployments.deployments[].image.tag
    dagster-user-deployments.deployments[].image.pullPolicy
    dagster-user-deployments.deployments[].dagsterApiGrpcArgs
    dagster-user-deployments.deployments[].port dagster-user-deployments.deployments[].env
    dagster-user-deployments.deployments[].envSecrets
    dagster-user-deployments.deployments[].resources
    dagster-user-deployments.deployments[].includeConfigInLaunchedRuns
    dagster-user-deployments.deployments[].includeConfigInLaunchedRuns.enabled
    postgresql postgresql.enabled postgresql.postgresqlHost postgresql.postgresqlUsername
    postgresql.postgresqlDatabase postgresql.postgresqlScheme postgresql.postgresqlParams
    postgresql.service postgresql.service.port
    generatePostgresqlPasswordSecret global global.postgresqlSecretName
    runLauncher runLauncher.type runLauncher.config runLauncher.config.k8sRunLauncher
    runLauncher.config.k8sRunLauncher.envSecrets runLauncher.config.k8sRunLauncher.resources
    runLauncher.config.k8sRunLauncher.runK8sConfig
    runLauncher.config.k8sRunLauncher.runK8sConfig.containerConfig
    runLauncher.config.k8sRunLauncher.runK8sConfig.podSpecConfig
    runLauncher.config.k8sRunLauncher.runK8sConfig.jobSpecConfig
    computeLogManager computeLogManager.type computeLogManager.config
    computeLogManager.config.s3ComputeLogManager
    computeLogManager.config.s3ComputeLogManager.bucket
    computeLogManager.config.s3ComputeLogManager.prefix
    computeLogManager.config.s3ComputeLogManager.endpointUrl
    computeLogManager.config.s3ComputeLogManager.region
    concurrency concurrency.enabled concurrency.pools concurrency.pools.defaultLimit
    concurrency.pools.granularity concurrency.runs concurrency.runs.maxConcurrentRuns
    concurrency.runs.tagConcurrencyLimits concurrency.runs.tagConcurrencyLimits[]
    concurrency.runs.tagConcurrencyLimits[].key concurrency.runs.tagConcurrencyLimits[].value
    concurrency.runs.tagConcurrencyLimits[].value.applyLimitPerUniqueValue
    concurrency.runs.tagConcurrencyLimits[].limit
    dagsterDaemon dagsterDaemon.envSecrets dagsterDaemon.runRetries
    dagsterDaemon.runRetries.enabled dagsterDaemon.runRetries.maxRetries
    dagsterDaemon.runRetries.retryOnAssetOrOpFailure
    dagsterDaemon.runMonitoring dagsterDaemon.runMonitoring.enabled
    dagsterDaemon.runMonitoring.startTimeoutSeconds dagsterDaemon.runMonitoring.pollIntervalSeconds
    telemetry telemetry.enabled
    """.split()  # noqa: SIM905 (one path per word reads better than a 60-item literal)
)
# Values the chart passes through to Kubernetes or the environment as they are (free-form).
OPAQUE = {"env", "envSecrets", "resources", "postgresqlParams", "containerConfig",
          "podSpecConfig", "jobSpecConfig", "dagsterApiGrpcArgs"}  # fmt: skip


def _paths(node: object, prefix: str = "") -> list[str]:
    """Every key path set in `node`, not descending into OPAQUE values."""
    out = []
    if isinstance(node, dict):
        for key, value in node.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            out.append(path)
            if key not in OPAQUE:
                out += _paths(value, path)
    elif isinstance(node, list):
        for item in node:
            out += _paths(item, f"{prefix}[]") if isinstance(item, dict | list) else []
        if any(isinstance(i, dict) for i in node):
            out.append(f"{prefix}[]")
    return out


def dockerfile_cmd(path: Path = DOCKERFILE) -> list[str]:
    """The exec-form CMD of the Dockerfile (the last one wins, as in Docker)."""
    lines, cmd = path.read_text().replace("\\\n", " ").splitlines(), None
    for line in lines:
        if line.strip().upper().startswith("CMD "):
            cmd = json.loads(line.strip()[4:])
    assert cmd, f"no exec-form CMD in {path}"
    return cmd


def values() -> dict:
    return yaml.safe_load(VALUES.read_text())


def test_values_set_only_keys_of_the_chart() -> None:
    unknown = sorted(set(_paths(values())) - CHART_KEYS)
    assert not unknown, f"not keys of the dagster/dagster chart: {unknown}"


def test_values_hold_no_secret_and_point_at_external_postgres_and_s3() -> None:
    v = values()
    for path in set(_paths(v)) - {"generatePostgresqlPasswordSecret"}:
        leaf = path.rsplit(".", 1)[-1].lower()
        assert not any(word in leaf for word in ("password", "token", "secretkey")), path
    text = VALUES.read_text()
    assert "AWS_SECRET_ACCESS_KEY:" not in text and "STUUT_API_TOKEN:" not in text
    assert v["postgresql"]["enabled"] is False
    assert v["generatePostgresqlPasswordSecret"] is False
    assert v["postgresql"]["postgresqlScheme"] == "postgresql+psycopg2"
    deployment = v["dagster-user-deployments"]["deployments"][0]
    assert deployment["env"]["STUUT_DATA_URL"].startswith("s3://")
    assert {"stuut-api", "stuut-s3"} <= {s["name"] for s in deployment["envSecrets"]}
    assert v["runLauncher"]["type"] == "K8sRunLauncher"
    assert v["runLauncher"]["config"]["k8sRunLauncher"]["resources"]["requests"]
    assert v["computeLogManager"]["type"] == "S3ComputeLogManager"


def test_values_keep_the_instance_guards_of_the_project_instance() -> None:
    """One run per workflow partition, run monitoring and run retries, as dagster_home/ has."""
    project = yaml.safe_load((PROJECT_ROOT / "dagster_home" / "dagster.yaml").read_text())
    runs, daemon = values()["concurrency"]["runs"], values()["dagsterDaemon"]
    assert runs["tagConcurrencyLimits"] == [
        {
            "key": limit["key"],
            "value": {"applyLimitPerUniqueValue": limit["value"]["applyLimitPerUniqueValue"]},
            "limit": limit["limit"],
        }
        for limit in project["concurrency"]["runs"]["tag_concurrency_limits"]
    ]
    monitoring = project["run_monitoring"]
    assert daemon["runMonitoring"] == {
        "enabled": monitoring["enabled"],
        "startTimeoutSeconds": monitoring["start_timeout_seconds"],
        "pollIntervalSeconds": monitoring["poll_interval_seconds"],
    }
    retries = project["run_retries"]
    assert daemon["runRetries"] == {
        "enabled": retries["enabled"],
        "maxRetries": retries["max_retries"],
        "retryOnAssetOrOpFailure": retries["retry_on_asset_or_op_failure"],
    }


def test_dockerfile_cmd_is_the_argv_the_chart_runs() -> None:
    """The chart's container args are `dagster api grpc -h 0.0.0.0 -p <port> <grpc args>`."""
    deployment = values()["dagster-user-deployments"]["deployments"][0]
    chart_argv = ["dagster", "api", "grpc", "-h", "0.0.0.0", "-p", str(deployment["port"])]
    assert dockerfile_cmd() == chart_argv + deployment["dagsterApiGrpcArgs"]
    text = DOCKERFILE.read_text()
    assert "FROM python:3.11-slim" in text
    assert '".[deploy]"' in text
    # The chart sets `args`: an ENTRYPOINT would be prepended to them.
    assert not any(line.startswith("ENTRYPOINT") for line in text.splitlines())
    users = [line.split()[1] for line in text.splitlines() if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")


def _health_check(port: int, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(VENV_BIN / "dagster"), "api", "grpc-health-check", "-p", str(port)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def code_server(tmp_path):
    """The Dockerfile's CMD, started locally on a free port: yields (argv, port, env)."""
    port = free_port()
    argv = dockerfile_cmd()
    argv[argv.index("-p") + 1] = str(port)
    argv[argv.index("-h") + 1] = "127.0.0.1"  # loopback only here; the image binds 0.0.0.0
    env = dict(os.environ, PATH=f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}")
    proc = subprocess.Popen(
        argv,
        cwd=tmp_path,
        env=env,
        stdout=(tmp_path / "server.log").open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield argv, port, env, proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


def test_the_image_cmd_serves_and_passes_the_chart_readiness_probe(code_server, tmp_path) -> None:
    argv, port, env, proc = code_server
    assert argv[:3] == ["dagster", "api", "grpc"]
    deadline = time.monotonic() + 120
    while True:
        assert proc.poll() is None, (tmp_path / "server.log").read_text()
        check = _health_check(port, env)
        if check.returncode == 0:
            break
        assert time.monotonic() < deadline, check.stdout + check.stderr
    assert "gRPC connection successful" in check.stdout
    # The server loaded the code location, not just a socket: the job is listed through it.
    jobs = subprocess.run(
        [str(VENV_BIN / "dagster"), "job", "list", "--grpc-port", str(port)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert jobs.returncode == 0, jobs.stderr
    assert "stuut_pipeline_job" in jobs.stdout
