"""Asset checks of the warehouse domain: specs from the library's check declarations, and
results from its plain outcomes. Every check is blocking and evaluated before the mart file is
published (see `stuut_pipeline.warehouse.build`).
"""

import dagster as dg

from stuut_pipeline.warehouse import CheckOutcome, Rollup, checks_for

from ..partitions import workflow_partitions


def rollup_check_specs(rollup: Rollup) -> list[dg.AssetCheckSpec]:
    """The blocking checks of a rollup asset, partitioned like it (one result per workflow)."""
    return [
        dg.AssetCheckSpec(
            check.name,
            asset=dg.AssetKey(rollup.name),
            blocking=True,
            description=check.description,
            partitions_def=workflow_partitions,
        )
        for check in checks_for(rollup)
    ]


def rollup_check_results(rollup: Rollup, outcomes: list[CheckOutcome]) -> list[dg.AssetCheckResult]:
    """Dagster results of the library's check outcomes."""
    return [
        dg.AssetCheckResult(
            check_name=outcome.name,
            asset_key=dg.AssetKey(rollup.name),
            passed=outcome.passed,
            severity=dg.AssetCheckSeverity.ERROR,
            description=outcome.description,
            metadata=dict(outcome.metadata),
        )
        for outcome in outcomes
    ]
