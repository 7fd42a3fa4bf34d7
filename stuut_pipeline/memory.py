"""Allocator settings for the ingest's long fetch loop (glibc only; nothing happens elsewhere).

The page threads allocate and free a multi-megabyte body per page (6.7 MB at `limit=200`). glibc
serves the first such allocation with mmap, but after freeing it raises its mmap threshold to that
size, so every later body comes from the threads' malloc heaps, which fragment: the resident size
then creeps up with the number of pages, not with what is kept. A fixed threshold keeps large
buffers on mmap, returned to the system as soon as they are freed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys

M_MMAP_THRESHOLD = -3  # mallopt parameter number, from glibc's malloc.h
DEFAULT_MMAP_THRESHOLD = 1 << 20


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    # musl and other C libraries have no mallopt/mallinfo2
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "mallinfo2") else None


def keep_large_buffers_on_mmap(threshold: int = DEFAULT_MMAP_THRESHOLD) -> bool:
    """Serve every allocation of `threshold` bytes or more with mmap, for the whole process.

    Returns True when the setting was applied (glibc), False where it does not apply.
    """
    libc = _glibc()
    if libc is None:
        return False
    return bool(libc.mallopt(M_MMAP_THRESHOLD, ctypes.c_int(threshold)))


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def mmapped_bytes() -> int | None:
    """Bytes the C allocator currently holds in mmapped blocks (None where unknown)."""
    libc = _glibc()
    if libc is None:
        return None
    libc.mallinfo2.restype = _MallInfo2
    return int(libc.mallinfo2().hblkhd)
