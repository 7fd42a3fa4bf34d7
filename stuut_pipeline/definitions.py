"""The Dagster code location: everything under `defs/`, with the shared asset policy applied once.

Every asset gets the same owners and freshness policy, and links to the file and line of its
code, here rather than in each spec (the pattern of dagster-io/dagster-open-platform).
"""

import warnings
from datetime import timedelta
from pathlib import Path

import dagster as dg

OWNERS = ["team:ar-analytics"]
#: Every asset is expected to be refreshed nightly: WARN after 26 h, FAIL after 50 h.
NIGHTLY_FRESHNESS = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(hours=50), warn_window=timedelta(hours=26)
)


def _policy(spec: dg.AssetSpec) -> dg.AssetSpec:
    owned = spec.merge_attributes(owners=[o for o in OWNERS if o not in spec.owners])
    return dg.apply_freshness_policy(owned, NIGHTLY_FRESHNESS, overwrite_existing=False)


def with_asset_policy(defs: dg.Definitions) -> dg.Definitions:
    """`defs` with the owners, freshness policy and source code references of every asset."""
    # both are beta/preview APIs in Dagster 1.13 (tested on the pinned version): don't warn users
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        warnings.simplefilter("ignore", dg.PreviewWarning)
        mapped = defs.map_resolved_asset_specs(func=_policy)
        assets = dg.with_source_code_references(list(mapped.assets or []))
    return dg.Definitions(
        assets=assets,
        asset_checks=mapped.asset_checks,
        schedules=mapped.schedules,
        sensors=mapped.sensors,
        jobs=mapped.jobs,
        resources=mapped.resources,
        executor=mapped.executor,
        loggers=mapped.loggers,
        metadata=mapped.metadata,
        component_tree=mapped.component_tree,
    )


@dg.definitions
def defs() -> dg.Definitions:
    """All assets, checks, resources, schedules and sensors of the project."""
    return with_asset_policy(dg.load_from_defs_folder(path_within_project=Path(__file__).parent))
