"""Scale-out throughput, lag, and the fault run: events through Redis Streams to `seawall worker`
processes on PostgreSQL, with proof that nothing is lost or duplicated.

Prints one JSON object. Top-level `events`, `processed`, `lost`, `duplicate_actions`,
`duplicate_cases` are totals over all runs; `workers` lists the worker counts run; `events_per_s`
maps worker count -> throughput; `runs` has each run's figures (lag, latency, enqueue rate).

    # throughput: 1M events, 1, 2 and 4 workers (each run starts from an empty database and
    # Redis; the events are validated and XADDed once, then copied onto the stream for each run)
    .venv/bin/python bench/scale.py --events 1000000 --workers 1,2,4
    # fault run: 2 workers, kill -9 a random worker every 5 s, kill -9 and restart Redis once and
    # PostgreSQL once while events flow; then accepted = processed, lost = 0, no duplicates
    .venv/bin/python bench/scale.py --events 1000000 --workers 2 --fault
    # soak: 30 minutes at a fixed rate (80% of the measured peak), sampling every worker's RSS
    # and Redis's memory
    .venv/bin/python bench/scale.py --workers 2 --soak-minutes 30 --rate 1400
    # any of them with each worker keeping its own campaign state (default: shared in Redis)
    .venv/bin/python bench/scale.py --events 100000 --workers 1,2,4 --campaign-state local

It starts its own PostgreSQL (synchronous_commit on, fsync on: a crash loses nothing committed)
and Redis (append-only file, appendfsync always: a crash loses nothing acknowledged) on free
loopback ports in a temporary directory, unless --db / --broker are given (then no restarts).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import redis
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from seawall.demo.generate import generate_events  # noqa: E402
from seawall.ingest.intake import Intake, read_lines  # noqa: E402
from seawall.scale.broker import GROUP, BrokerConfig, connect, ensure_group  # noqa: E402
from seawall.scale.enqueue import Enqueuer  # noqa: E402
from seawall.scale.verify import exactly_once_report  # noqa: E402
from seawall.storage.sql import open_store  # noqa: E402

SEAWALL = str(Path(sys.executable).with_name("seawall"))
STREAM = "seawall:events"
TEMPLATE = "bench:template"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# -- servers ---------------------------------------------------------------------------------------
class Postgres:
    def __init__(self, root: Path):
        self.dir = root / "pg"
        self.port = free_port()
        bins = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
        if not bins:
            raise SystemExit("PostgreSQL server binaries not found (apt-get install postgresql)")
        self.bin = bins[-1]
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/seawall_bench"

    def _as_pg(self, *cmd: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
        subprocess.run([*prefix, *cmd], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def start(self, init: bool = True) -> None:
        if init:
            self.dir.mkdir(parents=True)
            if os.getuid() == 0:
                shutil.chown(self.dir, "postgres")
            self._as_pg(str(self.bin / "initdb"), "-D", str(self.dir / "data"), "-U", "postgres", "-A", "trust", "-E", "UTF8")
        opts = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir} -c fsync=on -c synchronous_commit=on "
                "-c max_connections=200 -c shared_buffers=256MB")
        self._as_pg(str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-l", str(self.dir / "server.log"),
                    "-w", "-t", "120", "-o", opts, "start")
        if init:
            self._as_pg(str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "seawall_bench")

    def crash_and_restart(self) -> None:
        # -m immediate: every server process quits at once without a checkpoint (crash recovery on start)
        self._as_pg(str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "immediate", "-w", "stop")
        time.sleep(1.0)
        self.start(init=False)

    def stop(self) -> None:
        try:
            self._as_pg(str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop")
        except subprocess.CalledProcessError:
            pass


class Redis:
    def __init__(self, root: Path):
        self.dir = root / "redis"
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.script = str(ROOT / "scripts" / "redis-test-server.sh")

    def start(self) -> None:
        subprocess.run([self.script, "start", str(self.dir), str(self.port)], check=True, stdout=subprocess.DEVNULL)

    def crash_and_restart(self) -> None:
        pid = int((self.dir / "redis.pid").read_text())
        os.kill(pid, signal.SIGKILL)  # a crash, not a clean shutdown: only the fsynced AOF survives
        for _ in range(100):
            try:
                os.kill(pid, 0)
                time.sleep(0.05)
            except ProcessLookupError:
                break
        time.sleep(1.0)
        (self.dir / "redis.pid").unlink(missing_ok=True)
        self.start()

    def stop(self) -> None:
        subprocess.run([self.script, "stop", str(self.dir)], check=False)


# -- workers ---------------------------------------------------------------------------------------
WORKER_ARGS: list[str] = []  # extra `seawall worker` options (--campaign-state)
STARTED: list["Worker"] = []  # every worker this bench started, stopped on exit whatever happens


class Worker:
    def __init__(self, broker: str, db: str, home: Path, name: str, batch: int, claim_idle_ms: int):
        STARTED.append(self)
        self.name = name
        self.port = free_port()
        env = {**os.environ, "SEAWALL_HOME": str(home), "SEAWALL_DATABASE_URL": db}
        self.log = (home / f"{name}.log").open("wb")
        self.proc = subprocess.Popen(
            [SEAWALL, "worker", "--broker", broker, "--db", db, "--name", name, "--batch-size", str(batch),
             "--claim-idle-ms", str(claim_idle_ms), "--status-port", str(self.port), *WORKER_ARGS],
            stdout=subprocess.DEVNULL, stderr=self.log, env=env,
        )

    def ready(self) -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def rss_mb(self) -> float | None:
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            return None
        return None

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill9(self) -> None:
        if self.alive():
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(30)

    def terminate(self) -> None:
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.kill9()


def cpu_s(pid: int, children: bool = False) -> float:
    """CPU seconds (user + system) a process has used; with `children`, also its reaped children."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12]) + ((int(fields[13]) + int(fields[14])) if children else 0)
    return ticks / os.sysconf("SC_CLK_TCK")


def postgres_cpu_s(pg: "Postgres | None") -> float | None:
    """CPU seconds of the bench's PostgreSQL: the postmaster, its reaped children, its live ones."""
    if pg is None:
        return None
    try:
        master = int((pg.dir / "data" / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError):
        return None
    total = cpu_s(master, children=True)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == master:
                total += cpu_s(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return total


def redis_cpu_s(rd: "Redis | None") -> float | None:
    if rd is None:
        return None
    try:
        return cpu_s(int((rd.dir / "redis.pid").read_text()))
    except (OSError, ValueError):
        return None


def wait_ready(workers: list[Worker], timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(w.ready() for w in workers):
            return
        time.sleep(0.2)
    raise SystemExit("workers did not become ready")


# -- data ------------------------------------------------------------------------------------------
def events_file(n: int, cache: Path) -> Path:
    """The demo generator's stream with about n events (posts, accounts, follows, reports)."""
    path = cache / f"seawall-scale-{n}.jsonl"
    if path.exists():
        return path
    posts = max(100, int(n / 1.32))
    log(f"generating ~{n} events into {path}")
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as f:
        for ev in generate_events(seed=2026, accounts=max(100, posts // 10), posts=posts):
            f.write(orjson.dumps(ev) + b"\n")
    tmp.replace(path)
    return path


def read_items(path: Path, limit: int | None = None):  # noqa: ANN201
    intake = Intake("seawall", source="bench")
    count = 0
    with path.open("rb") as f:
        for chunk in read_lines(f, 1000):
            items = intake.accept_lines(chunk).items
            if limit is not None:
                items = items[: max(0, limit - count)]
            count += len(items)
            yield items
            if limit is not None and count >= limit:
                return


def reset_db(url: str) -> None:
    eng = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with eng.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    eng.dispose()
    open_store(url).close()  # migrate


def reset_broker(r: redis.Redis) -> None:
    """Every run starts from an empty Redis as from an empty database: the stream, the counters,
    and the campaign detector's shared state (windows left by the previous run would make its
    posts look like a burst)."""
    names = list(r.scan_iter(match="seawall:*", count=10_000))
    for i in range(0, len(names), 10_000):
        r.delete(*names[i: i + 10_000])


def db_count(url: str) -> int:
    eng = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1), pool_pre_ping=True)
    try:
        with eng.connect() as conn:
            return int(conn.execute(text("SELECT COUNT(*) FROM events")).scalar() or 0)
    finally:
        eng.dispose()


def verify(url: str, keys: list[str]) -> dict[str, Any]:
    store = open_store(url, migrate=False)
    try:
        return exactly_once_report(store.engine, keys)
    finally:
        store.close()


def decisions(url: str) -> dict[str, Any]:
    store = open_store(url, migrate=False)
    try:
        st = store.stats()
    finally:
        store.close()
    return {"verdicts": st["verdicts"], "signal_hits": st["signal_hits"]}


def latency(url: str) -> dict[str, float]:
    eng = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with eng.connect() as conn:
        row = conn.execute(text(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms), "
            "percentile_cont(0.99) WITHIN GROUP (ORDER BY latency_ms), MAX(latency_ms) FROM verdicts")).one()
    eng.dispose()
    return {"p50_ms": round(row[0] or 0, 1), "p99_ms": round(row[1] or 0, 1), "max_ms": round(row[2] or 0, 1)}


# -- runs ------------------------------------------------------------------------------------------
def fill_template(r: redis.Redis, path: Path, n: int) -> tuple[list[str], float]:
    """Validate and XADD the events once into a template stream; each run copies it."""
    r.delete(TEMPLATE)
    cfg = BrokerConfig(r.connection_pool.connection_kwargs.get("host", ""), stream=TEMPLATE, max_backlog=10**9)
    enq = Enqueuer(r, cfg)
    keys: list[str] = []
    started = time.perf_counter()
    for items in read_items(path, n):
        enq.add(items, "bench", wait=True)
        keys.extend(i.key for i in items)
    elapsed = time.perf_counter() - started
    r.xgroup_create(TEMPLATE, GROUP, id="0")
    return keys, len(keys) / elapsed


def throughput_run(args: argparse.Namespace, db: str, broker: str, home: Path, n_workers: int,
                   keys: list[str], pg: "Postgres | None" = None, rd: "Redis | None" = None) -> dict[str, Any]:
    reset_db(db)
    r = connect(broker)
    reset_broker(r)
    workers = [Worker(broker, db, home, f"t{n_workers}-{i}", args.batch_size, 30_000) for i in range(n_workers)]
    wait_ready(workers)
    backlog_samples: list[int] = []
    cpu_before = [cpu_s(w.proc.pid) for w in workers]
    pg_before = postgres_cpu_s(pg)
    redis_before = redis_cpu_s(rd)
    started = time.monotonic()
    r.copy(TEMPLATE, STREAM, replace=True)  # the whole backlog appears at once, consumer group included
    total = len(set(keys))
    rss: dict[str, float] = {}
    while True:
        time.sleep(1.0)
        length = r.xlen(STREAM)
        backlog_samples.append(length)
        for w in workers:
            rss[w.name] = max(rss.get(w.name, 0.0), w.rss_mb() or 0.0)
        if length == 0 and db_count(db) >= total:
            break
        if time.monotonic() - started > args.timeout:
            log("timeout")
            break
    elapsed = time.monotonic() - started
    worker_cpu = sum(cpu_s(w.proc.pid) - b for w, b in zip(workers, cpu_before))
    pg_after = postgres_cpu_s(pg)
    redis_after = redis_cpu_s(rd)
    for w in workers:
        w.terminate()
    got = verify(db, keys)
    per_k = 1000.0 / max(got["processed"], 1)
    run = {
        "workers": n_workers,
        "events": got["accepted"],
        "processed": got["processed"],
        "lost": got["lost"],
        "duplicate_actions": got["duplicate_actions"],
        "duplicate_cases": got["duplicate_cases"],
        "case_count_mismatch": got["case_count_mismatch"],
        "cases": got["cases"],
        "actions": got["actions"],
        "elapsed_s": round(elapsed, 1),
        "events_per_s": round(got["processed"] / elapsed, 1),
        "lag": {"backlog_at_start": total, "drain_s": round(elapsed, 1),
                "backlog_half_drained_at_s": next((i + 1 for i, b in enumerate(backlog_samples) if b <= total / 2), None)},
        "max_rss_mb": {k: round(v, 1) for k, v in rss.items()},
        # CPU per 1,000 events: what each component costs whatever else shares the machine
        "cpu_s_per_1k_events": {
            "workers": round(worker_cpu * per_k, 3),
            "postgres": round((pg_after - pg_before) * per_k, 3) if pg_after is not None and pg_before is not None else None,
            "redis": round((redis_after - redis_before) * per_k, 3) if redis_after is not None and redis_before is not None else None,
        },
        "load_average_1m": round(os.getloadavg()[0], 1),
        # decisions, to compare across worker counts: signals that remember what their process saw
        # (campaigns, account linking) see only their worker's share of the stream
        **decisions(db),
    }
    log(json.dumps(run))
    return run


def fault_run(args: argparse.Namespace, db: str, broker: str, home: Path, path: Path,
              pg: Postgres | None, rd: Redis | None) -> dict[str, Any]:
    reset_db(db)
    r = connect(broker)
    reset_broker(r)
    r.delete(TEMPLATE)
    n_workers = int(args.workers.split(",")[0])
    claim_ms = 5000
    seq = [0]

    def spawn() -> Worker:
        seq[0] += 1
        return Worker(broker, db, home, f"f{seq[0]}", args.batch_size, claim_ms)

    workers = [spawn() for _ in range(n_workers)]
    wait_ready(workers)
    keys: list[str] = []
    produced = threading.Event()
    progress = {"enqueued": 0}
    total_expected = sum(1 for _ in path.open("rb")) if args.events is None else args.events

    def produce() -> None:
        client = connect(broker)
        cfg = BrokerConfig(broker, max_backlog=args.max_backlog)
        ensure_group(client, cfg)
        enq = Enqueuer(client, cfg)
        for items in read_items(path, args.events):
            enq.add(items, "bench", wait=True)  # retries through a Redis restart: never drops
            keys.extend(i.key for i in items)
            progress["enqueued"] += len(items)
        produced.set()

    producer = threading.Thread(target=produce, daemon=True)
    started = time.monotonic()
    producer.start()
    events: list[dict[str, Any]] = []
    kills = 0
    redis_restarted = pg_restarted = False
    next_kill = time.monotonic() + args.kill_every
    while True:
        time.sleep(0.5)
        now = time.monotonic()
        # Keep the pool at strength: a worker that died (killed, or could not start while
        # PostgreSQL was down) is replaced by a new one with a new name.
        for i, w in enumerate(workers):
            if not w.alive():
                workers[i] = spawn()
        if now >= next_kill and not produced.is_set() or (now >= next_kill and db_safe_count(db) < len(set(keys))):
            victim = random.choice(workers)
            victim.kill9()
            kills += 1
            events.append({"t": round(now - started, 1), "fault": "kill -9 worker", "worker": victim.name})
            next_kill = now + args.kill_every
        if rd is not None and not redis_restarted and progress["enqueued"] >= total_expected * 0.4:
            events.append({"t": round(now - started, 1), "fault": "kill -9 redis, restart"})
            rd.crash_and_restart()
            redis_restarted = True
        if pg is not None and redis_restarted and not pg_restarted and progress["enqueued"] >= total_expected * 0.7:
            events.append({"t": round(time.monotonic() - started, 1), "fault": "postgres immediate stop, restart"})
            pg.crash_and_restart()
            pg_restarted = True
        if produced.is_set():
            try:
                if r.xlen(STREAM) == 0 and db_safe_count(db) >= len(set(keys)):
                    break
            except (redis.ConnectionError, redis.TimeoutError, redis.exceptions.BusyLoadingError):
                pass
        if now - started > args.timeout:
            log("timeout")
            break
    elapsed = time.monotonic() - started
    for w in workers:
        w.terminate()
    got = verify(db, keys)
    run = {
        "workers": n_workers,
        "mode": "fault",
        "events": got["accepted"],
        "processed": got["processed"],
        "lost": got["lost"],
        "duplicate_actions": got["duplicate_actions"],
        "duplicate_cases": got["duplicate_cases"],
        "case_count_mismatch": got["case_count_mismatch"],
        "failed_dead_letters": got["failed_dead_letters"],
        "cases": got["cases"],
        "actions": got["actions"],
        "worker_kills": kills,
        "redis_restarts": int(redis_restarted),
        "postgres_restarts": int(pg_restarted),
        "faults": events,
        "elapsed_s": round(elapsed, 1),
        "events_per_s": round(got["processed"] / elapsed, 1),
        "latency": latency(db),
        "load_average_1m": round(os.getloadavg()[0], 1),
    }
    log(json.dumps({k: v for k, v in run.items() if k != "faults"}))
    return run


def db_safe_count(db: str) -> int:
    try:
        return db_count(db)
    except Exception:
        return -1


def soak_run(args: argparse.Namespace, db: str, broker: str, home: Path, path: Path) -> dict[str, Any]:
    reset_db(db)
    r = connect(broker)
    reset_broker(r)
    n_workers = int(args.workers.split(",")[0])
    workers = [Worker(broker, db, home, f"s{i}", args.batch_size, 30_000) for i in range(n_workers)]
    wait_ready(workers)
    cfg = BrokerConfig(broker, max_backlog=args.max_backlog)
    ensure_group(r, cfg)
    enq = Enqueuer(r, cfg)
    pool = [i for items in read_items(path, args.events) for i in items]
    deadline = time.monotonic() + args.soak_minutes * 60
    started = time.monotonic()
    sent = 0
    cycle = 0
    samples: list[dict[str, Any]] = []
    next_sample = started
    keys: list[str] = []
    while time.monotonic() < deadline:
        cycle += 1
        for k in range(0, len(pool), 100):
            if time.monotonic() >= deadline:
                break
            chunk = pool[k: k + 100]
            for it in chunk:  # each pass over the file is new events (new keys), same subjects
                it.key = f"{it.key.split('#')[0]}#{cycle}"
                it.received_at = time.time()
            enq.add(chunk, "soak", wait=True)
            keys.extend(it.key for it in chunk)
            sent += len(chunk)
            target = started + sent / args.rate
            pause = target - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            if time.monotonic() >= next_sample:
                next_sample += 10
                samples.append({"t_s": round(time.monotonic() - started), "backlog": r.xlen(STREAM),
                                "rss_mb": [round(w.rss_mb() or 0, 1) for w in workers],
                                "redis_mb": round(r.info("memory")["used_memory"] / 2**20, 1)})
    while r.xlen(STREAM) > 0 and time.monotonic() - deadline < 600:
        time.sleep(1)
    elapsed = time.monotonic() - started
    for w in workers:
        w.terminate()
    got = verify(db, keys)
    half = [s for s in samples if s["t_s"] >= args.soak_minutes * 30]
    first, last = (half[0], half[-1]) if half else (samples[0], samples[-1])
    span_min = max((last["t_s"] - first["t_s"]) / 60, 1e-9)
    run = {
        "workers": n_workers,
        "mode": "soak",
        "minutes": args.soak_minutes,
        "rate_offered": args.rate,
        "events": got["accepted"],
        "processed": got["processed"],
        "lost": got["lost"],
        "duplicate_actions": got["duplicate_actions"],
        "duplicate_cases": got["duplicate_cases"],
        "events_per_s": round(got["processed"] / elapsed, 1),
        "latency": latency(db),
        "max_backlog": max(s["backlog"] for s in samples),
        "rss_mb_start": samples[0]["rss_mb"],
        "rss_mb_end": samples[-1]["rss_mb"],
        "rss_mb_max": [max(s["rss_mb"][i] for s in samples) for i in range(n_workers)],
        "rss_mb_per_min_second_half": [round((last["rss_mb"][i] - first["rss_mb"][i]) / span_min, 2)
                                       for i in range(n_workers)],
        # the shared campaign state lives in Redis: it must level off too
        "redis_mb_start": samples[0]["redis_mb"],
        "redis_mb_end": samples[-1]["redis_mb"],
        "redis_mb_per_min_second_half": round((last["redis_mb"] - first["redis_mb"]) / span_min, 2),
        "load_average_1m": round(os.getloadavg()[0], 1),
        "samples": samples,
    }
    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--workers", default="1,2,4", help="comma-separated worker counts (fault/soak: the first)")
    ap.add_argument("--batch-size", type=int, default=500)
    ap.add_argument("--fault", action="store_true")
    ap.add_argument("--kill-every", type=float, default=5.0, help="fault run: seconds between worker kills")
    ap.add_argument("--soak-minutes", type=float, default=0)
    ap.add_argument("--rate", type=float, default=2000, help="soak: events/s offered")
    ap.add_argument("--max-backlog", type=int, default=200_000)
    ap.add_argument("--timeout", type=float, default=7200)
    ap.add_argument("--db", default=None, help="use this PostgreSQL (it is wiped!) instead of a private one")
    ap.add_argument("--broker", default=None, help="use this Redis (flushed keys: seawall:*) instead of a private one")
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()))
    ap.add_argument("--campaign-state", choices=["shared", "local"], default="shared",
                    help="workers keep the campaign detector's state in Redis (shared) or each its own")
    args = ap.parse_args()
    WORKER_ARGS.extend(["--campaign-state", args.campaign_state])
    # SIGTERM (e.g. from `timeout`) unwinds through `finally`: workers and servers are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    root = Path(tempfile.mkdtemp(prefix="seawall-scale."))
    root.chmod(0o755)  # PostgreSQL runs as its own user and must reach its directory
    home = root / "home"
    home.mkdir()
    pg = rd = None
    try:
        if args.db is None:
            pg = Postgres(root)
            pg.start()
        if args.broker is None:
            rd = Redis(root)
            rd.start()
        db = args.db or pg.url  # type: ignore[union-attr]
        broker = args.broker or rd.url  # type: ignore[union-attr]
        path = events_file(args.events, args.cache)
        result: dict[str, Any] = {"events_file": str(path), "campaign_state": args.campaign_state}
        if args.fault:
            runs = [fault_run(args, db, broker, home, path, pg, rd)]
        elif args.soak_minutes:
            runs = [soak_run(args, db, broker, home, path)]
        else:
            r = connect(broker)
            keys, enqueue_rate = fill_template(r, path, args.events)
            result["enqueue_events_per_s"] = round(enqueue_rate, 1)
            runs = [throughput_run(args, db, broker, home, int(n), keys, pg, rd) for n in args.workers.split(",")]
        result.update({
            "events": sum(x["events"] for x in runs),
            "processed": sum(x["processed"] for x in runs),
            "lost": sum(x["lost"] for x in runs),
            "duplicate_actions": sum(x["duplicate_actions"] for x in runs),
            "duplicate_cases": sum(x["duplicate_cases"] for x in runs),
            "workers": [x["workers"] for x in runs],
            "events_per_s": {str(x["workers"]): x["events_per_s"] for x in runs},
            "cpus": os.cpu_count(),
            "runs": runs,
        })
        print(json.dumps(result))
    finally:
        for w in STARTED:
            w.kill9()
        if pg is not None:
            pg.stop()
        if rd is not None:
            rd.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
