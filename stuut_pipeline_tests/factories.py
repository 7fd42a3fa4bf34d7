"""The one place tests build the simulator and its generator.

Every test gets its `GeneratorConfig`, `CallGenerator` and `StuutSimulator` from here (directly
or through the fixtures of `conftest.py`), so a change to their constructors is fixed once.
"""

from __future__ import annotations

import dataclasses

from stuut_pipeline import settings
from stuut_pipeline.simulator import FaultConfig, StuutSimulator
from stuut_pipeline.simulator.generator import CallGenerator, GeneratorConfig

#: The token of every test simulator unless a test asks for another.
TOKEN = "tok_Sup3rSecret-value-123"


def generator_config(**overrides) -> GeneratorConfig:
    """A generator config: the generator's defaults, with `overrides`."""
    return GeneratorConfig(**overrides)


def generator(config: GeneratorConfig | None = None, **overrides) -> CallGenerator:
    """A call generator of `config` (default: `generator_config(**overrides)`)."""
    if config is not None:
        return CallGenerator(dataclasses.replace(config, **overrides))
    return CallGenerator(generator_config(**overrides))


def simulator(
    *,
    calls: int = 300,
    workflows: int = 3,
    seed: int = 0,
    token: str = TOKEN,
    faults: FaultConfig | None = None,
    **generator_overrides,
) -> StuutSimulator:
    """A simulator of `calls` calls in `workflows` workflows; other generator knobs by keyword."""
    config = generator_config(seed=seed, n_workflows=workflows, **generator_overrides)
    return StuutSimulator(config, n_calls=calls, token=token, faults=faults)


def use_embedded_simulator(monkeypatch, sim: settings.SimulatorSettings) -> None:
    """Make the embedded simulator (the default API of every resource) serve `sim`."""
    for name, value in {
        settings.ENV_SIM_CALLS: sim.calls,
        settings.ENV_SIM_WORKFLOWS: sim.workflows,
        settings.ENV_SIM_SEED: sim.seed,
        settings.ENV_SIM_SCHEMA_DRIFT: sim.schema_drift,
        settings.ENV_SIM_STRING_AMOUNTS: sim.string_amounts,
        settings.ENV_SIM_LATENCY_MS: sim.latency_ms,
        settings.ENV_SIM_HOSTILE_FRACTION: sim.hostile_fraction,
    }.items():
        monkeypatch.setenv(name, str(value))
    monkeypatch.delenv(settings.ENV_WAREHOUSE_PATH, raising=False)
