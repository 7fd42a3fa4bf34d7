"""docs/analysts.md works: its examples run against a real run of the job, and give what the
simulator's records (and pyarrow over the published files) say they should.

Two workflows of the embedded simulator are run through the whole job in-process, into a local
data directory (and, for the S3 example, a prefix of the SeaweedFS server). The fenced blocks of
the quickstart marked `-- local: <name>` / `# local: <name>` (SQL and Python) are then run as
written, from the directory that holds `data/`; `-- local catalog: <name>` blocks run in a
read-only connection to `data/warehouse/stuut.duckdb`; the `# s3: <name>` block runs with the
pipeline's own S3 variables set. The DuckDB CLI is not installed, so the SQL runs through the
`duckdb` module, text unchanged.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pyarrow.dataset as ds
import pytest

from stuut_pipeline.definitions import defs
from stuut_pipeline.defs.ingest.resources import StuutApiResource
from stuut_pipeline.defs.jobs import PIPELINE_JOB_NAME
from stuut_pipeline.defs.resources import StorageResource
from stuut_pipeline.layout import WAREHOUSE_FILE
from stuut_pipeline.settings import SimulatorSettings, embedded_simulator
from stuut_pipeline_tests import factories

QUICKSTART = Path(__file__).resolve().parents[2] / "docs" / "analysts.md"
SIM = SimulatorSettings(calls=160, workflows=2, seed=23)

BLOCK = re.compile(r"^```(python|sql)\n(.*?)^```", re.MULTILINE | re.DOTALL)
MARKER = re.compile(r"^(?:--|#) (local|local catalog|s3): (\w+)$")


def _blocks() -> dict[tuple[str, str], str]:
    """`(kind, name) -> code` of every marked fenced block (kind: local, local catalog, s3)."""
    found: dict[tuple[str, str], str] = {}
    for _, code in BLOCK.findall(QUICKSTART.read_text()):
        marker = MARKER.match(code.splitlines()[0])
        if marker:
            key = (marker.group(1), marker.group(2))
            assert key not in found, f"two blocks named {key}"
            found[key] = code
    return found


BLOCKS = _blocks()


def test_the_quickstart_marks_the_examples_this_test_checks() -> None:
    assert set(BLOCKS) == {
        ("local", "calls_per_sentiment"),
        ("local", "promise_calls_per_week"),
        ("local", "kpis_from_the_mart"),
        ("local catalog", "catalog_kpis"),
        ("local catalog", "catalog_open_tasks"),
        ("local", "pandas"),
        ("local", "polars"),
        ("s3", "pyarrow_and_polars"),
    }


def _run_job(storage: StorageResource) -> tuple[list[str], dict[str, list[dict]]]:
    """Both workflows through the whole job into `storage`; the simulator's records of each."""
    monkeypatch = pytest.MonkeyPatch()
    factories.use_embedded_simulator(monkeypatch, SIM)
    try:
        sim = embedded_simulator(SIM)
        workflows = sim.store.workflow_ids()[:2]
        job = defs().resolve_job_def(PIPELINE_JOB_NAME)
        resources = {"stuut_api": StuutApiResource(), "storage": storage}
        with dg.instance_for_test() as instance:
            instance.add_dynamic_partitions("workflow", workflows)
            held = None
            for wf in workflows:
                result = job.execute_in_process(
                    instance=instance, partition_key=wf, resources=resources
                )
                assert result.success, wf
                if held is None and storage.url.startswith("/"):
                    # An analyst holds the catalog open (read-only) during the next run.
                    held = duckdb.connect(f"{storage.url}/{WAREHOUSE_FILE}", read_only=True)
            if held is not None:
                # The run was not blocked, and the held session reads the new workflow's files.
                seen = held.sql("SELECT DISTINCT workflow_id FROM calls ORDER BY 1").fetchall()
                assert [w for (w,) in seen] == workflows
                held.close()
        return workflows, {wf: sim.store.records(wf) for wf in workflows}
    finally:
        monkeypatch.undo()


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    """`<root>/data`, the data directory of a run of both workflows; their records."""
    root = tmp_path_factory.mktemp("quickstart")
    workflows, records = _run_job(StorageResource(url=str(root / "data")))
    return root, workflows, records


def _sql(root: Path, name: str, *, catalog: bool = False) -> list[dict]:
    """The rows of a quickstart SQL block, run as written from the directory holding `data/`."""
    code = BLOCKS[("local catalog" if catalog else "local", name)]
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        # `duckdb -readonly data/warehouse/stuut.duckdb`, or `duckdb` (in memory)
        con = (
            duckdb.connect(f"data/{WAREHOUSE_FILE}", read_only=True)
            if catalog
            else duckdb.connect()
        )
        try:
            result = con.execute(code)
            columns = [d[0] for d in result.description]
            return [dict(zip(columns, row, strict=True)) for row in result.fetchall()]
        finally:
            con.close()


def _python(root: Path, name: str, kind: str = "local") -> dict:
    """The names a quickstart Python block defines, run as written from `root`."""
    namespace: dict = {"__name__": f"quickstart_{name}"}
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        exec(compile(BLOCKS[(kind, name)], f"docs/analysts.md:{name}", "exec"), namespace)
    return namespace


def _rows(data: Path, dataset_dir: str) -> dict[str, int]:
    """Rows per workflow of a published dataset, by pyarrow over its files."""
    table = ds.dataset(data / dataset_dir, format="parquet", partitioning="hive").to_table(
        columns=["workflow_id"]
    )
    return dict(Counter(str(w) for w in table.column("workflow_id").to_pylist()))


def _week_start(record: dict) -> date:
    stamp = record.get("start_time") or record["created_at"]
    day = datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(UTC).date()
    return day - timedelta(days=day.weekday())


def _classifications(record: dict) -> list[dict]:
    return record.get("classifications") or []


def test_calls_per_sentiment(local_run) -> None:
    root, _, records = local_run
    rows = _sql(root, "calls_per_sentiment")
    got = {(r["workflow_id"], r["sentiment"]): r["calls"] for r in rows}
    want = Counter((wf, r.get("sentiment")) for wf, rs in records.items() for r in rs)
    assert got == dict(want)
    assert sum(got.values()) == sum(_rows(root / "data", "parquet/calls").values())


def test_promise_calls_per_week_joins_calls_to_classifications(local_run) -> None:
    root, _, records = local_run
    rows = _sql(root, "promise_calls_per_week")
    got = {(r["workflow_id"], r["week_start"]): (r["calls"], r["calls_with_promise"]) for r in rows}
    want: dict[tuple[str, date], list[int]] = {}
    for wf, rs in records.items():
        for r in rs:
            counts = want.setdefault((wf, _week_start(r)), [0, 0])
            counts[0] += 1
            counts[1] += any(
                c.get("classification") == "payment_promise" for c in _classifications(r)
            )
    assert got == {k: tuple(v) for k, v in want.items()}
    assert any(promised for _, promised in got.values())
    for r in rows:
        assert r["promise_share"] == round(r["calls_with_promise"] / r["calls"], 3)


def test_kpis_from_the_mart_and_from_the_catalog_agree(local_run) -> None:
    root, workflows, records = local_run
    mart = _sql(root, "kpis_from_the_mart")
    calls = Counter()
    for r in mart:
        calls[r["workflow_id"]] += r["calls"]
        assert r["promise_to_pay_calls"] <= r["right_party_contacts"] <= r["calls"]
    assert calls == {wf: len(rs) for wf, rs in records.items()}
    assert len(mart) == sum(_rows(root / "data", "marts/workflow_kpis").values())
    assert _rows(root / "data", "marts/workflow_kpis").keys() == set(workflows)

    catalog = _sql(root, "catalog_kpis", catalog=True)
    shared = ["workflow_id", "iso_week", "calls", "promise_to_pay_rate"]
    assert [[r[c] for c in shared] for r in catalog] == [[r[c] for c in shared] for r in mart]
    assert all(0 <= r["connect_rate"] <= 1 for r in catalog)


def test_catalog_open_tasks_joins_tasks_to_their_classification(local_run) -> None:
    root, _, records = local_run
    rows = _sql(root, "catalog_open_tasks", catalog=True)
    want = Counter(
        c.get("classification")
        for rs in records.values()
        for r in rs
        for c in _classifications(r)
        for t in c.get("tasks") or []
        if t.get("status") == "open"
    )
    assert {r["classification"]: r["open_tasks"] for r in rows} == dict(want)
    assert want, "the example data has open tasks"


def test_pandas_example(local_run) -> None:
    root, _, records = local_run
    ns = _python(root, "pandas")
    assert len(ns["calls"]) == sum(len(rs) for rs in records.values())
    assert {str(k): v for k, v in ns["calls_per_workflow"].items()} == {
        wf: len(rs) for wf, rs in records.items()
    }
    assert {str(k): v for k, v in ns["invoices_per_workflow"].items()} == {
        wf: len({i["id"] for r in rs for i in r.get("invoices") or [] if i.get("id")})
        for wf, rs in records.items()
    }
    invoice_rows = sum(len(r.get("invoices") or []) for rs in records.values() for r in rs)
    assert len(ns["calls_with_invoices"]) == invoice_rows
    assert sum(_rows(root / "data", "parquet/call_invoices").values()) == invoice_rows
    assert len(ns["kpis"]) == sum(_rows(root / "data", "marts/workflow_kpis").values())


def test_polars_example(local_run) -> None:
    root, _, records = local_run
    ns = _python(root, "polars")
    got = {
        (r["workflow_id"], r["classification"]): r["tasks"]
        for r in ns["tasks_per_classification"].iter_rows(named=True)
    }
    want = Counter(
        (wf, c.get("classification"))
        for wf, rs in records.items()
        for r in rs
        for c in _classifications(r)
        for _ in c.get("tasks") or []
    )
    assert got == dict(want)
    assert sum(got.values()) == sum(_rows(root / "data", "parquet/call_tasks").values())


def test_s3_example_reads_the_same_data_from_s3(seaweedfs, tmp_path, monkeypatch) -> None:
    url = f"s3://{seaweedfs.bucket}/quickstart-{uuid.uuid4().hex[:8]}"
    storage = StorageResource(
        url=url,
        endpoint_url=seaweedfs.endpoint_url,
        access_key_id=seaweedfs.access_key,
        secret_access_key=seaweedfs.secret_key,
        region=seaweedfs.region,
    )
    workflows, records = _run_job(storage)
    for name, value in {"STUUT_DATA_URL": url, **seaweedfs.aws_env()}.items():
        monkeypatch.setenv(name, value)
    ns = _python(tmp_path, "pyarrow_and_polars", kind="s3")

    calls = ns["calls"]
    assert sorted(calls["call_id"]) == sorted(r["id"] for rs in records.values() for r in rs)
    assert dict(Counter(str(w) for w in calls["workflow_id"])) == {
        wf: len(rs) for wf, rs in records.items()
    }
    kpis = ns["kpis"]
    assert sorted(set(kpis["workflow_id"].to_list())) == workflows
    per_workflow = Counter()
    for r in kpis.iter_rows(named=True):
        per_workflow[r["workflow_id"]] += r["calls"]
    assert per_workflow == {wf: len(rs) for wf, rs in records.items()}
