"""One exception family for storage faults, with a message that says where and what to do.

pyarrow raises a bare `OSError` whose text carries the AWS error code (e.g. `AWS Error
SIGNATURE_DOES_NOT_MATCH during ListObjectsV2 operation: ...`). We classify on that code:
credentials refused (not retryable), bucket missing (not retryable), network (retryable). A
missing object stays a `FileNotFoundError`: that is an answer, not a fault.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_AUTH_CODES = (
    "SIGNATURE_DOES_NOT_MATCH",
    "INVALID_ACCESS_KEY_ID",
    "ACCESS_DENIED",
    "SignatureDoesNotMatch",
    "InvalidAccessKeyId",
    "AccessDenied",
    "EXPIRED_TOKEN",
    "INVALID_CLIENT_TOKEN_ID",
)
_BUCKET_CODES = ("NO_SUCH_BUCKET", "NoSuchBucket")
_NETWORK_CODES = (
    "NETWORK_CONNECTION",
    "curlCode",
    "Could not connect",
    "Couldn't connect",
    "timed out",
    "Timeout",
    "REQUEST_TIMEOUT",
    "SLOW_DOWN",
    "SERVICE_UNAVAILABLE",
    "INTERNAL_FAILURE",
    "Could not resolve host",
)
_REQUEST_ID = re.compile(r"\s*\(Request ID: [^)]*\)")


class StorageError(OSError):
    """A storage fault: the message names the location (never a secret) and what to do."""

    retryable: bool = False


class StorageAuthError(StorageError):
    """The endpoint refused our credentials (wrong access key or secret, or no permission)."""


class StorageBucketError(StorageError):
    """The bucket does not exist (and the location may not create it)."""


class StorageFullError(StorageError):
    """The filesystem (or the bucket's quota) has no space left."""


class StorageNetworkError(StorageError):
    """The endpoint could not be reached or answered with a transient failure; retry later."""

    retryable = True


def scrub(text: str, secrets: Iterable[str | None]) -> str:
    """`text` with every given secret replaced by `***`."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def classify(detail: str) -> type[StorageError]:
    """The exception type for a pyarrow error text."""
    if "No space left" in detail or "QuotaExceeded" in detail or "EntityTooLarge" in detail:
        return StorageFullError
    if any(code in detail for code in _AUTH_CODES):
        return StorageAuthError
    if any(code in detail for code in _BUCKET_CODES):
        return StorageBucketError
    if any(code in detail for code in _NETWORK_CODES):
        return StorageNetworkError
    return StorageError


_ADVICE = {
    StorageAuthError: "check the S3 access key and secret key configured for this endpoint "
    "(not retryable)",
    StorageBucketError: "create the bucket, or allow the location to create it",
    StorageNetworkError: "check that the endpoint is up and reachable; the run may be retried",
    StorageFullError: "free space there (or point STUUT_DATA_URL elsewhere) and run again;"
    " nothing was published, the previous files are intact",
    StorageError: "see the detail above",
}


def storage_error(
    exc: OSError, *, where: str, action: str, secrets: Iterable[str | None]
) -> StorageError:
    """A `StorageError` of the right kind for `exc`, naming `where` (endpoint + bucket)."""
    detail = scrub(_REQUEST_ID.sub("", str(exc)), secrets)
    kind = classify(detail)
    return kind(f"{action} failed at {where}: {detail} -- {_ADVICE[kind]}.")
