"""Resources of the ingest domain: the Stuut API."""

import dagster as dg
from pydantic import Field

from stuut_pipeline import settings
from stuut_pipeline.settings import ApiSettings, FetchSettings, SimulatorSettings, make_client
from stuut_pipeline.stuut_api import StuutClient

_FETCH = FetchSettings()


class StuutApiResource(dg.ConfigurableResource):
    """Stuut's List Calls API; with no base URL, the embedded simulator serves in-process."""

    base_url: str | None = Field(
        default=None,
        description=f"API root, from {settings.ENV_BASE_URL}; empty = embedded simulator",
    )
    token: str | None = Field(default=None, description=f"Bearer token, from {settings.ENV_TOKEN}")
    concurrency: int = Field(default=_FETCH.concurrency, description="Pages fetched at once")
    prefetch: int = Field(
        default=_FETCH.prefetch,
        description="Pages requested ahead of the flattening (hides the API's latency)",
    )
    max_attempts: int = Field(
        default=_FETCH.max_attempts, description="Attempts per page on transient faults"
    )
    page_size: int = Field(default=_FETCH.page_size, description="Records per page (1..200)")
    outage_step_retries: int = Field(
        default=2, description="Step retries when a page still fails after max_attempts"
    )
    outage_retry_wait_seconds: float = Field(
        default=120.0, description="Wait before such a step retry"
    )

    def fetch_settings(self) -> FetchSettings:
        """The paging settings this resource is configured with."""
        return FetchSettings(self.concurrency, self.prefetch, self.max_attempts, self.page_size)

    def client(self) -> StuutClient:
        """A new client; close it after use."""
        api = ApiSettings(self.base_url, self.token, SimulatorSettings.from_env())
        return make_client(api, self.fetch_settings())


def stuut_api_from_env() -> StuutApiResource:
    """The API resource; secrets stay `dg.EnvVar`s so the UI shows names, never values."""
    if settings.uses_real_api():
        return StuutApiResource(
            base_url=dg.EnvVar(settings.ENV_BASE_URL), token=dg.EnvVar(settings.ENV_TOKEN)
        )
    return StuutApiResource()


@dg.definitions
def resources() -> dg.Definitions:
    """The API resource, bound for the whole code location."""
    return dg.Definitions(resources={"stuut_api": stuut_api_from_env()})
