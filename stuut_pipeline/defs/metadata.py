"""Dagster metadata from the libraries' declarations: column schemas and check results."""

import os
import socket
from collections.abc import Callable, Iterable, Sequence

import dagster as dg
import pyarrow as pa

from stuut_pipeline.model import CheckOutcome, CheckSpec, Column, column_docs

from .partitions import workflow_partitions


def column_schema(
    columns: Iterable[Column],
    *,
    primary_key: Sequence[str] = (),
    type_name: Callable[[pa.DataType], str] = str,
) -> dg.TableSchema:
    """A declared contract as Dagster column metadata (shown on the asset page)."""
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                doc.name,
                type=doc.type,
                description=doc.description,
                constraints=dg.TableColumnConstraints(
                    nullable=doc.nullable, unique=doc.unique, other=list(doc.notes)
                ),
            )
            for doc in column_docs(columns, primary_key=primary_key, type_name=type_name)
        ]
    )


def check_specs(asset: str, specs: Iterable[CheckSpec]) -> list[dg.AssetCheckSpec]:
    """Dagster check specs of an asset, partitioned like it (one result per workflow)."""
    return [
        dg.AssetCheckSpec(
            spec.name,
            asset=asset,
            blocking=spec.blocking,
            description=spec.description,
            partitions_def=workflow_partitions,
        )
        for spec in specs
    ]


def _metadata_value(value: object) -> object:
    return dg.MetadataValue.json(value) if isinstance(value, list | dict) else value


def check_results(asset: str, outcomes: Iterable[CheckOutcome]) -> list[dg.AssetCheckResult]:
    """Dagster results of the libraries' check outcomes (a failed non-blocking check warns)."""
    return [
        dg.AssetCheckResult(
            check_name=outcome.name,
            asset_key=dg.AssetKey(asset),
            passed=outcome.passed,
            severity=dg.AssetCheckSeverity.ERROR
            if outcome.blocking
            else dg.AssetCheckSeverity.WARN,
            description=outcome.description,
            metadata={k: _metadata_value(v) for k, v in outcome.metadata.items()},
        )
        for outcome in outcomes
    ]


def worker_metadata() -> dict[str, object]:
    """Which process ran the step: `worker_host` and `worker_pid` (a Celery worker's, when
    distributed; the run worker's otherwise)."""
    return {"worker_host": socket.gethostname(), "worker_pid": os.getpid()}
