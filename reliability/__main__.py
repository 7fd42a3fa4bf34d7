"""`python -m reliability [--quick]`: run every scenario and print one table.

Full sizes (`make reliability`): 30 kill trials, 3 refreshes under readers. `--quick` (what the
pytest in `make test` runs): 3 kill trials, 2 refreshes of smaller workflows.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from . import disk_full, kill, readers
from .helpers import Result


@dataclass(frozen=True)
class Sizes:
    kill_trials: int
    reader_refreshes: int
    calls: tuple[int, int]  # simulator size of the first version, then of the refresh


FULL = Sizes(kill_trials=30, reader_refreshes=3, calls=(300, 2400))
QUICK = Sizes(kill_trials=3, reader_refreshes=2, calls=(200, 600))


def run_all(root: Path, sizes: Sizes, out=print) -> list[Result]:
    results = []
    for name, scenario in (
        ("kill", lambda d: kill.run(d, sizes.kill_trials, sizes.calls)),
        ("disk_full", lambda d: disk_full.run(d, sizes.calls)),
        ("readers", lambda d: readers.run(d, sizes.reader_refreshes, sizes.calls)),
    ):
        start = time.monotonic()
        work = root / name
        work.mkdir(parents=True)
        result = scenario(work)
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
        " | error message clear |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        if r.not_runnable:
            survived = f"not runnable here: {r.not_runnable}"
        else:
            survived = "yes" if r.survived else "NO"
        lines.append(
            f"| {r.scenario} | {r.trials} | {survived} | {_figure(r.rows_lost)} |"
            f" {_figure(r.partial_visible)} | {r.error_clear.replace('|', '/')} |"
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
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        results = run_all(args.keep, sizes)
    else:
        with tempfile.TemporaryDirectory(prefix="stuut-reliability-") as tmp:
            results = run_all(Path(tmp), sizes)
    print(table(results))
    ok = all(r.survived or r.not_runnable for r in results)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
