"""HTTP routes for actions: list them with their delivery state, and re-queue failed ones. Roles
are in `seawall.api.auth.ENDPOINT_ROLES` (auditors and admins read; admins retry)."""

from __future__ import annotations

from typing import Any, Callable, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse

from seawall.actions.outbox import Outbox
from seawall.audit.api import actor_of

Status = Literal["pending", "delivered", "failed", "all"]
Kind = Literal["remove", "suspend", "escalate", "restore"]
MAX_ID = 2**63 - 1  # ids are 64-bit in the database; larger ones are refused before any query


def _error(status: int, reason: str, field: str | None = None) -> JSONResponse:
    return JSONResponse({"error": {"field": field, "reason": reason}}, status_code=status)


def make_router(runtime: Any, caller: Callable[..., Any]) -> APIRouter:
    """The routes, authenticated by the app's own `caller` dependency (key and role checks)."""
    router = APIRouter(tags=["actions"])
    outbox = Outbox(runtime.store.engine)

    @router.get("/v1/actions")
    def list_actions(
        status: Status = "all",
        kind: Kind | None = None,
        limit: int = Query(100, ge=1, le=1000),
        after_id: int = Query(0, ge=0, le=MAX_ID),
        key: Any = Depends(caller),
    ) -> dict[str, Any]:
        """Actions in id order with their delivery state: attempts, next attempt, last status and
        error, delivered_at, and whether evidence is held."""
        rows = outbox.list(None if status == "all" else status, kind, limit, after_id)
        return {"actions": rows, "counts": outbox.counts(), "limit": limit, "after_id": after_id}

    @router.get("/v1/actions/{action_id}")
    def get_action(action_id: int = Path(ge=1, le=MAX_ID), key: Any = Depends(caller)) -> JSONResponse:
        """One action with every delivery attempt."""
        found = outbox.get(action_id)
        if found is None:
            return _error(404, f"no action with id {action_id}", "action_id")
        return JSONResponse(found)

    @router.post("/v1/actions/{action_id}/retry")
    def retry_action(action_id: int = Path(ge=1, le=MAX_ID), key: Any = Depends(caller)) -> JSONResponse:
        """Re-queue a failed action (or try a waiting one now) with a fresh retry budget. 409 if it
        was already delivered."""
        result = outbox.requeue([action_id], actor=actor_of(key))
        if action_id in result.refused:
            reason = result.refused[action_id]
            return _error(404 if reason == "no such action" else 409, f"action {action_id}: {reason}", "action_id")
        dispatcher = getattr(runtime, "dispatcher", None)
        if dispatcher is not None:
            dispatcher.notify()
        return JSONResponse({"requeued": action_id, "action": outbox.get(action_id)})

    return router
