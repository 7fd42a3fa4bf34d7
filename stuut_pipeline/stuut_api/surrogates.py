"""Lone UTF-16 surrogate escapes in JSON text: legal grammar that msgspec refuses anywhere.

`"\\ud800"` (what Python's `json.dumps` writes for such text) is a valid JSON string escape, but it
names no character. msgspec rejects the whole document holding one; this module finds them so that
callers can decode around them and still keep the bytes exactly as received.
"""

from __future__ import annotations

import re

#: One JSON escape: a valid surrogate pair (kept), a lone surrogate (group 1), or any other escape
#: such as an escaped backslash (consumed, so that `\\\\ud800` stays text).
_ESCAPE = re.compile(
    rb"\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}"
    rb"|(\\u[dD][89a-fA-F][0-9a-fA-F]{2})"
    rb"|\\[^u]"
)

#: A same-length (6-byte) stand-in for a lone surrogate escape: U+FFFD, the replacement character.
PLACEHOLDER = rb"\uFFFD"


def lone_surrogate_spans(raw: bytes | bytearray | memoryview) -> list[tuple[int, int]]:
    """The (start, end) byte offsets of every lone surrogate escape in `raw`, in order.

    A high surrogate escape not followed by a low one, or a low one not preceded by a high one;
    an escaped backslash (`\\\\ud800`) is text, not an escape.
    """
    return [m.span(1) for m in _ESCAPE.finditer(raw) if m.group(1) is not None]


def replace_lone_surrogates(raw: bytes, mark: bytes) -> tuple[bytes, list[bytes]]:
    """`raw` with each lone surrogate escape replaced by `mark`, and the escapes replaced."""
    spans = lone_surrogate_spans(raw)
    if not spans:
        return raw, []
    parts: list[bytes] = []
    lone: list[bytes] = []
    last = 0
    for start, end in spans:
        parts += (raw[last:start], mark)
        lone.append(raw[start:end])
        last = end
    parts.append(raw[last:])
    return b"".join(parts), lone


def masked_same_length(raw: bytes) -> tuple[bytearray, list[tuple[int, int]]]:
    """A copy of `raw` with each lone surrogate escape overwritten by `PLACEHOLDER` (same length,
    so every offset still agrees with `raw`), and the spans overwritten."""
    spans = lone_surrogate_spans(raw)
    masked = bytearray(raw)
    for start, end in spans:
        masked[start:end] = PLACEHOLDER
    return masked, spans
