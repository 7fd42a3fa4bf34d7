"""Atomic publishing on a `DataLocation`: write under `.staging/`, then move into place.

The promises, on local disk and on S3 alike:
- staging lives under `.staging/<label>-<id>/`, which no published glob matches;
- the published object appears whole: local by one `os.replace` (after an fsync), S3 by one
  server-side CopyObject (pyarrow's S3 `move` is that copy plus a delete of the source);
- only once the new object is visible are the OTHER objects of its partition directory deleted,
  so the partition is replaced whole and holds exactly the new object(s).

Reader caveat (measured in RELIABILITY.md): a read that opens a file more than once can be torn
by a replace landing in between. Locally, `pq.read_table(path)` keeps the footer of its first
open and reads the pages through a second one, and DuckDB's full scans re-open too; a read
through one open file keeps the old inode and is never affected. On S3, pyarrow reads an object
by a HEAD then ranged GETs with no ETag check, so any read racing an overwrite of the same key
can be torn. A torn read fails (short page, bytes outside the file); a rerun reads the new
version. The store itself never shows a partial object. Publishing under a fresh name each time
would not help glob readers: they would see both versions, or a file deleted under them.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..layout import STAGING_DIR as STAGING_PREFIX
from .location import DataLocation, check_key

_LABEL = re.compile(r"^[A-Za-z0-9_.=-]{1,200}$")
_STAGING_ID = re.compile(r"^[0-9a-f]{12}$")


def _check_label(label: str) -> str:
    if not _LABEL.match(label) or label.startswith("."):
        raise ValueError(f"invalid staging label {label!r}: letters, digits, '_', '-', '.', '='")
    return label


@dataclass(frozen=True)
class Staging:
    """One write's private staging directory (`.staging/<label>-<id>`)."""

    location: DataLocation
    key: str

    def key_for(self, name: str) -> str:
        """The staged key of a file `name` (may hold `/`)."""
        return f"{self.key}/{check_key(name)}"

    def discard(self) -> None:
        """Delete this staging directory and all it holds."""
        self.location.delete_tree(self.key)


def new_staging(location: DataLocation, label: str) -> Staging:
    """A fresh staging directory for one write of `label` (e.g. `parquet-calls-<workflow>`)."""
    key = f"{STAGING_PREFIX}/{_check_label(label)}-{uuid.uuid4().hex[:12]}"
    if location.is_local:
        Path(location.path(key)).mkdir(parents=True)
    return Staging(location, key)


@dataclass(frozen=True)
class PublishItem:
    """A staged file and where it goes: `target_dir/name`."""

    staged_key: str
    target_dir: str
    name: str

    @property
    def final_key(self) -> str:
        """The published key."""
        return f"{check_key(self.target_dir)}/{check_key(self.name)}"


class PublishJournal(Protocol):
    """Hooks for a multi-file publish (e.g. a journal making several tables atomic)."""

    def begin(self, items: Sequence[PublishItem]) -> None:
        """Before anything is moved."""

    def placed(self, items: Sequence[PublishItem]) -> None:
        """Every new file is visible; old files are about to be deleted."""

    def done(self, items: Sequence[PublishItem]) -> None:
        """Old files deleted and staging discarded."""


def fsync_path(path: str | Path) -> None:
    """Flush a local file's or directory's data to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _place(location: DataLocation, item: PublishItem) -> str:
    """Make `item` visible at its final key, whole; return that key."""
    final = item.final_key
    src, dst = location.path(check_key(item.staged_key)), location.path(final)
    with location.errors(f"publishing {location.uri(final)}"):
        if location.is_local:
            fsync_path(src)
            Path(dst).parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dst)
            fsync_path(str(Path(dst).parent))
        else:
            location.filesystem.copy_file(src, dst)
        if not location.exists(final):
            raise FileNotFoundError(f"published object {location.uri(final)} is not visible")
    return final


def _prune(location: DataLocation, item: PublishItem, keep: frozenset[str]) -> None:
    """Delete every object of `item.target_dir` except the newly published ones (`keep`)."""
    for key in location.list_files(item.target_dir):
        if key not in keep:
            location.delete(key)
    if location.is_local:
        _remove_empty_dirs(Path(location.path(item.target_dir)))


def _remove_empty_dirs(root: Path) -> None:
    for sub in sorted((p for p in root.rglob("*") if p.is_dir()), reverse=True):
        if not any(sub.iterdir()):
            sub.rmdir()


def publish_files(
    location: DataLocation,
    items: Sequence[PublishItem],
    *,
    journal: PublishJournal | None = None,
    replace_partition: bool = True,
) -> list[str]:
    """Publish several staged files (e.g. one partition of several tables); return final keys.

    Every file is placed before any old file is deleted; with `replace_partition` (the default)
    the other files of each target directory are deleted then. Staging directories of the items
    are discarded at the end. Without a journal, a crash may leave some items published and others
    not; the next run republishes the partition.
    """
    if journal:
        journal.begin(items)
    finals = [_place(location, item) for item in items]
    if journal:
        journal.placed(items)
    _finish(location, items, replace_partition=replace_partition)
    if journal:
        journal.done(items)
    return finals


def _finish(
    location: DataLocation, items: Sequence[PublishItem], *, replace_partition: bool
) -> None:
    """Once every item is placed: prune each target directory to the items (optionally), then
    discard their staging directories."""
    published = frozenset(item.final_key for item in items)
    for item in items if replace_partition else ():
        _prune(location, item, published)
    for staging_dir in sorted({_staging_dir_of(item.staged_key) for item in items}):
        location.delete_tree(staging_dir)


class FileJournal:
    """A `PublishJournal` kept as one small object beside the staging (`.staging/<name>.json`).

    Written before the first file is placed and deleted once the publish is done, it lets
    `recover_publish` finish (roll forward) a publish that a kill interrupted, so that a
    partition's files always come from one publish.
    """

    def __init__(self, location: DataLocation, name: str) -> None:
        self.location = location
        self.key = journal_key(name)

    def begin(self, items: Sequence[PublishItem]) -> None:
        """Record what is about to be placed (the staged files are complete by now)."""
        doc = {"items": [[i.staged_key, i.target_dir, i.name] for i in items]}
        self.location.write_bytes(self.key, json.dumps(doc).encode())
        if self.location.is_local:
            fsync_path(self.location.path(self.key))

    def placed(self, items: Sequence[PublishItem]) -> None:
        """Nothing to record: recovery places again whatever is still staged."""

    def done(self, items: Sequence[PublishItem]) -> None:
        """The publish is complete: forget it."""
        self.location.delete(self.key)


def journal_key(name: str) -> str:
    """Where the journal `name` lives (directly under `.staging/`, outside any staging dir)."""
    return f"{STAGING_PREFIX}/journal-{_check_label(name)}.json"


def recover_publish(location: DataLocation, name: str) -> list[str] | None:
    """Finish the publish that the journal `name` records, if a kill interrupted it.

    Every item still staged is placed (again: placing is idempotent), then each partition is
    pruned and the staging removed. A journal cut short by the kill (before anything was placed)
    is dropped. Returns the final keys rolled forward, or None when there was nothing to do.
    Call it at the start of a partition's run, before `clean_orphaned_staging`.
    """
    key = journal_key(name)
    if not location.exists(key):
        return None
    try:
        items = [PublishItem(*item) for item in json.loads(location.read_bytes(key))["items"]]
    except (ValueError, KeyError, TypeError):
        location.delete(key)  # written partly: the kill came before the first placement
        return None
    for item in items:
        if location.exists(item.staged_key):
            _place(location, item)
    _finish(location, items, replace_partition=True)
    location.delete(key)
    return [item.final_key for item in items]


def publish_file(
    location: DataLocation,
    staged_key: str,
    target_dir: str,
    name: str,
    *,
    replace_partition: bool = True,
) -> str:
    """Publish one staged file as `target_dir/name`, replacing the partition whole (by default:
    the other files of `target_dir` are deleted once the new one is visible)."""
    item = PublishItem(staged_key, target_dir, name)
    return publish_files(location, [item], replace_partition=replace_partition)[0]


def _staging_dir_of(staged_key: str) -> str:
    parts = check_key(staged_key).split("/")
    if len(parts) < 3 or parts[0] != STAGING_PREFIX:
        raise ValueError(
            f"{staged_key!r} is not a staged key (under {STAGING_PREFIX}/<label>-<id>/)"
        )
    return "/".join(parts[:2])


def orphaned_staging(location: DataLocation, label: str) -> list[str]:
    """Keys of the staging directories of `label` (left by runs that did not finish)."""
    _check_label(label)
    dirs = {key.split("/")[1] for key in location.list_files(STAGING_PREFIX) if key.count("/") >= 2}
    if location.is_local:  # empty staging dirs hold no file but still exist
        root = Path(location.path(STAGING_PREFIX))
        dirs |= {p.name for p in root.iterdir() if p.is_dir()} if root.is_dir() else set()
    found = []
    for name in dirs:
        head, _, tail = name.rpartition("-")
        if head == label and _STAGING_ID.match(tail):
            found.append(f"{STAGING_PREFIX}/{name}")
    return sorted(found)


def clean_orphaned_staging(
    location: DataLocation, label: str, *, keep: Staging | None = None
) -> list[str]:
    """Delete the staging of `label` left by killed runs (all but `keep`); return what went.

    Call it at the start of a partition's run: runs of one partition do not overlap.
    """
    removed = []
    for key in orphaned_staging(location, label):
        if keep is None or key != keep.key:
            location.delete_tree(key)
            removed.append(key)
    return removed


def clean_stale_staging(location: DataLocation, label: str, max_age_s: float) -> list[str]:
    """Delete the staging of `label` not written to for `max_age_s` seconds; return what went.

    For writes that runs of different partitions make at once (the catalog): a staging
    directory is an orphan only once it is older than any such write can take.
    """
    now = time.time()
    removed = []
    for key in orphaned_staging(location, label):
        times = list(location.modified(key).values())
        if location.is_local:
            with contextlib.suppress(FileNotFoundError):
                times.append(os.stat(location.path(key)).st_mtime)
        if times and now - max(times) > max_age_s:
            location.delete_tree(key)
            removed.append(key)
    return removed
