"""Errors raised by the Stuut API client. None of their messages ever holds the token."""

from __future__ import annotations


class StuutApiError(Exception):
    """Base class of every error the client raises."""


class InvalidParameterError(StuutApiError, ValueError):
    """A query parameter is outside the documented range or enum; raised before any request."""


class StuutAuthError(StuutApiError):
    """401/403: the token was refused. Not retried."""


class StuutNotFoundError(StuutApiError):
    """404: wrong base URL or path. Not retried."""


class StuutRequestRejected(StuutApiError):
    """422 (or another 4xx): the server refused the parameters. Not retried."""

    def __init__(self, message: str, detail: object = None) -> None:
        super().__init__(message)
        self.detail = detail


class StuutRetriesExhausted(StuutApiError):
    """A transient fault (429, 5xx, timeout, dropped connection, bad body) outlived every retry."""

    def __init__(self, message: str, *, page: int, attempts: int, last_status: str) -> None:
        super().__init__(message)
        self.page = page
        self.attempts = attempts
        self.last_status = last_status


class StuutPagingError(StuutApiError):
    """The API's paging is inconsistent (a `next_page` that does not advance: a cycle). Not
    retried: following it would never end."""

    def __init__(self, message: str, *, page: int, next_page: int) -> None:
        super().__init__(message)
        self.page = page
        self.next_page = next_page
