"""The `workflow` partitions shared by every domain: one key per outreach workflow id."""

import warnings

import dagster as dg

workflow_partitions = dg.DynamicPartitionsDefinition(name="workflow")

# Checks are partitioned like their assets, so the UI shows each workflow's check status; Dagster
# 1.13 flags partitioned check specs as a preview feature (tested here on the pinned version).
warnings.filterwarnings(
    "ignore",
    message="Specifying a partitions_def on an AssetCheckSpec",
    category=dg.PreviewWarning,
)
