"""Dagster-free storage: local disk or S3 behind `DataLocation`, atomic publish, datasets."""

from .datasets import PARTITION_COLUMN, dataset, file_dataset, hive_partitioning
from .duckdb_fs import register_location
from .errors import (
    StorageAuthError,
    StorageBucketError,
    StorageError,
    StorageFullError,
    StorageNetworkError,
)
from .location import DataLocation, S3Options, as_location, check_key, glob_match
from .publish import (
    STAGING_PREFIX,
    FileJournal,
    PublishItem,
    PublishJournal,
    Staging,
    clean_orphaned_staging,
    clean_stale_staging,
    fsync_path,
    new_staging,
    orphaned_staging,
    publish_file,
    publish_files,
    recover_publish,
)

__all__ = [
    "PARTITION_COLUMN",
    "STAGING_PREFIX",
    "DataLocation",
    "FileJournal",
    "PublishItem",
    "PublishJournal",
    "S3Options",
    "Staging",
    "StorageAuthError",
    "StorageBucketError",
    "StorageError",
    "StorageFullError",
    "StorageNetworkError",
    "as_location",
    "check_key",
    "clean_orphaned_staging",
    "clean_stale_staging",
    "dataset",
    "file_dataset",
    "fsync_path",
    "glob_match",
    "hive_partitioning",
    "new_staging",
    "orphaned_staging",
    "publish_file",
    "publish_files",
    "recover_publish",
    "register_location",
]
