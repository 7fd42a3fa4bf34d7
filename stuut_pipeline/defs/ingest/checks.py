"""Asset checks of the ingest domain: specs, and results built from the plain-library reports."""

from __future__ import annotations

import dagster as dg

from stuut_pipeline.stuut_api import FetchReport

RAW_CALLS_KEY = dg.AssetKey("raw_calls")

total_records_reconciled = dg.AssetCheckSpec(
    "total_records_reconciled",
    asset=RAW_CALLS_KEY,
    blocking=False,
    description=(
        "WARN when the number of distinct calls fetched differs from the API's `total_records`"
        " (offset paging drifted and could not be reconciled, or records vanished meanwhile)."
    ),
)


def total_records_result(report: FetchReport) -> dg.AssetCheckResult:
    """The reconciliation check of one fetch."""
    return dg.AssetCheckResult(
        check_name=total_records_reconciled.name,
        asset_key=RAW_CALLS_KEY,
        passed=bool(report.total_records_matched),
        severity=dg.AssetCheckSeverity.WARN,
        description=(
            None
            if report.total_records_matched
            else f"fetched {report.records} distinct calls but the API reports"
            f" total_records={report.total_records}"
        ),
        metadata={
            "records": report.records,
            "total_records": report.total_records,
            "first_total_records": report.first_total_records,
            "duplicates_dropped": report.duplicates_dropped,
            "superseded": report.superseded,
            "passes": report.passes,
        },
    )
