"""Resources of the warehouse domain: where the analysts' catalog goes, and DuckDB's limits."""

from pathlib import Path

import dagster as dg
from pydantic import Field

from stuut_pipeline import settings
from stuut_pipeline.layout import WAREHOUSE_FILE


class DuckDBWarehouse(dg.ConfigurableResource):
    """Each rollup partition is built in an in-memory DuckDB; the catalog file holds only views."""

    path: str | None = Field(
        default=None,
        description=(
            f"A local file for the analysts' catalog, from {settings.ENV_WAREHOUSE_PATH};"
            f" empty = {WAREHOUSE_FILE} in the data location (local or S3)"
        ),
    )
    memory_limit: str = Field(
        default="1GB", description="Memory of one partition's in-memory DuckDB (spills beyond)"
    )
    threads: int = Field(default=2, description="Threads of one partition's in-memory DuckDB")

    def catalog_path(self) -> Path | None:
        """The local catalog file when `path` is set; None = in the data location."""
        return Path(self.path).resolve() if self.path else None


def warehouse_from_env() -> DuckDBWarehouse:
    """The warehouse resource; `$STUUT_WAREHOUSE_PATH` stays a `dg.EnvVar` when set."""
    if settings.warehouse_path() is not None:
        return DuckDBWarehouse(path=dg.EnvVar(settings.ENV_WAREHOUSE_PATH))
    return DuckDBWarehouse()


@dg.definitions
def resources() -> dg.Definitions:
    """The warehouse resource, bound for the whole code location."""
    return dg.Definitions(resources={"warehouse": warehouse_from_env()})
