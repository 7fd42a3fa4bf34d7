"""Lone UTF-16 surrogate escapes in JSON text: legal grammar that msgspec refuses anywhere.

`"\\ud800"` (what Python's `json.dumps` writes for such text) is a valid JSON string escape, but it
names no character. msgspec rejects the whole document holding one; this module finds them so that
callers can decode around them and still keep the bytes exactly as received.
"""

from __future__ import annotations

import re

#: A surrogate escape candidate (`\\ud800`-`\\udfff`); it is an escape only when the backslashes
#: right before it are even in number (else its own backslash is escaped: text).
_CANDIDATE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _is_high(escape: bytes) -> bool:
    return escape[3:4] in b"89abAB"


#: A same-length (6-byte) stand-in for a lone surrogate escape: U+FFFD, the replacement character.
PLACEHOLDER = rb"\uFFFD"
#: A mark for a lone surrogate escape, for decodes that must tell afterwards which fields held
#: one: the escaped pair of U+10FFFF, a noncharacter (never text), and that character decoded.
MARK = rb"\udbff\udfff"
MARK_TEXT = "\U0010ffff"


def lone_surrogate_spans(raw: bytes | bytearray | memoryview) -> list[tuple[int, int]]:
    """The (start, end) byte offsets of every lone surrogate escape in `raw`, in order.

    A high surrogate escape not followed by a low one, or a low one not preceded by a high one;
    an escaped backslash (`\\\\ud800`) is text, not an escape.
    """
    escapes = [m for m in _CANDIDATE.finditer(raw) if _escaped(raw, m.start())]
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(escapes):
        here = escapes[i]
        after = escapes[i + 1] if i + 1 < len(escapes) else None
        if (
            _is_high(here.group())
            and after is not None
            and after.start() == here.end()
            and not _is_high(after.group())
        ):
            i += 2  # a valid pair
            continue
        spans.append(here.span())
        i += 1
    return spans


def _escaped(raw: bytes | bytearray | memoryview, start: int) -> bool:
    """Whether the backslash at `start` begins an escape (an even run of backslashes before it)."""
    run = 0
    while start - run > 0 and raw[start - run - 1] == 0x5C:
        run += 1
    return run % 2 == 0


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
