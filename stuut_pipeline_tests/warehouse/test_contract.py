"""The rollup contracts."""

from __future__ import annotations

from stuut_pipeline import warehouse as wh


def test_contracts_keep_workflow_id_out_of_the_files():
    for rollup in wh.ROLLUPS.values():
        assert "workflow_id" not in rollup.export_schema().names
        assert rollup.db_columns[0].name == "workflow_id"
        assert all(c.description for c in rollup.db_columns)
