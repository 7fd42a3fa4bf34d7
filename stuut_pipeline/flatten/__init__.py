"""Call records -> typed, Hive-partitioned Parquet tables (a plain library: no Dagster in here).

`contract` declares the tables; `decode` turns one record's JSON into typed structs; `flatten`
builds the Arrow tables and the drift report; `parquet_io` writes a partition atomically;
`validate` checks a written partition.
"""

from .contract import TABLES, Column, TableContract, contract_markdown
from .decode import CallRecord, MalformedRecordError, decode_call, decode_calls
from .flatten import DriftReport, FlatBatch, flatten_calls, flatten_raw
from .parquet_io import (
    PartitionWriter,
    published_files,
)
from .validate import CheckResult, ValidationReport, validate_partition, validate_published

__all__ = [
    "TABLES",
    "CallRecord",
    "CheckResult",
    "Column",
    "DriftReport",
    "FlatBatch",
    "MalformedRecordError",
    "PartitionWriter",
    "TableContract",
    "ValidationReport",
    "contract_markdown",
    "decode_call",
    "decode_calls",
    "flatten_calls",
    "flatten_raw",
    "published_files",
    "validate_partition",
    "validate_published",
]
