"""HTTP routes of the audit log: read it and verify it (auditors and admins)."""

from __future__ import annotations

from typing import Any, Callable

from fastapi import APIRouter, Depends, Query

from seawall.audit.log import entries, verify
from seawall.storage.base import ApiKey


def make_router(runtime: Any, caller: Callable[..., ApiKey]) -> APIRouter:
    router = APIRouter(tags=["audit"])
    store = runtime.store

    @router.get("/v1/audit")
    def get_audit(
        target: str | None = Query(None, max_length=300),
        actor: str | None = Query(None, max_length=200),
        action: str | None = Query(None, max_length=64),
        after_seq: int = Query(0, ge=0),
        limit: int = Query(100, ge=1, le=1000),
        key: ApiKey = Depends(caller),
    ) -> dict[str, Any]:
        """Audit entries in order, oldest first; page with `after_seq`."""
        rows = entries(store, target=target, actor=actor, action=action, after_seq=after_seq, limit=limit)
        return {"entries": [e.as_dict() for e in rows]}

    @router.get("/v1/audit/verify")
    def get_audit_verify(key: ApiKey = Depends(caller)) -> dict[str, Any]:
        """Recompute the hash chain; `ok` is false and `problems` names each bad row on tampering."""
        return verify(store)

    return router


def actor_of(key: ApiKey) -> str:
    """How an API caller appears in the audit log: `key:<key id>`, or `user:<id>` for a person
    logged in with a session (seawall.review.people.Principal)."""
    actor = getattr(key, "actor", None)
    return actor if isinstance(actor, str) else f"key:{key.key_id}"
