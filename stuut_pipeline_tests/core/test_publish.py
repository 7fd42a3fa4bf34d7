"""publish: a staged file replaces a whole partition directory by one rename, staging stays
outside every published glob, and a staging dir on another filesystem (EXDEV) still works."""

from __future__ import annotations

import errno
import glob
import os

from stuut_pipeline import publish
from stuut_pipeline.layout import staging_root


def _staged(data_dir, content: bytes):
    staging = publish.new_staging_dir(data_dir, "test")
    path = staging / "part-0.parquet"
    path.write_bytes(content)
    return staging, path


def test_publish_replaces_the_whole_partition(tmp_path) -> None:
    data_dir = tmp_path / "data"
    target = data_dir / "parquet" / "calls" / "workflow_id=otwfl_a"
    target.mkdir(parents=True)
    (target / "part-0.parquet").write_bytes(b"old")
    (target / "part-1.parquet").write_bytes(b"left over")
    (target / "nested").mkdir()
    (target / "nested" / "x.parquet").write_bytes(b"x")
    staging, staged = _staged(data_dir, b"new")
    final = publish.publish_file(staged, target, "part-0.parquet")
    assert final == target / "part-0.parquet"
    assert sorted(p.name for p in target.iterdir()) == ["part-0.parquet"]
    assert final.read_bytes() == b"new" and not staged.exists()
    publish.discard(staging)
    publish.discard(staging)  # already gone: no error
    assert not staging.exists()


def test_staging_is_outside_every_published_glob(tmp_path) -> None:
    data_dir = tmp_path / "data"
    _, staged = _staged(data_dir, b"staged")
    assert staged.is_relative_to(staging_root(data_dir))
    assert staging_root(data_dir).name.startswith(".")
    for pattern in ("*/*/*/*.parquet", "parquet/*/*/*.parquet", "marts/*/*/*.parquet", "*/*.zst"):
        assert glob.glob(str(data_dir / pattern)) == []
    again = publish.new_staging_dir(data_dir, "test")
    assert again != staged.parent and list(again.iterdir()) == []


def test_a_staging_dir_on_another_filesystem_is_copied_then_renamed(tmp_path, monkeypatch) -> None:
    """os.replace across filesystems fails with EXDEV; publish_file copies next to the target
    under a name no published glob matches, then renames."""
    data_dir = tmp_path / "data"
    target = data_dir / "marts" / "workflow_kpis" / "workflow_id=otwfl_a"
    target.mkdir(parents=True)
    (target / "part-0.parquet").write_bytes(b"old")
    _, staged = _staged(data_dir, b"new version")
    real_replace = os.replace
    renamed: list[str] = []

    def replace(src, dst):
        if os.fspath(src) == os.fspath(staged):  # what a rename out of another filesystem does
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        renamed.append(os.path.basename(src))
        assert glob.glob(str(data_dir / "marts" / "*" / "*" / "*.parquet")) == [
            str(target / "part-0.parquet")
        ]
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    final = publish.publish_file(staged, target, "part-0.parquet")
    monkeypatch.undo()
    assert final.read_bytes() == b"new version"
    assert len(renamed) == 1 and renamed[0].startswith(".part-0.parquet.")
    assert renamed[0].endswith(".tmp")
    assert [p.name for p in target.iterdir()] == ["part-0.parquet"]
    assert not staged.exists()
