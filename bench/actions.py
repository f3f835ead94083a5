"""Outbox throughput: prints one JSON object.

    .venv/bin/python bench/actions.py [--actions 2000] [--dispatchers 1] [--database URL] [--fail-every 0]

Creates --actions removal actions through the store's normal commit path, then delivers them with
--dispatchers dispatchers (threads, each with its own store object) to a real signed-webhook
receiver on 127.0.0.1 (a stdlib ThreadingHTTPServer that verifies every signature with
`verify_signature` and de-duplicates by idempotency key). With --fail-every K the receiver answers
503 to every K-th request (retried at once: the backoff is zero here).

Figures (wall clock):
  enroll_per_s        actions entering the outbox per second (evidence hold + delivery row)
  deliver_per_s       delivered actions per second after enrolment (claim, sign, POST, record)
  attempt_ms_p50/p99  one delivery attempt seen by the dispatcher (POST to the loopback receiver)
  received, unique    requests the receiver got, and distinct idempotency keys among them
Default database: a fresh SQLite file in a temporary directory.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from pydantic import SecretStr
from sqlalchemy import select

from seawall.actions.dispatcher import Dispatcher
from seawall.actions.outbox import Outbox
from seawall.actions.retry import RetryPolicy
from seawall.actions.schema import action_attempts
from seawall.actions.settings import ActionsSettings
from seawall.actions.signing import ReplayCache, SignatureError, verify_signature
from seawall.actions.webhook import WebhookAdapter
from seawall.events import parse_event
from seawall.normalize.item import Item
from seawall.pipeline.result import ProcessedEvent
from seawall.policy.engine import Decision, RuleMatch
from seawall.signals.base import SignalHit
from seawall.storage.sql import open_store

SECRET = "bench-secret-0123456789abcdef"


def make_actions(store, n: int) -> None:  # noqa: ANN001
    rule = RuleMatch(rule="bench", verdict="remove", queue="extremism", priority=90, labels=["x"], shadow=False, evidence=[])
    for start in range(0, n, 1000):
        batch = []
        for i in range(start, min(n, start + 1000)):
            ev = parse_event({"type": "post", "id": f"b{i}", "account_id": f"a{i % 50}", "text": f"bench post {i}",
                              "created_at": "2015-06-01T10:00:00Z"})
            d = Decision(verdict="remove", actions=["remove"], queue="extremism", priority=90, labels=["x"], matched=[rule])
            hit = SignalHit("watchterms", "1", "terrorist_slogan", 0.95, {"matches": ["x"]})
            batch.append(ProcessedEvent(Item(event=ev, key=ev.key(), received_at=time.time()), [hit], d, time.time(), "bench", "v1"))
        store.commit_batch(batch)


class Receiver:
    def __init__(self, fail_every: int):
        self.fail_every = fail_every
        self.count = 0
        self.keys: set[str] = set()
        self.bad = 0
        self.lock = threading.Lock()
        self.seen = ReplayCache()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):  # noqa: ANN002
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                try:
                    got = verify_signature(SECRET, dict(self.headers.items()), body, seen_ids=outer.seen)
                except SignatureError:
                    with outer.lock:
                        outer.bad += 1
                    status = 401
                else:
                    with outer.lock:
                        outer.count += 1
                        fail = outer.fail_every and outer.count % outer.fail_every == 0
                        if not fail:
                            outer.keys.add(got.idempotency_key or "")
                    status = 503 if fail else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--actions", type=int, default=2000)
    ap.add_argument("--dispatchers", type=int, default=1)
    ap.add_argument("--database", default=None)
    ap.add_argument("--fail-every", type=int, default=0)
    args = ap.parse_args()
    url = args.database or f"sqlite:///{tempfile.mkdtemp(prefix='seawall-bench-')}/bench.db"
    store = open_store(url)
    make_actions(store, args.actions)
    receiver = Receiver(args.fail_every)
    settings = ActionsSettings(batch_size=50)
    policy = RetryPolicy(base_delay_s=0.0, max_delay_s=0.0, max_attempts=50, max_age_s=3600, jitter=0.0)
    t0 = time.perf_counter()
    enrolled = 0
    while (n := Outbox(store.engine).enroll(settings.kinds, settings.evidence)):
        enrolled += n
    t_enroll = time.perf_counter() - t0

    stores = [open_store(url) for _ in range(args.dispatchers)]
    ds = [Dispatcher(s.engine, WebhookAdapter(receiver.url, SecretStr(SECRET), 5.0), settings, policy) for s in stores]

    def run(d: Dispatcher) -> None:
        while Outbox(d.outbox.engine).counts()["in_outbox"]:
            d.run_once()

    t1 = time.perf_counter()
    threads = [threading.Thread(target=run, args=(d,)) for d in ds]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    t_deliver = time.perf_counter() - t1
    with store.engine.connect() as conn:
        ms = sorted(conn.execute(select(action_attempts.c.duration_ms)).scalars())
    counts = Outbox(store.engine).counts()["by_status"]
    print(json.dumps({
        "database": url.split(":", 1)[0],
        "actions": args.actions,
        "dispatchers": args.dispatchers,
        "fail_every": args.fail_every,
        "enroll_per_s": round(enrolled / t_enroll, 1),
        "deliver_per_s": round(args.actions / t_deliver, 1),
        "attempt_ms_p50": ms[len(ms) // 2] if ms else None,
        "attempt_ms_p99": ms[min(len(ms) - 1, int(len(ms) * 0.99))] if ms else None,
        "attempts": len(ms),
        "received": receiver.count,
        "unique": len(receiver.keys),
        "bad_signatures": receiver.bad,
        "status": counts,
    }, indent=2))
    for d in ds:
        d.close()
    receiver.server.shutdown()


if __name__ == "__main__":
    main()
