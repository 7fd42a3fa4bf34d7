"""Resources of the warehouse domain: the DuckDB database file."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from pydantic import Field

from stuut_pipeline import settings
from stuut_pipeline.layout import WAREHOUSE_FILE, warehouse_path
from stuut_pipeline.warehouse import connection


class DuckDBWarehouse(dg.ConfigurableResource):
    """The DuckDB database of the rollups (one writer at a time: assets run in pool `duckdb`)."""

    path: str | None = Field(
        default=None,
        description=(
            f"Database file, from {settings.ENV_WAREHOUSE_PATH};"
            f" empty = <data dir>/{WAREHOUSE_FILE}"
        ),
    )
    lock_timeout_seconds: float = Field(
        default=120.0,
        description="How long a writer waits for a lock held by another process (a reader)",
    )

    def db_path(self, data_dir: Path) -> Path:
        """The database file: `path` when set, else under the data directory."""
        return Path(self.path).resolve() if self.path else warehouse_path(data_dir)

    @contextmanager
    def connect(
        self, data_dir: Path, *, read_only: bool = False
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection that is closed (releasing the file lock) on exit."""
        with connection(
            self.db_path(data_dir), read_only=read_only, lock_timeout=self.lock_timeout_seconds
        ) as con:
            yield con


def warehouse_from_env() -> DuckDBWarehouse:
    """The warehouse resource; `$STUUT_WAREHOUSE_PATH` stays a `dg.EnvVar` when set."""
    if settings.warehouse_path() is not None:
        return DuckDBWarehouse(path=dg.EnvVar(settings.ENV_WAREHOUSE_PATH))
    return DuckDBWarehouse()


@dg.definitions
def resources() -> dg.Definitions:
    """The warehouse resource, bound for the whole code location."""
    return dg.Definitions(resources={"warehouse": warehouse_from_env()})
