"""Rollup cost: every rollup of one workflow partition vs plain DuckDB GROUP BY scans.

    python benchmarks/rollups.py --data-dir DIR --workflow ID

`DIR` holds a published partition (`parquet/<table>/workflow_id=<ID>/part-0.parquet`), e.g. what
the ingest benchmark's `ours` run left. Times, in this process and on a fresh DuckDB file:

- `rollups`: what each rollup asset runs (without Dagster): `ensure_views`, `ensure_tables`,
  then `build_rollup` of every rollup (delete + insert in a transaction, blocking checks, mart
  export and publish);
- `group_by`: the same aggregations' core as plain `GROUP BY` scans of the same Parquet files,
  one per rollup (calls by day/direction/sentiment; classifications by classification; calls by
  ISO week), results fetched.

Prints one JSON line (best of `--repeat`).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

GROUP_BYS = {
    "sentiment_rollup": """
        SELECT CAST(start_time AS DATE) AS day, direction, sentiment, count(*) AS calls,
               count(*) FILTER (WHERE in_voicemail) AS voicemail, avg(duration_seconds),
               median(duration_seconds)
        FROM read_parquet({calls}) GROUP BY ALL""",
    "classification_rollup": """
        SELECT classification, count(*) AS n, count(DISTINCT call_id) AS calls,
               avg(agent_confidence_score), sum(task_count)
        FROM read_parquet({classifications}) GROUP BY ALL""",
    "workflow_kpis": """
        SELECT date_trunc('week', start_time) AS week, count(*) AS calls,
               count(*) FILTER (WHERE in_voicemail) AS voicemail,
               count(*) FILTER (WHERE classification_count > 0) AS classified,
               avg(duration_seconds), sum(invoice_count)
        FROM read_parquet({calls}) GROUP BY ALL""",
}


def _files(data_dir: Path, table: str, workflow: str) -> str:
    path = data_dir / "parquet" / table / f"workflow_id={workflow}" / "part-0.parquet"
    if not path.is_file():
        raise SystemExit(f"no published {table} partition at {path}")
    return "'" + str(path).replace("'", "''") + "'"


def time_rollups(data_dir: Path, workflow: str, db_path: Path) -> dict[str, float]:
    from stuut_pipeline import warehouse as wh

    seconds: dict[str, float] = {}
    started = time.perf_counter()
    with wh.connection(db_path) as con:
        wh.ensure_views(con, data_dir)
        wh.ensure_tables(con)
        seconds["views_and_tables"] = time.perf_counter() - started
        for rollup in wh.ROLLUPS:
            name = wh.get_rollup(rollup).name
            s = time.perf_counter()
            build = wh.build_rollup(con, rollup, workflow, data_dir)
            assert all(c.passed for c in build.checks), name
            seconds[name] = time.perf_counter() - s
    seconds["total"] = time.perf_counter() - started
    return seconds


def time_group_bys(data_dir: Path, workflow: str) -> dict[str, float]:
    import duckdb

    sources = {
        "calls": _files(data_dir, "calls", workflow),
        "classifications": _files(data_dir, "call_classifications", workflow),
    }
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    con = duckdb.connect()
    for name, sql in GROUP_BYS.items():
        s = time.perf_counter()
        con.execute(sql.format(**sources)).fetchall()
        seconds[name] = time.perf_counter() - s
    con.close()
    seconds["total"] = time.perf_counter() - started
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True, type=Path)
    parser.add_argument("--workflow", required=True)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    import duckdb

    calls = duckdb.sql(
        f"SELECT count(*) FROM read_parquet({_files(args.data_dir, 'calls', args.workflow)})"
    ).fetchall()[0][0]
    best_rollups: dict[str, float] | None = None
    best_scan: dict[str, float] | None = None
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="stuut-wh-") as tmp:
            r = time_rollups(args.data_dir, args.workflow, Path(tmp) / "warehouse.duckdb")
        if best_rollups is None or r["total"] < best_rollups["total"]:
            best_rollups = r
        g = time_group_bys(args.data_dir, args.workflow)
        if best_scan is None or g["total"] < best_scan["total"]:
            best_scan = g
    assert best_rollups is not None and best_scan is not None
    result = {
        "ok": True,
        "calls": calls,
        "rollups": {k: round(v, 3) for k, v in best_rollups.items()},
        "group_by": {k: round(v, 3) for k, v in best_scan.items()},
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
