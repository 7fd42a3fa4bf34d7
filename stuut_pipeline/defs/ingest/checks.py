"""Asset checks of the ingest domain: specs, and results built from the plain-library reports."""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg

from stuut_pipeline.flatten import TableContract, ValidationReport
from stuut_pipeline.stuut_api import FetchReport

from ..partitions import workflow_partitions

RAW_CALLS_KEY = dg.AssetKey("raw_calls")

total_records_reconciled = dg.AssetCheckSpec(
    "total_records_reconciled",
    asset=RAW_CALLS_KEY,
    blocking=False,
    partitions_def=workflow_partitions,
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


# --- checks of the flattened tables, evaluated on the staged files before they are published ---


@dataclass(frozen=True)
class TableCheck:
    """A Dagster check of a flattened table, fed by several `flatten.validate` results.

    Two per table: what blocks publishing, and what only warns. Each result's description names
    the parts that failed and its metadata counts every part, so one check per decision keeps the
    run's event log short without hiding anything.
    """

    name: str
    blocking: bool
    description: str
    sources: tuple[str, ...]  # validation check suffixes, e.g. ("file", "schema")


TABLE_CHECKS: tuple[TableCheck, ...] = (
    TableCheck(
        "matches_contract",
        True,
        "Blocking, evaluated on the staged file before anything is published: the file exists;"
        " its schema equals the declared contract exactly (column names, order, Arrow types,"
        " nullability); the primary key is never null and never repeated; every child row's"
        " `call_id` exists in `calls` of the same workflow; each call's `classification_count`,"
        " `task_count` and `invoice_count` equal its rows in the child tables. Column"
        " descriptions that drifted from the contract are reported in metadata only.",
        ("file", "schema", "schema_docs", "primary_key", "parent_key", "child_counts"),
    ),
    TableCheck(
        "no_drift",
        False,
        "WARN: values outside the documented enums (e.g. a new sentiment), counted per column"
        " and value; rows whose record carried fields the contract does not know, or values that"
        " did not fit their column (kept in `extra_fields`). The rows are kept.",
        ("enum_values", "extra_fields"),
    ),
)


def table_check_specs(table: TableContract) -> list[dg.AssetCheckSpec]:
    """The check specs of one flattened table."""
    return [
        dg.AssetCheckSpec(
            c.name,
            asset=table.name,
            blocking=c.blocking,
            description=c.description,
            partitions_def=workflow_partitions,
        )
        for c in TABLE_CHECKS
    ]


def table_check_results(
    table: TableContract, report: ValidationReport
) -> list[dg.AssetCheckResult]:
    """One result per declared check of `table`, from the validation of its staged files."""
    by_name = {c.name: c for c in report.checks}
    results = []
    for check in TABLE_CHECKS:
        found = [
            by_name[f"{table.name}.{s}"] for s in check.sources if f"{table.name}.{s}" in by_name
        ]
        decisive = [r for r in found if r.severity == ("blocking" if check.blocking else "warn")]
        if decisive:
            passed = all(r.passed for r in decisive)
            failed = [r.message for r in decisive if not r.passed]
            message = "; ".join(failed or [r.message for r in decisive])
        else:
            passed = False
            message = "not evaluated: an earlier blocking check of this table failed"
        metadata: dict[str, object] = {}
        for r in found:
            for key, value in r.counts.items():
                metadata[f"{r.name.split('.', 1)[1]}/{key}"] = value
            if r.examples:
                metadata[f"{r.name.split('.', 1)[1]}/examples"] = dg.MetadataValue.json(r.examples)
        results.append(
            dg.AssetCheckResult(
                check_name=check.name,
                asset_key=dg.AssetKey(table.name),
                passed=passed,
                severity=dg.AssetCheckSeverity.ERROR
                if check.blocking
                else dg.AssetCheckSeverity.WARN,
                description=message,
                metadata=metadata,
            )
        )
    return results
