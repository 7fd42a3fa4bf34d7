"""Small value helpers: timestamps, ascii slugs, money, and weighted draws."""

from __future__ import annotations

import random
import time
import unicodedata
from typing import Any

DAY = 86_400


def iso(sec: float) -> str:
    """Epoch seconds -> '2026-09-14T13:02:11Z'."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(sec))


def date(sec: float) -> str:
    """Epoch seconds -> '2026-09-14'."""
    return time.strftime("%Y-%m-%d", time.gmtime(sec))


_FOLD = str.maketrans(
    {"ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "ß": "ss", "ł": "l", "Ł": "L", "đ": "d", "'": ""}
)


def ascii_slug(text: str) -> str:
    """Fold a unicode name to a lower-case ascii slug usable in emails and domains."""
    folded = unicodedata.normalize("NFKD", text.translate(_FOLD))
    out = "".join(c for c in folded if c.isascii() and (c.isalnum() or c in " -.&"))
    return "-".join(out.lower().replace("&", " ").replace(".", " ").split())


def money(units: int, decimals: int) -> float | int:
    """Minor units -> JSON number (int for zero-decimal currencies such as JPY).

    Exact in JSON for up to 15 significant digits: the float's repr, which JSON encoders write,
    is then the decimal itself (1234.5678 for 12345678 units of 4 decimals).
    """
    return units if decimals == 0 else round(units / 10**decimals, decimals)


def money_str(units: int, decimals: int) -> str:
    """Minor units -> the amount as a JSON string ("1234.50"; "1234" for zero decimals), exactly."""
    if decimals == 0:
        return str(units)
    whole, minor = divmod(abs(units), 10**decimals)
    return f"{'-' if units < 0 else ''}{whole}.{minor:0{decimals}d}"


def fmt_amount(units: int, currency: str, decimals: int) -> str:
    """Minor units -> a human amount with thousands separators: '1,234.50 EUR'."""
    if decimals == 0:
        return f"{units:,} {currency}"
    return f"{units / 10**decimals:,.{decimals}f} {currency}"


def pick(rng: random.Random, table: tuple[tuple[Any, float], ...]) -> Any:
    """Weighted choice from ((value, weight), ...): one `rng.random()` draw."""
    r = rng.random() * sum(w for _, w in table)
    for value, weight in table:
        r -= weight
        if r < 0:
            return value
    return table[-1][0]


def fill(rng: random.Random, pattern: str) -> str:
    """`pattern` with every '#' replaced by a random digit."""
    return "".join(str(rng.randrange(10)) if c == "#" else c for c in pattern)


def count(rng: random.Random, cap: int, weights: tuple[float, ...]) -> int:
    """0..cap, drawn from `weights` (probabilities of 0, 1, 2, 3...) and clipped to cap."""
    r = rng.random()
    n = len(weights) - 1
    for k, w in enumerate(weights):
        r -= w
        if r < 0:
            n = k
            break
    if cap > len(weights) - 1 and n == len(weights) - 1:
        n += rng.randint(0, cap - n)
    return min(n, cap)
