"""Support for the actions tests: `commit_actions` (actions made by the store's normal commit path)
and `Receiver`, a real HTTP receiver on 127.0.0.1 for the webhook tests: it verifies every request with
`verify_signature`, applies each idempotency key once, and can be told to fail (an HTTP status),
to answer too late ("slow": it applies the action, then replies after the sender's timeout), or to
be down (not started, so connections are refused)."""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from seawall.actions.signing import ReplayCache, SignatureError, verify_signature
from seawall.events import parse_event
from seawall.normalize.item import Item
from seawall.pipeline.result import ProcessedEvent
from seawall.policy.engine import Decision, RuleMatch
from seawall.signals.base import SignalHit


def commit_actions(store, n: int, kind: str = "remove", prefix: str = "p", account: str = "a1") -> list[dict]:  # noqa: ANN001
    """n posts decided `kind` through the store's normal commit path (which creates the actions)."""
    processed = []
    for i in range(n):
        ev = parse_event({"type": "post", "id": f"{prefix}{i}", "account_id": account, "text": f"post {i}",
                          "created_at": "2015-06-01T10:00:00Z"})
        hit = SignalHit("watchterms", "1", "terrorist_slogan", 0.95, {"matches": [f"term{i}"]})
        match = RuleMatch(rule="test-rule", verdict=kind, queue="extremism", priority=90, labels=["x"], shadow=False,
                          evidence=[])
        d = Decision(verdict=kind, actions=[kind], queue="extremism", priority=90, labels=["x"], matched=[match])
        processed.append(ProcessedEvent(Item(event=ev, key=ev.key(), received_at=time.time()), [hit], d, time.time(),
                                        "test", "v1"))
    store.commit_batch(processed)
    return [a for a in store.list_actions(limit=100_000) if a["kind"] == kind]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Receiver:
    def __init__(self, secret: str, port: int | None = None, plan: list[Any] | None = None,
                 slow_s: float = 0.6, work_s: float = 0.0):
        self.secret = secret
        self.port = port or free_port()
        self.plan = list(plan or [])  # behaviour of the next raw requests: "ok", "slow", or a status
        self.slow_s = slow_s
        self.work_s = work_s  # time spent on every request (to make overlaps observable)
        self.raw: list[dict[str, Any]] = []  # every request that arrived, in order
        self.applied: dict[str, dict[str, Any]] = {}  # idempotency key -> body, first time only
        self.applied_count: dict[str, int] = {}
        self.rejected: list[str] = []
        self.overlaps: list[str] = []  # keys that arrived while the same key was being handled
        self._in_flight: set[str] = set()
        self.seen = ReplayCache()
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/seawall/actions"

    def start(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.handle(self, body)

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def handle(self, h: BaseHTTPRequestHandler, body: bytes) -> None:
        try:
            delivery = verify_signature(self.secret, dict(h.headers.items()), body, seen_ids=self.seen)
        except SignatureError as exc:
            with self.lock:
                self.rejected.append(exc.reason)
            self._reply(h, 401)
            return
        key = delivery.idempotency_key or ""
        with self.lock:
            behaviour = self.plan.pop(0) if self.plan else "ok"
            self.raw.append({"key": key, "delivery": h.headers.get("Seawall-Delivery"),
                             "header_key": h.headers.get("Idempotency-Key"), "behaviour": behaviour,
                             "body": delivery.payload})
            if key in self._in_flight:
                self.overlaps.append(key)
            self._in_flight.add(key)
        try:
            if self.work_s:
                time.sleep(self.work_s)
            if isinstance(behaviour, int):
                self._reply(h, behaviour)
                return
            with self.lock:  # apply once per key, however often it arrives
                self.applied_count[key] = self.applied_count.get(key, 0) + 1
                self.applied.setdefault(key, delivery.payload)
            if behaviour == "slow":
                time.sleep(self.slow_s)
            self._reply(h, 200)
        finally:
            with self.lock:
                self._in_flight.discard(key)

    @staticmethod
    def _reply(h: BaseHTTPRequestHandler, status: int) -> None:
        try:
            h.send_response(status)
            h.send_header("Content-Length", "0")
            h.end_headers()
        except OSError:
            pass  # the sender gave up (timeout) and closed the connection
