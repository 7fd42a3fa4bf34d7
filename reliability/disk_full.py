"""Disk full: the data directory on a small real filesystem that a refresh cannot fit in.

Tries a tmpfs mount, then a loop-mounted ext4 image; when neither can be mounted here the scenario
is reported as not runnable (with the mount error), never simulated. With a mount: a first small
version is published, the filesystem is filled to a few KiB with a filler file, and a refresh
with more calls must fail clearly (non-zero exit, the path and ENOSPC in its summary), publish
nothing, and its staging must be gone after the next run once space is freed.
"""

from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path

from . import helpers as h

BASE_CALLS = 300
REFRESH_CALLS = 2400
TMPFS_SIZE = "8m"
EXT4_SIZE = "16M"
HEADROOM = 64 * 1024  # bytes left free by the filler
ENOSPC_TEXT = os.strerror(errno.ENOSPC)  # "No space left on device"


def _mount(cmd: list[str]) -> str | None:
    """Run a mount command; None on success, else its error text."""
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    return None if proc.returncode == 0 else (proc.stderr or proc.stdout).strip() or "failed"


def mount_small_fs(mnt: Path, work: Path) -> tuple[str | None, str]:
    """Mount a small filesystem on `mnt`: (kind or None, what happened)."""
    mnt.mkdir(parents=True, exist_ok=True)
    tmpfs_err = _mount(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE}", "tmpfs", str(mnt)])
    if tmpfs_err is None:
        return f"tmpfs {TMPFS_SIZE}", ""
    img = work / "small.img"
    subprocess.run(["truncate", "-s", EXT4_SIZE, str(img)], check=True)
    mkfs = subprocess.run(["mkfs.ext4", "-q", "-F", str(img)], capture_output=True, text=True)
    if mkfs.returncode != 0:
        return None, f"tmpfs: {tmpfs_err}; mkfs.ext4: {mkfs.stderr.strip()}"
    loop_err = _mount(["mount", "-o", "loop", str(img), str(mnt)])
    if loop_err is None:
        return f"ext4 loop image {EXT4_SIZE}", ""
    return None, f"tmpfs: {tmpfs_err}; loop ext4: {loop_err}"


def _fill(mnt: Path) -> Path:
    """Leave about HEADROOM bytes free on `mnt`."""
    filler = mnt / "filler.bin"
    stat = os.statvfs(mnt)
    free = stat.f_bavail * stat.f_frsize
    chunk = b"\0" * (1 << 20)
    left = max(free - HEADROOM, 0)
    with open(filler, "wb") as f:
        try:
            while left > 0:
                n = f.write(chunk[: min(len(chunk), left)])
                left -= n
            f.flush()
            os.fsync(f.fileno())
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise
    return filler


def run(root: Path, sizes: tuple[int, int] = (BASE_CALLS, REFRESH_CALLS)) -> h.Result:
    result = h.Result("disk full during a refresh")
    base_calls, refresh_calls = sizes
    mnt = root / "small_fs"
    kind, why = mount_small_fs(mnt, root)
    if kind is None:
        result.not_runnable = f"cannot mount a small filesystem here: {why}"
        result.rows_lost = result.partial_visible = None
        return result
    try:
        result.notes.append(f"data directory on a {kind} mount")
        sandbox = h.Sandbox.create(root, data=mnt / "data")
        workflow = h.workflow_ids_for(base_calls)[0]
        h.require_ok(h.run_pipeline(sandbox.env(base_calls), [workflow]), "first version")
        before = h.file_digests(sandbox.data)
        previous = h.snapshot(sandbox.data)
        filler = _fill(mnt)
        refresh = h.run_pipeline(sandbox.env(refresh_calls), [workflow])
        result.trials = 1
        lines = [line for line in h.summary_lines(refresh.output) if line.startswith(workflow)]
        message = lines[0] if lines else refresh.output.strip().splitlines()[-1]
        clear = (
            refresh.returncode != 0
            and ENOSPC_TEXT in message
            and str(sandbox.data) in message
            and "FAILED" in message
        )
        result.error_clear = ("yes: " if clear else "no: ") + _shorten(message)
        elsewhere = [line for line in refresh.output.splitlines() if ENOSPC_TEXT in line]
        result.notes.append(
            f"{ENOSPC_TEXT!r} in the summary line: {ENOSPC_TEXT in message}; elsewhere in the"
            f" output: {_shorten(elsewhere[0], 300) if elsewhere else 'nowhere'}"
        )
        changed = [k for k, d in h.file_digests(sandbox.data).items() if before.get(k) != d]
        changed += [k for k in before if not (sandbox.data / k).is_file()]
        verdict = h.judge(sandbox.data, previous, {})
        result.partial_visible = verdict.partial_visible
        result.rows_lost = verdict.rows_lost
        result.notes += verdict.problems
        if changed:
            result.notes.append(f"files changed by the failed refresh: {', '.join(changed)}")
        left_behind = h.staging_orphans(sandbox.data)
        filler.unlink()
        again = h.run_pipeline(sandbox.env(base_calls), [workflow])
        orphans = h.staging_orphans(sandbox.data)
        result.notes.append(
            f"exit code {refresh.returncode}; staging left by the failed run:"
            f" {len(left_behind)}; after the next run (space freed): {len(orphans)}"
        )
        if again.returncode != 0:
            result.notes.append(f"the run after freeing space failed: {again.output[-500:]}")
        # Survived = the data is safe; whether the message is clear is its own column.
        result.survived = (
            refresh.returncode != 0
            and not changed
            and verdict.partial_visible == 0
            and verdict.rows_lost == 0
            and again.returncode == 0
            and not orphans
        )
        return result
    finally:
        h.scan_early(mnt)  # its files are gone once unmounted
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True, timeout=60)
        (root / "small.img").unlink(missing_ok=True)


def _shorten(text: str, limit: int = 400) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
