"""`stuut_pipeline.settings`: environment variables, their defaults, and `make_client`."""

from __future__ import annotations

from pathlib import Path

import pytest

from stuut_pipeline import settings
from stuut_pipeline.settings import ApiSettings, FetchSettings, SimulatorSettings

REPO = Path(__file__).resolve().parents[2]


def test_env_strips_and_treats_empty_as_unset(monkeypatch) -> None:
    monkeypatch.setenv("STUUT_TEST_VALUE", "  abc \t")
    assert settings.env("STUUT_TEST_VALUE") == "abc"
    monkeypatch.setenv("STUUT_TEST_VALUE", "   ")
    assert settings.env("STUUT_TEST_VALUE") is None
    monkeypatch.setenv("STUUT_TEST_VALUE", "")
    assert settings.env("STUUT_TEST_VALUE") is None
    monkeypatch.delenv("STUUT_TEST_VALUE")
    assert settings.env("STUUT_TEST_VALUE") is None


def test_data_dir_defaults_to_the_repos_data(monkeypatch) -> None:
    monkeypatch.delenv("STUUT_DATA_DIR")
    assert settings.data_dir() == REPO / "data"
    monkeypatch.setenv("STUUT_DATA_DIR", "  ")
    assert settings.data_dir() == REPO / "data"


def test_data_dir_from_the_environment_is_absolute(monkeypatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STUUT_DATA_DIR", " rel/out ")
    assert settings.data_dir() == tmp_path.resolve() / "rel" / "out"
    assert settings.data_dir().is_absolute()
    monkeypatch.setenv("STUUT_DATA_DIR", str(tmp_path / "abs"))
    assert settings.data_dir() == tmp_path.resolve() / "abs"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, True), ("running", True), ("RUNNING", True), (" Stopped ", False), ("stopped", False)],
)
def test_automation_running_accepts_running_or_stopped(monkeypatch, value, expected) -> None:
    if value is None:
        monkeypatch.delenv("STUUT_AUTOMATION_DEFAULT", raising=False)
    else:
        monkeypatch.setenv("STUUT_AUTOMATION_DEFAULT", value)
    assert settings.automation_running() is expected


@pytest.mark.parametrize("value", ["on", "paused", "true"])
def test_automation_running_rejects_other_values(monkeypatch, value) -> None:
    monkeypatch.setenv("STUUT_AUTOMATION_DEFAULT", value)
    with pytest.raises(ValueError, match="STUUT_AUTOMATION_DEFAULT") as err:
        settings.automation_running()
    assert value in str(err.value)


def test_simulator_settings_from_env_parses_numbers(monkeypatch) -> None:
    monkeypatch.setenv("STUUT_SIM_CALLS", " 250 ")
    monkeypatch.setenv("STUUT_SIM_WORKFLOWS", "4")
    monkeypatch.setenv("STUUT_SIM_SEED", "17")
    monkeypatch.setenv("STUUT_SIM_SCHEMA_DRIFT", "0.25")
    monkeypatch.setenv("STUUT_SIM_STRING_AMOUNTS", "0.5")
    monkeypatch.setenv("STUUT_SIM_HOSTILE_FRACTION", "0.05")
    assert SimulatorSettings.from_env() == SimulatorSettings(
        calls=250,
        workflows=4,
        seed=17,
        schema_drift=0.25,
        string_amounts=0.5,
        hostile_fraction=0.05,
    )


def test_simulator_settings_from_env_defaults_when_unset(monkeypatch) -> None:
    for name in (
        "CALLS",
        "WORKFLOWS",
        "SEED",
        "SCHEMA_DRIFT",
        "STRING_AMOUNTS",
        "HOSTILE_FRACTION",
    ):
        monkeypatch.delenv(f"STUUT_SIM_{name}", raising=False)
    assert SimulatorSettings.from_env() == SimulatorSettings(
        calls=600, workflows=3, seed=0, schema_drift=0.0, string_amounts=0.0
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [("STUUT_SIM_CALLS", "many"), ("STUUT_SIM_SEED", "1.5"), ("STUUT_SIM_SCHEMA_DRIFT", "x%")],
)
def test_simulator_settings_rejects_a_non_number(monkeypatch, name, value) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=name) as err:
        SimulatorSettings.from_env()
    assert repr(value) in str(err.value)


def test_make_client_needs_a_token_with_a_base_url() -> None:
    with pytest.raises(ValueError, match="STUUT_API_TOKEN"):
        settings.make_client(ApiSettings(base_url="http://x", token=None))
    with pytest.raises(ValueError, match="STUUT_API_TOKEN"):
        settings.make_client(ApiSettings(base_url="http://x", token=""))


def test_make_client_embedded_uses_the_fetch_settings() -> None:
    fetch = FetchSettings(concurrency=3, prefetch=1, max_attempts=2)
    sim = SimulatorSettings(calls=20, workflows=1, seed=2)
    with settings.make_client(ApiSettings(simulator=sim), fetch) as client:
        assert (client.concurrency, client.prefetch, client.max_attempts) == (3, 1, 2)
        assert client.base_url == "http://stuut-simulator.invalid"
        assert "stuut-sim-token" not in repr(client)
        pages = list(client.fetch_calls())
    assert sum(len(p.records) for p in pages) == 20


def test_make_client_real_api_hides_its_token() -> None:
    api = ApiSettings(base_url="http://x/", token="s3cr3t-token")
    assert "s3cr3t-token" not in repr(api)
    with settings.make_client(api, FetchSettings(concurrency=3, prefetch=1, max_attempts=2)) as c:
        assert (c.base_url, c.concurrency, c.prefetch, c.max_attempts) == ("http://x", 3, 1, 2)
        assert "s3cr3t-token" not in repr(c)


def test_configured_workflow_ids_splits_and_strips(monkeypatch) -> None:
    assert settings.configured_workflow_ids() == []
    monkeypatch.setenv("STUUT_WORKFLOW_IDS", " otwfl_a, otwfl_b ,,  ,otwfl_c ")
    assert settings.configured_workflow_ids() == ["otwfl_a", "otwfl_b", "otwfl_c"]
    monkeypatch.setenv("STUUT_WORKFLOW_IDS", " ")
    assert settings.configured_workflow_ids() == []
