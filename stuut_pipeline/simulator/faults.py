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
    # Hostile behaviours (issue 14): a misbehaving API must never hang a client.
    rate_html: float = 0.0  # a 200 whose body is an HTML page (a proxy's error page)
    rate_reset: float = 0.0  # headers and half the body sent, then the connection reset (RST)
    rate_trickle: float = 0.0  # the body sent in small chunks, `trickle_delay_s` apart
    trickle_delay_s: float = 0.5
    trickle_chunk_bytes: int = 512
    omit_retry_after: bool = False  # 429s come without a Retry-After header
    next_page_cycle_to: int | None = None  # the last page's next_page points back to this page
    total_records_offset: int = 0  # added to the announced total_records (a lie; paging honest)
    empty_page: int | None = None  # this page comes back with no records...
    empty_page_times: int = 1  # ...the first this many times it is asked for
    # Share of the calls (not requests) served as hostile JSON: lone surrogate escapes, no `id`,
    # wrong types, huge strings, deep nesting, duplicate keys (`hostile.KINDS`; by seed and index).
    hostile_fraction: float = 0.0

    def __post_init__(self) -> None:
        for name in _RATES:
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")
        if sum(getattr(self, name) for name in _RATES) > 1.0:
            raise ValueError("the fault rates add up to more than 1")
        if not 0.0 <= self.hostile_fraction <= 1.0:
            fraction = self.hostile_fraction
            raise ValueError(f"hostile_fraction must be between 0 and 1, got {fraction}")
        if self.latency_ms < 0 or self.retry_after_s < 0:
            raise ValueError("latency_ms and retry_after_s must be >= 0")
        if self.drift_inserts < 0 or self.drift_every < 1:
            raise ValueError("drift_inserts must be >= 0 and drift_every >= 1")
        if self.trickle_delay_s < 0 or self.trickle_chunk_bytes < 1:
            raise ValueError("trickle_delay_s must be >= 0 and trickle_chunk_bytes >= 1")
        if self.next_page_cycle_to is not None and self.next_page_cycle_to < 0:
            raise ValueError("next_page_cycle_to must be >= 0")
        if self.empty_page is not None and self.empty_page < 0 or self.empty_page_times < 0:
            raise ValueError("empty_page and empty_page_times must be >= 0")

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
        return sum(getattr(self, name) for name in _RATES)


_RATES = (
    "rate_429",
    "rate_500",
    "rate_malformed",
    "rate_disconnect",
    "rate_html",
    "rate_reset",
    "rate_trickle",
)
