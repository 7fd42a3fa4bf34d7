"""The KPI report asset: wiring and materialisation (the page: warehouse/test_kpi_report)."""

from __future__ import annotations

import base64

import dagster as dg
import duckdb
import orjson

from stuut_pipeline.definitions import defs
from stuut_pipeline.defs.jobs import PIPELINE_JOB_NAME
from stuut_pipeline.defs.resources import StorageResource
from stuut_pipeline.defs.warehouse.assets import (
    classification_rollup,
    sentiment_rollup,
    workflow_kpis,
)
from stuut_pipeline.defs.warehouse.report_assets import kpi_report_asset
from stuut_pipeline.defs.warehouse.resources import DuckDBWarehouse
from stuut_pipeline.layout import REPORT_INDEX_KEY, mart_key, report_key

from .. import factories
from ..warehouse.inputs import write_parquet

ROLLUPS = (sentiment_rollup, classification_rollup, workflow_kpis)
RATES = (
    "connect_rate",
    "voicemail_rate",
    "right_party_contact_rate",
    "promise_to_pay_rate",
    "dispute_complaint_share",
)


def test_report_asset_is_downstream_of_the_rollups_and_in_the_job() -> None:
    definitions = defs()
    key = dg.AssetKey("kpi_report")
    spec = next(s for s in definitions.resolve_all_asset_specs() if s.key == key)
    assert {d.asset_key for d in spec.deps} == {a.key for a in ROLLUPS}
    assert spec.group_name == "reports"
    assert spec.partitions_def == dg.DynamicPartitionsDefinition(name="workflow")
    job = definitions.resolve_job_def(PIPELINE_JOB_NAME)
    assert key in job.asset_layer.executable_asset_keys


def test_materialisation_publishes_the_page_with_numeric_kpis(tmp_path) -> None:
    data_dir = tmp_path / "data"
    gen = factories.generator(seed=4, n_workflows=1, no_workflow_share=0.0)
    (wf,) = write_parquet(data_dir, [orjson.loads(gen.call_json(i)) for i in range(80)])
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("workflow", [wf])
    result = dg.materialize(
        [*ROLLUPS, kpi_report_asset],
        partition_key=wf,
        instance=instance,
        resources={"warehouse": DuckDBWarehouse(), "storage": StorageResource(url=str(data_dir))},
    )
    assert result.success
    (mat,) = result.asset_materializations_for_node("kpi_report")
    page = data_dir / report_key(wf)
    assert mat.metadata["dagster/uri"].value == str(page.resolve())
    assert mat.metadata["report"].value == page.resolve().as_uri()
    assert mat.metadata["index"].value == (data_dir / REPORT_INDEX_KEY).resolve().as_uri()
    assert mat.metadata["report_bytes"].value == page.stat().st_size
    with duckdb.connect() as con:  # never the module's shared default connection
        latest = con.execute(
            f"SELECT iso_week, {', '.join(RATES)} FROM read_parquet(?) "
            "WHERE week_start IS NOT NULL ORDER BY week_start DESC LIMIT 1",
            [str(data_dir / mart_key("workflow_kpis", wf))],
        ).fetchone()
    assert mat.metadata["latest_week"].value == latest[0]
    for name, value in zip(RATES, latest[1:], strict=True):
        if value is not None:
            assert isinstance(mat.metadata[name], dg.FloatMetadataValue), name
            assert mat.metadata[name].value == value, name
    chart = mat.metadata["sentiment_mix_chart"].value
    prefix = "![sentiment mix per ISO week](data:image/svg+xml;base64,"
    assert chart.startswith(prefix) and chart.endswith(")")
    svg = base64.b64decode(chart[len(prefix) : -1]).decode()
    assert svg.startswith("<svg ") and 'xmlns="http://www.w3.org/2000/svg"' in svg
