"""Configuration from the environment, and the API client it selects.

`STUUT_API_BASE_URL` + `STUUT_API_TOKEN` select a real Stuut API; with no base URL the embedded
simulator serves in-process. `STUUT_DATA_DIR` (default `./data`) holds every output.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from .stuut_api import StuutClient

log = logging.getLogger("stuut_pipeline")

ENV_BASE_URL = "STUUT_API_BASE_URL"
ENV_TOKEN = "STUUT_API_TOKEN"
ENV_DATA_DIR = "STUUT_DATA_DIR"
ENV_SIM_CALLS = "STUUT_SIM_CALLS"
ENV_SIM_WORKFLOWS = "STUUT_SIM_WORKFLOWS"
ENV_SIM_SEED = "STUUT_SIM_SEED"
ENV_SIM_SCHEMA_DRIFT = "STUUT_SIM_SCHEMA_DRIFT"
ENV_SIM_STRING_AMOUNTS = "STUUT_SIM_STRING_AMOUNTS"
EMBEDDED_BASE_URL = "http://stuut-simulator.invalid"

_announce_lock = threading.Lock()
_announced = False


def _number_env(name: str, default: float, kind: type = int):
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return kind(raw)
    except ValueError:
        raise ValueError(
            f"{name} must be a{'n integer' if kind is int else ' number'}, got {raw!r}"
        ) from None


@dataclass(frozen=True)
class SimulatorSettings:
    """Size of the embedded simulator's account (deterministic for a seed)."""

    calls: int = 600
    workflows: int = 3
    seed: int = 0
    schema_drift: float = 0.0
    string_amounts: float = 0.0

    @classmethod
    def from_env(cls) -> SimulatorSettings:
        """Read the STUUT_SIM_* variables."""
        return cls(
            calls=_number_env(ENV_SIM_CALLS, cls.calls),
            workflows=_number_env(ENV_SIM_WORKFLOWS, cls.workflows),
            seed=_number_env(ENV_SIM_SEED, cls.seed),
            schema_drift=_number_env(ENV_SIM_SCHEMA_DRIFT, cls.schema_drift, float),
            string_amounts=_number_env(ENV_SIM_STRING_AMOUNTS, cls.string_amounts, float),
        )


@dataclass(frozen=True)
class Settings:
    """Where the calls come from and where outputs go."""

    base_url: str | None = None
    token: str | None = field(default=None, repr=False)
    data_dir: Path = Path("data")
    simulator: SimulatorSettings = field(default_factory=SimulatorSettings)

    @classmethod
    def from_env(cls) -> Settings:
        """Read the STUUT_* environment variables."""
        return cls(
            base_url=os.environ.get(ENV_BASE_URL) or None,
            token=os.environ.get(ENV_TOKEN) or None,
            data_dir=Path(os.environ.get(ENV_DATA_DIR) or "data"),
            simulator=SimulatorSettings.from_env(),
        )

    @property
    def uses_simulator(self) -> bool:
        """True when no real API is configured."""
        return not self.base_url


_simulators: dict[SimulatorSettings, object] = {}


def embedded_simulator(sim: SimulatorSettings):  # -> StuutSimulator (imported lazily)
    """The process-wide embedded simulator for these settings (built once)."""
    from .simulator import StuutSimulator
    from .simulator.generator import GeneratorConfig

    with _announce_lock:
        if sim not in _simulators:
            _simulators[sim] = StuutSimulator(
                GeneratorConfig(
                    seed=sim.seed,
                    n_workflows=sim.workflows,
                    schema_drift_share=sim.schema_drift,
                    string_amount_share=sim.string_amounts,
                ),
                n_calls=sim.calls,
            )
        return _simulators[sim]


def make_client(
    base_url: str | None, token: str | None, sim: SimulatorSettings | None = None, **options
) -> StuutClient:
    """A client of the real API when `base_url` is set, else of the embedded simulator."""
    global _announced
    if base_url:
        if not token:
            raise ValueError(
                f"{ENV_BASE_URL} is set but {ENV_TOKEN} is empty: set {ENV_TOKEN} to your Stuut API"
                f" token, or unset {ENV_BASE_URL} to use the embedded simulator"
            )
        return StuutClient(base_url, token, **options)
    from .simulator import DEFAULT_TOKEN, SimulatorTransport

    sim = sim or SimulatorSettings.from_env()
    simulator = embedded_simulator(sim)
    with _announce_lock:
        if not _announced:
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
    return StuutClient(
        EMBEDDED_BASE_URL, DEFAULT_TOKEN, transport=SimulatorTransport(simulator), **options
    )


def client_from_env(**options) -> StuutClient:
    """The client the environment selects."""
    s = Settings.from_env()
    return make_client(s.base_url, s.token, s.simulator, **options)
