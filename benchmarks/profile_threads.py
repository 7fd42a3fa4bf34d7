"""CPU seconds of the ingest by thread, and resident memory over time, through Dagster.

    python benchmarks/profile_threads.py --calls 20000

Serves `--calls` calls over loopback HTTP (separate process), materialises `ingest_calls` with
`dg.materialize` in this process (as the `ours` contender does), and samples every 50 ms the CPU
time of each thread (`/proc/self/task/*/stat`) and the resident size. Prints the CPU seconds of
the main thread (decode, flatten, Dagster), the page threads (HTTP), the landing thread (zstd) and
the Parquet thread, the server's CPU, and the resident size in 20 slices of the run; writes the
same to `benchmarks/results/profile-threads-<calls>.json`. For a per-library split, run it under
`perf record -g -p <pid>` (see BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import HERE, Server, loadavg, materialize_ingest  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


class Sampler:
    """Per-thread CPU seconds (by thread name, pool suffixes dropped) and RSS over time."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.cpu: dict[int, float] = {}
        self.names: dict[int, str] = {}
        self.rss: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for t in threading.enumerate():
                if t.native_id is not None:
                    self.names[t.native_id] = t.name.rsplit("_", 1)[0]
            for tid in os.listdir("/proc/self/task"):
                try:
                    stat = Path(f"/proc/self/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue  # the thread ended meanwhile
                self.cpu[int(tid)] = (int(stat[11]) + int(stat[12])) / TICK
            pages = int(Path("/proc/self/statm").read_text().split()[1])
            self.rss.append((time.perf_counter(), pages * os.sysconf("SC_PAGE_SIZE") / 1e6))
            self._stop.wait(self.interval)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def by_thread(self) -> dict[str, float]:
        totals: Counter[str] = Counter()
        for tid, seconds in self.cpu.items():
            totals[self.names.get(tid, "other")] += seconds
        return {name: round(s, 2) for name, s in totals.most_common()}

    def rss_slices(self, n: int = 20) -> list[int]:
        start, end = self.rss[0][0], self.rss[-1][0]
        peaks = [0.0] * n
        for at, mb in self.rss:
            i = min(n - 1, int((at - start) / max(end - start, 1e-9) * n))
            peaks[i] = max(peaks[i], mb)
        return [round(p) for p in peaks]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000)
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="stuut-prof-"))
    home = tmp / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    os.environ["DAGSTER_HOME"] = str(home)
    with Sampler() as sampler, Server(args.calls) as server:
        import dagster as dg

        instance = dg.DagsterInstance.get()
        instance.add_dynamic_partitions("workflow", [server.workflow])
        cpu_before = dict(sampler.cpu)
        started = time.perf_counter()
        result = materialize_ingest(
            instance, server.url, server.token, server.workflow, tmp / "data"
        )
        seconds = time.perf_counter() - started
        server_cpu = server.cpu_seconds()
        time.sleep(0.1)  # one more sample of every thread
    assert result.success
    main_before = sum(s for tid, s in cpu_before.items() if sampler.names.get(tid) == "MainThread")
    out = {
        "calls": args.calls,
        "load": loadavg(),
        "materialize_seconds": round(seconds, 2),
        "cpu_seconds_by_thread": sampler.by_thread(),
        "main_thread_before_materialize": round(main_before, 2),
        "server_cpu_seconds": round(server_cpu, 2),
        "rss_mb_in_20_slices": sampler.rss_slices(),
        "peak_rss_mb": round(max(mb for _, mb in sampler.rss)),
    }
    print(json.dumps(out, indent=2))
    results = HERE / "results" / f"profile-threads-{args.calls}.json"
    results.write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
