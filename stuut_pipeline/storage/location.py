"""Where outputs live: a local directory or an `s3://bucket/prefix`, behind one small API.

Keys are relative POSIX paths (`parquet/calls/workflow_id=x/part-0.parquet`). A location gives
the `pyarrow.fs.FileSystem` and the full path of a key. Credentials are passed in explicitly:
this module reads no environment variable and no AWS config (anonymous when no key is given).
"""

from __future__ import annotations

import contextlib
import fnmatch
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from urllib.parse import urlsplit

from pyarrow import fs

from .errors import StorageBucketError, StorageError, storage_error


@dataclass(frozen=True)
class S3Options:
    """How to reach an S3 endpoint. `endpoint_url=None` means AWS itself (https)."""

    endpoint_url: str | None = None
    access_key: str | None = None
    secret_key: str | None = field(default=None, repr=False)
    region: str = "us-east-1"
    create_bucket: bool = False
    connect_timeout: float = 2.0
    request_timeout: float = 30.0
    max_attempts: int = 3


def check_key(key: str, *, allow_empty: bool = False) -> str:
    """Return `key` if it is a clean relative POSIX key, else raise `ValueError`."""
    if key == "" and allow_empty:
        return key
    parts = key.split("/")
    if key.startswith("/") or "\\" in key or any(p in ("", ".", "..") for p in parts):
        raise ValueError(
            f"invalid storage key {key!r}: use a relative POSIX path like 'a/b.parquet'"
        )
    return key


def glob_match(key: str, pattern: str) -> bool:
    """Whether `key` matches `pattern` segment by segment (`*` never crosses a `/`)."""
    key_parts, pattern_parts = key.split("/"), pattern.split("/")
    return len(key_parts) == len(pattern_parts) and all(
        fnmatch.fnmatchcase(k, p) for k, p in zip(key_parts, pattern_parts, strict=True)
    )


def _literal_prefix(pattern: str) -> str:
    """The directory part of `pattern` before its first wildcard segment."""
    fixed = []
    for part in pattern.split("/")[:-1]:
        if any(c in part for c in "*?["):
            break
        fixed.append(part)
    return "/".join(fixed)


@dataclass(frozen=True, repr=False)
class DataLocation:
    """A local directory or an S3 bucket + prefix that keys are relative to."""

    scheme: str  # "file" or "s3"
    root: str  # absolute local path, or "bucket" / "bucket/prefix"
    s3: S3Options | None = None

    @classmethod
    def from_url(cls, url: str | Path, s3: S3Options | None = None) -> DataLocation:
        """A location from a local path (relative: resolved) or `s3://bucket[/prefix]`."""
        text = str(url)
        if text.startswith("s3://"):
            parts = urlsplit(text)
            if not parts.netloc or parts.query or parts.fragment or "@" in parts.netloc:
                raise ValueError(f"invalid S3 URL {text!r}: expected s3://bucket[/prefix]")
            prefix = parts.path.strip("/")
            if prefix:
                check_key(prefix)
            root = f"{parts.netloc}/{prefix}" if prefix else parts.netloc
            return cls("s3", root, s3 or S3Options())
        if "://" in text and not text.startswith("file://"):
            raise ValueError(f"unsupported storage URL {text!r}: use a local path or s3://")
        local = Path(text.removeprefix("file://")).expanduser().resolve()
        return cls("file", str(local), None)

    @property
    def is_local(self) -> bool:
        """True for a local directory."""
        return self.scheme == "file"

    @property
    def bucket(self) -> str | None:
        """The S3 bucket (None when local)."""
        return None if self.is_local else self.root.split("/", 1)[0]

    @property
    def where(self) -> str:
        """Endpoint and bucket (or the local path) for messages; never a credential."""
        if self.is_local:
            return self.root
        endpoint = (self.s3 and self.s3.endpoint_url) or "AWS S3"
        return f"endpoint {endpoint}, bucket {self.bucket!r}"

    def __repr__(self) -> str:
        return f"DataLocation({self.uri()!r}, {self.where!r})"

    @cached_property
    def filesystem(self) -> fs.FileSystem:
        """The pyarrow filesystem that `path()` values belong to."""
        if self.is_local:
            return fs.LocalFileSystem()
        return _s3_filesystem(self.s3 or S3Options())

    def path(self, key: str = "") -> str:
        """The full filesystem path of `key` (for `self.filesystem`)."""
        check_key(key, allow_empty=True)
        return f"{self.root}/{key}" if key else self.root

    def uri(self, key: str = "") -> str:
        """A display URI: `s3://bucket/prefix/key` or the local path. Holds no credential."""
        path = self.path(key)
        return path if self.is_local else f"s3://{path}"

    @contextlib.contextmanager
    def errors(self, action: str) -> Iterator[None]:
        """Turn pyarrow's `OSError`s into `StorageError`s naming this location."""
        try:
            yield
        except (FileNotFoundError, StorageError):
            raise
        except OSError as exc:
            secrets = [self.s3.secret_key] if self.s3 else []
            raise storage_error(exc, where=self.where, action=action, secrets=secrets) from None

    def check(self) -> None:
        """Fail fast with a `StorageError` unless the location is reachable and writable-ish.

        S3: the bucket must exist (or is created when `create_bucket`), and a listing must be
        accepted, which checks the signature. Local: the directory is created.
        """
        if self.is_local:
            Path(self.root).mkdir(parents=True, exist_ok=True)
            return
        with self.errors(f"checking {self.uri()}"):
            info = self.filesystem.get_file_info(self.bucket)
            if info.type == fs.FileType.NotFound:
                if not (self.s3 and self.s3.create_bucket):
                    raise StorageBucketError(
                        f"bucket not found at {self.where}: create it, or fix "
                        "the bucket name in the data URL"
                    )
                self.filesystem.create_dir(self.bucket)
            self.filesystem.get_file_info(fs.FileSelector(self.root, allow_not_found=True))

    def open_input_stream(self, key: str):
        """A sequential reader of `key` (`FileNotFoundError` when missing).

        On S3 it reads by ranged GETs of 256 KiB: a read racing an overwrite can mix versions.
        """
        with self.errors(f"reading {self.uri(key)}"):
            return self.filesystem.open_input_stream(self.path(check_key(key)), compression=None)

    def open_input_file(self, key: str):
        """A random-access reader of `key` (for Parquet footers)."""
        with self.errors(f"reading {self.uri(key)}"):
            return self.filesystem.open_input_file(self.path(check_key(key)))

    def open_output_stream(self, key: str):
        """A writer of `key`; on S3 the object appears only when the stream is closed.

        Bytes go through unchanged (no compression guessed from a `.zst`/`.gz` name).
        """
        with self.errors(f"writing {self.uri(key)}"):
            path = self.path(check_key(key))
            if self.is_local:
                self.filesystem.create_dir(path.rsplit("/", 1)[0], recursive=True)
            return self.filesystem.open_output_stream(path, compression=None)

    def write_bytes(self, key: str, data: bytes) -> None:
        """Write `data` as the whole of `key`."""
        with self.errors(f"writing {self.uri(key)}"), self.open_output_stream(key) as out:
            out.write(data)

    def read_bytes(self, key: str) -> bytes:
        """The whole of `key`; on S3 by one GET (a stream would issue one GET per 256 KiB)."""
        with self.errors(f"reading {self.uri(key)}"), self.open_input_file(key) as src:
            return src.read()

    def list_files(self, prefix: str = "", pattern: str | None = None) -> list[str]:
        """Sorted keys of the files under `prefix` (recursive), or matching the glob `pattern`."""
        if pattern is not None:
            prefix = _literal_prefix(check_key(pattern))
        keys = sorted(self._files(check_key(prefix, allow_empty=True)))
        return [k for k in keys if glob_match(k, pattern)] if pattern is not None else keys

    def modified(self, prefix: str) -> dict[str, float]:
        """Key -> last modification (POSIX seconds) of every file under `prefix`."""
        files = self._files(check_key(prefix))
        return {k: i.mtime.timestamp() for k, i in files.items() if i.mtime is not None}

    def _files(self, prefix: str) -> dict[str, fs.FileInfo]:
        """Key -> info of every file under the (checked) `prefix`, recursive."""
        with self.errors(f"listing {self.uri(prefix)}"):
            infos = self._list_recursive(self.path(prefix))
        cut = len(self.root) + 1
        return {i.path[cut:]: i for i in infos if i.type == fs.FileType.File}

    def _list_recursive(self, base: str, attempts: int = 5) -> list[fs.FileInfo]:
        """Every entry under `base`; a (local) tree changing while it is walked is walked again."""
        selector = fs.FileSelector(base, recursive=True, allow_not_found=True)
        for attempt in range(attempts):
            try:
                return self.filesystem.get_file_info(selector)
            except FileNotFoundError:
                if attempt == attempts - 1:
                    raise
        return []

    def exists(self, key: str) -> bool:
        """Whether `key` is a file."""
        with self.errors(f"checking {self.uri(key)}"):
            info = self.filesystem.get_file_info(self.path(check_key(key)))
        return info.type == fs.FileType.File

    def size(self, key: str) -> int:
        """Bytes of the file `key`."""
        with self.errors(f"checking {self.uri(key)}"):
            return self.filesystem.get_file_info(self.path(check_key(key))).size

    def delete(self, key: str, *, missing_ok: bool = True) -> None:
        """Delete the file `key`."""
        try:
            with self.errors(f"deleting {self.uri(key)}"):
                self.filesystem.delete_file(self.path(check_key(key)))
        except FileNotFoundError:
            if not missing_ok:
                raise

    def delete_tree(self, prefix: str) -> None:
        """Delete everything under the directory `prefix` (nothing if it is absent)."""
        path = self.path(check_key(prefix))
        with self.errors(f"deleting {self.uri(prefix)}"):
            if self.filesystem.get_file_info(path).type != fs.FileType.NotFound:
                self.filesystem.delete_dir(path)


def _s3_filesystem(options: S3Options) -> fs.S3FileSystem:
    """An `S3FileSystem` from explicit options only (no environment, no AWS profile)."""
    kwargs: dict = {}
    if options.endpoint_url:
        parts = urlsplit(options.endpoint_url)
        kwargs = {"scheme": parts.scheme or "https", "endpoint_override": parts.netloc}
    if options.access_key:
        kwargs |= {"access_key": options.access_key, "secret_key": options.secret_key}
    else:
        kwargs["anonymous"] = True
    return fs.S3FileSystem(
        region=options.region,
        allow_bucket_creation=options.create_bucket,
        connect_timeout=options.connect_timeout,
        request_timeout=options.request_timeout,
        retry_strategy=fs.AwsStandardS3RetryStrategy(max_attempts=options.max_attempts),
        **kwargs,
    )


def as_location(where: DataLocation | Path | str) -> DataLocation:
    """`where` as a location: a `DataLocation` as it is, a path or URL parsed (no credentials)."""
    return where if isinstance(where, DataLocation) else DataLocation.from_url(where)
