"""Atomic publishing: files are written under a staging directory, then moved into place.

A reader globbing the published tree never sees a partial file: each file arrives by one
`os.replace` (atomic on one filesystem), and staging lives outside every published glob.
"""

from __future__ import annotations

import errno
import os
import shutil
import uuid
from pathlib import Path

from .layout import staging_root


def new_staging_dir(data_dir: Path, label: str) -> Path:
    """A fresh, empty staging directory for one write."""
    path = staging_root(data_dir) / f"{label}-{uuid.uuid4().hex[:12]}"
    path.mkdir(parents=True)
    return path


def fsync_path(path: Path) -> None:
    """Flush a file's or directory's data to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish_file(staged: Path, target_dir: Path, name: str) -> Path:
    """Move `staged` to `target_dir/name` atomically, then delete every other file there.

    The partition directory then holds exactly the new file: what was there before is replaced
    entirely, never appended to.
    """
    fsync_path(staged)
    target_dir.mkdir(parents=True, exist_ok=True)
    final = target_dir / name
    try:
        os.replace(staged, final)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        # Staging on another filesystem: copy next to the target under a name no `*.parquet`
        # or `*.zst` glob matches, then rename atomically.
        tmp = target_dir / f".{name}.{uuid.uuid4().hex[:12]}.tmp"
        shutil.copyfile(staged, tmp)
        fsync_path(tmp)
        os.replace(tmp, final)
        staged.unlink(missing_ok=True)
    fsync_path(target_dir)
    for other in target_dir.iterdir():
        if other.name != name:
            if other.is_dir():
                shutil.rmtree(other)
            else:
                other.unlink()
    return final


def discard(path: Path) -> None:
    """Delete a staging directory (or file), ignoring what is already gone."""
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
