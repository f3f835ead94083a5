"""The HTTP API. Every route is either in `auth.ENDPOINT_ROLES` (checked on each call) or in
`auth.PUBLIC` (health and metrics, deliberately unauthenticated)."""

from __future__ import annotations

import logging
import time
from typing import Any, Literal

import orjson
from fastapi import Depends, FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from sqlalchemy import text

from seawall import __version__
from seawall.api.auth import PUBLIC, AuthError, authenticate, authorize
from seawall.embedded import Embedded
from seawall.ingest.intake import FORMATS, Intake, IntakeResult, decode_json_line
from seawall.events import EventError
from seawall.storage.base import ApiKey
from seawall.deadletter import replay_dead_letters
from seawall.review.people import CSRF_HEADER, SESSION_COOKIE, SessionError, session_principal
from seawall.scale.enqueue import Backpressure
from seawall.audit import record_store
from seawall.audit.api import actor_of

log = logging.getLogger("seawall.api")

EVENTS_BODY = {
    "requestBody": {
        "required": True,
        "description": "A JSON array of events, an object {\"events\": [...]}, a single event object, "
        "or newline-delimited JSON (Content-Type: application/x-ndjson).",
        "content": {
            "application/json": {"schema": {"oneOf": [{"type": "array", "items": {"type": "object"}}, {"type": "object"}]}},
            "application/x-ndjson": {"schema": {"type": "string"}},
        },
    }
}


# Declares the scheme in the OpenAPI document; missing or malformed keys are judged by `authenticate`
# so that every failure gets the same 401 with a reason.
BEARER = HTTPBearer(auto_error=False, description="An API key from `seawall keys create`")


def _error(status: int, reason: str, field: str | None = None, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": {"field": field, "reason": reason}, **extra}, status_code=status)


def create_app(runtime: Embedded) -> FastAPI:
    app = FastAPI(
        title="Seawall",
        version=__version__,
        description="Trust-and-safety pipeline: events in, decisions out.",
    )
    app.state.runtime = runtime
    store = runtime.store
    max_body = runtime.settings.server.max_body_bytes
    last_touched: dict[str, float] = {}

    @app.exception_handler(AuthError)
    async def _auth_error(_: Request, exc: AuthError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse({"error": {"field": None, "reason": exc.reason}}, status_code=exc.status, headers=headers)

    @app.exception_handler(OverflowError)
    async def _out_of_range(_: Request, exc: OverflowError) -> JSONResponse:
        # An id, offset or count beyond what the database stores (found by the OpenAPI fuzz,
        # tests/test_api_fuzz.py): the caller's mistake, not a server error.
        return _error(422, "a number in the request is out of range (at most 9223372036854775807)")

    def caller(
        request: Request, bearer: HTTPAuthorizationCredentials | None = Depends(BEARER)
    ) -> ApiKey:
        route = request.scope.get("route")
        path = getattr(route, "path", request.url.path)
        presented = bearer.credentials if bearer is not None else request.headers.get("x-api-key")
        if presented is None and SESSION_COOKIE in request.cookies:
            # A person's browser session (seawall.review.people): CSRF-checked on state changes.
            try:
                person = session_principal(store, request.cookies[SESSION_COOKIE], runtime.settings.review,
                                           request.method, request.headers.get(CSRF_HEADER))
            except SessionError as exc:
                raise AuthError(exc.status, exc.reason) from None
            authorize(person, request.method, path)  # type: ignore[arg-type]
            return person  # type: ignore[return-value]
        key = authenticate(store, presented)
        authorize(key, request.method, path)
        # Record use at most once a minute per key: a write per request would contend with the
        # pipeline for SQLite's single writer.
        now = time.monotonic()
        if now - last_touched.get(key.key_id, -1e9) > 60:
            last_touched[key.key_id] = now
            store.touch_api_key(key.key_id)
        return key

    async def read_body(request: Request) -> bytes | JSONResponse:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > max_body:
            return _error(413, f"request body is {declared} bytes; the limit is {max_body}")
        body = bytearray()
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > max_body:
                return _error(413, f"request body exceeds the limit of {max_body} bytes")
        return bytes(body)

    async def intake_request(request: Request, fmt: str, source: str, only_type: str | None = None) -> JSONResponse:
        if fmt not in FORMATS:
            return _error(422, f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}", "format")
        body = await read_body(request)
        if isinstance(body, JSONResponse):
            return body
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        # Validation and the durable write block; keep them off the event loop.
        return await run_in_threadpool(accept_body, body, ctype, fmt, source, only_type)

    def accept_body(body: bytes, ctype: str, fmt: str, source: str, only_type: str | None) -> JSONResponse:
        intake = Intake(fmt, source=source)
        if ctype in ("application/x-ndjson", "application/jsonl", "application/json-lines"):
            lines = [(n, raw) for n, raw in enumerate(body.split(b"\n"), start=1) if raw.strip()]
            result = intake.accept_lines(lines)
        else:
            try:
                data = decode_json_line(body, limit=max_body)
            except EventError as exc:
                store.add_dead_letters([intake.reject(body, exc.reason, exc.field, None)])
                runtime.metrics.rejected.labels(source.split(":", 1)[0]).inc()
                return _error(400, exc.reason)
            if isinstance(data, dict) and isinstance(data.get("events"), list) and "type" not in data:
                data = data["events"]
            objs = data if isinstance(data, list) else [data]
            result = intake.accept_objects(
                (i, obj, orjson.dumps(obj)) for i, obj in enumerate(objs)
            )
        if only_type:
            result = _only(result, only_type, intake)
        if result.rejected:
            store.add_dead_letters(result.rejected)
            runtime.metrics.rejected.labels(source.split(":", 1)[0]).inc(len(result.rejected))
        try:
            accepted, duplicates = runtime.submit(result.items, source) if result.items else (0, 0)
        except Backpressure as exc:  # --broker: workers are behind or the broker is away; nothing kept
            return JSONResponse(
                {"error": {"field": None, "reason": f"{exc.reason}; nothing was accepted, retry later"},
                 "retry_after": exc.retry_after},
                status_code=503, headers={"Retry-After": str(exc.retry_after)},
            )
        rejected = [
            {"index": d.line_no, "field": d.field, "reason": d.reason} for d in result.rejected
        ]
        status = 202 if (accepted or duplicates or not rejected) else 422
        return JSONResponse(
            {"received": result.read, "accepted": accepted, "duplicates": duplicates, "rejected": rejected},
            status_code=status,
        )

    @app.post("/v1/events", status_code=202, openapi_extra=EVENTS_BODY, tags=["intake"])
    async def post_events(
        request: Request,
        format: str = Query("seawall", description=f"Input format: {', '.join(FORMATS)}"),
        key: ApiKey = Depends(caller),
    ) -> JSONResponse:
        """Submit a batch of events. Each bad event is rejected with its index, field and reason
        (and kept in the dead-letter store); the good ones are accepted durably before the reply."""
        return await intake_request(request, format, f"api:{key.key_id}")

    @app.post("/v1/reports", status_code=202, openapi_extra=EVENTS_BODY, tags=["intake"])
    async def post_reports(request: Request, key: ApiKey = Depends(caller)) -> JSONResponse:
        """Submit user reports or trusted-flagger referrals (report events only)."""
        return await intake_request(request, "seawall", f"flagger:{key.key_id}", only_type="report")

    @app.get("/v1/cases", tags=["cases"])
    def get_cases(
        status: Literal["open", "actioned", "closed", "all"] = "open",
        queue: str | None = Query(None, max_length=64),
        limit: int = Query(50, ge=1, le=500),
        offset: int = Query(0, ge=0),
        key: ApiKey = Depends(caller),
    ) -> dict[str, Any]:
        """Cases, highest priority first."""
        rows = store.list_cases(None if status == "all" else status, queue, limit, offset)
        return {"cases": rows, "limit": limit, "offset": offset}

    @app.get("/v1/cases/{case_id}", tags=["cases"])
    def get_case(case_id: int, key: ApiKey = Depends(caller)) -> JSONResponse:
        """One case with its events, their verdicts, the rules that matched and each signal's
        evidence, and the actions taken."""
        case = store.get_case(case_id)
        if case is None:
            return _error(404, f"no case with id {case_id}", "case_id")
        # The response carries content: a view of content is audited.
        record_store(store, actor=actor_of(key), action="case.view", target=f"case:{case_id}")
        return JSONResponse(case)

    @app.get("/v1/stats", tags=["operations"])
    def get_stats(key: ApiKey = Depends(caller)) -> dict[str, Any]:
        return store.stats()

    @app.get("/v1/deadletters", tags=["operations"])
    def get_dead_letters(
        status: Literal["open", "replayed", "discarded", "all"] = "open",
        kind: Literal["rejected", "failed"] | None = None,
        limit: int = Query(100, ge=1, le=1000),
        after_id: int = Query(0, ge=0),
        key: ApiKey = Depends(caller),
    ) -> dict[str, Any]:
        letters = store.list_dead_letters(None if status == "all" else status, kind, limit, after_id)
        return {"dead_letters": [d.as_dict() for d in letters]}

    @app.post("/v1/deadletters/replay", tags=["operations"])
    def post_dead_letters_replay(
        ids: list[int] | None = Query(None, description="Replay only these ids (default: all open)"),
        key: ApiKey = Depends(caller),
    ) -> dict[str, Any]:
        result = replay_dead_letters(runtime.pipeline, ids)
        record_store(store, actor=actor_of(key), action="deadletter.replay", target="deadletters",
                     details={"ids": ids or "all open", "result": result})
        return result

    @app.get("/v1/keys", tags=["operations"])
    def get_keys(key: ApiKey = Depends(caller)) -> dict[str, Any]:
        return {"keys": [k.as_dict() for k in store.list_api_keys()]}

    @app.get("/healthz", tags=["operations"])
    def healthz() -> JSONResponse:
        """Liveness: the process serves and its database answers. Public."""
        try:
            with runtime.store.engine.connect() as conn:  # type: ignore[attr-defined]
                conn.execute(text("SELECT 1"))
        except Exception as exc:
            return JSONResponse({"status": "error", "database": type(exc).__name__}, status_code=503)
        worker = "running" if runtime.worker.alive else "stopped"
        return JSONResponse({"status": "ok", "version": __version__, "worker": worker})

    @app.get("/readyz", tags=["operations"])
    def readyz() -> JSONResponse:
        """Readiness: the worker runs and has no standing error. Public."""
        pending = store.inbox_size()
        ready = runtime.worker.alive and runtime.worker.last_error is None
        body = {"ready": ready, "inbox_pending": pending, "worker_error": runtime.worker.last_error}
        return JSONResponse(body, status_code=200 if ready else 503)

    @app.get("/metrics", tags=["operations"])
    def metrics() -> Response:
        """Prometheus metrics. Public by design: counts only, no content."""
        runtime.metrics.inbox.set(store.inbox_size())
        return PlainTextResponse(runtime.metrics.render(), media_type="text/plain; version=0.0.4")

    from seawall.api.routers import feature_routers

    for make_router in feature_routers():
        app.include_router(make_router(runtime, caller))

    _check_routes(app)
    return app


def _only(result: IntakeResult, event_type: str, intake: Intake) -> IntakeResult:
    kept = IntakeResult(rejected=list(result.rejected), read=result.read)
    for item in result.items:
        if item.event.type == event_type:
            kept.items.append(item)
        else:
            raw = item.event.model_dump_json(exclude_none=True)
            kept.rejected.append(intake.reject(raw, f"only '{event_type}' events may be sent here", "type", None))
    return kept


def _check_routes(app: FastAPI) -> None:
    # Refuse to start with a route that has neither roles nor a deliberate public marking.
    from seawall.api.auth import ENDPOINT_ROLES

    for route in app.routes:
        path = getattr(route, "path", "")
        for method in getattr(route, "methods", set()) or set():
            if method == "HEAD":
                continue
            if (method, path) not in ENDPOINT_ROLES and (method, path) not in PUBLIC:
                raise RuntimeError(f"route {method} {path} has no roles and is not marked public")
