"""Both instance configs (the project's sqlite one and deploy/dagster.yaml on Postgres) queue a
second run of a workflow partition behind the first, and let the daemon fail dead runs."""

from __future__ import annotations

import shutil

import dagster as dg
import pytest

from stuut_pipeline.settings import PROJECT_ROOT

CONFIGS = [PROJECT_ROOT / "dagster_home" / "dagster.yaml", PROJECT_ROOT / "deploy" / "dagster.yaml"]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.parent.name)
def test_one_run_per_workflow_and_run_monitoring(config, tmp_path, monkeypatch, request) -> None:
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(config, home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    if config.parent.name == "deploy":
        monkeypatch.setenv("DAGSTER_PG_URL", request.getfixturevalue("postgres_url"))
    with dg.DagsterInstance.get() as instance:
        queue = instance.get_concurrency_config().run_queue_config
        assert queue.max_concurrent_runs == 2
        assert queue.tag_concurrency_limits == [
            {"key": "dagster/partition", "value": {"applyLimitPerUniqueValue": True}, "limit": 1}
        ]
        assert instance.run_monitoring_enabled
        assert instance.run_monitoring_start_timeout_seconds == 300
