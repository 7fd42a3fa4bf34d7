"""The allocator setting of the ingest: large buffers stay on mmap (glibc)."""

import subprocess
import sys

from stuut_pipeline.memory import _glibc, keep_large_buffers_on_mmap, mmapped_bytes

PROBE = """
import sys
from stuut_pipeline.memory import keep_large_buffers_on_mmap, mmapped_bytes

SIZE = 8 << 20

def mmapped_while_held():
    before = mmapped_bytes()
    buf = b"x" * SIZE
    held = mmapped_bytes() - before
    del buf
    return held

applied = keep_large_buffers_on_mmap() if sys.argv[1] == "fixed" else None
first = mmapped_while_held()
print(applied, first, mmapped_while_held())  # the second block comes after the first is freed
"""


def _probe(mode: str) -> tuple[str, int, int]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True
    ).stdout.split()
    return out[0], int(out[1]), int(out[2])


def test_large_buffers_stay_on_mmap_once_the_threshold_is_fixed() -> None:
    if _glibc() is None:  # another C library: the setting does not apply, and says so
        assert keep_large_buffers_on_mmap() is False
        assert mmapped_bytes() is None
        return
    size = 8 << 20
    _, first, second = _probe("default")
    assert first >= size
    assert second < size, "glibc's dynamic threshold should have moved the next block to the heap"
    applied, first, second = _probe("fixed")
    assert applied == "True"
    assert first >= size and second >= size
