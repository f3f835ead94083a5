"""What one worker tells its operator: Prometheus metrics, liveness, readiness and state, over a
small HTTP server on loopback (`seawall worker --status-port`)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

import orjson
from prometheus_client import Counter, Gauge
from prometheus_client.process_collector import ProcessCollector

from seawall.metrics import Metrics


class WorkerMetrics(Metrics):
    """The pipeline's metrics plus the stream consumer's; one registry per worker process."""

    def __init__(self, worker: str) -> None:
        super().__init__()
        r = self.registry
        ProcessCollector(registry=r)  # resident memory, CPU seconds, open files
        self.batches = Counter("seawall_worker_batches", "Batches taken from the stream", registry=r)
        self.acked = Counter("seawall_worker_acked", "Stream entries acknowledged after commit", registry=r)
        self.reclaimed = Counter("seawall_worker_reclaimed", "Entries taken over from a dead or stuck worker", registry=r)
        self.poison = Counter("seawall_worker_poison", "Entries dead-lettered after too many deliveries", registry=r)
        self.retries = Counter("seawall_worker_retries", "Batches retried because the store or broker was away", registry=r)
        self.changes = Counter("seawall_worker_changes_applied", "Change-stream notices applied", registry=r)
        self.backlog = Gauge("seawall_stream_backlog", "Events on the stream not yet acknowledged", registry=r)
        self.pending = Gauge("seawall_stream_pending", "Events delivered to workers, not yet acknowledged", registry=r)
        self.lag = Gauge("seawall_stream_lag", "Events on the stream not yet delivered to any worker", registry=r)
        self.info = Gauge("seawall_worker_info", "This worker", ["worker"], registry=r)
        self.info.labels(worker).set(1)


class StatusServer:
    """GET /healthz (the loop is alive), /readyz (joined the group, last batch fine), /metrics,
    /state (JSON). Public by design, like the API's: counts only, no content."""

    def __init__(self, host: str, port: int, health: Callable[[], dict[str, Any]],
                 ready: Callable[[], dict[str, Any]], state: Callable[[], dict[str, Any]], metrics: WorkerMetrics):
        routes: dict[str, Callable[[], tuple[int, bytes, str]]] = {
            "/healthz": lambda: _json(health()),
            "/readyz": lambda: _json(ready(), key="ready"),
            "/state": lambda: _json(state()),
            "/metrics": lambda: (200, metrics.render(), "text/plain; version=0.0.4"),
        }

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                route = routes.get(self.path.split("?", 1)[0])
                if route is None:
                    code, body, ctype = 404, b'{"error":{"field":"path","reason":"no such endpoint"}}', "application/json"
                else:
                    code, body, ctype = route()
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: Any) -> None:  # no access log
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, name="seawall-status", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _json(body: dict[str, Any], key: str = "status") -> tuple[int, bytes, str]:
    ok = body.get(key) in (True, "ok")
    return (200 if ok else 503), orjson.dumps(body), "application/json"
