"""What a check is and what one evaluation of it found: one shape for tables and rollups.

Libraries declare their checks as `CheckSpec`s and return `CheckOutcome`s; `defs/checks.py` turns
both into Dagster check specs and results.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: A metadata value an outcome may carry (lists become JSON in the Dagster UI).
MetadataValue = int | float | str | bool | list | dict | None


@dataclass(frozen=True)
class CheckSpec:
    """A check an asset declares: blocking checks stop the publish when they fail."""

    name: str
    description: str
    blocking: bool = True


@dataclass(frozen=True)
class CheckOutcome:
    """One evaluation of a check for one workflow partition."""

    spec: CheckSpec
    passed: bool
    description: str
    metadata: dict[str, MetadataValue] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The check's name."""
        return self.spec.name

    @property
    def blocking(self) -> bool:
        """Whether a failure stops the publish."""
        return self.spec.blocking
