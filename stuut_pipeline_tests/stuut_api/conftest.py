"""Fixtures of the client tests: a simulator and a client of it, in-process."""

from __future__ import annotations

import pytest

from stuut_pipeline.simulator import SimulatorTransport, StuutSimulator
from stuut_pipeline.stuut_api import StuutClient

from .. import factories


@pytest.fixture(scope="module")
def plain_sim() -> StuutSimulator:
    """450 calls in 3 workflows, no faults (shared by a module: tests only read it)."""
    return factories.simulator(calls=450, workflows=3, seed=11)


@pytest.fixture
def sim_client(plain_sim) -> StuutClient:
    """A client of `plain_sim` through its in-process transport."""
    with StuutClient(
        "http://sim.invalid", factories.TOKEN, transport=SimulatorTransport(plain_sim)
    ) as client:
        yield client
