"""Hostile inputs to the ingest: a refresh that would shrink a workflow's published calls."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import httpx
import orjson

from stuut_pipeline.defs.ingest.resources import StuutApiResource
from stuut_pipeline.layout import table_key
from stuut_pipeline.stuut_api import StuutClient

from .. import factories
from .test_ingest_assets import checks_by_name, materialize, read

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
        after = published(data_dir)
        parquet = {p: b for p, b in after.items() if "parquet" in p.parts}
        assert parquet == {p: b for p, b in before.items() if "parquet" in p.parts}
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
