"""Serve a benchmark account over real HTTP on loopback, in its own process.

    python benchmarks/serve.py --calls 200000 --latency-ms 200

Builds a `StuutSimulator` whose store is a `BenchStore` (N full-shape calls of one workflow from
`--templates` rendered ones), serves it with the product's `SimulatorServer` (a threading
HTTP/1.1 server) and prints one JSON line: url, token, workflow, calls, mean call size. It serves
until its standard input closes (the harness holds the pipe) or it is terminated.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_store import BenchStore  # noqa: E402

from stuut_pipeline.simulator import FaultConfig, SimulatorServer, StuutSimulator  # noqa: E402
from stuut_pipeline.simulator.generator import GeneratorConfig  # noqa: E402


def build_simulator(
    calls: int, latency_ms: float, templates: int, seed: int = 0
) -> tuple[StuutSimulator, BenchStore]:
    """A simulator serving `calls` calls of one workflow, with `latency_ms` added per request."""
    sim = StuutSimulator(
        GeneratorConfig(seed=seed, n_workflows=1),
        n_calls=0,
        token=StuutSimulator.random_token(),
        faults=FaultConfig(latency_ms=latency_ms),
    )
    store = BenchStore(sim.generator, calls, templates=templates)
    sim.store = store  # type: ignore[assignment]  # the store interface StuutSimulator uses
    return sim, store


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, required=True)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--templates", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    sim, store = build_simulator(args.calls, args.latency_ms, args.templates, args.seed)
    server = SimulatorServer(sim, port=args.port).start()
    info = {
        "url": server.url,
        "token": sim._token,  # a throwaway token of this loopback server
        "workflow": store.workflow_id,
        "calls": len(store),
        "templates": store.templates,
        "mean_call_bytes": round(store.mean_call_bytes),
        "latency_ms": args.latency_ms,
        "build_seconds": round(time.perf_counter() - started, 2),
    }
    print(json.dumps(info), flush=True)
    done = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    with contextlib.suppress(KeyboardInterrupt):
        done.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
