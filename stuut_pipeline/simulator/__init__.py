"""Stuut API simulator: the embedded default API, and the ground of the tests and benchmarks."""

from .api import DEFAULT_TOKEN, StuutSimulator
from .faults import FaultConfig
from .server import SimulatorServer
from .transport import SimulatorTransport

__all__ = [
    "DEFAULT_TOKEN",
    "FaultConfig",
    "SimulatorServer",
    "SimulatorTransport",
    "StuutSimulator",
]
