"""`python -m reliability [--quick]`: run every scenario and print one table.

Full sizes (`make reliability`): 30 kill trials (local and on S3), 3 refreshes under readers, a
backfill of 50 workflows. `--quick` (what the pytest in `make test` runs): 3 kill trials (2 on
S3), 2 refreshes of smaller workflows, a backfill of 6 small workflows. Both then run hostile
records (5%), a shrinking refresh, and a misbehaving API (10 or 3 workflows). `--only NAME`
(repeatable) runs only the named scenarios. After every scenario, every file under its
directories and every process output is scanned for the secrets the runs were given; a secret
found fails the scenario.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from . import api, disk_full, hostile, kill, kill_s3, load, readers
from . import helpers as h
from .helpers import Result


@dataclass(frozen=True)
class Sizes:
    kill_trials: int
    reader_refreshes: int
    calls: tuple[int, int]  # simulator size of the first version, then of the refresh
    load: load.LoadSize
    api: load.LoadSize
    kill_s3_trials: int = 2


FULL = Sizes(
    kill_trials=30,
    reader_refreshes=3,
    calls=(300, 2400),
    load=load.FULL,
    api=load.LoadSize(workflows=10, calls_per_workflow=600),
    kill_s3_trials=30,
)
QUICK = Sizes(
    kill_trials=3,
    reader_refreshes=2,
    calls=(200, 600),
    load=load.QUICK,
    api=load.LoadSize(workflows=3, calls_per_workflow=300),
    kill_s3_trials=2,
)


def scenarios(sizes: Sizes) -> dict[str, Callable[[Path], Result]]:
    """Every scenario by its `--only` name, in the order they run."""
    return {
        "kill": lambda d: kill.run(d, sizes.kill_trials, sizes.calls),
        "kill_s3": lambda d: kill_s3.run(d, sizes.kill_s3_trials, sizes.calls),
        "disk_full": lambda d: disk_full.run(d, sizes.calls),
        "readers": lambda d: readers.run(d, sizes.reader_refreshes, sizes.calls),
        "load": lambda d: load.run(d, sizes.load),
        "hostile": lambda d: hostile.hostile(d, sizes.calls[1]),
        "shrink": lambda d: hostile.shrink(d, sizes.calls),
        "api": lambda d: api.run(d, sizes.api),
    }


def _scan(result: Result, work: Path) -> None:
    """Fail the scenario when a secret is in any of its files or process outputs."""
    findings, summary = h.scan_scenario(work)
    result.secrets_found = len(findings)
    result.notes.append(summary)
    result.notes += [f"SECRET FOUND: {f}" for f in findings[:10]]
    if findings:
        result.survived = False


def run_all(root: Path, sizes: Sizes, out=print, only: Sequence[str] | None = None) -> list[Result]:
    """Run the scenarios (all, or those named in `only`) under `root`."""
    results = []
    for name, scenario in scenarios(sizes).items():
        if only and name not in only:
            continue
        start = time.monotonic()
        work = root / name
        work.mkdir(parents=True)
        result = scenario(work)
        _scan(result, work)
        result.name = name
        result.notes.append(f"scenario took {time.monotonic() - start:.0f} s")
        out(f"[reliability] {name}: {'survived' if result.survived else 'NOT survived'}")
        results.append(result)
    return results


def _figure(value: int | None) -> str:
    return "-" if value is None else str(value)


def table(results: list[Result]) -> str:
    """The markdown table: one row per scenario, then each scenario's notes."""
    lines = [
        "| scenario | trials | survived | rows lost | partial files visible"
        " | error message clear | secrets found |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        if r.not_runnable:
            survived = f"not runnable here: {r.not_runnable}"
        else:
            survived = "yes" if r.survived else "NO"
        lines.append(
            f"| {r.scenario} | {r.trials} | {survived} | {_figure(r.rows_lost)} |"
            f" {_figure(r.partial_visible)} | {r.error_clear.replace('|', '/')} |"
            f" {_figure(r.secrets_found)} |"
        )
    for r in results:
        lines.append("")
        lines.append(f"{r.scenario}:")
        lines += [f"  - {note}" for note in r.notes]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reliability", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer trials, small data")
    parser.add_argument("--keep", type=Path, help="work in this directory and keep it")
    parser.add_argument(
        "--only", action="append", choices=list(scenarios(FULL)), help="run only this scenario"
    )
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        results = run_all(args.keep, sizes, only=args.only)
    else:
        with tempfile.TemporaryDirectory(prefix="stuut-reliability-") as tmp:
            results = run_all(Path(tmp), sizes, only=args.only)
    print(table(results))
    ok = all(r.survived or r.not_runnable for r in results)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
