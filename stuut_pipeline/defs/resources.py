"""Resources every domain uses: the data directory."""

from pathlib import Path

import dagster as dg
from pydantic import Field

from stuut_pipeline import settings


class DataDirResource(dg.ConfigurableResource):
    """Where every output goes."""

    path: str = Field(
        description=f"Data directory, from {settings.ENV_DATA_DIR} (default <project>/data)"
    )

    @property
    def root(self) -> Path:
        """The data directory as an absolute path."""
        return Path(self.path).resolve()


def data_dir_from_env() -> DataDirResource:
    """The data directory resource; `$STUUT_DATA_DIR` stays a `dg.EnvVar` when set."""
    if settings.env(settings.ENV_DATA_DIR):
        return DataDirResource(path=dg.EnvVar(settings.ENV_DATA_DIR))
    return DataDirResource(path=str(settings.data_dir()))


@dg.definitions
def resources() -> dg.Definitions:
    """Resources bound for the whole code location."""
    return dg.Definitions(resources={"data_dir": data_dir_from_env()})
