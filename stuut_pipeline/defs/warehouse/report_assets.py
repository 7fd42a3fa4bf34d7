"""The KPI report asset: per workflow partition, a static HTML page of charts from the three marts.

The library (`stuut_pipeline.warehouse.kpi_report`) reads the marts, renders the charts at build
time (matplotlib SVG, no script) and publishes `reports/workflow_id=<id>/kpi_report.html` and
the index `reports/index/index.html`; this asset reports where they are and the latest week's
KPIs as numbers, which the UI plots over materialisations.
"""

import dagster as dg

from stuut_pipeline.layout import REPORT_INDEX_KEY, checked_workflow_id
from stuut_pipeline.model import DATA_DICTIONARY_NOTE
from stuut_pipeline.warehouse import kpi_report

from ..metadata import worker_metadata
from ..partitions import workflow_partitions
from ..resources import StorageResource, storage_faults

GROUP = "reports"


def _link(url: str | None, uri: str) -> dg.MetadataValue:
    return dg.MetadataValue.url(url) if url else dg.MetadataValue.text(uri)


@dg.asset(
    name="kpi_report",
    partitions_def=workflow_partitions,
    group_name=GROUP,
    kinds={"html", "matplotlib"},
    deps=[dg.AssetKey(name) for name in kpi_report.REPORT_ROLLUPS],
    description=(
        "A self-contained HTML page per workflow: the weekly sentiment mix (stacked bars per ISO"
        " week), the classification mix, and the KPI trends (connect, voicemail, right-party"
        " contact, promise-to-pay and dispute/complaint rates per ISO week), with the latest"
        " week's KPIs as a table. Read from the three marts; charts rendered at build time as"
        " inline SVG (no script, no network when viewed). Published to"
        " `reports/workflow_id=<id>/kpi_report.html`; every report is listed in"
        f" `{REPORT_INDEX_KEY}`.\n\n{DATA_DICTIONARY_NOTE}"
    ),
)
def kpi_report_asset(
    context: dg.AssetExecutionContext, storage: StorageResource
) -> dg.MaterializeResult:
    """Render and publish one workflow's KPI report, then rebuild the index."""
    workflow_id = checked_workflow_id(context.partition_key)
    try:
        with storage_faults():
            build = kpi_report.build_report(storage.location(), workflow_id)
    except kpi_report.MartMissingError as err:
        raise dg.Failure(description=str(err)) from err
    context.log.info(
        f"kpi_report of {workflow_id}: {build.bytes} bytes -> {build.uri}; index lists "
        f"{len(build.workflows_in_index)} workflows"
    )
    chart = kpi_report.svg_data_uri(build.sentiment_svg)
    metadata: dict[str, object] = {
        "dagster/uri": build.uri,
        "report": _link(build.url, build.uri),
        "index": _link(build.index_url, build.index_uri),
        "report_bytes": build.bytes,
        "workflows_in_index": len(build.workflows_in_index),
        "calls": int(build.figures["calls"]),
        "weeks": int(build.figures["weeks"]),
        "sentiment_mix_chart": dg.MetadataValue.md(f"![sentiment mix per ISO week]({chart})"),
        **worker_metadata(),
    }
    for name, value in build.kpis.items():
        if isinstance(value, float):
            metadata[name] = dg.MetadataValue.float(value)
        elif isinstance(value, int):
            metadata[name] = dg.MetadataValue.int(value)
        else:
            metadata[name] = dg.MetadataValue.text(value)
    return dg.MaterializeResult(metadata=metadata)
