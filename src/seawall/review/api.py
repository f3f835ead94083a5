"""HTTP routes of review: login and sessions, queues, cases, claims, notes, decisions (with the
two-person rule), bulk decisions, appeals, media (blurred by default, revealed on request) and
the reviewer's exposure counter. Roles per route are in `api/auth.ENDPOINT_ROLES`."""

from __future__ import annotations

import hashlib
from typing import Any, Callable, Literal
from urllib.parse import urlsplit

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from seawall.audit import record_store
from seawall.media.decode import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS, MediaError
from seawall.review import appeals as appeal_flow
from seawall.review import media as review_media
from seawall.review import people, queues, workflow
from seawall.review.caseview import case_view
from seawall.review.people import SESSION_COOKIE, LoginThrottle, Principal, actor_of
from seawall.review.workflow import Decision, ReviewError

MAX_BULK = 200
NO_STORE = {"Cache-Control": "no-store, private", "X-Content-Type-Options": "nosniff"}


class LoginBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class DecisionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["remove", "suspend", "label", "no_violation", "escalate"]
    notes: str = Field("", max_length=workflow.MAX_NOTES)
    label: str | None = Field(None, max_length=128)
    escalate_to: Literal["security", "law_enforcement"] | None = None


class BulkBody(DecisionBody):
    case_ids: list[int] = Field(min_length=1, max_length=MAX_BULK)


class NoteBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=workflow.MAX_NOTES)


class ConfirmBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    notes: str = Field("", max_length=workflow.MAX_NOTES)


class AppealBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str | int | None = None
    case_id: int | None = None
    subject_type: Literal["post", "account"] | None = None
    subject_id: str | None = Field(None, max_length=256)
    text: str = Field(min_length=1, max_length=workflow.MAX_NOTES)
    appellant: str | None = Field(None, max_length=256)


class ResolveBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: Literal["upheld", "overturned"]
    notes: str = Field("", max_length=workflow.MAX_NOTES)


def _error(status: int, reason: str, field: str | None = None) -> JSONResponse:
    return JSONResponse({"error": {"field": field, "reason": reason}}, status_code=status)


async def _body(request: Request, model: type[BaseModel]) -> BaseModel:
    raw = await request.body()
    try:
        data = orjson.loads(raw or b"{}")
    except orjson.JSONDecodeError as exc:
        raise ReviewError(400, f"malformed JSON: {exc}") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        field = ".".join(str(p) for p in first.get("loc", ())) or None
        if first.get("type") == "model_type":
            field = None
        raise ReviewError(422, first.get("msg", "invalid"), field) from None


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.headers.get("host", "")


def make_router(runtime: Any, caller: Callable[..., Any]) -> APIRouter:
    router = APIRouter(tags=["review"])
    store = runtime.store
    settings = runtime.settings.review
    throttle = LoginThrottle()

    def guarded(fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except ReviewError as exc:
            return _error(exc.status, exc.reason, exc.field)

    async def call(fn: Callable[[], Any]) -> Any:
        return await run_in_threadpool(guarded, fn)

    # -- people ---------------------------------------------------------------------------
    @router.post("/v1/login")
    async def post_login(request: Request) -> Response:
        """Log in with a username and password: sets an HttpOnly, SameSite=Strict session cookie
        and returns the CSRF token to send in X-CSRF-Token. Public (it is how one gets a session)."""
        if not _same_origin(request):
            return _error(403, "cross-origin login refused")
        try:
            body = await _body(request, LoginBody)
        except ReviewError as exc:
            return _error(exc.status, exc.reason, exc.field)
        assert isinstance(body, LoginBody)
        if throttle.blocked(body.username):
            return _error(429, "too many failed logins for this user: wait 15 minutes")
        got = await run_in_threadpool(people.login, store, body.username, body.password, settings)
        if got is None:
            throttle.failed(body.username)
            await run_in_threadpool(record_store, store, actor="anonymous", action="session.login_failed",
                                    target=f"username:{body.username}"[:300])
            return _error(401, "wrong username or password")
        throttle.succeeded(body.username)
        token, who = got
        await run_in_threadpool(record_store, store, actor=who.actor, action="session.login",
                                target=f"user:{who.user_id}", details={"session_id": who.session_id})
        resp = JSONResponse({"user": _me(who), "csrf_token": who.csrf_token}, headers=NO_STORE)
        resp.set_cookie(SESSION_COOKIE, token, max_age=int(settings.session_hours * 3600), path="/",
                        httponly=True, samesite="strict", secure=request.url.scheme == "https")
        return resp

    @router.post("/v1/logout")
    def post_logout(key: Any = Depends(caller)) -> Response:
        """End this session."""
        if not isinstance(key, Principal) or key.session_id is None:
            return _error(400, "only a browser session can log out; API keys are revoked with `seawall keys revoke`")
        people.logout(store, key.session_id)
        record_store(store, actor=key.actor, action="session.logout", target=f"user:{key.user_id}")
        resp = JSONResponse({"logged_out": True})
        resp.delete_cookie(SESSION_COOKIE, path="/")
        return resp

    @router.get("/v1/session")
    def get_session(key: Any = Depends(caller)) -> Response:
        """Who is logged in, their CSRF token, and today's exposure counter."""
        with store.engine.connect() as conn:
            exp = review_media.exposure(conn, actor_of(key), settings.exposure_cap)
        who = _me(key) if isinstance(key, Principal) else {"username": key.name, "role": key.role, "actor": actor_of(key)}
        return JSONResponse({"user": who, "csrf_token": getattr(key, "csrf_token", None), "exposure": exp},
                            headers=NO_STORE)

    @router.get("/v1/users", tags=["review"])
    def get_users(key: Any = Depends(caller)) -> dict[str, Any]:
        return {"users": people.list_users(store)}

    # -- queues and cases -----------------------------------------------------------------
    @router.get("/v1/queues")
    def get_queues(key: Any = Depends(caller)) -> dict[str, Any]:
        """Queues (by rule and saved search) with open and overdue counts."""
        return {"queues": queues.list_queues(store, settings)}

    @router.get("/v1/queues/{queue}/cases")
    def get_queue_cases(queue: str, limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0),
                        key: Any = Depends(caller)) -> dict[str, Any]:
        """Open cases of a queue, highest score (severity x reach) first, with SLA deadlines and claims."""
        return queues.queue_cases(store, settings, queue[:64], limit, offset)

    @router.get("/v1/review/cases/{case_id}")
    def get_review_case(case_id: int, key: Any = Depends(caller)) -> Response:
        """A case with everything a reviewer needs. Viewing content is audited."""
        view = case_view(store, settings, case_id)
        if view is None:
            return _error(404, f"no case with id {case_id}", "case_id")
        record_store(store, actor=actor_of(key), action="case.view", target=f"case:{case_id}")
        return JSONResponse(view, headers=NO_STORE)

    @router.post("/v1/cases/{case_id}/claim")
    async def post_claim(case_id: int, key: Any = Depends(caller)) -> Any:
        return await call(lambda: workflow.claim(store, settings, key, case_id))

    @router.post("/v1/cases/{case_id}/release")
    async def post_release(case_id: int, key: Any = Depends(caller)) -> Any:
        return await call(lambda: workflow.release(store, key, case_id))

    @router.post("/v1/cases/{case_id}/notes")
    async def post_note(case_id: int, request: Request, key: Any = Depends(caller)) -> Any:
        try:
            body = await _body(request, NoteBody)
        except ReviewError as exc:
            return _error(exc.status, exc.reason, exc.field)
        return await call(lambda: workflow.add_note(store, key, case_id, body.text))  # type: ignore[attr-defined]

    @router.post("/v1/cases/{case_id}/decisions")
    async def post_decision(case_id: int, request: Request, key: Any = Depends(caller)) -> Any:
        """Decide a case you have claimed: remove, suspend, label, no_violation or escalate (to
        security or law_enforcement). Suspensions and law-enforcement escalations are proposals
        under the two-person rule."""
        try:
            b = await _body(request, DecisionBody)
        except ReviewError as exc:
            return _error(exc.status, exc.reason, exc.field)
        d = Decision(b.kind, b.notes, b.label, b.escalate_to)  # type: ignore[attr-defined]
        return await call(lambda: workflow.decide(store, settings, key, case_id, d))

    @router.post("/v1/bulk-decisions")
    async def post_bulk(request: Request, key: Any = Depends(caller)) -> Any:
        """One decision over many cases (a campaign): each case is claimed and decided in turn;
        the result lists what happened to each."""
        try:
            b = await _body(request, BulkBody)
        except ReviewError as exc:
            return _error(exc.status, exc.reason, exc.field)
        d = Decision(b.kind, b.notes, b.label, b.escalate_to)  # type: ignore[attr-defined]

        def run() -> dict[str, Any]:
            results = []
            for cid in dict.fromkeys(b.case_ids):  # type: ignore[attr-defined]
                try:
                    results.append({"case_id": cid, **workflow.decide(store, settings, key, cid, d, claim_if_free=True)})
                except ReviewError as exc:
                    results.append({"case_id": cid, "error": {"field": exc.field, "reason": exc.reason}})
            return {"results": results, "decided": sum("error" not in r for r in results)}

        return await run_in_threadpool(run)

    @router.post("/v1/decisions/{decision_id}/confirm")
    async def post_confirm(decision_id: int, request: Request, key: Any = Depends(caller)) -> Any:
        """Second person of the two-person rule: confirm a proposal, creating its actions."""
        try:
            b = await _body(request, ConfirmBody)
        except ReviewError as exc:
            return _error(exc.status, exc.reason, exc.field)
        return await call(lambda: workflow.confirm(store, settings, key, decision_id, b.notes))  # type: ignore[attr-defined]

    @router.post("/v1/decisions/{decision_id}/reject")
    async def post_reject(decision_id: int, request: Request, key: Any = Depends(caller)) -> Any:
        try:
            b = await _body(request, ConfirmBody)
        except ReviewError as exc:
            return _error(exc.status, exc.reason, exc.field)
        return await call(lambda: workflow.reject(store, settings, key, decision_id, b.notes))  # type: ignore[attr-defined]

    # -- appeals --------------------------------------------------------------------------
    @router.post("/v1/appeals", status_code=201)
    async def post_appeal(request: Request, key: Any = Depends(caller)) -> Any:
        """A user's appeal against a decision (by case_id, or subject_type + subject_id): the case
        reopens in the `appeals` queue for a different reviewer. Idempotent by `id`."""
        try:
            b = await _body(request, AppealBody)
        except ReviewError as exc:
            return _error(exc.status, exc.reason, exc.field)

        def run() -> Any:
            appeal, created = appeal_flow.create_appeal(store, key, b.model_dump())
            return JSONResponse({"appeal": appeal, "created": created}, status_code=201 if created else 200)

        return await call(run)

    @router.get("/v1/appeals")
    def get_appeals(status: Literal["open", "upheld", "overturned", "all"] = "open",
                    limit: int = Query(100, ge=1, le=1000), key: Any = Depends(caller)) -> dict[str, Any]:
        return {"appeals": appeal_flow.list_appeals(store, None if status == "all" else status, limit)}

    @router.post("/v1/appeals/{appeal_id}/resolve")
    async def post_resolve(appeal_id: int, request: Request, key: Any = Depends(caller)) -> Any:
        """Uphold or overturn; an overturn creates restore actions reversing the original ones."""
        try:
            b = await _body(request, ResolveBody)
        except ReviewError as exc:
            return _error(exc.status, exc.reason, exc.field)
        return await call(lambda: appeal_flow.resolve_appeal(store, key, appeal_id, b.outcome, b.notes))  # type: ignore[attr-defined]

    # -- media ----------------------------------------------------------------------------
    @router.post("/v1/media/{media_id}/reveal")
    def post_reveal(media_id: int, key: Any = Depends(caller)) -> Response:
        """Reveal one picture or video for today (audited); refused at the daily exposure cap."""
        try:
            exp = review_media.reveal(store, actor_of(key), media_id, settings.exposure_cap)
        except review_media.ExposureCapReached as exc:
            return _error(429, str(exc))
        if exp is None:
            return _error(404, f"no media with id {media_id}", "media_id")
        return JSONResponse({"media_id": media_id, "revealed": True, "exposure": exp}, headers=NO_STORE)

    @router.get("/v1/media/{media_id}")
    def get_media(media_id: int, view: Literal["blurred", "full"] = "blurred", key: Any = Depends(caller)) -> Response:
        """The picture blurred and greyscale (default), or in full once revealed today."""
        with store.engine.connect() as conn:
            m = review_media.load(conn, media_id)
            if m is None:
                return _error(404, f"no media with id {media_id}", "media_id")
            if view == "full" and not review_media.revealed(conn, actor_of(key), media_id):
                return _error(403, "reveal this media first (POST /v1/media/{id}/reveal)", "view")
        etag = hashlib.sha256(f"{media_id}:{view}".encode()).hexdigest()[:16]
        if m["kind"] == "video" and view != "full":
            return _error(415, "videos have no blurred preview: reveal to play (muted, not autoplayed)", "view")
        try:
            data = review_media.ensure_bytes(store, m, runtime.settings.signals.get("hashbank", {}))
            if m["kind"] == "video":
                return Response(data, media_type=_video_mime(m["mime"]), headers={**NO_STORE, "ETag": etag})
            jpeg = review_media.render(data, view == "blurred", DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS)
        except MediaError as exc:
            return _error(422, f"cannot show this media: {exc.reason} ({exc.detail})", "media_id")
        return Response(jpeg, media_type="image/jpeg", headers={**NO_STORE, "ETag": etag})

    return router


def _video_mime(mime: str | None) -> str:
    return mime if mime in ("video/mp4", "video/webm", "video/ogg", "video/quicktime") else "video/mp4"


def _me(p: Any) -> dict[str, Any]:
    return {"username": p.name, "role": p.role, "pseudonym": getattr(p, "pseudonym", None), "actor": actor_of(p)}


__all__ = ["make_router"]
