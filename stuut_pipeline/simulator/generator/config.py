"""`GeneratorConfig`: the knobs of the call generator."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class GeneratorConfig:
    """Knobs of the generator. Every call is a pure function of this config and its index."""

    seed: int = 0
    n_workflows: int = 3
    no_workflow_share: float = 0.02
    max_classifications: int = 3
    max_tasks: int = 2
    max_invoices: int = 3
    schema_drift_share: float = 0.0  # share of calls with schema drift (DRIFT_* constants)
    string_amount_share: float = 0.0  # share of invoices whose amounts are JSON strings
    epoch: datetime = datetime(2026, 9, 1, tzinfo=UTC)  # fixed, never now()
    n_partners: int = 40
    n_users: int = 12
    span_days: float = 60.0  # calls 0..span_calls-1 are spread over this many days after epoch
    span_calls: int = 3000  # later indices keep going past span_days at the same pace

    def __post_init__(self) -> None:
        for name in ("no_workflow_share", "schema_drift_share", "string_amount_share"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")
        for name in ("max_classifications", "max_tasks", "max_invoices"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")
        if self.n_workflows < 1 or self.n_partners < 1 or self.n_users < 1:
            raise ValueError("n_workflows, n_partners and n_users must be >= 1")
        if self.span_days <= 0 or self.span_calls < 1:
            raise ValueError("span_days must be > 0 and span_calls >= 1")
