"""Hostile inputs to the ingest: a refresh that shrinks a workflow, records that cannot be keyed."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import httpx
import orjson

from stuut_pipeline.defs.ingest.resources import StuutApiResource
from stuut_pipeline.layout import quarantine_key, raw_calls_key, table_key
from stuut_pipeline.stuut_api import StuutClient

from .. import factories
from .test_ingest_assets import TABLE_KEYS, checks_by_name, materialize, raw_lines, read

GENERATOR = factories.generator(seed=41, n_workflows=1)
WORKFLOW = GENERATOR.workflow_ids()[0]


class PagedApi:
    """An API serving the given calls of `WORKFLOW` in pages (what the endpoint would answer)."""

    def __init__(self, calls: list[dict]) -> None:
        self.calls = calls

    def answer(self, request: httpx.Request) -> httpx.Response:
        page = int(request.url.params.get("page", 0))
        limit = int(request.url.params.get("limit", 100))
        data = self.calls[page * limit : (page + 1) * limit]
        more = (page + 1) * limit < len(self.calls)
        body = {
            "data": data,
            "current_page": page,
            "total_records": len(self.calls),
            "next_page": page + 1 if more else None,
        }
        return httpx.Response(200, content=orjson.dumps(body))


def api_of(calls: list[dict]) -> StuutApiResource:
    paged = PagedApi(calls)

    class Api(StuutApiResource):
        def client(self) -> StuutClient:
            return StuutClient("http://x.invalid", "t", transport=httpx.MockTransport(paged.answer))

    return Api(page_size=50)


def calls(n: int) -> list[dict]:
    return [GENERATOR.call(i, workflow_id=WORKFLOW) for i in range(n)]


def published(data_dir: Path) -> dict[Path, bytes]:
    return {
        p: p.read_bytes()
        for p in sorted(data_dir.rglob("*"))
        if p.is_file() and ".staging" not in p.parts
    }


def shrink_config(**config) -> dict:
    return {"ops": {"ingest_calls": {"config": config}}}


def test_a_refresh_that_shrinks_a_workflow_fails_and_keeps_the_files(tmp_path) -> None:
    data_dir = tmp_path / "data"
    with dg.instance_for_test() as instance:
        first = materialize(instance, data_dir, WORKFLOW, api=api_of(calls(100)))
        assert first.success
        assert checks_by_name(first)[("calls", "no_shrink")].passed
        before = published(data_dir)
        assert data_dir / table_key("calls", WORKFLOW) in before

        result = materialize(
            instance, data_dir, WORKFLOW, api=api_of(calls(10)), raise_on_error=False
        )
        assert not result.success
        check = checks_by_name(result)[("calls", "no_shrink")]
        assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
        assert "10 calls staged" in check.description
        assert "100 published" in check.description
        assert check.metadata["published_calls"].value == 100
        assert check.metadata["staged_calls"].value == 10
        tables = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
        assert "calls" not in tables
        failure = result.get_step_failure_events()[0].step_failure_data.error.to_string()
        assert "no_shrink" in failure and "allow_shrink" in failure
        # the tables and the raw landing alike: a rebuild from the landing gives the 100 again
        assert published(data_dir) == before
        assert read(data_dir, "calls", WORKFLOW).num_rows == 100

        accepted = materialize(
            instance,
            data_dir,
            WORKFLOW,
            api=api_of(calls(10)),
            run_config=shrink_config(allow_shrink=True),
        )
        assert accepted.success
        check = checks_by_name(accepted)[("calls", "no_shrink")]
        assert check.passed and "accepted" in check.description
    assert read(data_dir, "calls", WORKFLOW).num_rows == 10


def test_the_threshold_is_configurable_and_growth_always_passes(tmp_path) -> None:
    data_dir = tmp_path / "data"
    with dg.instance_for_test() as instance:
        assert materialize(instance, data_dir, WORKFLOW, api=api_of(calls(20))).success
        # 12 of 20 passes the default threshold (half) but not a threshold of 0.9
        strict = materialize(
            instance,
            data_dir,
            WORKFLOW,
            api=api_of(calls(12)),
            run_config=shrink_config(shrink_threshold=0.9),
            raise_on_error=False,
        )
        assert not strict.success
        assert not checks_by_name(strict)[("calls", "no_shrink")].passed
        assert materialize(instance, data_dir, WORKFLOW, api=api_of(calls(12))).success
        assert materialize(instance, data_dir, WORKFLOW, api=api_of(calls(30))).success
    assert read(data_dir, "calls", WORKFLOW).num_rows == 30


UNKEYABLE = [{"summary": "no id"}, {"id": None, "summary": "null id"}, {"id": 12}, [1, 2]]


def test_unkeyable_records_are_quarantined_and_the_rest_published(tmp_path) -> None:
    data_dir = tmp_path / "data"
    good = calls(20)
    wrong_types = {**GENERATOR.call(20, workflow_id=WORKFLOW), "summary": 12}
    served = [*good[:7], *UNKEYABLE[:2], wrong_types, *good[7:], *UNKEYABLE[2:]]
    with dg.instance_for_test() as instance:
        result = materialize(instance, data_dir, WORKFLOW, api=api_of(served))
        assert result.success
        check = checks_by_name(result)[("raw_calls", "no_quarantined_records")]
        assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
        assert check.metadata["received"].value == len(served)
        assert check.metadata["quarantined"].value == len(UNKEYABLE)
        assert check.metadata["keyed"].value == len(served) - len(UNKEYABLE)
        assert checks_by_name(result)[("calls", "matches_contract")].passed
        assert not checks_by_name(result)[("calls", "no_drift")].passed

        rows = read(data_dir, "calls", WORKFLOW).to_pylist()
        assert len(rows) + len(UNKEYABLE) == len(served)
        assert {r["call_id"] for r in rows} == {c["id"] for c in [*good, wrong_types]}
        bad = next(r for r in rows if r["call_id"] == wrong_types["id"])
        assert bad["summary"] is None and orjson.loads(bad["extra_fields"]) == {"summary": 12}
        # the landing keeps every record as received, the quarantine each unkeyable one
        lines = raw_lines(data_dir / raw_calls_key(WORKFLOW))
        assert sorted(lines) == sorted(orjson.dumps(r) for r in served)
        quarantine = [orjson.loads(x) for x in raw_lines(data_dir / quarantine_key(WORKFLOW))]
        assert sorted(q["record"] for q in quarantine) == sorted(
            orjson.dumps(r).decode() for r in UNKEYABLE
        )
        assert all("id" in q["reason"] or "object" in q["reason"] for q in quarantine)

        # rebuilt from the landing alone: the same tables
        rebuilt = materialize(instance, data_dir, WORKFLOW, selection=TABLE_KEYS)
        assert rebuilt.success
        assert len(read(data_dir, "calls", WORKFLOW).to_pylist()) == len(rows)

        # a clean refresh replaces the landing and drops the old quarantine file
        assert materialize(instance, data_dir, WORKFLOW, api=api_of(good)).success
    assert not (data_dir / quarantine_key(WORKFLOW)).exists()
    assert (data_dir / raw_calls_key(WORKFLOW)).exists()
