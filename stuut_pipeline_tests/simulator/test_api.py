"""The simulated endpoint: auth, FastAPI-style validation, envelope, and the `serve` command."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import httpx
import orjson
import pytest

from stuut_pipeline.simulator import DEFAULT_TOKEN, FaultConfig, StuutSimulator
from stuut_pipeline.simulator.generator import CallGenerator, GeneratorConfig
from stuut_pipeline.stuut_api import CallsQuery, StuutClient

from .. import factories
from ..servers.ports import free_port

TOKEN = "sim-test-token"


@pytest.fixture(scope="module")
def sim() -> StuutSimulator:
    return factories.simulator(calls=120, workflows=2, seed=4, token=TOKEN)


def get(
    sim: StuutSimulator, query: list[tuple[str, str]], token: str | None = TOKEN, path="/v1/calls"
):
    headers = {"authorization": f"Bearer {token}"} if token else {}
    answer = sim.handle("GET", path, query, headers)
    return answer.status, orjson.loads(answer.body)


@pytest.mark.parametrize(
    ("query", "loc", "kind"),
    [
        ([("limit", "500")], ["query", "limit"], "less_than_equal"),
        ([("limit", "0")], ["query", "limit"], "greater_than_equal"),
        ([("page", "-1")], ["query", "page"], "greater_than_equal"),
        ([("page", "two")], ["query", "page"], "int_parsing"),
        ([("sentiment", "positive"), ("sentiment", "happy")], ["query", "sentiment", 1], "enum"),
        ([("sentiment", "positive,negative")], ["query", "sentiment", 0], "enum"),
        ([("classification", "refund")], ["query", "classification", 0], "enum"),
        ([("direction", "up")], ["query", "direction"], "enum"),
    ],
)
def test_invalid_parameters_get_fastapi_style_422(sim, query, loc, kind) -> None:
    status, body = get(sim, query)
    assert status == 422
    (error,) = body["detail"]
    assert error["loc"] == loc and error["type"] == kind and error["msg"]


def test_enum_error_lists_the_allowed_values(sim) -> None:
    _, body = get(sim, [("direction", "up")])
    assert body["detail"][0]["msg"] == "Input should be 'inbound' or 'outbound'"


@pytest.mark.parametrize("token", [None, "wrong", TOKEN + "x"])
def test_wrong_or_missing_token_is_401(sim, token) -> None:
    status, body = get(sim, [], token=token)
    assert status == 401 and body == {"detail": "Invalid authentication credentials"}


def test_unknown_path_is_404(sim) -> None:
    assert get(sim, [], path="/v1/nope")[0] == 404


def test_envelope_and_paging(sim) -> None:
    workflow = sim.store.workflow_ids()[0]
    records = sorted(
        sim.store.records(workflow), key=lambda c: (c["created_at"], c["id"]), reverse=True
    )
    expected = [c["id"] for c in records]  # newest first, as the API serves them
    ids, page, next_page = [], 0, 0
    while next_page is not None:
        status, body = get(sim, [("workflow", workflow), ("limit", "25"), ("page", str(page))])
        assert status == 200 and body["current_page"] == page
        assert body["total_records"] == len(expected)
        ids += [c["id"] for c in body["data"]]
        next_page = body["next_page"]
        assert next_page in (page + 1, None)
        page += 1
    assert ids == expected  # newest first, nothing twice
    status, body = get(sim, [("workflow", workflow), ("page", "999")])
    assert body["data"] == [] and body["next_page"] is None


def test_default_limit_is_50(sim) -> None:
    _, body = get(sim, [])
    assert len(body["data"]) == 50 and body["next_page"] == 1


@pytest.mark.parametrize(
    "old_kwarg", [{"n_workflows": 5}, {"seed": 1}, {"generator_config": GeneratorConfig()}]
)
def test_seed_and_workflows_come_only_from_the_config(old_kwarg) -> None:
    with pytest.raises(TypeError):
        StuutSimulator(config=GeneratorConfig(n_workflows=3), **old_kwarg)  # contradictory
    with pytest.raises(TypeError):
        StuutSimulator(n_calls=5, **old_kwarg)  # what the old signature accepted


def test_the_config_decides_the_served_account() -> None:
    config = GeneratorConfig(seed=3, n_workflows=4)
    sim = StuutSimulator(config, n_calls=50)
    status, body = get(sim, [("limit", "200")], token=DEFAULT_TOKEN)
    assert status == 200 and body["total_records"] == 50 and body["next_page"] is None
    served_workflows = {c["workflow"]["id"] for c in body["data"] if c["workflow"]}
    assert len(served_workflows) == 4
    reference = CallGenerator(config)
    assert served_workflows == set(reference.workflow_ids())
    assert {c["id"] for c in body["data"]} == {reference.call_id(i) for i in range(50)}
    other_seed = CallGenerator(GeneratorConfig(seed=4, n_workflows=4))
    assert not served_workflows & set(other_seed.workflow_ids())


def test_injected_faults_look_like_the_real_thing() -> None:
    sim = factories.simulator(
        calls=10, token=TOKEN, faults=FaultConfig(rate_429=1.0, retry_after_s=3)
    )
    answer = sim.handle("GET", "/v1/calls", [], {"authorization": f"Bearer {TOKEN}"})
    assert answer.status == 429 and answer.headers["retry-after"] == "3"
    sim = factories.simulator(calls=10, token=TOKEN, faults=FaultConfig(rate_malformed=1.0))
    answer = sim.handle("GET", "/v1/calls", [], {"authorization": f"Bearer {TOKEN}"})
    assert answer.status == 200
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(answer.body)


def test_serve_command_runs_a_real_http_server() -> None:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "stuut_pipeline.cli",
            "simulator",
            "serve",
            "--port",
            str(port),
            "--calls",
            "80",
            "--workflows",
            "2",
            "--seed",
            "9",
            "--latency-ms",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        lines = []
        deadline = time.monotonic() + 60
        token = None
        while token is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            assert line, "".join(lines)
            lines.append(line)
            found = re.search(r"token: (\S+)", line)
            token = found.group(1) if found else None
        assert token, "".join(lines)
        reference = factories.simulator(calls=80, workflows=2, seed=9, token=token)
        client = StuutClient(f"http://127.0.0.1:{port}", token)
        ids = set()
        for page in client.fetch_calls(CallsQuery(limit=30)):
            ids |= {r.record.id for r in page.records}
        assert ids == reference.store.ids()
        with pytest.raises(httpx.HTTPStatusError):
            httpx.get(f"http://127.0.0.1:{port}/v1/calls").raise_for_status()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
