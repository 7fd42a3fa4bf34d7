"""Shared pieces of the benchmarks: the simulator server process, measured child processes."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import psutil

if TYPE_CHECKING:
    import dagster as dg

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
PYTHON = sys.executable


def loadavg() -> str:
    """The 1/5/15-minute load averages, e.g. '1.20 0.90 0.80'."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def machine() -> dict[str, object]:
    """What the figures were measured on."""
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import dagster
    import duckdb
    import msgspec
    import pyarrow

    versions = {
        "python": platform.python_version(),
        "dagster": dagster.__version__,
        "pyarrow": pyarrow.__version__,
        "duckdb": duckdb.__version__,
        "msgspec": msgspec.__version__,
    }
    try:
        import dlt

        versions["dlt"] = dlt.__version__
    except ImportError:
        versions["dlt"] = "not installed"
    return {
        "cpu": cpu,
        "cores": psutil.cpu_count(logical=True),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "os": platform.platform(),
        **versions,
    }


class Server:
    """`benchmarks/serve.py` in its own process; stops when this object is closed."""

    def __init__(self, calls: int, latency_ms: float = 0.0, templates: int = 2000) -> None:
        self.proc = subprocess.Popen(
            [
                PYTHON,
                str(HERE / "serve.py"),
                "--calls",
                str(calls),
                "--latency-ms",
                str(latency_ms),
                "--templates",
                str(templates),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=PROJECT,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(10)
            raise RuntimeError(f"the simulator server did not start (exit {self.proc.returncode})")
        self.info: dict = json.loads(line)
        self.url: str = self.info["url"]
        self.token: str = self.info["token"]
        self.workflow: str = self.info["workflow"]
        self._ps = psutil.Process(self.proc.pid)

    def client_args(self) -> list[str]:
        """The `--url --token --workflow` arguments every client script takes."""
        return ["--url", self.url, "--token", self.token, "--workflow", self.workflow]

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the server process used so far."""
        t = self._ps.cpu_times()
        return t.user + t.system

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.terminate()
                self.proc.wait(10)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class ChildRun:
    """What one measured child process did."""

    wall: float
    peak_rss_tree: int  # bytes: peak RSS of the process tree (polled), or the child's VmHWM
    vmhwm: int  # bytes: the child's own high-water RSS (VmHWM) as it reported it, 0 if not
    cpu: float  # user + system seconds of the child and its waited-for descendants
    returncode: int
    result: dict = field(default_factory=dict)
    stderr_tail: str = ""


def _tree_rss(proc: psutil.Process) -> int:
    total = 0
    try:
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    for p in procs:
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total


def run_measured(
    cmd: list[str], *, log: Path, env: dict[str, str] | None = None, poll: float = 0.05
) -> ChildRun:
    """Run `cmd`, polling the RSS of its process tree; the last stdout line is its JSON result."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=err, cwd=PROJECT, env={**os.environ, **(env or {})}
        )
        ps = psutil.Process(proc.pid)
        peak = 0
        stop = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not stop.is_set():
                peak = max(peak, _tree_rss(ps))
                stop.wait(poll)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        assert proc.stdout is not None
        out = proc.stdout.read()  # the child prints little: read to EOF, then reap it
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        stop.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
    lines = [ln for ln in out.decode(errors="replace").splitlines() if ln.strip()]
    result: dict = {}
    if lines:
        try:
            result = json.loads(lines[-1])
        except json.JSONDecodeError:
            result = {}
    tail = ""
    if proc.returncode != 0 or not result:
        tail = log.read_text(errors="replace")[-3000:]
    # Not wait4's ru_maxrss: Linux counts in it the parent's RSS at fork/exec time.
    vmhwm = int(result.get("vmhwm_bytes", 0))
    return ChildRun(
        wall=wall,
        peak_rss_tree=max(peak, vmhwm),
        vmhwm=vmhwm,
        cpu=usage.ru_utime + usage.ru_stime,
        returncode=proc.returncode,
        result=result,
        stderr_tail=tail,
    )


def materialize_ingest(
    instance: dg.DagsterInstance, url: str, token: str, workflow: str, data_dir: Path
) -> dg.ExecuteInProcessResult:
    """`ingest_calls` of one workflow through `dg.materialize`, as the `ours` contender runs it."""
    import dagster as dg

    from stuut_pipeline.defs.ingest.assets import ingest_calls
    from stuut_pipeline.defs.ingest.resources import StuutApiResource
    from stuut_pipeline.defs.resources import StorageResource

    return dg.materialize(
        [ingest_calls],
        partition_key=workflow,
        instance=instance,
        resources={
            "stuut_api": StuutApiResource(base_url=url, token=token),
            "storage": StorageResource(url=str(data_dir)),
        },
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
        raise_on_error=False,
    )


def vmhwm_bytes() -> int:
    """This process's high-water resident memory (VmHWM), for children to report themselves.

    Unlike `ru_maxrss`, it is not inflated by the parent's memory at fork/exec time."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def mb(n: float) -> str:
    """Bytes as MB, e.g. '412'."""
    return f"{n / 2**20:.0f}"
