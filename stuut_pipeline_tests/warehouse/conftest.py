"""Warehouse fixtures: records with edge cases, and every rollup built over them."""

from __future__ import annotations

from pathlib import Path

import pytest

from .inputs import build_inputs, records_with_edge_cases


@pytest.fixture(scope="module")
def records() -> list[dict]:
    return records_with_edge_cases()


@pytest.fixture
def built(tmp_path, records) -> tuple[Path, dict[str, list[dict]]]:
    """A fresh data dir for tests that change it: inputs of two workflows, every rollup built."""
    data_dir = tmp_path / "data"
    return data_dir, build_inputs(data_dir, records)


@pytest.fixture(scope="module")
def built_once(tmp_path_factory, records) -> tuple[Path, dict[str, list[dict]]]:
    """Like `built`, made once per module, for tests that only read."""
    data_dir = tmp_path_factory.mktemp("warehouse") / "data"
    return data_dir, build_inputs(data_dir, records)
