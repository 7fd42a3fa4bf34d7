"""The DuckDB warehouse library: every rollup figure against an independent computation.

Inputs are simulator records flattened into Hive-partitioned Parquet (two workflows). Expected
figures are computed here, in plain Python, from the generator's dict records, never with the
project's SQL.
"""

from __future__ import annotations

import math
import statistics
import subprocess
import sys
import threading
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from stuut_pipeline import warehouse as wh
from stuut_pipeline.flatten.flatten import flatten_raw
from stuut_pipeline.simulator.generator import (
    CLASSIFICATIONS,
    DRIFT_SENTIMENT,
    NOT_CONNECTED_REASONS,
    SENTIMENTS,
    CallGenerator,
    GeneratorConfig,
)
from stuut_pipeline.warehouse import db as db_module
from stuut_pipeline.warehouse import export as export_module

ROLLUP_NAMES = ("sentiment_rollup", "classification_rollup", "workflow_kpis")
CONFIG = GeneratorConfig(
    seed=11,
    n_workflows=2,
    no_workflow_share=0.0,
    schema_drift_share=0.15,
    string_amount_share=0.3,
    span_days=63.0,
    span_calls=420,
)
N_CALLS = 420

# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------


def _records(config: GeneratorConfig, n: int) -> list[dict]:
    """Independent (deep-copied) call dicts, with edge cases the generator never produces."""
    gen = CallGenerator(config)
    records = [orjson.loads(gen.call_json(i)) for i in range(n)]
    by_wf: dict[str, list[dict]] = defaultdict(list)
    for rec in records:
        by_wf[rec["workflow"]["id"]].append(rec)
    for recs in by_wf.values():
        recs[3]["start_time"] = None  # day and week from created_at; no duration
        recs[5]["disconnection_reason"] = None  # unknown outcome: not connected
        recs[5]["in_voicemail"] = False
        recs[7]["sentiment"] = None  # a missing sentiment keeps its own row
        recs[9]["direction"] = None
        recs[11]["disconnection_reason"] = "scam_detected"  # a reason nobody listed: connected
        recs[13]["in_voicemail"] = None
        recs[15]["disconnection_reason"] = "machine_detected"  # an answering machine: voicemail
        # near midnight UTC: the UTC day, whatever the session time zone
        recs[17]["start_time"] = recs[17]["start_time"][:10] + "T23:59:58Z"
        # the same invoice on two calls of one week, with different amounts: the latest wins
        with_invoices = [r for r in recs if r["invoices"]]
        first = with_invoices[0]
        later = next(
            r
            for r in with_invoices[1:]
            if _week(_call_time(r)) == _week(_call_time(first))
            and _call_time(r) > _call_time(first)
        )
        repeated = dict(first["invoices"][0])
        repeated["amount_due"] = 4321.5
        repeated["calls"] = [later["id"]]
        later["invoices"] = [*later["invoices"], repeated]
        # an invoice without an id is left out of the invoice figures
        anonymous = dict(with_invoices[-1]["invoices"][0])
        anonymous["id"] = None
        with_invoices[-1]["invoices"] = [anonymous]
    return records


def _write_parquet(data_dir: Path, records: list[dict]) -> dict[str, list[dict]]:
    """Flatten each workflow's records into `parquet/<table>/workflow_id=<id>/part-0.parquet`."""
    by_wf: dict[str, list[dict]] = defaultdict(list)
    for rec in records:
        by_wf[rec["workflow"]["id"]].append(rec)
    for wf, recs in by_wf.items():
        batch = flatten_raw([orjson.dumps(r) for r in recs])
        for table, arrow in batch.tables.items():
            target = data_dir / "parquet" / table / f"workflow_id={wf}"
            target.mkdir(parents=True, exist_ok=True)
            pq.write_table(arrow, target / "part-0.parquet")
    return dict(by_wf)


def _build_all(data_dir: Path, workflow_ids, *, time_zone: str | None = None) -> None:
    with wh.connection(wh.default_db_path(data_dir)) as con:
        if time_zone:
            con.execute(f"SET TimeZone = '{time_zone}'")
        wh.ensure_views(con, data_dir)
        wh.ensure_tables(con)
        for wf in workflow_ids:
            for name in ROLLUP_NAMES:
                wh.build_rollup(con, name, wf, data_dir)


@pytest.fixture(scope="module")
def records() -> list[dict]:
    return _records(CONFIG, N_CALLS)


@pytest.fixture
def built(tmp_path, records) -> tuple[Path, dict[str, list[dict]]]:
    """Parquet inputs of two workflows, every rollup built (session time zone not UTC)."""
    data_dir = tmp_path / "data"
    by_wf = _write_parquet(data_dir, records)
    assert len(by_wf) == 2
    _build_all(data_dir, by_wf, time_zone="Pacific/Kiritimati")
    return data_dir, by_wf


# --------------------------------------------------------------------------------------------
# The independent computation (plain Python over the dict records)
# --------------------------------------------------------------------------------------------


def _ts(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))


def _call_time(rec: dict) -> datetime:
    return _ts(rec.get("start_time")) or _ts(rec["created_at"])


def _day(rec: dict) -> date:
    return _call_time(rec).astimezone(UTC).date()


def _week(t: datetime) -> date:
    d = t.astimezone(UTC).date()
    return d - timedelta(days=d.weekday())


def _duration(rec: dict) -> float | None:
    start, end = _ts(rec.get("start_time")), _ts(rec.get("end_time"))
    return None if start is None or end is None else (end - start).total_seconds()


def _voicemail(rec: dict) -> bool:
    return rec.get("in_voicemail") is True or rec.get("disconnection_reason") in (
        "voicemail_reached",
        "machine_detected",
    )


def _connected(rec: dict) -> bool:
    reason = rec.get("disconnection_reason")
    # the simulator's own list of never-connected reasons is the oracle
    return _voicemail(rec) or (reason is not None and reason not in NOT_CONNECTED_REASONS)


def _labels(rec: dict) -> list[Any]:
    return [c.get("classification") for c in rec["classifications"]]


def _rpc(rec: dict) -> bool:
    wrong = any(c in ("wrong_contact", "not_available") for c in _labels(rec))
    return _connected(rec) and not _voicemail(rec) and not wrong


def _rate(num: int, den: int) -> float | None:
    return num / den if den else None


def expected_sentiment(recs: list[dict]) -> dict[tuple, dict]:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for rec in recs:
        groups[(_day(rec), rec.get("direction"))].append(rec)
    out = {}
    for (day, direction), members in groups.items():
        values = list(SENTIMENTS) + [
            s for s in {r.get("sentiment") for r in members} if s not in SENTIMENTS
        ]
        for sentiment in values:
            calls = [r for r in members if r.get("sentiment") == sentiment]
            durations = [d for d in map(_duration, calls) if d is not None]
            vm = sum(map(_voicemail, calls))
            out[(day, direction, sentiment)] = {
                "is_documented_sentiment": sentiment in SENTIMENTS,
                "calls": len(calls),
                "share_of_calls": len(calls) / len(members),
                "voicemail_calls": vm,
                "voicemail_rate": _rate(vm, len(calls)),
                "mean_duration_seconds": statistics.mean(durations) if durations else None,
                "median_duration_seconds": statistics.median(durations) if durations else None,
            }
    return out


def expected_classification(recs: list[dict]) -> dict[tuple, dict]:
    acc: dict[Any, dict] = {
        c: {"n": 0, "calls": set(), "ar": 0, "rr": 0, "conf": [], "t": 0, "to": 0, "tc": 0}
        for c in CLASSIFICATIONS
    }
    for rec in recs:
        for cls in rec["classifications"]:
            a = acc.setdefault(
                cls.get("classification"),
                {"n": 0, "calls": set(), "ar": 0, "rr": 0, "conf": [], "t": 0, "to": 0, "tc": 0},
            )
            a["n"] += 1
            a["calls"].add(rec["id"])
            a["ar"] += cls.get("is_action_required") is True
            a["rr"] += cls.get("is_reply_required") is True
            if cls.get("agent_confidence_score") is not None:
                a["conf"].append(float(cls["agent_confidence_score"]))
            for task in cls.get("tasks") or []:
                done = task.get("status") == "completed" or task.get("action_taken") == "complete"
                a["t"] += 1
                a["tc"] += done
                a["to"] += task.get("status") == "open" and not done
    total = sum(a["n"] for a in acc.values())
    return {
        (c,): {
            "is_documented_classification": c in CLASSIFICATIONS,
            "classifications": a["n"],
            "calls": len(a["calls"]),
            "share_of_calls": _rate(len(a["calls"]), len(recs)),
            "share_of_classifications": _rate(a["n"], total),
            "action_required": a["ar"],
            "action_required_rate": _rate(a["ar"], a["n"]),
            "reply_required": a["rr"],
            "reply_required_rate": _rate(a["rr"], a["n"]),
            "mean_agent_confidence": statistics.mean(a["conf"]) if a["conf"] else None,
            "tasks": a["t"],
            "tasks_open": a["to"],
            "tasks_completed": a["tc"],
        }
        for c, a in acc.items()
    }


def expected_kpis(recs: list[dict]) -> dict[tuple, dict]:
    weeks: dict[date, list[dict]] = defaultdict(list)
    for rec in recs:
        weeks[_week(_call_time(rec))].append(rec)
    out = {}
    for week, calls in weeks.items():
        connected = sum(map(_connected, calls))
        vm = sum(map(_voicemail, calls))
        rpc = [r for r in calls if _rpc(r)]
        ptp = sum("payment_promise" in _labels(r) for r in rpc)
        dispute = sum(
            "complaint" in _labels(r) or any(i.get("in_dispute") is True for i in r["invoices"])
            for r in calls
        )
        latest: dict[str, tuple] = {}
        for rec in calls:
            for idx, inv in enumerate(rec["invoices"]):
                if inv.get("id") is None:
                    continue
                rank = (_call_time(rec), rec["id"], idx)
                if inv["id"] not in latest or rank > latest[inv["id"]][0]:
                    latest[inv["id"]] = (rank, inv)
        amounts: dict[str, list[float]] = defaultdict(list)
        for _, inv in latest.values():
            bucket = amounts[inv.get("currency") or "XXX"]
            if inv.get("amount_due") is not None:
                bucket.append(float(inv["amount_due"]))
        iso = week.isocalendar()
        out[(week,)] = {
            "iso_week": f"{iso.year}-W{iso.week:02d}",
            "calls": len(calls),
            "connected_calls": connected,
            "calls_unknown_disconnection": sum(
                r.get("disconnection_reason") is None for r in calls
            ),
            "connect_rate": connected / len(calls),
            "voicemail_calls": vm,
            "voicemail_rate": vm / len(calls),
            "right_party_contacts": len(rpc),
            "right_party_contact_rate": len(rpc) / len(calls),
            "promise_to_pay_calls": ptp,
            "promise_to_pay_rate": _rate(ptp, len(rpc)),
            "dispute_complaint_calls": dispute,
            "dispute_complaint_share": dispute / len(calls),
            "invoices_discussed": len(latest),
            "amount_due_by_currency": {c: (sum(v) if v else None) for c, v in amounts.items()},
        }
    return out


EXPECTED = {
    "sentiment_rollup": expected_sentiment,
    "classification_rollup": expected_classification,
    "workflow_kpis": expected_kpis,
}


def _same(actual: Any, expected: Any) -> bool:
    if isinstance(expected, float) or isinstance(actual, float):
        if actual is None or expected is None:
            return actual is expected
        return math.isclose(actual, expected, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(expected, dict):
        actual = dict(actual)
        return actual.keys() == expected.keys() and all(
            _same(actual[k], expected[k]) for k in expected
        )
    return actual == expected and type(actual) is type(expected)


def _keyed(rollup: str, rows: list[dict]) -> dict[tuple, dict]:
    key = wh.get_rollup(rollup).contract.primary_key
    out = {}
    for row in rows:
        row = dict(row)
        if isinstance(row.get("amount_due_by_currency"), list):  # a Parquet map read by Arrow
            row["amount_due_by_currency"] = dict(row["amount_due_by_currency"])
        k = tuple(row.pop(c) for c in key)
        assert k not in out, f"duplicate key {k}"
        out[k] = row
    return out


def _compare(rollup: str, actual: dict[tuple, dict], expected: dict[tuple, dict]) -> None:
    assert actual.keys() == expected.keys()
    for key, figures in expected.items():
        for column, value in figures.items():
            got = actual[key][column]
            assert _same(got, value), f"{rollup} {key} {column}: got {got!r}, expected {value!r}"


def _mart_rows(data_dir: Path, rollup: str, wf: str) -> list[dict]:
    return pq.read_table(wh.mart_dir(data_dir, rollup, wf) / wh.MART_FILE).to_pylist()


# --------------------------------------------------------------------------------------------
# Every figure
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rollup", ROLLUP_NAMES)
def test_every_figure_matches_independent_computation(built, rollup):
    data_dir, by_wf = built
    with wh.connection(wh.default_db_path(data_dir), read_only=True) as con:
        for wf, recs in by_wf.items():
            expected = EXPECTED[rollup](recs)
            db_rows = wh.fetch_rollup(con, rollup, wf)
            assert {r.pop("workflow_id") for r in db_rows} == {wf}
            _compare(rollup, _keyed(rollup, db_rows), expected)
            _compare(rollup, _keyed(rollup, _mart_rows(data_dir, rollup, wf)), expected)


def test_edge_cases_are_really_in_the_inputs(built):
    """The fixture's edge cases reach the rollups (so the comparison above covers them)."""
    data_dir, by_wf = built
    with wh.connection(wh.default_db_path(data_dir), read_only=True) as con:
        for wf in by_wf:
            kpis = wh.fetch_rollup(con, "workflow_kpis", wf)
            assert sum(r["calls_unknown_disconnection"] for r in kpis) == 1
            sentiments = {r["sentiment"] for r in wh.fetch_rollup(con, "sentiment_rollup", wf)}
            assert {None, DRIFT_SENTIMENT} <= sentiments
            classifications = wh.fetch_rollup(con, "classification_rollup", wf)
            assert any(not r["is_documented_classification"] for r in classifications)
            # one invoice on two calls of a week, with different amounts
            seen: dict[tuple, set] = defaultdict(set)
            for rec in by_wf[wf]:
                for inv in rec["invoices"]:
                    seen[(_week(_call_time(rec)), inv["id"])].add(float(inv["amount_due"]))
            assert any(len(amounts) > 1 for amounts in seen.values())


def test_marts_hold_each_workflow_once_without_a_workflow_id_column(built):
    data_dir, by_wf = built
    for rollup in ROLLUP_NAMES:
        files = sorted(wh.marts_root(data_dir).joinpath(rollup).glob("*/*.parquet"))
        assert [f.parent.name for f in files] == sorted(f"workflow_id={wf}" for wf in by_wf)
        for f in files:
            schema = pq.read_schema(f)
            assert "workflow_id" not in schema.names
            assert schema.names == wh.get_rollup(rollup).contract.column_names
        with duckdb.connect() as con:
            counts = con.execute(
                "SELECT workflow_id, count(*) FROM read_parquet($g, hive_partitioning = true) "
                "GROUP BY ALL",
                {"g": wh.mart_glob(data_dir, rollup)},
            ).fetchall()
        with wh.connection(wh.default_db_path(data_dir), read_only=True) as db:
            assert dict(counts) == {wf: wh.count_rows(db, rollup, wf) for wf in by_wf}
    assert not list((data_dir / ".staging").iterdir())


def test_views_show_every_table_with_workflow_id(built):
    data_dir, by_wf = built
    with wh.connection(wh.default_db_path(data_dir), read_only=True) as con:
        for view in (*wh.SOURCE_VIEWS, wh.CALL_FACTS_VIEW):
            columns = [r[0] for r in con.execute(f"DESCRIBE {view}").fetchall()]
            assert "workflow_id" in columns
        calls = dict(con.execute("SELECT workflow_id, count(*) FROM calls GROUP BY ALL").fetchall())
        assert calls == {wf: len(recs) for wf, recs in by_wf.items()}
        n_cls = con.execute("SELECT count(*) FROM call_classifications").fetchone()[0]
        assert n_cls == sum(len(r["classifications"]) for recs in by_wf.values() for r in recs)


def test_views_and_rollups_on_an_empty_data_dir(tmp_path):
    data_dir = tmp_path / "data"
    with wh.connection(wh.default_db_path(data_dir)) as con:
        report = wh.ensure_views(con, data_dir)
        assert report.files == dict.fromkeys(wh.SOURCE_VIEWS, 0)
        wh.ensure_tables(con)
        columns = [r[0] for r in con.execute("DESCRIBE calls").fetchall()]
        assert columns[:2] == ["call_id", "object"] and "workflow_id" in columns
        assert wh.build_rollup(con, "sentiment_rollup", "otwfl_empty", data_dir).rows == 0
        build = wh.build_rollup(con, "classification_rollup", "otwfl_empty", data_dir)
        assert build.rows == len(CLASSIFICATIONS) and all(c.passed for c in build.checks)
        assert wh.build_rollup(con, "workflow_kpis", "otwfl_empty", data_dir).rows == 0
    assert (
        pq.read_table(wh.mart_dir(data_dir, "workflow_kpis", "otwfl_empty") / wh.MART_FILE).num_rows
        == 0
    )


# --------------------------------------------------------------------------------------------
# Unknown values, partitions, transactions, atomic publishing
# --------------------------------------------------------------------------------------------


def test_unknown_sentiment_kept_as_its_own_row(tmp_path):
    data_dir = tmp_path / "data"
    config = GeneratorConfig(seed=2, n_workflows=1, no_workflow_share=0.0, schema_drift_share=0.5)
    gen = CallGenerator(config)
    recs = [orjson.loads(gen.call_json(i)) for i in range(120)]
    assert sum(r["sentiment"] == DRIFT_SENTIMENT for r in recs) > 20
    (wf,) = _write_parquet(data_dir, recs)
    _build_all(data_dir, [wf])
    rows = _mart_rows(data_dir, "sentiment_rollup", wf)
    mixed = [r for r in rows if r["sentiment"] == DRIFT_SENTIMENT]
    assert mixed and not any(r["is_documented_sentiment"] for r in mixed)
    assert sum(r["calls"] for r in mixed) == sum(r["sentiment"] == DRIFT_SENTIMENT for r in recs)
    assert sum(r["calls"] for r in rows) == len(recs)
    groups = {(r["day"], r["direction"]) for r in rows}
    for group in groups:
        in_group = {r["sentiment"] for r in rows if (r["day"], r["direction"]) == group}
        assert set(SENTIMENTS) <= in_group
    _compare("sentiment_rollup", _keyed("sentiment_rollup", rows), expected_sentiment(recs))


def test_rebuilding_one_workflow_leaves_the_other_untouched(built):
    data_dir, by_wf = built
    wf_a, wf_b = sorted(by_wf)
    db = wh.default_db_path(data_dir)
    with wh.connection(db, read_only=True) as con:
        before_b = {r: wh.fetch_rollup(con, r, wf_b) for r in ROLLUP_NAMES}
    marts_b = {
        r: (wh.mart_dir(data_dir, r, wf_b) / wh.MART_FILE).read_bytes() for r in ROLLUP_NAMES
    }
    # workflow A loses half its calls upstream, then is rebuilt (twice: idempotent)
    kept = by_wf[wf_a][: len(by_wf[wf_a]) // 2]
    _write_parquet(data_dir, kept)
    with wh.connection(db) as con:
        wh.ensure_views(con, data_dir)
        for _ in range(2):
            for r in ROLLUP_NAMES:
                wh.build_rollup(con, r, wf_a, data_dir)
        for r in ROLLUP_NAMES:
            assert wh.fetch_rollup(con, r, wf_b) == before_b[r]
            got = wh.fetch_rollup(con, r, wf_a)
            for row in got:
                row.pop("workflow_id")
            _compare(r, _keyed(r, got), EXPECTED[r](kept))
    for r in ROLLUP_NAMES:
        assert (wh.mart_dir(data_dir, r, wf_b) / wh.MART_FILE).read_bytes() == marts_b[r]
        _compare(r, _keyed(r, _mart_rows(data_dir, r, wf_a)), EXPECTED[r](kept))


def test_a_failing_insert_rolls_the_delete_back(built):
    data_dir, by_wf = built
    wf = sorted(by_wf)[0]
    with wh.connection(wh.default_db_path(data_dir)) as con:
        before = wh.fetch_rollup(con, "workflow_kpis", wf)
        # the DELETE runs, then the INSERT fails: call_facts lost its columns
        con.execute("CREATE OR REPLACE VIEW call_facts AS SELECT 'x' AS workflow_id")
        with pytest.raises(duckdb.Error):
            wh.rebuild_rollup(con, "workflow_kpis", wf)
        assert wh.fetch_rollup(con, "workflow_kpis", wf) == before
        wh.ensure_views(con, data_dir)
        assert wh.rebuild_rollup(con, "workflow_kpis", wf) == len(before)


def test_export_killed_midway_leaves_the_previous_file(built, monkeypatch):
    data_dir, by_wf = built
    wf = sorted(by_wf)[0]
    target = wh.mart_dir(data_dir, "sentiment_rollup", wf) / wh.MART_FILE
    previous = target.read_bytes()

    class Killed(BaseException):
        """Like a kill: not an Exception, so no `except Exception` swallows it."""

    def killed(*args, **kwargs):
        raise Killed("killed while publishing")

    _write_parquet(data_dir, by_wf[wf][:50])
    monkeypatch.setattr(export_module, "publish_file", killed)
    with wh.connection(wh.default_db_path(data_dir)) as con:
        wh.ensure_views(con, data_dir)
        wh.rebuild_rollup(con, "sentiment_rollup", wf)
        with pytest.raises(Killed):
            wh.export_mart(con, "sentiment_rollup", wf, data_dir)
        with pytest.raises(Killed):
            wh.build_rollup(con, "sentiment_rollup", wf, data_dir)
    assert target.read_bytes() == previous
    assert list(target.parent.iterdir()) == [target]
    assert not list((data_dir / ".staging").iterdir())
    monkeypatch.undo()
    with wh.connection(wh.default_db_path(data_dir)) as con:
        wh.export_mart(con, "sentiment_rollup", wf, data_dir)
    assert sum(r["calls"] for r in pq.read_table(target).to_pylist()) == 50


def test_a_failed_blocking_check_keeps_rows_and_mart(built, monkeypatch):
    """A real reconciliation failure: the rollup SQL double-counts calls."""
    data_dir, by_wf = built
    wf = sorted(by_wf)[0]
    target = wh.mart_dir(data_dir, "sentiment_rollup", wf) / wh.MART_FILE
    previous = target.read_bytes()
    original = db_module.load_sql

    def broken(name: str) -> str:
        sql = original(name)
        if name == "sentiment_rollup.sql":
            sql = sql.replace("count(f.call_id) AS calls", "2 * count(f.call_id) AS calls")
            assert "2 * count" in sql
        return sql

    monkeypatch.setattr(db_module, "load_sql", broken)
    with wh.connection(wh.default_db_path(data_dir)) as con:
        before = wh.fetch_rollup(con, "sentiment_rollup", wf)
        with pytest.raises(wh.RollupCheckError) as err:
            wh.build_rollup(con, "sentiment_rollup", wf, data_dir)
        assert wh.fetch_rollup(con, "sentiment_rollup", wf) == before
    outcomes = {c.name: c for c in err.value.checks}
    assert not outcomes["calls_reconciled"].passed
    assert outcomes["calls_reconciled"].metadata["rollup_rows"] == 2 * len(by_wf[wf])
    assert outcomes["schema_matches_contract"].passed and outcomes["shares_sum_to_one"].passed
    assert target.read_bytes() == previous


def test_shares_check_fails_when_shares_do_not_sum_to_one(built):
    data_dir, by_wf = built
    wf = sorted(by_wf)[0]
    with wh.connection(wh.default_db_path(data_dir)) as con:
        con.execute("BEGIN TRANSACTION")
        con.execute(
            "UPDATE classification_rollup SET share_of_classifications = 0.5 "
            "WHERE workflow_id = $wf AND classification = 'payment_promise'",
            {"wf": wf},
        )
        outcomes = {o.name: o for o in wh.run_checks(con, "classification_rollup", wf)}
        con.execute("ROLLBACK")
    assert not outcomes["shares_sum_to_one"].passed
    assert outcomes["classifications_reconciled"].passed


# --------------------------------------------------------------------------------------------
# Schema checks from the contract
# --------------------------------------------------------------------------------------------


def test_mart_schema_check_catches_a_wrong_file(built, tmp_path):
    data_dir, by_wf = built
    wf = sorted(by_wf)[0]
    good = wh.mart_dir(data_dir, "workflow_kpis", wf) / wh.MART_FILE
    table = pq.read_table(good)
    assert wh.validate_mart_file(good, "workflow_kpis", table.num_rows) == []
    assert wh.validate_mart_file(good, "workflow_kpis", table.num_rows + 1)
    with_id = table.append_column("workflow_id", pa.array([wf] * table.num_rows))
    pq.write_table(with_id, tmp_path / "with_id.parquet")
    assert any(
        "workflow_id" in p
        for p in wh.validate_mart_file(
            tmp_path / "with_id.parquet", "workflow_kpis", table.num_rows
        )
    )
    retyped = table.set_column(
        table.schema.get_field_index("calls"), "calls", table.column("calls").cast(pa.int32())
    )
    pq.write_table(retyped, tmp_path / "retyped.parquet")
    problems = wh.validate_mart_file(tmp_path / "retyped.parquet", "workflow_kpis", table.num_rows)
    assert problems == ["calls: type int32, contract int64"]


def test_table_schema_check_catches_an_old_table(tmp_path):
    with wh.connection(tmp_path / "w.duckdb") as con:
        con.execute("CREATE TABLE workflow_kpis (workflow_id VARCHAR, week_start VARCHAR)")
        wh.ensure_tables(con)
        assert wh.validate_table_schema(con, "workflow_kpis")
        assert wh.validate_table_schema(con, "sentiment_rollup") == []
        with pytest.raises(wh.RollupCheckError, match="schema_matches_contract"):
            wh.build_rollup(con, "workflow_kpis", "otwfl_x", tmp_path)


def test_contracts_keep_workflow_id_out_of_the_files():
    for rollup in wh.ROLLUPS.values():
        assert "workflow_id" not in rollup.export_schema().names
        assert rollup.db_columns[0].name == "workflow_id"
        assert all(c.description for c in rollup.db_columns)


# --------------------------------------------------------------------------------------------
# Connections and parameterised SQL
# --------------------------------------------------------------------------------------------


def test_read_only_connection_reads_while_nothing_writes(built):
    data_dir, by_wf = built
    with wh.connection(wh.default_db_path(data_dir), read_only=True) as con:
        n = con.execute("SELECT count(*) FROM calls").fetchone()[0]
        assert n == sum(len(v) for v in by_wf.values())
        assert con.execute("SELECT count(*) FROM workflow_kpis").fetchone()[0] > 0
        with pytest.raises(duckdb.Error):
            con.execute("DELETE FROM workflow_kpis")
    with pytest.raises(FileNotFoundError):
        wh.connect(data_dir / "missing.duckdb", read_only=True)


_HOLDER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
print("locked", flush=True)
sys.stdin.read()
con.close()
"""


def test_a_lock_held_elsewhere_is_reported_then_waited_for(built):
    data_dir, _ = built
    db = wh.default_db_path(data_dir)
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(wh.WarehouseLockedError, match="locked by another process"):
            wh.connect(db, read_only=True, lock_timeout=0)
        result: dict[str, Any] = {}

        def wait_for_lock() -> None:
            with wh.connection(db, read_only=True, lock_timeout=120) as con:
                result["rows"] = con.execute("SELECT count(*) FROM sentiment_rollup").fetchone()[0]

        waiter = threading.Thread(target=wait_for_lock)
        waiter.start()
        holder.stdin.close()
        waiter.join()
        assert result["rows"] > 0
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.wait()


class _Recorder:
    """A connection proxy recording the text of every statement."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        self.statements: list[str] = []

    def execute(self, sql: str, params: Any = None):
        self.statements.append(sql)
        return self._con.execute(sql, params) if params is not None else self._con.execute(sql)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def test_no_workflow_id_is_pasted_into_sql(built):
    data_dir, by_wf = built
    with wh.connection(wh.default_db_path(data_dir)) as con:
        recorder = _Recorder(con)
        for wf in by_wf:
            for rollup in ROLLUP_NAMES:
                wh.build_rollup(recorder, rollup, wf, data_dir)
                wh.latest_figures_markdown(recorder, rollup, wf)
                wh.headline_figures(recorder, rollup, wf)
            wh.sentiment_chart_markdown(recorder, wf)
    assert len(recorder.statements) > 20
    for sql in recorder.statements:
        assert not any(wf in sql for wf in by_wf), sql
    sql_dir = Path(wh.__file__).parent / "sql"
    for path in sql_dir.glob("*.sql"):
        text = path.read_text()
        assert "otwfl_" not in text
        assert "workflow_id = $workflow_id" in text or path.name == "call_facts.sql"


# --------------------------------------------------------------------------------------------
# What people look at
# --------------------------------------------------------------------------------------------


def test_markdown_chart_and_headline_figures(built):
    data_dir, by_wf = built
    wf = sorted(by_wf)[0]
    recs = by_wf[wf]
    with wh.connection(wh.default_db_path(data_dir), read_only=True) as con:
        chart = wh.sentiment_chart_markdown(con, wf, days=400)
        kpi_md = wh.latest_figures_markdown(con, "workflow_kpis", wf)
        sentiment_md = wh.latest_figures_markdown(con, "sentiment_rollup", wf)
        kpi = wh.headline_figures(con, "workflow_kpis", wf)
        sentiment = wh.headline_figures(con, "sentiment_rollup", wf)
        classification = wh.headline_figures(con, "classification_rollup", wf)
    days = sorted({_day(r) for r in recs})
    bars = [line for line in chart.splitlines() if "│" in line]
    assert [line[:10] for line in bars] == [d.isoformat() for d in days]
    assert all(len(line.split("│")[1]) == 40 for line in bars)
    assert "█ positive" in chart and "× other" in chart
    assert f"**Latest day: {days[-1].isoformat()} (UTC)**" in sentiment_md
    expected_weeks = expected_kpis(recs)
    latest = expected_weeks[max(expected_weeks)]
    assert latest["iso_week"] in kpi_md and "connect_rate" in kpi_md
    assert kpi["latest_week"] == latest["iso_week"]
    assert kpi["calls"] == latest["calls"]
    assert math.isclose(kpi["connect_rate"], latest["connect_rate"])
    assert math.isclose(kpi["right_party_contact_rate"], latest["right_party_contact_rate"])
    for currency, amount in latest["amount_due_by_currency"].items():
        assert math.isclose(kpi[f"amount_due/{currency}"], amount)
    assert sentiment["calls"] == len(recs)
    for s in SENTIMENTS:
        assert math.isclose(
            sentiment[f"share/{s}"], sum(r.get("sentiment") == s for r in recs) / len(recs)
        )
    promises = sum("payment_promise" in _labels(r) for r in recs)
    assert math.isclose(classification["share_of_calls/payment_promise"], promises / len(recs))
