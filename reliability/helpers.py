"""Shared helpers: pipeline subprocesses with timeouts, kills, and the checks a reader makes.

Everything here looks at the data directory from outside, as an analyst's process would: it
lists published files by their globs, reads them with pyarrow / zstandard / DuckDB, and compares
their content. Nothing patches the code under test.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import zstandard

from stuut_pipeline import settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PIPELINE = str(Path(sys.executable).parent / "stuut-pipeline")

#: What a reader globs (the published layout, README "Outputs").
PUBLISHED_GLOBS = ("parquet/*/*/*.parquet", "marts/*/*/*.parquet", "raw/calls/*/*.zst")
PUBLISHED_ROOTS = ("parquet", "marts", "raw")
EXPECTED_NAMES = {"part-0.parquet", "calls.ndjson.zst", "quarantine.ndjson.zst"}
TABLES = ("calls", "call_classifications", "call_tasks", "call_invoices")
#: Primary keys, written out here (not imported) so the checks stay independent of the code.
PRIMARY_KEYS = {
    "calls": ("call_id",),
    "call_classifications": ("call_id", "classification_index"),
    "call_tasks": ("task_id",),
    "call_invoices": ("call_id", "invoice_index"),
    "sentiment_rollup": ("day", "direction", "sentiment"),
    "classification_rollup": ("classification",),
    "workflow_kpis": ("week_start",),
}
#: Variables of the caller that must not leak into a run (a real API, another data location).
_SCRUBBED = settings.EXTERNAL_VARIABLES
#: The sandboxes' API token: distinctive, so that a scan finds it wherever it leaks. Scenarios
#: with an HTTP simulator (load) serve it as the bearer token; the others only carry it in the
#: environment of every run (the embedded simulator does not ask for one).
API_TOKEN = f"stuut-reliability-token-{secrets.token_hex(16)}"


@dataclass
class Result:
    """One row of the table."""

    scenario: str
    trials: int = 0
    survived: bool = False
    rows_lost: int | None = 0
    partial_visible: int | None = 0
    error_clear: str = "n/a"
    notes: list[str] = field(default_factory=list)
    not_runnable: str | None = None  # the reason, when the scenario cannot run here
    tables_from_one_run: tuple[int, int] | None = None  # kill: trials with consistent tables
    failed_runs: int = 0  # readers: refresh runs that failed
    secrets_found: int | None = None  # files and process outputs holding a secret (scan)
    name: str = ""  # the scenario's `--only` name, set by `run_all`


@dataclass
class Sandbox:
    """A Dagster home and a data directory for one scenario."""

    home: Path
    data: Path

    @classmethod
    def create(cls, root: Path, data: Path | None = None) -> Sandbox:
        home = root / "dagster_home"
        home.mkdir(parents=True, exist_ok=True)
        project_yaml = PROJECT_ROOT / "dagster_home" / "dagster.yaml"
        if project_yaml.is_file():  # the project's instance settings, as `make run` uses them
            shutil.copy(project_yaml, home / "dagster.yaml")
        data = data or root / "data"
        data.mkdir(parents=True, exist_ok=True)
        return cls(home, data)

    def env(self, calls: int, workflows: int = 2, latency_ms: int = 0) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
        env.update(
            DAGSTER_HOME=str(self.home),
            STUUT_DATA_DIR=str(self.data),
            STUUT_AUTOMATION_DEFAULT="stopped",
            STUUT_SIM_CALLS=str(calls),
            STUUT_SIM_WORKFLOWS=str(workflows),
            STUUT_SIM_SEED="0",
            STUUT_SIM_LATENCY_MS=str(latency_ms),
            PYTHONUNBUFFERED="1",
        )
        env[settings.ENV_TOKEN] = API_TOKEN
        return env


def pipeline_cmd(workflow_ids: list[str]) -> list[str]:
    cmd = [PIPELINE, "run"]
    for w in workflow_ids:
        cmd += ["--workflow", w]
    return cmd


@dataclass
class RunOutcome:
    returncode: int
    output: str
    seconds: float


def run_pipeline(
    env: dict[str, str],
    workflow_ids: list[str],
    *,
    timeout: float = 300,
    sampler: RssSampler | None = None,
) -> RunOutcome:
    """One `stuut-pipeline run` to completion (killed, with its session, after `timeout`);
    `sampler` follows the memory of its process tree."""
    start = time.monotonic()
    proc = subprocess.Popen(
        pipeline_cmd(workflow_ids),
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    if sampler is not None:
        sampler.start(proc.pid)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        out, _ = proc.communicate()
        out += f"\n[reliability] timed out after {timeout:.0f} s"
    finally:
        if sampler is not None:
            sampler.stop()
    record_output(" ".join(pipeline_cmd(workflow_ids)), out)
    return RunOutcome(proc.returncode, out, time.monotonic() - start)


def require_ok(outcome: RunOutcome, what: str) -> RunOutcome:
    if outcome.returncode != 0:
        tail = "\n".join(outcome.output.splitlines()[-15:])
        raise RuntimeError(f"{what} failed (exit {outcome.returncode}):\n{tail}")
    return outcome


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the process group of `proc` (started with start_new_session=True)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def _wait_until(proc: subprocess.Popen, ready: Callable[[], bool]) -> None:
    while proc.poll() is None and not ready():
        time.sleep(0.05)


def run_and_kill(
    env: dict[str, str],
    workflow_ids: list[str],
    after: float,
    log: Path,
    once: Callable[[], bool] | None = None,
) -> tuple[bool, float]:
    """Start a run in its own session and SIGKILL its group `after` seconds later (counted from
    the moment `once()` is first true, when given).

    Returns (finished before the kill, seconds it ran)."""
    start = time.monotonic()
    with open(log, "w") as out:
        proc = subprocess.Popen(
            pipeline_cmd(workflow_ids),
            env=env,
            cwd=PROJECT_ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            if once is not None:
                _wait_until(proc, once)
            proc.wait(timeout=after)
            finished = True
        except subprocess.TimeoutExpired:
            finished = False
        kill_group(proc)  # also any child left behind
        proc.wait(timeout=60)
    record_output(f"killed run ({log.name})", log.read_text(errors="replace"))
    return finished, time.monotonic() - start


def stratified_kill(
    rng: random.Random,
    trial: int,
    tables_at: float,
    duration: float,
    published_since: Callable[[float], Callable[[], bool]],
) -> tuple[float, Callable[[], bool] | None]:
    """`run_and_kill`'s (after, once) for a trial: even trials uniformly over [0, tables_at];
    odd ones uniformly over the rest of a refresh, counted from the trial's own publish of its
    tables (`published_since(start)` polls for it), so both halves are hit under any load."""
    if trial % 2 == 0:
        return rng.uniform(0.0, tables_at), None
    return rng.uniform(0.0, duration - tables_at), published_since(time.time())


def settle_kill(
    result: Result, one_run: int, trials: int, final_ok: bool, orphans: list[str]
) -> Result:
    """The verdict of a kill scenario, from its trials and its final undisturbed run."""
    result.tables_from_one_run = (one_run, trials)
    result.survived = (
        result.partial_visible == 0 and result.rows_lost == 0 and final_ok and not orphans
    )
    result.error_clear = "n/a (SIGKILL: no message)"
    return result


def judge_final_run(
    result: Result, final: RunOutcome, data: Path, newer: dict[str, Content]
) -> tuple[bool, list[str]]:
    """The undisturbed run after the kills, judged on `data` as a reader sees it: it succeeded,
    left the complete newer version and no orphaned staging. Returns (ok, orphans)."""
    orphans = staging_orphans(data)
    final_ok = final.returncode == 0
    if not final_ok:
        result.notes.append(
            f"final run failed: {summary_lines(final.output) or final.output[-500:]}"
        )
    if orphans:
        result.notes.append(f"orphaned staging after the final run: {', '.join(orphans)}")
    after = judge(data, {}, newer)
    if after.partial_visible or set(published_keys(data)) != set(newer):
        result.notes.append(f"final state is not the complete newer version: {after.problems}")
        final_ok = False
    return final_ok, orphans


def tables_refreshed(data: Path, workflow: str, newer: dict[str, Content]) -> bool:
    """Whether the published calls table is the newer version (a kill came after its publish)."""
    key = f"parquet/calls/workflow_id={workflow}/part-0.parquet"
    try:
        return read_content(data, key) == newer[key]
    except Unreadable:
        return False


def workflow_ids_for(calls: int, workflows: int = 2, seed: int = 0) -> list[str]:
    """The workflow ids the embedded simulator serves at this size (read, not patched)."""
    from stuut_pipeline.simulator import StuutSimulator
    from stuut_pipeline.simulator.generator import GeneratorConfig

    sim = StuutSimulator(
        GeneratorConfig(seed=seed, n_workflows=workflows), n_calls=calls, token="t"
    )
    return sorted(sim.store.workflow_ids())


# --- what a reader sees ---------------------------------------------------------------------


@dataclass(frozen=True)
class Content:
    """A published file's content, compared independently of page or line order."""

    rows: int
    digest: str  # sha256 of the sorted keys (Parquet) or sorted lines (raw)
    keys: frozenset[str]  # primary keys (Parquet) or whole lines (raw)


class Unreadable(Exception):
    """A published file a reader cannot read whole."""


def dataset_of(key: str) -> str:
    return key.split("/")[1] if key.startswith(("parquet/", "marts/")) else "raw"


def read_content(data: Path, key: str) -> Content:
    """Read one published file fully, as a reader would; raise `Unreadable` if it is not whole."""
    path = data / key
    try:
        if key.endswith(".zst"):
            with open(path, "rb") as f:
                raw = zstandard.ZstdDecompressor().stream_reader(f).read()
            lines = sorted(raw.decode().splitlines())
            keys = lines
        else:
            table = pq.read_table(path)
            pk = PRIMARY_KEYS[dataset_of(key)]
            cols = [table.column(c).to_pylist() for c in pk]
            keys = sorted("|".join(map(str, row)) for row in zip(*cols, strict=True))
            lines = keys
    except Exception as exc:  # noqa: BLE001 - any failure to read is what we count
        raise Unreadable(f"{key}: {type(exc).__name__}: {exc}") from exc
    digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()
    return Content(len(lines), digest, frozenset(keys))


def published_keys(data: Path) -> list[str]:
    keys = set()
    for pattern in PUBLISHED_GLOBS:
        keys |= {p.relative_to(data).as_posix() for p in data.glob(pattern) if p.is_file()}
    return sorted(keys)


def stray_files(data: Path) -> list[str]:
    """Files in published directories that are not a published file (staged, temporary...)."""
    stray = []
    for root in PUBLISHED_ROOTS:
        for p in (data / root).rglob("*") if (data / root).is_dir() else ():
            rel = p.relative_to(data).as_posix()
            if p.is_file() and (p.name not in EXPECTED_NAMES or ".staging" in rel):
                stray.append(rel)
    return stray


def snapshot(data: Path) -> dict[str, Content]:
    """Every published file's content (must all be readable: a snapshot of a good state)."""
    return {key: read_content(data, key) for key in published_keys(data)}


def file_digests(data: Path) -> dict[str, str]:
    """sha256 of every file outside `.staging/` (byte identity)."""
    out = {}
    for p in sorted(data.rglob("*")):
        rel = p.relative_to(data).as_posix()
        if p.is_file() and not rel.startswith(".staging"):
            out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def changed_files(data: Path, before: dict[str, str]) -> list[str]:
    """Files outside `.staging/` and the catalog whose bytes differ from `file_digests` before."""
    now = file_digests(data)
    return sorted(
        k for k, v in now.items() if before.get(k) != v and not k.startswith("warehouse/")
    )


@dataclass
class Verdict:
    partial_visible: int = 0
    rows_lost: int = 0
    problems: list[str] = field(default_factory=list)
    new_files: int = 0  # files that are the complete newer version


def judge(data: Path, previous: dict[str, Content], newer: dict[str, Content]) -> Verdict:
    """Each published file must be the previous version or the complete newer one."""
    v = Verdict()
    for key in stray_files(data):
        v.partial_visible += 1
        v.problems.append(f"stray file in a published directory: {key}")
    current_keys = published_keys(data)
    for key in current_keys:
        try:
            now = read_content(data, key)
        except Unreadable as exc:
            v.partial_visible += 1
            v.problems.append(f"unreadable: {exc}")
            if key in previous:
                v.rows_lost += previous[key].rows
            continue
        if key in previous and now.digest == previous[key].digest:
            continue
        if key in newer and now.digest == newer[key].digest:
            v.new_files += 1
            continue
        v.partial_visible += 1
        v.problems.append(f"neither the previous nor the newer version: {key} ({now.rows} rows)")
        if key in previous:
            v.rows_lost += len(previous[key].keys - now.keys)
    for key in sorted(set(previous) - set(current_keys)):
        v.rows_lost += previous[key].rows
        v.problems.append(f"published file disappeared: {key}")
    return v


def tables_from_one_run(data: Path, workflow_id: str) -> tuple[bool, str]:
    """Whether the four tables of a workflow agree: child call_ids in calls, child counts match."""
    part = f"workflow_id={workflow_id}/part-0.parquet"
    files = {t: (data / "parquet" / t / part).as_posix() for t in TABLES}
    missing = [t for t, f in files.items() if not Path(f).is_file()]
    if missing:
        return False, f"missing tables: {', '.join(missing)}"
    con = duckdb.connect()
    try:
        return _tables_agree(con, files)
    except duckdb.Error as exc:
        return False, f"cannot read the tables: {exc}"
    finally:
        con.close()


def _tables_agree(con: duckdb.DuckDBPyConnection, files: dict[str, str]) -> tuple[bool, str]:
    for t in TABLES:
        con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{files[t]}')")
    counts = {
        "call_classifications": "classification_count",
        "call_tasks": "task_count",
        "call_invoices": "invoice_count",
    }
    for child, count_col in counts.items():
        orphans = con.execute(
            f"SELECT count(*) FROM {child} WHERE call_id NOT IN (SELECT call_id FROM calls)"
        ).fetchone()[0]
        if orphans:
            return False, f"{orphans} {child} rows whose call_id is not in calls"
        mismatched = con.execute(
            f"""SELECT count(*) FROM calls c
                LEFT JOIN (SELECT call_id, count(*) AS n FROM {child} GROUP BY call_id) k
                USING (call_id)
                WHERE c.{count_col} <> coalesce(k.n, 0)"""
        ).fetchone()[0]
        if mismatched:
            return False, f"{mismatched} calls whose {count_col} differs from {child}"
    return True, "consistent"


def staging_orphans(data: Path) -> list[str]:
    root = data / ".staging"
    return sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []


def uniform(rng: random.Random, upper: float) -> float:
    return rng.uniform(0.0, upper)


def summary_lines(output: str) -> list[str]:
    """The runner's per-workflow summary lines (`<id>: ok; ...` or `<id>: FAILED (...)`)."""
    return [line for line in output.splitlines() if line.startswith("otwfl_") and ": " in line]


# --- memory of a process tree ----------------------------------------------------------------


def _rss_kib(pid: int) -> int:
    with contextlib.suppress(OSError, ValueError), open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            found += [int(p) for p in task.read_text().split()]
    return found


def tree_rss_kib(pid: int) -> int:
    """Resident memory of `pid` and all its descendants, in KiB (Linux /proc)."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += _rss_kib(current)
        todo += _children(current)
    return total


class RssSampler:
    """Samples the RSS of a process tree in a thread; `peak_kib` is the largest sum seen."""

    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, pid: int) -> None:
        """Follow `pid`'s tree until `stop()`."""
        self._thread = threading.Thread(target=self._loop, args=(pid,), daemon=True)
        self._thread.start()

    def _loop(self, pid: int) -> None:
        while not self._stop.is_set():
            self.peak_kib = max(self.peak_kib, tree_rss_kib(pid))
            self._stop.wait(self.interval)

    def stop(self) -> None:
        """Stop sampling (the last sample is kept)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


# --- secrets ------------------------------------------------------------------------------------

#: Name -> value of every secret the scenarios hand to their processes (scanned for after each).
_secrets: dict[str, str] = {settings.ENV_TOKEN: API_TOKEN}
#: (which process, its whole output) of every process run since the last `take_outputs()`.
_outputs: list[tuple[str, str]] = []
#: Findings of scans made during a scenario (e.g. of a filesystem unmounted before its end).
_early_findings: list[str] = []


def watch_secret(name: str, value: str) -> None:
    """Also scan for this secret (e.g. an S3 secret key a scenario hands to its runs)."""
    _secrets[name] = value


def record_output(what: str, text: str) -> None:
    """Keep a process's output for the scan after the scenario."""
    _outputs.append((what, text))


def _searchable(path: Path) -> bytes:
    """The file's bytes, plus its decoded content where it is compressed (zstd, Parquet)."""
    raw = path.read_bytes()
    with contextlib.suppress(Exception):
        if path.name.endswith(".zst"):
            raw += zstandard.ZstdDecompressor().stream_reader(io.BytesIO(raw)).read()
        elif path.suffix == ".parquet":
            raw += str(pq.read_table(path).to_pylist()).encode()
            raw += str(pq.read_metadata(path).metadata).encode()
    return raw


def scan_files(root: Path) -> tuple[int, list[str]]:
    """(files scanned, findings) for every file under `root`, as `NAME in <path>`."""
    files = (
        [p for p in root.rglob("*") if p.is_file() and not p.is_symlink()] if root.exists() else []
    )
    findings = []
    for path in files:
        content = _searchable(path)
        findings += [f"{name} in {path}" for name, v in _secrets.items() if v.encode() in content]
    return len(files), findings


def scan_early(root: Path) -> None:
    """Scan `root` now (it will be gone when the scenario ends) and keep the findings."""
    _, findings = scan_files(root)
    _early_findings.extend(findings)


def scan_scenario(root: Path) -> tuple[list[str], str]:
    """Scan a finished scenario: every file under `root` (its Dagster homes and data), the
    output of every process it ran. Returns (findings, what was scanned); resets the records."""
    n_files, findings = scan_files(root)
    findings = _early_findings + findings
    for what, text in _outputs:
        findings += [f"{name} in the output of {what}" for name, v in _secrets.items() if v in text]
    summary = (
        f"secret scan: {n_files} files under the scenario's directories and {len(_outputs)}"
        f" process outputs searched for {', '.join(sorted(_secrets))}: {len(findings)} found"
    )
    _outputs.clear()
    _early_findings.clear()
    return findings, summary
