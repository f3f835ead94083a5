"""Feature routers: each feature package (audit, actions, review, campaigns, ...) keeps its HTTP
routes in its own module and is listed here, so `api/app.py` stays small.

A factory is `make_router(runtime, caller) -> fastapi.APIRouter`, where `caller` is the
authentication dependency of the app (`key: ApiKey = Depends(caller)` on every non-public route;
it checks the route's roles in `auth.ENDPOINT_ROLES`). Routes still need their roles in
`ENDPOINT_ROLES`; the app refuses to start otherwise.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any, Callable

# "module:function" of each feature's router factory, included in this order.
FEATURE_ROUTERS: list[str] = [
    "seawall.audit.api:make_router",
    "seawall.campaigns.api:make_router",
    "seawall.actions.api:make_router",
    "seawall.review.api:make_router",
    "seawall.console.routes:make_router",
]


def feature_routers() -> list[Callable[..., Any]]:
    factories = []
    for spec in FEATURE_ROUTERS:
        module, _, name = spec.partition(":")
        factories.append(getattr(import_module(module), name))
    return factories
