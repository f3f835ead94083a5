"""The signed webhook adapter: each action is one POST of a JSON body to the platform's URL.

Headers: `Seawall-Timestamp` and `Seawall-Signature` (see `signing.py`), `Idempotency-Key` (the same
on every retry of an action, so the platform can apply it once), `Seawall-Delivery` (unique per
attempt). A 2xx answer means delivered. Timeouts, refused connections, 408, 425, 429 and 5xx are
worth retrying; any other answer (other 4xx, redirects, which are not followed) fails the action
until someone re-queues it.
"""

from __future__ import annotations

import logging
from email.utils import parsedate_to_datetime
from datetime import datetime, timezone

import httpx
import orjson
from pydantic import SecretStr

from seawall import __version__
from seawall.actions.adapter import Action, DeliveryResult, PlatformAdapter
from seawall.actions.settings import WebhookSettings
from seawall.actions.signing import DELIVERY_HEADER, IDEMPOTENCY_HEADER, sign

log = logging.getLogger("seawall.actions.webhook")

RETRYABLE_STATUS = {408, 425, 429}
_ERROR_SNIPPET = 300  # characters of a refusal's body kept as the reason


class WebhookAdapter(PlatformAdapter):
    name = "webhook"

    def __init__(self, url: str, secret: SecretStr, timeout_s: float = 10.0, headers: dict[str, str] | None = None):
        self.url = url
        self._secret = secret  # SecretStr: repr and str never show it
        self.timeout_s = timeout_s
        self.extra_headers = dict(headers or {})
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout_s),
            follow_redirects=False,
            headers={"User-Agent": f"seawall/{__version__}"},
        )

    @classmethod
    def from_settings(cls, settings: WebhookSettings) -> "WebhookAdapter":
        return cls(settings.url, settings.secret(), settings.timeout_s, settings.headers)

    def __repr__(self) -> str:
        return f"WebhookAdapter(url={self.url!r})"

    @property
    def max_duration_s(self) -> float:
        # httpx applies the timeout per phase (connect, write, each read), so allow several.
        return self.timeout_s * 4 + 5.0

    def request(self, action: Action) -> tuple[bytes, dict[str, str]]:
        """The exact body and headers of one attempt (separate so tests and docs can show them)."""
        body = orjson.dumps(action.message(), option=orjson.OPT_SORT_KEYS)
        headers = {
            **self.extra_headers,
            "Content-Type": "application/json",
            IDEMPOTENCY_HEADER: action.idempotency_key,
            DELIVERY_HEADER: action.delivery_id,
            **sign(self._secret.get_secret_value(), body),
        }
        return body, headers

    def deliver(self, action: Action) -> DeliveryResult:
        body, headers = self.request(action)
        try:
            response = self._client.post(self.url, content=body, headers=headers)
        except httpx.TimeoutException as exc:
            return DeliveryResult.retry(f"timed out after {self.timeout_s:g} s ({type(exc).__name__})")
        except httpx.HTTPError as exc:
            # Connection refused, DNS failure, reset: the platform is down or unreachable.
            return DeliveryResult.retry(f"{type(exc).__name__}: {exc}"[:_ERROR_SNIPPET])
        status = response.status_code
        if 200 <= status < 300:
            return DeliveryResult.ok(status)
        reason = f"HTTP {status}: {response.text[:_ERROR_SNIPPET]}".rstrip(": ")
        if status >= 500 or status in RETRYABLE_STATUS:
            return DeliveryResult.retry(reason, status, _retry_after(response.headers.get("retry-after")))
        if 300 <= status < 400:
            reason += " (redirects are not followed: configure the final URL)"
        return DeliveryResult.permanent(reason, status)

    def close(self) -> None:
        self._client.close()


def _retry_after(value: str | None) -> float | None:
    """Retry-After as seconds: either a number or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
