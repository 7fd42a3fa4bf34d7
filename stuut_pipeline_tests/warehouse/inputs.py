"""Warehouse inputs: simulator records with edge cases, flattened into Hive-partitioned Parquet."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import orjson
import pyarrow.parquet as pq

from stuut_pipeline import warehouse as wh
from stuut_pipeline.flatten.flatten import flatten_raw
from stuut_pipeline.layout import WAREHOUSE_FILE, mart_key

from .. import factories
from ..reference import ROLLUP_NAMES, call_time, week_start

CONFIG = factories.generator_config(
    seed=11,
    n_workflows=2,
    no_workflow_share=0.0,
    schema_drift_share=0.15,
    string_amount_share=0.3,
    span_days=63.0,
    span_calls=420,
)
N_CALLS = 420


def records_with_edge_cases(config=CONFIG, n: int = N_CALLS) -> list[dict]:
    """Independent (deep-copied) call dicts, with edge cases the generator never produces."""
    gen = factories.generator(config)
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
            if week_start(call_time(r)) == week_start(call_time(first))
            and call_time(r) > call_time(first)
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


def write_parquet(data_dir: Path, records: list[dict]) -> dict[str, list[dict]]:
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


def build_all(data_dir: Path, workflow_ids, *, time_zone: str | None = None) -> None:
    """Every rollup of `workflow_ids`, each workflow in its own in-memory database (in a session
    of `time_zone`), then the analysts' catalog."""
    for wf in workflow_ids:
        with wh.partition_db(data_dir, wf) as (con, _):
            if time_zone:
                con.execute(f"SET TimeZone = '{time_zone}'")
            wh.ensure_tables(con)
            for name in ROLLUP_NAMES:
                wh.build_rollup(con, name, wf, data_dir)
    wh.publish_catalog(data_dir, (data_dir / WAREHOUSE_FILE))


def mart_rows(data_dir: Path, rollup: str, wf: str) -> list[dict]:
    """The rows of one workflow's published mart file."""
    return pq.read_table(data_dir / mart_key(rollup, wf)).to_pylist()


def build_inputs(data_dir: Path, records: list[dict]) -> dict[str, list[dict]]:
    """Parquet inputs of the records' workflows, every rollup built (session time zone not UTC)."""
    by_wf = write_parquet(data_dir, records)
    assert len(by_wf) == 2
    build_all(data_dir, by_wf, time_zone="Pacific/Kiritimati")
    return by_wf
