"""The `workflow` partitions shared by every domain: one key per outreach workflow id."""

import dagster as dg

workflow_partitions = dg.DynamicPartitionsDefinition(name="workflow")
