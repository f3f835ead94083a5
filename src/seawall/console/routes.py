"""Serves the console's page and static files. Public (they hold no data) but locked down: a
strict Content-Security-Policy (own scripts and styles only), no framing, no referrer."""

from __future__ import annotations

from importlib import resources
from typing import Any, Callable

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

STATIC = {"app.js": "text/javascript; charset=utf-8", "app.css": "text/css; charset=utf-8"}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "media-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _read(name: str) -> bytes:
    return (resources.files("seawall.console") / "static" / name).read_bytes()


def make_router(runtime: Any, caller: Callable[..., Any]) -> APIRouter:
    router = APIRouter(tags=["console"])
    page = _read("index.html")
    files = {name: _read(name) for name in STATIC}

    @router.get("/console", include_in_schema=False)
    def console() -> Response:
        return Response(page, media_type="text/html; charset=utf-8",
                        headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"})

    @router.get("/console/static/{name}", include_in_schema=False)
    def static(name: str) -> Response:
        if name not in files:
            return JSONResponse({"error": {"field": "name", "reason": f"no such file {name!r}"}}, status_code=404)
        return Response(files[name], media_type=STATIC[name], headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"})

    return router
