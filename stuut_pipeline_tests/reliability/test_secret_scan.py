"""The reliability suite's secret scan finds a secret in plain, zstd and Parquet files and in a
process's output, and reports nothing where there is none."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from reliability import helpers as h
from stuut_pipeline import settings

FILLER = "0123456789abcdef" * 250


@pytest.fixture(autouse=True)
def _fresh_records():
    h.scan_scenario(h.PROJECT_ROOT / "does-not-exist")  # drop what earlier tests recorded
    yield
    h.scan_scenario(h.PROJECT_ROOT / "does-not-exist")


def _clean_tree(root):
    (root / "home").mkdir(parents=True)
    (root / "home" / "runs.log").write_text("run ok, token=***\n")
    pq.write_table(pa.table({"summary": ["nothing here"]}), root / "part-0.parquet")
    return root


def test_a_clean_scenario_has_no_findings(tmp_path) -> None:
    h.record_output("stuut-pipeline run", "otwfl_x: ok; 10 calls\n")
    findings, summary = h.scan_scenario(_clean_tree(tmp_path))
    assert findings == []
    assert "2 files" in summary and "1 process outputs" in summary
    assert settings.ENV_TOKEN in summary and h.API_TOKEN not in summary


def test_the_token_is_found_in_every_kind_of_file_and_output(tmp_path) -> None:
    root = _clean_tree(tmp_path)
    (root / "home" / "event.json").write_text(f'{{"auth": "Bearer {h.API_TOKEN}"}}')
    hidden = f"{FILLER}{h.API_TOKEN}{FILLER}"  # Huffman-coded when compressed: not literal
    raw = zstandard.ZstdCompressor().compress(hidden.encode())
    assert h.API_TOKEN.encode() not in raw
    (root / "calls.ndjson.zst").write_bytes(raw)
    pq.write_table(pa.table({"summary": [hidden]}), root / "leak.parquet", compression="zstd")
    assert h.API_TOKEN.encode() not in (root / "leak.parquet").read_bytes()
    h.record_output("killed run (kill.log)", f"error: bad token {h.API_TOKEN}\n")
    findings, _ = h.scan_scenario(root)
    assert sorted(findings) == sorted(
        [
            f"{settings.ENV_TOKEN} in {root / 'home' / 'event.json'}",
            f"{settings.ENV_TOKEN} in {root / 'calls.ndjson.zst'}",
            f"{settings.ENV_TOKEN} in {root / 'leak.parquet'}",
            f"{settings.ENV_TOKEN} in the output of killed run (kill.log)",
        ]
    )


def test_a_watched_s3_secret_and_an_early_scan_are_reported(tmp_path) -> None:
    secret = "s3-secret-Reliability-4242"
    h.watch_secret(settings.ENV_S3_SECRET_KEY, secret)
    try:
        gone = tmp_path / "mount"
        gone.mkdir()
        (gone / "x.log").write_text(secret)
        h.scan_early(gone)
        (gone / "x.log").unlink()
        findings, _ = h.scan_scenario(tmp_path / "elsewhere")
    finally:
        h._secrets.pop(settings.ENV_S3_SECRET_KEY)
    assert findings == [f"{settings.ENV_S3_SECRET_KEY} in {gone / 'x.log'}"]


def test_every_sandbox_run_gets_the_distinctive_token(tmp_path) -> None:
    env = h.Sandbox.create(tmp_path).env(calls=10)
    assert env[settings.ENV_TOKEN] == h.API_TOKEN
    assert h.API_TOKEN.startswith("stuut-reliability-token-") and len(h.API_TOKEN) > 40
