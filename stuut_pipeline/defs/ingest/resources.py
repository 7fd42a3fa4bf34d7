"""Resources of the ingest domain: the Stuut API and the data directory."""

import os
from pathlib import Path

import dagster as dg
from pydantic import Field

from stuut_pipeline.paths import default_data_dir
from stuut_pipeline.settings import ENV_BASE_URL, ENV_DATA_DIR, ENV_TOKEN, make_client
from stuut_pipeline.stuut_api import StuutClient


class StuutApiResource(dg.ConfigurableResource):
    """Stuut's List Calls API; with no base URL, the embedded simulator serves in-process."""

    base_url: str | None = Field(
        default=None, description=f"API root, from {ENV_BASE_URL}; empty = embedded simulator"
    )
    token: str | None = Field(default=None, description=f"Bearer token, from {ENV_TOKEN}")
    concurrency: int = Field(default=4, description="Pages fetched at once")
    prefetch: int = Field(
        default=2, description="Pages requested ahead of the flattening (hides the API's latency)"
    )
    max_attempts: int = Field(default=6, description="Attempts per page on transient faults")
    page_size: int = Field(default=200, description="Records per page (1..200)")
    outage_step_retries: int = Field(
        default=2, description="Step retries when a page still fails after max_attempts"
    )
    outage_retry_wait_seconds: float = Field(
        default=120.0, description="Wait before such a step retry"
    )

    def client(self) -> StuutClient:
        """A new client; close it after use."""
        return make_client(
            self.base_url,
            self.token,
            concurrency=self.concurrency,
            prefetch=self.prefetch,
            max_attempts=self.max_attempts,
        )


class DataDirResource(dg.ConfigurableResource):
    """Where every output goes."""

    path: str = Field(description=f"Data directory, from {ENV_DATA_DIR} (default ./data)")

    @property
    def root(self) -> Path:
        """The data directory as an absolute path."""
        return Path(self.path).resolve()


def stuut_api_from_env() -> StuutApiResource:
    """The API resource; secrets stay `dg.EnvVar`s so the UI shows names, never values."""
    if os.environ.get(ENV_BASE_URL):
        return StuutApiResource(base_url=dg.EnvVar(ENV_BASE_URL), token=dg.EnvVar(ENV_TOKEN))
    return StuutApiResource()


def data_dir_from_env() -> DataDirResource:
    """The data directory resource."""
    if os.environ.get(ENV_DATA_DIR):
        return DataDirResource(path=dg.EnvVar(ENV_DATA_DIR))
    return DataDirResource(path=str(default_data_dir()))


@dg.definitions
def resources() -> dg.Definitions:
    """Resources bound for the whole code location."""
    return dg.Definitions(
        resources={"stuut_api": stuut_api_from_env(), "data_dir": data_dir_from_env()}
    )
