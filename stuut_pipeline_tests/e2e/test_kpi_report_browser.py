"""The KPI report in a real browser: offline, no errors, one drawn chart per section."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

import pytest

from stuut_pipeline.layout import REPORT_INDEX_KEY
from stuut_pipeline.settings import PROJECT_ROOT
from stuut_pipeline.storage import DataLocation
from stuut_pipeline.warehouse import kpi_report

from ..warehouse.inputs import build_inputs, records_with_edge_cases
from .static_page import CHROMIUM, visit

ARTIFACTS = PROJECT_ROOT / "test-artifacts"

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no {CHROMIUM} (make browser)")


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> tuple[Path, list[str], list[kpi_report.ReportBuild]]:
    data_dir = tmp_path_factory.mktemp("report") / "data"
    by_wf = build_inputs(data_dir, records_with_edge_cases())
    location = DataLocation.from_url(data_dir)
    builds = [kpi_report.build_report(location, wf) for wf in by_wf]
    return data_dir, list(by_wf), builds


def test_report_page_in_chromium(published) -> None:
    data_dir, workflows, builds = published
    build = builds[0]
    page = data_dir / build.key
    seen = visit(page, ARTIFACTS / "kpi_report.png")
    assert seen.console_errors == [] and seen.page_errors == [], seen
    assert seen.failed_requests == []
    # the page itself is the only request: charts are inline SVG, styles inline, no script
    assert [unquote(u) for u in seen.requests] == [unquote(page.resolve().as_uri())]
    assert set(seen.sections) == {"sentiment-mix", "classification-mix", "kpi-trends"}
    for section, info in seen.sections.items():
        assert info["svgs"] == 1, section
        assert info["heading"], section
        assert info["width"] > 300 and info["height"] > 100, (section, info)  # drawn, visible
    assert build.workflow_id in seen.text
    assert f"Latest week: {build.kpis['latest_week']}" in seen.text
    assert (ARTIFACTS / "kpi_report.png").stat().st_size > 10_000


def test_index_page_in_chromium(published) -> None:
    data_dir, workflows, _ = published
    seen = visit(data_dir / REPORT_INDEX_KEY, ARTIFACTS / "kpi_report_index.png")
    assert seen.console_errors == [] and seen.page_errors == []
    assert len(seen.requests) == 1
    for wf in workflows:
        assert wf in seen.text
