"""The query parameters of `GET /v1/calls`, validated before any request is sent."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from .enums import CLASSIFICATIONS, DEFAULT_LIMIT, DIRECTIONS, MAX_LIMIT, MIN_LIMIT, SENTIMENTS
from .errors import InvalidParameterError


def _check_enum_list(name: str, values: Sequence[str], allowed: Sequence[str]) -> tuple[str, ...]:
    if isinstance(values, str):
        values = (values,)
    bad = [v for v in values if v not in allowed]
    if bad:
        raise InvalidParameterError(
            f"{name}={bad!r} is not allowed: each value must be one of {', '.join(allowed)}"
        )
    return tuple(values)


def _check_id(name: str, value: str | None, example: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > 256:
        raise InvalidParameterError(
            f"{name} must be a non-empty identifier of at most 256 characters (e.g. {example}),"
            f" got {value!r}"
        )
    return value


@dataclass(frozen=True)
class CallsQuery:
    """Filters and page size of a `GET /v1/calls` listing; invalid values raise at construction."""

    limit: int = DEFAULT_LIMIT
    classification: tuple[str, ...] = field(default=())
    direction: str | None = None
    invoice: str | None = None
    partner: str | None = None
    sentiment: tuple[str, ...] = field(default=())
    workflow: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.limit, bool) or not isinstance(self.limit, int):
            raise InvalidParameterError(
                f"limit must be an integer between {MIN_LIMIT} and {MAX_LIMIT}, got {self.limit!r}"
            )
        if not MIN_LIMIT <= self.limit <= MAX_LIMIT:
            raise InvalidParameterError(
                f"limit={self.limit} is out of range: it must be between {MIN_LIMIT}"
                f" and {MAX_LIMIT}"
            )
        object.__setattr__(
            self,
            "classification",
            _check_enum_list("classification", self.classification, CLASSIFICATIONS),
        )
        object.__setattr__(
            self, "sentiment", _check_enum_list("sentiment", self.sentiment, SENTIMENTS)
        )
        if self.direction is not None and self.direction not in DIRECTIONS:
            raise InvalidParameterError(
                f"direction={self.direction!r} is not allowed: it must be one of"
                f" {', '.join(DIRECTIONS)}"
            )
        _check_id("invoice", self.invoice, "inv_abc123")
        _check_id("partner", self.partner, "ptn_abc123")
        _check_id("workflow", self.workflow, "otwfl_abc123")

    def params(self, page: int) -> list[tuple[str, str | int]]:
        """Query parameters for one page; list filters go as repeated keys."""
        if isinstance(page, bool) or not isinstance(page, int) or page < 0:
            raise InvalidParameterError(f"page must be an integer >= 0 (0-indexed), got {page!r}")
        out: list[tuple[str, str | int]] = [("page", page), ("limit", self.limit)]
        out += [("classification", c) for c in self.classification]
        if self.direction:
            out.append(("direction", self.direction))
        if self.invoice:
            out.append(("invoice", self.invoice))
        if self.partner:
            out.append(("partner", self.partner))
        out += [("sentiment", s) for s in self.sentiment]
        if self.workflow:
            out.append(("workflow", self.workflow))
        return out

    def describe(self) -> str:
        """A short human description of the filters, for logs and reports."""
        parts = [f"{k}={v}" for k, v in self.params(0)[2:]]
        return " ".join(parts) or "all calls"
