"""The one interface every platform adapter implements, and the registry that builds the configured
one.

An adapter receives an `Action` (what to do to what, with its idempotency key) and returns a
`DeliveryResult`: delivered, or not and whether trying again later may help. It does not retry, sleep
or touch the database; the dispatcher (`dispatcher.py`) does all of that, the same way for every
adapter. Other packages add adapters under the entry point group "seawall.adapters" (a factory
taking the `ActionsSettings` and the adapter's own settings dict from `[actions.adapters.NAME]`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import entry_points
from typing import Any, Callable

from seawall.actions.settings import ActionsSettings


@dataclass(frozen=True, slots=True)
class Action:
    """One action as an adapter sees it."""

    id: int
    idempotency_key: str
    kind: str  # remove | suspend | escalate | restore
    subject_type: str  # post | account | ...
    subject_id: str
    created_at: datetime
    case_id: int | None = None
    rule: str | None = None
    reverses: str | None = None  # for a restore: the idempotency key of the action it undoes
    attempt: int = 1  # 1 for the first try; retries count up
    delivery_id: str = ""  # unique per attempt

    def message(self) -> dict[str, Any]:
        """The platform-facing description of the action (the webhook's JSON body)."""
        return {
            "type": "seawall.action",
            "version": 1,
            "idempotency_key": self.idempotency_key,
            "delivery_id": self.delivery_id,
            "attempt": self.attempt,
            "action": {
                "id": self.id,
                "kind": self.kind,
                "subject": {"type": self.subject_type, "id": self.subject_id},
                "case_id": self.case_id,
                "rule": self.rule,
                "reverses": self.reverses,
                "created_at": self.created_at.isoformat(),
            },
        }


@dataclass(slots=True)
class DeliveryResult:
    delivered: bool
    retryable: bool = True  # only meaningful when not delivered
    status: int | None = None  # the platform's status code, when there was a response
    error: str | None = None  # why it was not delivered (never contains the secret)
    retry_after_s: float | None = None  # the platform asked us to wait this long
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def ok(cls, status: int | None = None) -> "DeliveryResult":
        return cls(True, False, status)

    @classmethod
    def retry(cls, error: str, status: int | None = None, retry_after_s: float | None = None) -> "DeliveryResult":
        return cls(False, True, status, error, retry_after_s)

    @classmethod
    def permanent(cls, error: str, status: int | None = None) -> "DeliveryResult":
        return cls(False, False, status, error)


class PlatformAdapter(ABC):
    """Carries actions to one platform."""

    name: str = ""

    @abstractmethod
    def deliver(self, action: Action) -> DeliveryResult:
        """Try once. Must not raise for platform trouble (return `DeliveryResult.retry`); an exception
        is treated as a retryable failure all the same."""

    @property
    def max_duration_s(self) -> float:
        """The longest one `deliver` call can take; the dispatcher's claim on an action outlasts it."""
        return 60.0

    def close(self) -> None:
        """Release connections."""


AdapterFactory = Callable[[ActionsSettings, dict[str, Any]], PlatformAdapter]


def _webhook(settings: ActionsSettings, _options: dict[str, Any]) -> PlatformAdapter:
    from seawall.actions.webhook import WebhookAdapter

    if settings.webhook is None:
        raise ValueError("actions.webhook: the webhook adapter needs [actions.webhook] with url and secret_env")
    return WebhookAdapter.from_settings(settings.webhook)


BUILTIN: dict[str, AdapterFactory] = {"webhook": _webhook}


def available_adapters() -> dict[str, AdapterFactory]:
    found = dict(BUILTIN)
    for ep in entry_points(group="seawall.adapters"):
        found.setdefault(ep.name, ep.load())
    return found


def build_adapter(settings: ActionsSettings) -> PlatformAdapter | None:
    """The configured adapter, or None when none is configured. Raises ValueError naming the setting
    when the configuration is wrong (unknown adapter, missing secret)."""
    name = settings.adapter_name
    if name is None:
        return None
    factories = available_adapters()
    if name not in factories:
        raise ValueError(f"actions.adapter: unknown adapter {name!r}; available: {', '.join(sorted(factories))}")
    adapter = factories[name](settings, settings.adapters.get(name, {}))
    if not adapter.name:
        adapter.name = name
    return adapter
