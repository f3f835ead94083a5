"""Fixtures and helpers for the scale-out tests: a real Redis (SEAWALL_TEST_REDIS_URL, started by
scripts/test.sh; or a private one started here when redis-server is installed), real PostgreSQL
(conftest's pg_url) and `seawall worker` as real subprocesses."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, BinaryIO, Callable

import httpx
import pytest
import redis

from seawall.pipeline.pipeline import Pipeline
from seawall.scale.broker import BrokerConfig, connect, ensure_group
from seawall.scale.enqueue import Enqueuer, enqueue_stream
from seawall.scale.worker import StreamWorker, WorkerOptions

ROOT = Path(__file__).resolve().parents[1]
SEAWALL = str(Path(sys.executable).with_name("seawall"))


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture(scope="session")
def redis_server_url() -> Any:
    url = os.environ.get("SEAWALL_TEST_REDIS_URL")
    if url:
        yield url
        return
    if not shutil.which("redis-server"):
        if os.environ.get("CI") or os.environ.get("SEAWALL_REQUIRE_REDIS"):
            pytest.fail("redis-server is required for the scale tests")
        pytest.skip("Redis not configured (SEAWALL_TEST_REDIS_URL) and redis-server not installed")
    tmp = tempfile.mkdtemp(prefix="seawall-redis.")
    out = subprocess.run([str(ROOT / "scripts" / "redis-test-server.sh"), "start", tmp, str(free_port())],
                         capture_output=True, text=True, check=True)
    yield out.stdout.strip()
    subprocess.run([str(ROOT / "scripts" / "redis-test-server.sh"), "stop", tmp], check=False)


@pytest.fixture
def broker_url(redis_server_url: str) -> str:
    """A clean Redis database for one test."""
    r = redis.Redis.from_url(redis_server_url)
    r.flushdb()
    r.close()
    return redis_server_url


@pytest.fixture
def pg_db(pg_url: str) -> str:
    """A clean PostgreSQL schema for one test (conftest's session database, truncated)."""
    from conftest import _truncate

    from seawall.storage.sql import open_store

    store = open_store(pg_url, migrate=False)
    _truncate(store)
    store.close()
    return pg_url


def replay_via_stream(pipeline: Pipeline, stream: BinaryIO, broker: str, fmt: str = "seawall",
                      batch_size: int = 1000) -> dict[str, Any]:
    """The scaled deployment's replay in one process: validate and XADD (as `seawall replay
    --broker`), then a StreamWorker on the same pipeline drains the stream (as `seawall worker`).
    Returns the keys of `replay_stream`'s summary."""
    client = connect(broker)
    cfg = BrokerConfig(broker)
    ensure_group(client, cfg)
    summary = enqueue_stream(Enqueuer(client, cfg), pipeline.store, stream, "replay", fmt, batch_size)
    worker = StreamWorker(pipeline, client, cfg, WorkerOptions(name="test-worker", block_ms=50, exit_when_idle=True))
    try:
        totals = worker.run()
    finally:
        pipeline.listeners.remove(worker._after_commit)
    client.close()
    return {
        **summary,
        "accepted": totals.accepted,
        "duplicates": totals.duplicates,
        "failed": totals.failed,
        "verdicts": dict(sorted(totals.verdicts.items())),
        "cases_opened": totals.cases_opened,
        "actions_created": totals.actions_created,
    }


class WorkerProcess:
    """`seawall worker` in a subprocess, with its status endpoint on a free port."""

    def __init__(self, broker: str, db: str, home: Path, name: str, *extra: str):
        self.name = name
        self.port = free_port()
        self.log = home / f"{name}.log"
        home.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "SEAWALL_HOME": str(home), "SEAWALL_DATABASE_URL": db}
        cmd = [SEAWALL, "worker", "--broker", broker, "--db", db, "--name", name,
               "--status-port", str(self.port), *extra]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=self.log.open("wb"), env=env)

    def get(self, path: str) -> httpx.Response:
        return httpx.get(f"http://127.0.0.1:{self.port}{path}", timeout=5)

    def wait_ready(self, timeout: float = 60) -> None:
        wait_for(lambda: self._ready(), timeout, f"worker {self.name} ready ({self.log.read_text()[-2000:]})")

    def _ready(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"worker {self.name} exited: {self.log.read_text()[-3000:]}")
        try:
            return self.get("/readyz").status_code == 200
        except httpx.HTTPError:
            return False

    def state(self) -> dict[str, Any]:
        return self.get("/state").json()

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def terminate(self, timeout: float = 60) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)


def wait_for(check: Callable[[], Any], timeout: float, what: str, every: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for: {what}")
