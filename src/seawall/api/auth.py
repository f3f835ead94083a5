"""API keys and roles.

A key is shown once, at creation: `sw_<key id>_<secret>`. Only the key id and a SHA-256 of the
secret are stored (the secret is 256 random bits, so a plain hash is enough: there is nothing to
brute-force). Every HTTP route declares its roles in `ENDPOINT_ROLES`; a route missing from that
table and from `PUBLIC` is refused by a test, so nothing is exposed by accident.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timezone

from seawall.storage.base import ApiKey, Store

ROLES = ("admin", "ingest", "reviewer", "senior_reviewer", "security", "flagger", "auditor")
ROLE_HELP = {
    "admin": "everything, including dead-letter replay and key management",
    "ingest": "a platform's firehose: submit events and appeals",
    "reviewer": "work review queues: claim, view, decide, add notes, resolve appeals",
    "senior_reviewer": "a reviewer who also confirms two-person decisions and works the security queues",
    "security": "the security / law-enforcement queues; confirms two-person decisions",
    "flagger": "a trusted flagger or referral unit: submit reports and appeals",
    "auditor": "read-only: cases, queues, statistics, dead letters, keys, the audit log",
}
# Review (seawall.review): people log in; machines use keys. Who may do what, by group.
_REVIEW = frozenset({"admin", "reviewer", "senior_reviewer", "security"})
_REVIEW_READ = _REVIEW | {"auditor"}
_CONFIRM = frozenset({"admin", "senior_reviewer", "security"})
_PEOPLE = frozenset({"admin", "reviewer", "senior_reviewer", "security", "flagger", "auditor"})
# Deliberately unauthenticated: probes, metrics (counts only) and the API's own documentation.
PUBLIC = {
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/docs/oauth2-redirect"),
    ("GET", "/redoc"),
    # People get a session here; the console's page and its static files hold no data.
    ("POST", "/v1/login"),
    ("GET", "/console"),
    ("GET", "/console/static/{name}"),
}
ENDPOINT_ROLES: dict[tuple[str, str], frozenset[str]] = {
    ("POST", "/v1/events"): frozenset({"admin", "ingest"}),
    ("POST", "/v1/reports"): frozenset({"admin", "ingest", "flagger"}),
    ("GET", "/v1/cases"): _REVIEW_READ,
    ("GET", "/v1/cases/{case_id}"): _REVIEW_READ,
    ("GET", "/v1/stats"): _REVIEW_READ,
    ("GET", "/v1/deadletters"): frozenset({"admin", "auditor"}),
    ("POST", "/v1/deadletters/replay"): frozenset({"admin"}),
    ("GET", "/v1/keys"): frozenset({"admin", "auditor"}),
    ("POST", "/v1/logout"): _PEOPLE,
    ("GET", "/v1/session"): _PEOPLE,
    ("GET", "/v1/users"): frozenset({"admin", "auditor"}),
    ("GET", "/v1/queues"): _REVIEW_READ,
    ("GET", "/v1/queues/{queue}/cases"): _REVIEW_READ,
    ("GET", "/v1/review/cases/{case_id}"): _REVIEW_READ,
    ("POST", "/v1/cases/{case_id}/claim"): _REVIEW,
    ("POST", "/v1/cases/{case_id}/release"): _REVIEW,
    ("POST", "/v1/cases/{case_id}/notes"): _REVIEW,
    ("POST", "/v1/cases/{case_id}/decisions"): _REVIEW,
    ("POST", "/v1/bulk-decisions"): _REVIEW,
    ("POST", "/v1/decisions/{decision_id}/confirm"): _CONFIRM,
    ("POST", "/v1/decisions/{decision_id}/reject"): _CONFIRM,
    ("POST", "/v1/appeals"): frozenset({"admin", "ingest", "flagger"}),
    ("GET", "/v1/appeals"): _REVIEW_READ,
    ("POST", "/v1/appeals/{appeal_id}/resolve"): _REVIEW,
    ("GET", "/v1/media/{media_id}"): _REVIEW_READ,
    ("POST", "/v1/media/{media_id}/reveal"): _REVIEW_READ,
    # Campaigns and crisis mode (seawall.campaigns): reviewers read, admins act on whole campaigns.
    ("GET", "/v1/campaigns"): _REVIEW_READ,
    ("GET", "/v1/campaigns/{campaign_id}"): _REVIEW_READ,
    ("POST", "/v1/campaigns/{campaign_id}/actions"): frozenset({"admin"}),
    ("GET", "/v1/crisis"): _REVIEW_READ,
    ("GET", "/v1/crisis/dashboard"): _REVIEW_READ,
    ("GET", "/v1/audit"): frozenset({"admin", "auditor"}),
    ("GET", "/v1/audit/verify"): frozenset({"admin", "auditor"}),
    ("GET", "/v1/actions"): frozenset({"admin", "auditor"}),
    ("GET", "/v1/actions/{action_id}"): frozenset({"admin", "auditor"}),
    ("POST", "/v1/actions/{action_id}/retry"): frozenset({"admin"}),
}

_PREFIX = "sw_"
_ID_LEN = 12


class AuthError(Exception):
    def __init__(self, status: int, reason: str):
        self.status = status
        self.reason = reason
        super().__init__(reason)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(store: Store, role: str, name: str = "") -> str:
    """Create a key with a role; returns the full key, which is never shown again."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}; got {role!r}")
    key_id = secrets.token_hex(_ID_LEN // 2)
    secret = secrets.token_urlsafe(32)
    store.add_api_key(
        ApiKey(
            key_id=key_id,
            role=role,
            name=name or f"{role}-{key_id[:4]}",
            created_at=datetime.now(timezone.utc),
            secret_hash=_hash(secret),
        )
    )
    return f"{_PREFIX}{key_id}_{secret}"


def split_key(presented: str) -> tuple[str, str] | None:
    if not presented.startswith(_PREFIX) or len(presented) < len(_PREFIX) + _ID_LEN + 2:
        return None
    key_id = presented[len(_PREFIX) : len(_PREFIX) + _ID_LEN]
    if presented[len(_PREFIX) + _ID_LEN] != "_":
        return None
    return key_id, presented[len(_PREFIX) + _ID_LEN + 1 :]


def authenticate(store: Store, presented: str | None) -> ApiKey:
    """The key's record if the presented key is valid and not revoked; AuthError(401) otherwise."""
    if not presented:
        raise AuthError(401, "missing API key: send 'Authorization: Bearer <key>'")
    parts = split_key(presented.strip())
    if parts is None:
        raise AuthError(401, "malformed API key")
    key = store.get_api_key(parts[0])
    # Compare even when the id is unknown so timing does not reveal which ids exist.
    expected = key.secret_hash if key else _hash("")
    if not hmac.compare_digest(expected, _hash(parts[1])) or key is None:
        raise AuthError(401, "invalid API key")
    if key.revoked_at is not None:
        raise AuthError(401, "API key has been revoked")
    return key


def authorize(key: ApiKey, method: str, path: str) -> None:
    allowed = ENDPOINT_ROLES.get((method, path))
    if allowed is None:
        raise AuthError(403, "no role may call this endpoint")
    if key.role not in allowed:
        raise AuthError(403, f"role '{key.role}' may not call {method} {path} (allowed: {', '.join(sorted(allowed))})")
