"""The KPI report: one self-contained HTML page per workflow, charts rendered at build time.

`data` reads the three published marts of a workflow and derives the figures, `charts` renders
them as inline SVG (matplotlib), `page` writes the HTML. This module publishes through
`storage`: `reports/workflow_id=<id>/kpi_report.html` per workflow, and an index of every
workflow that has a report at `reports/index/index.html` (a directory of its own, since a
publish replaces its target directory whole).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path

from stuut_pipeline.layout import (
    PARTITION_COLUMN,
    REPORT_FILE,
    REPORT_INDEX_DIR,
    REPORT_INDEX_FILE,
    REPORTS_DIR,
    checked_workflow_id,
    report_dir,
)
from stuut_pipeline.storage import (
    DataLocation,
    clean_orphaned_staging,
    new_staging,
    publish_file,
)
from stuut_pipeline.stuut_api.discovery import is_valid_workflow_id

from .charts import render_charts
from .data import (
    REPORT_ROLLUPS,
    Headline,
    MartMissingError,
    ReportData,
    latest_kpis,
    read_report_data,
    summary_figures,
)
from .page import render_index, render_report

__all__ = [
    "REPORT_ROLLUPS",
    "MartMissingError",
    "ReportBuild",
    "ReportData",
    "build_report",
    "published_report_ids",
    "render_index",
    "render_report",
    "report_html",
    "svg_data_uri",
]


def report_html(location: DataLocation, workflow_id: str) -> str:
    """Read the three marts of one workflow and return its report page."""
    return render_report(read_report_data(location, workflow_id))


def published_report_ids(location: DataLocation) -> list[str]:
    """Workflow ids that have a published report page, sorted."""
    pattern = f"{REPORTS_DIR}/{PARTITION_COLUMN}=*/{REPORT_FILE}"
    prefix = f"{PARTITION_COLUMN}="
    ids = [key.split("/")[1].removeprefix(prefix) for key in location.list_files(pattern=pattern)]
    return sorted(w for w in ids if is_valid_workflow_id(w))


def _publish(location: DataLocation, label: str, page: str, target_dir: str, name: str) -> str:
    clean_orphaned_staging(location, label)  # left by a killed run of this same partition
    staging = new_staging(location, label)
    try:
        location.write_bytes(staging.key_for(name), page.encode())
        return publish_file(location, staging.key_for(name), target_dir, name)
    except BaseException:
        staging.discard()
        raise


def publish_report(location: DataLocation, workflow_id: str, page: str) -> str:
    """Publish one workflow's page atomically; return its key."""
    wf = checked_workflow_id(workflow_id)
    return _publish(location, f"report-{wf}", page, report_dir(wf), REPORT_FILE)


def publish_index(location: DataLocation, workflow_id: str) -> tuple[str, list[str]]:
    """Rebuild and publish the index of every published report; return its key and the ids.

    `workflow_id` (the partition doing it) only names the staging. Partitions running at once
    may each rebuild it: the page is always whole, and the next run of any partition lists a
    report that a concurrent rebuild missed.
    """
    wf = checked_workflow_id(workflow_id)
    ids = published_report_ids(location)
    key = _publish(
        location, f"report_index-{wf}", render_index(ids), REPORT_INDEX_DIR, REPORT_INDEX_FILE
    )
    return key, ids


def file_url(location: DataLocation, key: str) -> str | None:
    """A `file://` URL of `key` on a local location, else None."""
    return Path(location.path(key)).as_uri() if location.is_local else None


def svg_data_uri(svg: str) -> str:
    """`data:image/svg+xml;base64,...` of an inline SVG (for a markdown image)."""
    text = svg.replace('role="img" ', "", 1)
    if "xmlns=" not in text.split(">", 1)[0]:
        text = text.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1)
    return "data:image/svg+xml;base64," + base64.b64encode(text.encode()).decode()


@dataclass(frozen=True)
class ReportBuild:
    """One published report: where it is, its size, its headline KPIs and the main chart."""

    workflow_id: str
    key: str
    uri: str
    url: str | None
    bytes: int
    index_key: str
    index_uri: str
    index_url: str | None
    workflows_in_index: list[str]
    figures: Headline
    kpis: Headline
    sentiment_svg: str


def build_report(location: DataLocation, workflow_id: str) -> ReportBuild:
    """Read the marts of one workflow, publish its page, then rebuild the index."""
    data = read_report_data(location, workflow_id)
    charts = render_charts(data)
    page = render_report(data, charts).encode()
    key = publish_report(location, data.workflow_id, page.decode())
    index_key, ids = publish_index(location, data.workflow_id)
    return ReportBuild(
        workflow_id=data.workflow_id,
        key=key,
        uri=location.uri(key),
        url=file_url(location, key),
        bytes=len(page),
        index_key=index_key,
        index_uri=location.uri(index_key),
        index_url=file_url(location, index_key),
        workflows_in_index=ids,
        figures=summary_figures(data),
        kpis=latest_kpis(data),
        sentiment_svg=charts["sentiment-mix"],
    )
