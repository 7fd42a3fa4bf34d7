"""Configuration: every environment variable's name and default, and the API client they select.

This is the one module that reads the environment. `STUUT_API_BASE_URL` + `STUUT_API_TOKEN`
select a real Stuut API; with no base URL the embedded simulator serves in-process. Dagster
resources read the secrets through `dg.EnvVar` with the names declared here.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from .storage import DataLocation, S3Options
from .stuut_api import StuutClient
from .stuut_api.enums import MAX_LIMIT

log = logging.getLogger("stuut_pipeline")

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = PROJECT_ROOT / "data"
DEFAULT_DAGSTER_HOME = PROJECT_ROOT / "dagster_home"

ENV_BASE_URL = "STUUT_API_BASE_URL"
ENV_TOKEN = "STUUT_API_TOKEN"
ENV_DATA_URL = "STUUT_DATA_URL"
ENV_DATA_DIR = "STUUT_DATA_DIR"
ENV_S3_ENDPOINT = "AWS_ENDPOINT_URL"
ENV_S3_ACCESS_KEY = "AWS_ACCESS_KEY_ID"
ENV_S3_SECRET_KEY = "AWS_SECRET_ACCESS_KEY"
ENV_S3_REGION = "AWS_REGION"
DEFAULT_S3_REGION = "us-east-1"
ENV_WAREHOUSE_PATH = "STUUT_WAREHOUSE_PATH"
ENV_WORKFLOW_IDS = "STUUT_WORKFLOW_IDS"
ENV_AUTOMATION = "STUUT_AUTOMATION_DEFAULT"
ENV_DAGSTER_HOME = "DAGSTER_HOME"
ENV_EXECUTOR = "STUUT_EXECUTOR"
ENV_CELERY_BROKER = "STUUT_CELERY_BROKER"
ENV_CELERY_BACKEND = "STUUT_CELERY_BACKEND"
EXECUTORS = ("default", "celery", "in_process")
ENV_SIM_CALLS = "STUUT_SIM_CALLS"
ENV_SIM_WORKFLOWS = "STUUT_SIM_WORKFLOWS"
ENV_SIM_SEED = "STUUT_SIM_SEED"
ENV_SIM_SCHEMA_DRIFT = "STUUT_SIM_SCHEMA_DRIFT"
ENV_SIM_STRING_AMOUNTS = "STUUT_SIM_STRING_AMOUNTS"
ENV_SIM_LATENCY_MS = "STUUT_SIM_LATENCY_MS"
ENV_SIM_HOSTILE_FRACTION = "STUUT_SIM_HOSTILE_FRACTION"
EMBEDDED_BASE_URL = "http://stuut-simulator.invalid"
#: The variables that point a process at real systems: an API, a data location, credentials.
#: Tests and the reliability suite unset them, so nothing they run reaches anything real.
EXTERNAL_VARIABLES = (
    ENV_BASE_URL,
    ENV_TOKEN,
    ENV_WORKFLOW_IDS,
    ENV_DATA_URL,
    ENV_WAREHOUSE_PATH,
    ENV_S3_ENDPOINT,
    ENV_S3_ACCESS_KEY,
    ENV_S3_SECRET_KEY,
    ENV_S3_REGION,
)

_lock = threading.Lock()
_announced = False


def env(name: str) -> str | None:
    """The variable's value with surrounding blanks removed; None when unset or empty."""
    value = os.environ.get(name, "").strip()
    return value or None


def _number_env(name: str, default: float, kind: type = int):
    raw = env(name)
    if raw is None:
        return default
    try:
        return kind(raw)
    except ValueError:
        raise ValueError(
            f"{name} must be a{'n integer' if kind is int else ' number'}, got {raw!r}"
        ) from None


def data_dir() -> Path:
    """The local data directory: `$STUUT_DATA_DIR` (absolute), else `<project>/data`."""
    configured = env(ENV_DATA_DIR)
    return Path(configured).resolve() if configured else DEFAULT_DATA_DIR


def data_url_variable() -> str | None:
    """Which variable names the data location (`STUUT_DATA_URL` first), or None for the default."""
    return next((name for name in (ENV_DATA_URL, ENV_DATA_DIR) if env(name)), None)


def data_url() -> str:
    """Where every output goes: `$STUUT_DATA_URL` (a path or `s3://bucket/prefix`), else
    `$STUUT_DATA_DIR`, else `<project>/data`."""
    configured = env(ENV_DATA_URL)
    return configured if configured else str(data_dir())


def s3_options(create_bucket: bool = False) -> S3Options:
    """Endpoint and credentials for `s3://` data, from the standard AWS variables."""
    return S3Options(
        endpoint_url=env(ENV_S3_ENDPOINT),
        access_key=env(ENV_S3_ACCESS_KEY),
        secret_key=env(ENV_S3_SECRET_KEY),
        region=env(ENV_S3_REGION) or DEFAULT_S3_REGION,
        create_bucket=create_bucket,
    )


def data_location() -> DataLocation:
    """The data location the environment selects (S3 options only for an `s3://` URL)."""
    url = data_url()
    return DataLocation.from_url(url, s3_options() if url.startswith("s3://") else None)


def warehouse_path() -> Path | None:
    """`$STUUT_WAREHOUSE_PATH` when set (else the warehouse lives under the data directory)."""
    configured = env(ENV_WAREHOUSE_PATH)
    return Path(configured).resolve() if configured else None


def dagster_home() -> Path:
    """`$DAGSTER_HOME`, set to the project's own instance directory when unset; created."""
    home = Path(os.environ.setdefault(ENV_DAGSTER_HOME, str(DEFAULT_DAGSTER_HOME))).resolve()
    home.mkdir(parents=True, exist_ok=True)
    return home


def configured_workflow_ids() -> list[str]:
    """Workflow ids listed by hand in `$STUUT_WORKFLOW_IDS` (comma-separated, unchecked)."""
    return [part.strip() for part in (env(ENV_WORKFLOW_IDS) or "").split(",") if part.strip()]


def automation_running() -> bool:
    """Whether the schedule and sensors start RUNNING (default) or STOPPED."""
    value = (env(ENV_AUTOMATION) or "running").lower()
    if value not in ("running", "stopped"):
        raise ValueError(f"{ENV_AUTOMATION} must be 'running' or 'stopped', got {value!r}")
    return value == "running"


def executor() -> str:
    """How a run executes its steps: `default` (Dagster's, in the run's own process tree: what
    `stuut-pipeline run` and `dagster dev` use), `celery` (each step a task on a Celery worker)
    or `in_process` (every step in the run's process: for runs that are themselves Celery tasks,
    launched by the `CeleryRunLauncher`; docs/deploy.md). Celery needs `$STUUT_CELERY_BROKER`."""
    value = (env(ENV_EXECUTOR) or "default").lower()
    if value not in EXECUTORS:
        raise ValueError(f"{ENV_EXECUTOR} must be one of {', '.join(EXECUTORS)}, got {value!r}")
    if value == "celery" and not env(ENV_CELERY_BROKER):
        raise ValueError(
            f"{ENV_EXECUTOR}=celery needs {ENV_CELERY_BROKER}, the broker's URL"
            " (e.g. redis://HOST:6379/0)"
        )
    return value


def celery_backend_variable() -> str:
    """Which variable names the Celery result backend: `STUUT_CELERY_BACKEND` when set, else the
    broker's (Redis serves as both)."""
    return ENV_CELERY_BACKEND if env(ENV_CELERY_BACKEND) else ENV_CELERY_BROKER


def uses_real_api() -> bool:
    """True when `$STUUT_API_BASE_URL` selects a real API."""
    return env(ENV_BASE_URL) is not None


@dataclass(frozen=True)
class SimulatorSettings:
    """Size of the embedded simulator's account (deterministic for a seed)."""

    calls: int = 600
    workflows: int = 3
    seed: int = 0
    schema_drift: float = 0.0
    string_amounts: float = 0.0
    #: Added to every response of the embedded simulator (a slow API, e.g. for fault tests).
    latency_ms: float = 0.0
    #: Share of the embedded simulator's calls served as hostile JSON (`simulator/hostile.py`).
    hostile_fraction: float = 0.0

    @classmethod
    def from_env(cls) -> SimulatorSettings:
        """Read the STUUT_SIM_* variables."""
        return cls(
            calls=_number_env(ENV_SIM_CALLS, cls.calls),
            workflows=_number_env(ENV_SIM_WORKFLOWS, cls.workflows),
            seed=_number_env(ENV_SIM_SEED, cls.seed),
            schema_drift=_number_env(ENV_SIM_SCHEMA_DRIFT, cls.schema_drift, float),
            string_amounts=_number_env(ENV_SIM_STRING_AMOUNTS, cls.string_amounts, float),
            latency_ms=_number_env(ENV_SIM_LATENCY_MS, cls.latency_ms, float),
            hostile_fraction=_number_env(ENV_SIM_HOSTILE_FRACTION, cls.hostile_fraction, float),
        )


@dataclass(frozen=True)
class FetchSettings:
    """How the client pages through the API (the `stuut_api` resource's fields default to these)."""

    concurrency: int = 4
    prefetch: int = 2
    max_attempts: int = 6
    page_size: int = MAX_LIMIT


@dataclass(frozen=True)
class ApiSettings:
    """Where the calls come from: a real API (base URL + token), or the embedded simulator."""

    base_url: str | None = None
    token: str | None = field(default=None, repr=False)
    simulator: SimulatorSettings = field(default_factory=SimulatorSettings)

    @classmethod
    def from_env(cls) -> ApiSettings:
        """Read `STUUT_API_BASE_URL`, `STUUT_API_TOKEN` and the STUUT_SIM_* variables."""
        return cls(env(ENV_BASE_URL), env(ENV_TOKEN), SimulatorSettings.from_env())


_simulators: dict[SimulatorSettings, object] = {}


def embedded_simulator(sim: SimulatorSettings):  # -> StuutSimulator (imported lazily)
    """The process-wide embedded simulator for these settings (built once)."""
    from .simulator import FaultConfig, StuutSimulator
    from .simulator.generator import GeneratorConfig

    with _lock:
        if sim not in _simulators:
            _simulators[sim] = StuutSimulator(
                GeneratorConfig(
                    seed=sim.seed,
                    n_workflows=sim.workflows,
                    schema_drift_share=sim.schema_drift,
                    string_amount_share=sim.string_amounts,
                ),
                n_calls=sim.calls,
                faults=FaultConfig(
                    latency_ms=sim.latency_ms, hostile_fraction=sim.hostile_fraction
                ),
            )
        return _simulators[sim]


def _announce(sim: SimulatorSettings) -> None:
    global _announced
    with _lock:
        if _announced:
            return
        _announced = True
    log.warning(
        "%s is not set: serving calls from the embedded Stuut API simulator"
        " (%d calls, %d workflows, seed %d). Set %s and %s to use the real API.",
        ENV_BASE_URL,
        sim.calls,
        sim.workflows,
        sim.seed,
        ENV_BASE_URL,
        ENV_TOKEN,
    )


def make_client(api: ApiSettings, fetch: FetchSettings | None = None) -> StuutClient:
    """The one way to build a client: of the real API when a base URL is set, else embedded."""
    fetch = fetch or FetchSettings()
    options = {
        "concurrency": fetch.concurrency,
        "prefetch": fetch.prefetch,
        "max_attempts": fetch.max_attempts,
    }
    if api.base_url:
        if not api.token:
            raise ValueError(
                f"{ENV_BASE_URL} is set but {ENV_TOKEN} is empty: set {ENV_TOKEN} to your Stuut API"
                f" token, or unset {ENV_BASE_URL} to use the embedded simulator"
            )
        return StuutClient(api.base_url, api.token, **options)
    from .simulator import DEFAULT_TOKEN, SimulatorTransport

    simulator = embedded_simulator(api.simulator)
    _announce(api.simulator)
    return StuutClient(
        EMBEDDED_BASE_URL, DEFAULT_TOKEN, transport=SimulatorTransport(simulator), **options
    )
