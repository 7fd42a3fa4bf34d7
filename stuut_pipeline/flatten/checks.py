"""The declared checks of every flattened table, and their outcomes from a `ValidationReport`.

`validate` runs many small checks per table (file, schema, keys, counts, enums, extra fields);
each table declares two checks, one per decision: what blocks publishing, and what only warns.
An outcome's description names the parts that failed and its metadata counts every part, so one
check per decision keeps the run's event log short without hiding anything.
"""

from __future__ import annotations

from stuut_pipeline.model import CheckOutcome, CheckSpec, MetadataValue, TableContract

from .validate import ValidationReport

MATCHES_CONTRACT = CheckSpec(
    "matches_contract",
    "Blocking, evaluated on the staged file before anything is published: the file exists;"
    " its schema equals the declared contract exactly (column names, order, Arrow types,"
    " nullability); the primary key is never null and never repeated; every child row's"
    " `call_id` exists in `calls` of the same workflow; each call's `classification_count`,"
    " `task_count` and `invoice_count` equal its rows in the child tables, and each"
    " classification's `task_count` its rows in `call_tasks`; the four tables were written by"
    " one run (`stuut.run_id` in each file's metadata). Column"
    " descriptions that drifted from the contract are reported in metadata only.",
    blocking=True,
)
NO_DRIFT = CheckSpec(
    "no_drift",
    "WARN: values outside the documented enums (e.g. a new sentiment), counted per column"
    " and value; rows whose record carried fields the contract does not know, or values that"
    " did not fit their column (kept in `extra_fields`). The rows are kept.",
    blocking=False,
)

#: The checks of every flattened table, with the validation parts each one decides on.
TABLE_CHECKS: dict[CheckSpec, tuple[str, ...]] = {
    MATCHES_CONTRACT: (
        "file",
        "schema",
        "schema_docs",
        "primary_key",
        "parent_key",
        "child_counts",
        "same_run",
    ),
    NO_DRIFT: ("enum_values", "extra_fields"),
}


def table_outcomes(table: TableContract, report: ValidationReport) -> list[CheckOutcome]:
    """One outcome per declared check of `table`, from the validation of its files."""
    by_name = {c.name: c for c in report.checks}
    outcomes = []
    for spec, parts in TABLE_CHECKS.items():
        found = [by_name[f"{table.name}.{p}"] for p in parts if f"{table.name}.{p}" in by_name]
        decisive = [r for r in found if r.severity == ("blocking" if spec.blocking else "warn")]
        if decisive:
            passed = all(r.passed for r in decisive)
            failed = [r.message for r in decisive if not r.passed]
            message = "; ".join(failed or [r.message for r in decisive])
        else:
            passed = False
            message = "not evaluated: an earlier blocking check of this table failed"
        metadata: dict[str, MetadataValue] = {}
        for r in found:
            part = r.name.split(".", 1)[1]
            for key, value in r.counts.items():
                metadata[f"{part}/{key}"] = value
            if r.examples:
                metadata[f"{part}/examples"] = list(r.examples)
        outcomes.append(CheckOutcome(spec, passed, message, metadata))
    return outcomes
