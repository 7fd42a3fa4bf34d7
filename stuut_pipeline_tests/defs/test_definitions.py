"""The code location explains itself: every asset carries what a person needs in the UI."""

from __future__ import annotations

import dagster as dg
import pytest

from stuut_pipeline.definitions import defs
from stuut_pipeline.flatten import TABLES

EXPECTED_KINDS = {
    "raw_calls": {"json"},
    **{t: {"parquet", "pandas"} for t in TABLES},
    "sentiment_rollup": {"duckdb", "parquet"},
    "classification_rollup": {"duckdb", "parquet"},
    "workflow_kpis": {"duckdb", "parquet"},
    "kpi_report": {"html"},
}
#: Group of each asset that is not in "ingest".
GROUPS = {
    "sentiment_rollup": "rollups",
    "classification_rollup": "rollups",
    "workflow_kpis": "rollups",
    "kpi_report": "reports",
}
#: Assets without table columns (a raw file, an HTML page).
NO_COLUMNS = {"raw_calls", "kpi_report"}


@pytest.fixture(scope="module")
def definitions() -> dg.Definitions:
    return defs()


def test_the_code_location_loads(definitions) -> None:
    definitions.validate_loadable(definitions)
    assert definitions.resolve_job_def("stuut_pipeline_job")
    assert definitions.resolve_schedule_def("nightly_pipeline_schedule")
    assert definitions.resolve_sensor_def("workflow_discovery_sensor")


def test_every_asset_explains_itself(definitions) -> None:
    specs = {s.key.to_user_string(): s for s in definitions.resolve_all_asset_specs()}
    assert set(specs) == set(EXPECTED_KINDS)
    for name, spec in specs.items():
        assert spec.owners == ["team:ar-analytics"], name
        assert EXPECTED_KINDS[name] <= set(spec.kinds), name
        assert spec.group_name == GROUPS.get(name, "ingest"), name
        assert spec.description and len(spec.description) > 40, name
        assert spec.freshness_policy is not None, name
        assert spec.partitions_def == dg.DynamicPartitionsDefinition(name="workflow"), name
        refs = spec.metadata["dagster/code_references"].code_references
        assert refs and refs[0].file_path.endswith(".py"), name
        if name not in NO_COLUMNS:
            columns = spec.metadata["dagster/column_schema"].columns
            assert columns and all(c.description for c in columns), name


def test_table_and_rollup_descriptions_link_the_data_dictionary(definitions) -> None:
    specs = {s.key.to_user_string(): s for s in definitions.resolve_all_asset_specs()}
    for name, spec in specs.items():
        if name != "raw_calls":
            assert "See docs/data-dictionary.md" in spec.description, name


def test_table_columns_come_from_the_contract(definitions) -> None:
    specs = {s.key.to_user_string(): s for s in definitions.resolve_all_asset_specs()}
    for name, table in TABLES.items():
        columns = specs[name].metadata["dagster/column_schema"].columns
        assert [c.name for c in columns] == table.column_names
        assert [c.description for c in columns] == [c.description for c in table.columns]
