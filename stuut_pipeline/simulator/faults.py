"""Fault injection settings of the simulator. Every fault is off by default."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FaultConfig:
    """Which faults the simulator injects, and how often (rates are per request, 0..1)."""

    latency_ms: float = 0.0
    rate_429: float = 0.0
    retry_after_s: float = 1.0
    rate_500: float = 0.0
    rate_malformed: float = 0.0
    rate_disconnect: float = 0.0
    drift_inserts: int = 0
    drift_every: int = 2

    def __post_init__(self) -> None:
        for name in ("rate_429", "rate_500", "rate_malformed", "rate_disconnect"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")
        if self.rate_429 + self.rate_500 + self.rate_malformed + self.rate_disconnect > 1.0:
            raise ValueError("the fault rates add up to more than 1")
        if self.latency_ms < 0 or self.retry_after_s < 0:
            raise ValueError("latency_ms and retry_after_s must be >= 0")
        if self.drift_inserts < 0 or self.drift_every < 1:
            raise ValueError("drift_inserts must be >= 0 and drift_every >= 1")

    @classmethod
    def with_rate(cls, rate: float, **overrides: float) -> FaultConfig:
        """Transient faults at `rate` in all, split evenly over 429, 500 and malformed bodies."""
        share = rate / 3
        values: dict = {"rate_429": share, "rate_500": share, "rate_malformed": share}
        values.update(overrides)
        return cls(**values)

    @property
    def transient_rate(self) -> float:
        """Probability that one request meets a transient fault."""
        return self.rate_429 + self.rate_500 + self.rate_malformed + self.rate_disconnect
