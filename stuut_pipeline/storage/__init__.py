"""Dagster-free storage: local disk or S3 behind `DataLocation`, atomic publish, datasets."""

from .datasets import PARTITION_COLUMN, dataset, hive_partitioning
from .errors import (
    StorageAuthError,
    StorageBucketError,
    StorageError,
    StorageNetworkError,
)
from .location import DataLocation, S3Options, check_key, glob_match
from .publish import (
    STAGING_PREFIX,
    PublishItem,
    PublishJournal,
    Staging,
    clean_orphaned_staging,
    new_staging,
    orphaned_staging,
    publish_file,
    publish_files,
)

__all__ = [
    "PARTITION_COLUMN",
    "STAGING_PREFIX",
    "DataLocation",
    "PublishItem",
    "PublishJournal",
    "S3Options",
    "Staging",
    "StorageAuthError",
    "StorageBucketError",
    "StorageError",
    "StorageNetworkError",
    "check_key",
    "clean_orphaned_staging",
    "dataset",
    "glob_match",
    "hive_partitioning",
    "new_staging",
    "orphaned_staging",
    "publish_file",
    "publish_files",
]
