"""The Dagster code location: everything under `defs/`, loaded by `dg.load_from_defs_folder`."""

from pathlib import Path

import dagster as dg


@dg.definitions
def defs() -> dg.Definitions:
    """All assets, checks, resources, schedules and sensors of the project."""
    return dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
