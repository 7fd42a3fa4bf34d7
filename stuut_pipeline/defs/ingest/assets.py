"""Ingest assets: `raw_calls` (the API's records as received) and the four flattened call tables.

They are one subsettable multi-asset, so that a run of the whole graph parses each call once:
the pages are landed raw and flattened as they arrive. Selecting only the tables rebuilds them
from the raw landing without calling the API; selecting only `raw_calls` fetches and lands.
"""

import contextlib
import gc
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import dagster as dg
import pyarrow.parquet as pq
from pydantic import Field

from stuut_pipeline import settings
from stuut_pipeline.flatten import (
    TABLES,
    CallRecord,
    MalformedRecordError,
    PartitionWriter,
    TableContract,
    decode_call,
    flatten_calls,
    validate_partition,
)
from stuut_pipeline.flatten.checks import (
    CALLS_CHECKS,
    DEFAULT_SHRINK_THRESHOLD,
    TABLE_CHECKS,
    shrink_outcome,
    table_outcomes,
)
from stuut_pipeline.layout import checked_workflow_id, quarantine_key, table_scan
from stuut_pipeline.model import (
    DATA_DICTIONARY_NOTE,
    CheckOutcome,
    markdown_table,
    table_markdown,
)
from stuut_pipeline.raw_landing import (
    RECORDS_QUARANTINED,
    TOTAL_RECORDS_RECONCILED,
    Quarantined,
    RawCallsLanding,
    iter_raw_batches,
    key_or_quarantine,
    published_raw_key,
    quarantine_outcome,
    quarantined,
    total_records_outcome,
)
from stuut_pipeline.storage import DataLocation
from stuut_pipeline.stuut_api import CallsQuery, FetchReport, StuutRetriesExhausted

from ..metadata import check_results, check_specs, column_schema, worker_metadata
from ..partitions import workflow_partitions
from ..resources import StorageResource, storage_faults
from .resources import StuutApiResource

RAW_CALLS = "raw_calls"
RAW_CALLS_KEY = dg.AssetKey(RAW_CALLS)
BATCH_SIZE = 1000
PREVIEW_ROWS = 5
TABLE_KEYS = frozenset(dg.AssetKey(name) for name in TABLES)


def contract_version() -> str:
    """A short hash of every table's schema: the flattened tables' code version."""
    text = "\n".join(str(t.arrow_schema()) for t in TABLES.values())
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _raw_calls_spec() -> dg.AssetSpec:
    # built in a function: a module-level AssetSpec would also load as an asset of its own
    return dg.AssetSpec(
        key=RAW_CALLS_KEY,
        group_name="ingest",
        kinds={"python", "json"},
        partitions_def=workflow_partitions,
        description=(
            "Every call of one outreach workflow, fetched from `GET /v1/calls?workflow=<id>` with"
            " concurrent paging and retries, deduplicated by id (latest `modified_at` wins), landed"
            " exactly as received as zstd NDJSON under `raw/calls/workflow_id=<id>/`. The flattened"
            " tables are rebuilt from this file without calling the API again."
        ),
    )


def _table_spec(table: TableContract) -> dg.AssetSpec:
    return dg.AssetSpec(
        key=table.name,
        deps=[RAW_CALLS_KEY],
        group_name="ingest",
        kinds={"parquet", "pandas"},
        partitions_def=workflow_partitions,
        code_version=contract_version(),
        description=f"{table_markdown(table)}\n{DATA_DICTIONARY_NOTE}",
        metadata={
            "dagster/column_schema": column_schema(table.columns, primary_key=table.primary_key),
            "primary_key": ", ".join(table.primary_key),
            "duckdb": f"SELECT * FROM {table_scan(settings.data_url(), table.name)}",
        },
    )


def _preview(location: DataLocation, key: str, table: TableContract) -> dg.MetadataValue:
    """A markdown table of the first rows (the narrow columns only, so it stays readable)."""
    narrow = [c.name for c in table.columns if c.kind != "json" and c.name != "extra_fields"][:8]
    with location.open_input_file(key) as src:
        parquet = pq.ParquetFile(src)
        if parquet.metadata.num_rows == 0:
            return dg.MetadataValue.md("_no rows in this partition_")
        rows = parquet.read_row_group(0, columns=narrow).slice(0, PREVIEW_ROWS).to_pylist()
    return dg.MetadataValue.md(markdown_table(rows, [(name, name, "") for name in narrow]))


@contextlib.contextmanager
def _older_objects_frozen() -> Iterator[None]:
    """Keep the objects alive before the fetch (Dagster's, the modules') out of the cyclic GC.

    Every call decoded adds tracked containers, so full collections run often during a fetch;
    without this each one re-scans the whole process (5 % of the ingest's CPU, measured with
    perf). `gc.unfreeze()` afterwards hands them back to the collector.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


class IngestConfig(dg.Config):
    """Run config of `ingest_calls` (the launchpad shows it; every field has a default)."""

    allow_shrink: bool = Field(
        default=False,
        description=(
            "Publish even when the refresh has far fewer calls than are published now"
            " (the `no_shrink` check then passes and says the shrink was accepted)"
        ),
    )
    shrink_threshold: float = Field(
        default=DEFAULT_SHRINK_THRESHOLD,
        ge=0.0,
        le=1.0,
        description=(
            "`no_shrink` fails when the refresh would publish fewer calls than this share of"
            " those published now (0.5: fewer than half)"
        ),
    )


def _decode_or_quarantine(raw) -> CallRecord | Quarantined:
    """`decode_call` that never raises: a record that cannot be keyed becomes `Quarantined`."""
    try:
        return decode_call(raw)
    except MalformedRecordError as exc:
        return quarantined(raw, str(exc))


@dataclass(frozen=True)
class Landing:
    """What one fetch-and-land did."""

    report: FetchReport
    key: str
    bytes_raw: int
    quarantined: int
    #: Whether the writer holds every call: false when offset drift made a record supersede one
    #: already flattened (the tables are then rebuilt from the landing, which holds the latest).
    complete: bool


class _ShrinkRefused(Exception):
    """The refresh would shrink the workflow: the landing is not published (`no_shrink`)."""

    def __init__(self, outcome: CheckOutcome) -> None:
        super().__init__(outcome.description)
        self.outcome = outcome


def _fetch_and_land(
    stuut_api: StuutApiResource,
    location: DataLocation,
    workflow_id: str,
    writer: PartitionWriter | None,
    guard: Callable[[int], None] | None = None,
) -> Landing:
    """Fetch one workflow, land it raw; with a writer, flatten the decoded pages as they arrive.

    `guard(calls)` runs before the landing is published, with the number of keyable calls
    received; raising there discards the staged landing and keeps the published one."""
    query = CallsQuery(limit=stuut_api.page_size, workflow=workflow_id)
    fused = writer is not None
    pending: list = []
    try:
        with (
            _older_objects_frozen(),
            stuut_api.client() as client,
            RawCallsLanding(location, workflow_id) as landing,
        ):
            fetch = client.fetch_calls(
                query, decode=_decode_or_quarantine if fused else key_or_quarantine
            )
            for page in fetch:
                landing.write(page.records)
                if not fused:
                    continue
                if any(r.supersedes for r in page.records):
                    fused, pending = False, []
                    continue
                pending.extend(r.record for r in page.records if isinstance(r.record, CallRecord))
                if len(pending) >= BATCH_SIZE:
                    writer.write(flatten_calls(pending))
                    pending = []
            if fused and pending:
                writer.write(flatten_calls(pending))
            if guard is not None:
                guard(landing.records - landing.quarantined)
            key = landing.publish()
    except StuutRetriesExhausted as exc:
        # the API is down or rate-limiting: try the step again later (a bad token is not retried)
        raise dg.RetryRequested(
            max_retries=stuut_api.outage_step_retries,
            seconds_to_wait=stuut_api.outage_retry_wait_seconds,
        ) from exc
    return Landing(fetch.report, key, landing.bytes_raw, landing.quarantined, fused)


def _flatten_landing(writer: PartitionWriter, location: DataLocation, workflow_id: str) -> None:
    source = published_raw_key(location, workflow_id)
    if source is None:
        raise dg.Failure(
            f"no raw landing for workflow {workflow_id} at {location.uri()}: materialise"
            " `raw_calls` for this partition first (or run the whole job)."
        )
    for batch in iter_raw_batches(location, source, BATCH_SIZE):
        # the unkeyable records were quarantined beside the landing when it was fetched
        records = [r for r in map(_decode_or_quarantine, batch) if isinstance(r, CallRecord)]
        writer.write(flatten_calls(records))


@dg.multi_asset(
    specs=[_raw_calls_spec(), *(_table_spec(t) for t in TABLES.values())],
    check_specs=[
        *check_specs(RAW_CALLS, [TOTAL_RECORDS_RECONCILED, RECORDS_QUARANTINED]),
        *(spec for t in TABLES.values() for spec in check_specs(t.name, TABLE_CHECKS)),
        *check_specs("calls", CALLS_CHECKS),
    ],
    can_subset=True,
    name="ingest_calls",
    description=(
        "Fetch one workflow's calls, land them raw, and flatten them into the four typed tables:"
        " typed msgspec decoding of only the contract's fields (deep objects kept as raw JSON"
        " text), column-wise assembly with pandas/pyarrow, written in row groups as pages arrive,"
        " validated, then published atomically (a failed blocking check leaves the previous"
        " files untouched)."
    ),
)
def ingest_calls(
    context: dg.AssetExecutionContext,
    config: IngestConfig,
    stuut_api: StuutApiResource,
    storage: StorageResource,
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Fetch, land and flatten one workflow (or the selected part of that)."""
    with storage_faults():
        yield from _ingest(context, config, stuut_api, storage.location())


def _ingest(
    context: dg.AssetExecutionContext,
    config: IngestConfig,
    stuut_api: StuutApiResource,
    location: DataLocation,
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    workflow_id = checked_workflow_id(context.partition_key)
    selected = context.selected_asset_keys
    tables = selected & TABLE_KEYS
    if tables and tables != TABLE_KEYS:
        raise dg.Failure(
            f"{', '.join(TABLES)} are built and published together: select all four (or none)."
        )
    checks = context.selected_asset_check_keys
    location.check()  # fail fast (endpoint, bucket, credentials) before anything is fetched
    writer = PartitionWriter(location, workflow_id, run_id=context.run.run_id) if tables else None
    try:
        if RAW_CALLS_KEY in selected:
            guard = _shrink_guard(config, location, workflow_id) if writer is not None else None
            try:
                landed = _fetch_and_land(stuut_api, location, workflow_id, writer, guard)
            except _ShrinkRefused as refused:
                shrink = refused.outcome
                yield from _selected(check_results("calls", [shrink]), checks)
                raise _blocking_failure(
                    workflow_id, [(f"calls.{shrink.name}", shrink.description)]
                ) from None
            report = landed.report
            context.log.info(
                f"{workflow_id}: {report.records} calls in {report.pages} pages"
                f" ({report.passes} passes), {report.duplicates_dropped} duplicates dropped,"
                f" {report.retries} retries, total_records={report.total_records}"
                f" matched={report.total_records_matched}"
            )
            yield dg.MaterializeResult(
                asset_key=RAW_CALLS_KEY,
                metadata={
                    "dagster/row_count": report.records,
                    "dagster/uri": location.uri(landed.key),
                    "bytes_compressed": location.size(landed.key),
                    "bytes_raw": landed.bytes_raw,
                    "quarantined": landed.quarantined,
                    **(
                        {"quarantine_uri": location.uri(quarantine_key(workflow_id))}
                        if landed.quarantined
                        else {}
                    ),
                    **{f"fetch/{k}": v for k, v in report.as_dict().items()},
                    **worker_metadata(),
                },
            )
            if dg.AssetCheckKey(RAW_CALLS_KEY, TOTAL_RECORDS_RECONCILED.name) in checks:
                yield from check_results(RAW_CALLS, [total_records_outcome(report)])
            if dg.AssetCheckKey(RAW_CALLS_KEY, RECORDS_QUARANTINED.name) in checks:
                outcome = quarantine_outcome(report.records, landed.quarantined)
                yield from check_results(RAW_CALLS, [outcome])
            if writer is not None and not landed.complete:
                context.log.info("a record superseded another: rebuilding from the landing")
                writer.abort()
                writer = PartitionWriter(location, workflow_id, run_id=context.run.run_id)
                _flatten_landing(writer, location, workflow_id)
        elif writer is not None:
            _flatten_landing(writer, location, workflow_id)
        if writer is not None:
            yield from _validate_and_publish(context, config, writer, workflow_id, checks)
    finally:
        if writer is not None:
            writer.abort()


def _shrink_guard(
    config: IngestConfig, location: DataLocation, workflow_id: str
) -> Callable[[int], None]:
    """Refuse, before anything is published, a refresh that `no_shrink` would fail."""

    def guard(staged_calls: int) -> None:
        outcome = shrink_outcome(
            location,
            workflow_id,
            staged_calls,
            threshold=config.shrink_threshold,
            allow_shrink=config.allow_shrink,
        )
        if not outcome.passed:
            raise _ShrinkRefused(outcome)

    return guard


def _selected(
    results: list[dg.AssetCheckResult],
    checks: frozenset[dg.AssetCheckKey] | set[dg.AssetCheckKey],
) -> list[dg.AssetCheckResult]:
    """The results of the checks this step was asked to evaluate."""
    return [r for r in results if dg.AssetCheckKey(r.asset_key, r.check_name) in checks]


def _blocking_failure(workflow_id: str, failed: list[tuple[str, str]]) -> dg.Failure:
    """The step's failure when blocking checks failed: every (check, message), nothing written."""
    failures = "; ".join(f"{name}: {message}" for name, message in failed)
    return dg.Failure(
        f"blocking checks failed for workflow {workflow_id}; nothing was published and"
        f" the previous files are intact. {failures}",
        metadata={"failed_checks": [name for name, _ in failed]},
    )


def _validate_and_publish(
    context: dg.AssetExecutionContext,
    config: IngestConfig,
    writer: PartitionWriter,
    workflow_id: str,
    checks: frozenset[dg.AssetCheckKey] | set[dg.AssetCheckKey],
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Blocking checks on the staged files; publish only when they pass."""
    location = writer.location
    report = validate_partition(location, writer.seal())
    shrink = shrink_outcome(
        location,
        workflow_id,
        writer.rows["calls"],
        threshold=config.shrink_threshold,
        allow_shrink=config.allow_shrink,
    )
    results = _selected(
        [r for t in TABLES.values() for r in check_results(t.name, table_outcomes(t, report))]
        + check_results("calls", [shrink]),
        checks,
    )
    if not report.passed or not shrink.passed:
        yield from results
        failed = [(c.name, c.message) for c in report.blocking_failures]
        if not shrink.passed:
            failed.append((f"calls.{shrink.name}", shrink.description))
        raise _blocking_failure(workflow_id, failed)
    published = writer.publish()
    drift = writer.drift
    if not drift.is_empty:
        context.log.warning(f"{workflow_id}: schema drift seen: {drift.as_dict()}")
    for name, table in TABLES.items():
        key = published[name]
        metadata: dict[str, object] = {
            "dagster/row_count": writer.rows[name],
            "dagster/uri": location.uri(key),
            "dagster/column_schema": column_schema(table.columns, primary_key=table.primary_key),
            "bytes": location.size(key),
            "preview": _preview(location, key, table),
            **worker_metadata(),
        }
        if name == "calls":
            metadata["drift"] = dg.MetadataValue.json(drift.as_dict())
        yield dg.MaterializeResult(asset_key=name, metadata=metadata)
    yield from results
