"""Ids: random `prefix_...` ids, stable hashes, and the reversible call-id encoding."""

from __future__ import annotations

import hashlib
import random

ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_HEX = "0123456789abcdef"
_MASK64 = (1 << 64) - 1
_MIX = 0x9E3779B97F4A7C15  # odd: invertible mod 2**64
_MIX_INV = pow(_MIX, -1, 1 << 64)
_CALL_ID_LEN = 11  # 62**11 > 2**64


def rid(rng: random.Random, prefix: str, n: int = 16) -> str:
    """`prefix` followed by `n` random base-62 characters."""
    return prefix + "".join(rng.choices(ALNUM, k=n))


def hex_id(rng: random.Random, n: int) -> str:
    """`n` random lower-case hex digits."""
    return "".join(rng.choices(_HEX, k=n))


def u64(*parts: object) -> int:
    """A stable 64-bit hash of `parts` (never the per-process salted `hash()`)."""
    key = ":".join(map(str, parts)).encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big")


def unit(*parts: object) -> float:
    """A stable uniform number in [0, 1) from `parts`."""
    return u64(*parts) / 2.0**64


def _b62(x: int, width: int) -> str:
    out = []
    for _ in range(width):
        x, r = divmod(x, 62)
        out.append(ALNUM[r])
    return "".join(reversed(out))


def encode_call_id(index: int, key: int) -> str:
    """The id of call `index` under `key`: a bijection of the index (see `decode_call_id`)."""
    if not 0 <= index <= _MASK64:
        raise ValueError(f"index out of range: {index}")
    x = ((index ^ key) * _MIX) & _MASK64
    x ^= x >> 32
    return "call_" + _b62(x, _CALL_ID_LEN)


def decode_call_id(call_id: str, key: int) -> int | None:
    """The index of a call id made by `encode_call_id` with `key`, or None."""
    body = call_id[5:] if call_id.startswith("call_") else ""
    if len(body) != _CALL_ID_LEN or any(c not in ALNUM for c in body):
        return None
    x = 0
    for c in body:
        x = x * 62 + ALNUM.index(c)
    if x > _MASK64:
        return None
    x ^= x >> 32
    index = ((x * _MIX_INV) & _MASK64) ^ key
    return index if encode_call_id(index, key) == call_id else None
