"""HTTP routes of campaigns and crisis mode: reviewers read, admins act (roles in api/auth.py)."""

from __future__ import annotations

from typing import Any, Callable, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict

from seawall.campaigns.actions import CampaignActionError, apply_campaign_action
from seawall.campaigns.crisis import crisis_report
from seawall.campaigns.dashboard import render
from seawall.campaigns.store import get_campaign, list_campaigns


class CampaignActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["remove", "suspend"]


def _error(status: int, reason: str, field: str | None = None) -> JSONResponse:
    return JSONResponse({"error": {"field": field, "reason": reason}}, status_code=status)


def _actor(key: Any) -> str:
    try:
        from seawall.audit.api import actor_of

        return actor_of(key)
    except ImportError:
        return f"key:{key.key_id}"


def make_router(runtime: Any, caller: Callable[..., Any]) -> APIRouter:
    router = APIRouter(tags=["campaigns"])
    store = runtime.store

    @router.get("/v1/campaigns")
    def get_campaigns(
        status: Literal["open", "actioned", "closed", "all"] = "open",
        limit: int = Query(50, ge=1, le=500),
        offset: int = Query(0, ge=0),
        key: Any = Depends(caller),
    ) -> dict[str, Any]:
        """Campaigns (their case's status), most recently active first."""
        return {"campaigns": list_campaigns(store, None if status == "all" else status, limit, offset),
                "limit": limit, "offset": offset}

    @router.get("/v1/campaigns/{campaign_id}")
    def get_one(campaign_id: int, members: int = Query(1000, ge=0, le=100_000), key: Any = Depends(caller)) -> JSONResponse:
        """One campaign: key, reason, figures, members (posts with their verdicts, accounts), actions."""
        found = get_campaign(store, campaign_id, members)
        if found is None:
            return _error(404, f"no campaign with id {campaign_id}", "campaign_id")
        return JSONResponse(found)

    @router.post("/v1/campaigns/{campaign_id}/actions")
    async def post_action(campaign_id: int, body: CampaignActionIn, key: Any = Depends(caller)) -> JSONResponse:
        """Act on every member: `remove` their posts or `suspend` their accounts. One action per
        member, each with its own idempotency key; repeating the call creates nothing new."""
        found = await run_in_threadpool(get_campaign, store, campaign_id, 0)
        if found is None:
            return _error(404, f"no campaign with id {campaign_id}", "campaign_id")
        if found["case_id"] is None:
            return _error(409, f"campaign {campaign_id} was merged into campaign {found['merged_into']}", "campaign_id")
        try:
            result = await run_in_threadpool(apply_campaign_action, store, found["case_id"], body.kind, _actor(key))
        except CampaignActionError as exc:
            return _error(422, exc.reason, exc.field)
        return JSONResponse({"campaign_id": campaign_id, **result})

    @router.get("/v1/crisis")
    def get_crisis(name: str | None = Query(None, max_length=64), minutes: int = Query(1440, ge=1, le=100_000),
                   key: Any = Depends(caller)) -> dict[str, Any]:
        """The active (or named) crisis and its per-minute volume of matching posts."""
        return crisis_report(store, name, minutes)

    @router.get("/v1/crisis/dashboard", response_class=HTMLResponse)
    def get_dashboard(name: str | None = Query(None, max_length=64), minutes: int = Query(1440, ge=1, le=100_000),
                      key: Any = Depends(caller)) -> HTMLResponse:
        """The crisis volume as an HTML page with an inline SVG chart."""
        return HTMLResponse(render(crisis_report(store, name, minutes)))

    return router
