"""Resources every domain uses: the data location (a local directory or `s3://bucket/prefix`)."""

import contextlib
from collections.abc import Iterator

import dagster as dg
from pydantic import Field

from stuut_pipeline import settings
from stuut_pipeline.storage import DataLocation, S3Options, StorageError


class StorageResource(dg.ConfigurableResource):
    """Where every output goes: a local path or `s3://bucket/prefix`, and how to reach S3.

    The S3 secret is read through `dg.EnvVar` (never shown in the UI); error messages name the
    endpoint and bucket, never a credential.
    """

    url: str = Field(
        description=(
            f"Data location, from {settings.ENV_DATA_URL} or {settings.ENV_DATA_DIR}"
            " (default <project>/data): a local path or s3://bucket/prefix"
        )
    )
    endpoint_url: str | None = Field(
        default=None,
        description=f"S3-compatible endpoint, from {settings.ENV_S3_ENDPOINT}; empty = AWS S3",
    )
    access_key_id: str | None = Field(
        default=None, description=f"S3 access key, from {settings.ENV_S3_ACCESS_KEY}"
    )
    secret_access_key: str | None = Field(
        default=None, description=f"S3 secret key, from {settings.ENV_S3_SECRET_KEY}"
    )
    region: str = Field(
        default=settings.DEFAULT_S3_REGION, description=f"S3 region, from {settings.ENV_S3_REGION}"
    )

    def location(self) -> DataLocation:
        """The data location (S3 options only for an `s3://` URL)."""
        if not self.url.startswith("s3://"):
            return DataLocation.from_url(self.url)
        options = S3Options(
            endpoint_url=self.endpoint_url or None,
            access_key=self.access_key_id or None,
            secret_key=self.secret_access_key or None,
            region=self.region or settings.DEFAULT_S3_REGION,
        )
        return DataLocation.from_url(self.url, options)


def _env_or(name: str, default: str | None = None):
    return dg.EnvVar(name) if settings.env(name) else default


def storage_from_env() -> StorageResource:
    """The storage resource; every variable that is set stays a `dg.EnvVar`."""
    variable = settings.data_url_variable()
    return StorageResource(
        url=dg.EnvVar(variable) if variable else str(settings.data_dir()),
        endpoint_url=_env_or(settings.ENV_S3_ENDPOINT),
        access_key_id=_env_or(settings.ENV_S3_ACCESS_KEY),
        secret_access_key=_env_or(settings.ENV_S3_SECRET_KEY),
        region=_env_or(settings.ENV_S3_REGION, settings.DEFAULT_S3_REGION),
    )


@dg.definitions
def resources() -> dg.Definitions:
    """Resources bound for the whole code location."""
    return dg.Definitions(resources={"storage": storage_from_env()})


#: Retries of a step whose storage endpoint could not be reached (network faults only).
STORAGE_STEP_RETRIES = 3
STORAGE_RETRY_WAIT_SECONDS = 10


@contextlib.contextmanager
def storage_faults() -> Iterator[None]:
    """Turn storage errors into Dagster's: network faults retry the step, the rest fail it.

    The message names the endpoint and bucket and what to do, never a credential.
    """
    try:
        yield
    except StorageError as exc:
        if exc.retryable:
            raise dg.RetryRequested(
                max_retries=STORAGE_STEP_RETRIES, seconds_to_wait=STORAGE_RETRY_WAIT_SECONDS
            ) from exc
        raise dg.Failure(description=str(exc), allow_retries=False) from None
