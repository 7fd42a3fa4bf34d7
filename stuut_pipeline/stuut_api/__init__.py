"""Client of Stuut's `GET /v1/calls` (no Dagster in here)."""

from .client import CallKey, CallsFetch, FetchedPage, FetchedRecord, FetchReport, StuutClient
from .errors import (
    InvalidParameterError,
    StuutApiError,
    StuutAuthError,
    StuutNotFoundError,
    StuutPagingError,
    StuutRequestRejected,
    StuutRetriesExhausted,
)
from .query import CallsQuery

__all__ = [
    "CallKey",
    "CallsFetch",
    "CallsQuery",
    "FetchReport",
    "FetchedPage",
    "FetchedRecord",
    "InvalidParameterError",
    "StuutApiError",
    "StuutAuthError",
    "StuutClient",
    "StuutNotFoundError",
    "StuutPagingError",
    "StuutRequestRejected",
    "StuutRetriesExhausted",
]
