"""The warehouse's Dagster wiring: assets, checks, resource and pool config (not end to end)."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import orjson
import pytest

from stuut_pipeline import settings
from stuut_pipeline import warehouse as wh
from stuut_pipeline.definitions import defs
from stuut_pipeline.defs.resources import StorageResource
from stuut_pipeline.defs.warehouse.assets import (
    classification_rollup,
    sentiment_rollup,
    workflow_kpis,
)
from stuut_pipeline.defs.warehouse.resources import DuckDBWarehouse, warehouse_from_env
from stuut_pipeline.layout import WAREHOUSE_FILE, mart_key
from stuut_pipeline.settings import PROJECT_ROOT
from stuut_pipeline.warehouse import db as db_module

from .. import factories
from ..warehouse.inputs import write_parquet

ASSETS = (sentiment_rollup, classification_rollup, workflow_kpis)


@pytest.mark.parametrize("asset", ASSETS, ids=lambda a: a.key.to_user_string())
def test_rollup_assets_are_unpooled_partitioned_and_checked(asset):
    loaded = defs().get_repository_def().assets_defs_by_key[asset.key]
    spec = next(s for s in loaded.specs if s.key == asset.key)
    rollup = wh.get_rollup(asset.key.to_user_string())
    assert asset.op.pool is None  # in-memory builds: rollups of many workflows run at once
    assert asset.group_names_by_key[asset.key] == "rollups"
    assert asset.partitions_def.name == "workflow"
    assert {"duckdb", "parquet"} <= set(spec.kinds)
    assert spec.owners == ["team:ar-analytics"]
    assert {d.asset_key for d in spec.deps} == {
        dg.AssetKey(t) for t in ("calls", "call_classifications", "call_tasks", "call_invoices")
    }
    checks = {s.key.name: s.blocking for s in asset.check_specs}
    assert checks == {c.name: True for c in wh.checks_for(rollup)}
    assert {s.partitions_def.name for s in asset.check_specs} == {"workflow"}
    schema = spec.metadata["dagster/column_schema"]
    assert [c.name for c in schema.columns] == [c.name for c in rollup.db_columns]
    assert all(c.description for c in schema.columns)


def test_project_instance_queues_runs_and_limits_no_pool(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(PROJECT_ROOT / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.get() as instance:
        config = instance.get_concurrency_config()
        assert config.pool_config.default_pool_limit is None
        assert config.run_queue_config.max_concurrent_runs == 2


def test_warehouse_path_from_env_or_in_the_data_location(tmp_path, monkeypatch):
    monkeypatch.delenv(settings.ENV_WAREHOUSE_PATH, raising=False)
    assert warehouse_from_env().catalog_path() is None  # the catalog lives in the data location
    monkeypatch.setenv(settings.ENV_WAREHOUSE_PATH, str(tmp_path / "elsewhere.duckdb"))
    resource = warehouse_from_env()
    assert isinstance(resource.path, dg.EnvVar)  # resolved at run time, never a value
    with dg.build_resources({"warehouse": resource}) as built:
        assert built.warehouse.catalog_path() == tmp_path / "elsewhere.duckdb"


def _materialise(data_dir: Path, workflow_id: str, instance: dg.DagsterInstance):
    return dg.materialize(
        list(ASSETS),
        partition_key=workflow_id,
        instance=instance,
        resources={"warehouse": DuckDBWarehouse(), "storage": StorageResource(url=str(data_dir))},
        raise_on_error=False,
    )


def test_materialisation_metadata_and_a_failed_blocking_check(tmp_path, monkeypatch):
    data_dir = tmp_path / "data"
    gen = factories.generator(seed=4, n_workflows=1, no_workflow_share=0.0)
    (wf,) = write_parquet(data_dir, [orjson.loads(gen.call_json(i)) for i in range(80)])
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("workflow", [wf])

    result = _materialise(data_dir, wf, instance)
    assert result.success
    (kpis,) = result.asset_materializations_for_node("workflow_kpis")
    with wh.connection((data_dir / WAREHOUSE_FILE), read_only=True) as con:
        assert kpis.metadata["dagster/row_count"].value == wh.count_rows(con, "workflow_kpis", wf)
    assert isinstance(kpis.metadata["connect_rate"], dg.FloatMetadataValue)
    assert "| week |" in kpis.metadata["preview"].value
    (sentiment,) = result.asset_materializations_for_node("sentiment_rollup")
    assert "│" in sentiment.metadata["sentiment_mix"].value
    assert all(e.passed for e in result.get_asset_check_evaluations())
    mart = data_dir / mart_key("sentiment_rollup", wf)
    previous = mart.read_bytes()

    original = db_module.load_sql

    def broken(name: str) -> str:
        sql = original(name)
        return sql.replace("count(f.call_id) AS calls", "count(f.call_id) + 1 AS calls")

    monkeypatch.setattr(db_module, "load_sql", broken)
    failed = _materialise(data_dir, wf, instance)
    assert not failed.success
    evaluations = {
        (e.asset_key.to_user_string(), e.check_name): e.passed
        for e in failed.get_asset_check_evaluations()
    }
    assert {e.partition for e in failed.get_asset_check_evaluations()} == {wf}
    assert evaluations[("sentiment_rollup", "calls_reconciled")] is False
    assert evaluations[("sentiment_rollup", "schema_matches_contract")] is True
    assert not failed.asset_materializations_for_node("sentiment_rollup")
    assert mart.read_bytes() == previous
