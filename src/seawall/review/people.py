"""People: accounts with a role and a password, server-side sessions and CSRF tokens.

Machines use API keys (`api/auth.py`); people log in with a username and password and get a
session cookie. Only hashes are stored: scrypt for passwords (salted, memory-hard), SHA-256 for
session tokens (256 random bits: nothing to brute-force). Each session carries a synchronizer CSRF
token that every state-changing request made with the cookie must echo in `X-CSRF-Token`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from seawall.review.schema import sessions, users
from seawall.review.settings import PEOPLE_ROLES, ReviewSettings

SESSION_COOKIE = "seawall_session"
CSRF_HEADER = "x-csrf-token"
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 12
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class PeopleError(ValueError):
    def __init__(self, field: str | None, reason: str):
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}" if field else reason)


@dataclass(slots=True)
class Principal:
    """Who is calling, for the routes: a person with a session, or a machine with an API key."""

    key_id: str  # `u<id>` for people, so code that logs a caller's key id never sees a secret
    role: str
    name: str
    user_id: int | None = None
    pseudonym: str | None = None
    csrf_token: str | None = None
    session_id: int | None = None

    @property
    def actor(self) -> str:
        return f"user:{self.user_id}" if self.user_id is not None else f"key:{self.key_id}"


def actor_of(caller: Any) -> str:
    """`user:<id>` for a person, `key:<key id>` for an API key."""
    actor = getattr(caller, "actor", None)
    return actor if isinstance(actor, str) else f"key:{caller.key_id}"


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


# -- passwords -------------------------------------------------------------------------------
def hash_password(password: str, log_n: int = 15) -> str:
    salt = secrets.token_bytes(16)
    n, r, p = 2**log_n, 8, 1
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=256 * n * r + 2**20, dklen=32)
    b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
    return f"scrypt${log_n}${r}${p}${b64(salt)}${b64(digest)}"


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, log_n, r, p, salt, digest = stored.split("$")
        n, r_, p_ = 2 ** int(log_n), int(r), int(p)
        if scheme != "scrypt" or not (10 <= int(log_n) <= 20):
            return False
        got = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=n, r=r_, p=p_,
                             maxmem=256 * n * r_ + 2**20, dklen=32)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, base64.b64decode(digest))


# A hash to check against when the username is unknown, so timing does not reveal which exist.
_DUMMY: dict[int, str] = {}


def _dummy_hash(log_n: int) -> str:
    if log_n not in _DUMMY:
        _DUMMY[log_n] = hash_password(secrets.token_urlsafe(16), log_n)
    return _DUMMY[log_n]


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise PeopleError("password", f"must be at least {MIN_PASSWORD} characters")
    if len(password) > 1024:
        raise PeopleError("password", "must be at most 1024 characters")


# -- users -----------------------------------------------------------------------------------
def add_user(store: Any, username: str, role: str, password: str, log_n: int = 15) -> dict[str, Any]:
    """Create a person; returns {id, username, role, pseudonym}. The password is only hashed."""
    if not USERNAME.match(username or ""):
        raise PeopleError("username", "2-64 characters: lower-case letters, digits, '.', '_' or '-', starting with a letter or digit")
    if role not in PEOPLE_ROLES:
        raise PeopleError("role", f"must be one of {', '.join(PEOPLE_ROLES)} (machines use API keys)")
    check_new_password(password)
    row = {"username": username, "role": role, "password_hash": hash_password(password, log_n), "created_at": _now()}
    for length in (4, 4, 6, 8, 12):  # a collision on 4 hex digits is possible; widen and retry
        row["pseudonym"] = f"{'reviewer' if role != 'flagger' else 'flagger'}-{secrets.token_hex(length // 2)}"
        try:
            with store.engine.begin() as conn:
                if conn.execute(select(users.c.id).where(users.c.username == username)).first():
                    raise PeopleError("username", f"{username!r} already exists")
                user_id = conn.execute(users.insert().values(**row).returning(users.c.id)).scalar_one()
            return {"id": user_id, "username": username, "role": role, "pseudonym": row["pseudonym"]}
        except IntegrityError:
            continue
    raise PeopleError("pseudonym", "could not allocate a unique pseudonym")


def set_password(store: Any, username: str, password: str, log_n: int = 15) -> None:
    check_new_password(password)
    with store.engine.begin() as conn:
        res = conn.execute(update(users).where(users.c.username == username)
                           .values(password_hash=hash_password(password, log_n)))
        if not res.rowcount:
            raise PeopleError("username", f"no user {username!r}")
        # A new password ends every session of the old one.
        uid = conn.execute(select(users.c.id).where(users.c.username == username)).scalar_one()
        conn.execute(update(sessions).where(and_(sessions.c.user_id == uid, sessions.c.revoked_at.is_(None)))
                     .values(revoked_at=_now()))


def disable_user(store: Any, username: str) -> None:
    with store.engine.begin() as conn:
        uid = conn.execute(select(users.c.id).where(users.c.username == username)).scalar()
        if uid is None:
            raise PeopleError("username", f"no user {username!r}")
        conn.execute(update(users).where(users.c.id == uid).values(disabled_at=_now()))
        conn.execute(update(sessions).where(and_(sessions.c.user_id == uid, sessions.c.revoked_at.is_(None)))
                     .values(revoked_at=_now()))


def list_users(store: Any) -> list[dict[str, Any]]:
    with store.engine.connect() as conn:
        rows = conn.execute(select(users.c.id, users.c.username, users.c.role, users.c.pseudonym,
                                   users.c.created_at, users.c.disabled_at, users.c.last_login_at)
                            .order_by(users.c.id)).mappings().all()
    out = []
    for r in rows:
        d = {str(k): v for k, v in r.items()}
        for k in ("created_at", "disabled_at", "last_login_at"):
            d[k] = _utc(d[k]).isoformat() if d[k] else None
        out.append(d)
    return out


def pseudonyms(conn: Connection, actors: set[str]) -> dict[str, str]:
    """actor -> pseudonym, for anything shown outside the team. Keys get a stable digest name."""
    ids = {int(a.split(":", 1)[1]) for a in actors if a.startswith("user:")}
    found: dict[str, str] = {}
    if ids:
        for uid, pseudo in conn.execute(select(users.c.id, users.c.pseudonym).where(users.c.id.in_(ids))):
            found[f"user:{uid}"] = pseudo
    for a in actors:
        if a not in found:
            found[a] = "automation-" + hashlib.sha256(a.encode()).hexdigest()[:4]
    return found


def display_names(conn: Connection, actors: set[str]) -> dict[str, str]:
    """actor -> username, for the team's own screens."""
    ids = {int(a.split(":", 1)[1]) for a in actors if a.startswith("user:")}
    names = {a: a for a in actors}
    if ids:
        for uid, name in conn.execute(select(users.c.id, users.c.username).where(users.c.id.in_(ids))):
            names[f"user:{uid}"] = name
    return names


# -- login throttling ------------------------------------------------------------------------
class LoginThrottle:
    """At most `limit` failed logins per username per `window` seconds (in this process)."""

    def __init__(self, limit: int = 5, window: float = 900.0):
        self.limit, self.window = limit, window
        self._fails: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def blocked(self, username: str) -> bool:
        now = time.monotonic()
        with self._lock:
            recent = [t for t in self._fails.get(username, []) if now - t < self.window]
            if recent:
                self._fails[username] = recent
            else:
                self._fails.pop(username, None)  # unknown names must not grow this forever
            return len(recent) >= self.limit

    def failed(self, username: str) -> None:
        with self._lock:
            self._fails.setdefault(username, []).append(time.monotonic())

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._fails.pop(username, None)


# -- sessions --------------------------------------------------------------------------------
def login(store: Any, username: str, password: str, settings: ReviewSettings) -> tuple[str, Principal] | None:
    """(cookie value, principal) for good credentials of an enabled user; None otherwise."""
    with store.engine.connect() as conn:
        user = conn.execute(select(users).where(users.c.username == username)).mappings().first()
    ok = check_password(password, user["password_hash"] if user else _dummy_hash(settings.scrypt_log_n))
    if not ok or user is None or user["disabled_at"] is not None:
        return None
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    now = _now()
    with store.engine.begin() as conn:
        sid = conn.execute(sessions.insert().values(
            token_hash=_token_hash(token), user_id=user["id"], csrf_token=csrf, created_at=now,
            expires_at=now + timedelta(hours=settings.session_hours), last_seen_at=now,
        ).returning(sessions.c.id)).scalar_one()
        conn.execute(update(users).where(users.c.id == user["id"]).values(last_login_at=now))
    return token, Principal(key_id=f"u{user['id']}", role=user["role"], name=user["username"], user_id=user["id"],
                            pseudonym=user["pseudonym"], csrf_token=csrf, session_id=sid)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SessionError(Exception):
    def __init__(self, status: int, reason: str):
        self.status = status
        self.reason = reason
        super().__init__(reason)


def session_principal(store: Any, token: str, settings: ReviewSettings, method: str,
                      csrf_header: str | None) -> Principal:
    """The person behind a session cookie; SessionError(401) for a bad or expired session and
    SessionError(403) for a state-changing request without the session's CSRF token."""
    now = _now()
    with store.engine.connect() as conn:
        row = conn.execute(
            select(sessions.c.id, sessions.c.csrf_token, sessions.c.expires_at, sessions.c.last_seen_at,
                   sessions.c.revoked_at, users.c.id.label("user_id"), users.c.username, users.c.role,
                   users.c.pseudonym, users.c.disabled_at)
            .join(users, users.c.id == sessions.c.user_id)
            .where(sessions.c.token_hash == _token_hash(token))
        ).mappings().first()
    if row is None or row["revoked_at"] is not None or row["disabled_at"] is not None:
        raise SessionError(401, "not logged in (session unknown or ended): log in again")
    if _utc(row["expires_at"]) <= now or now - _utc(row["last_seen_at"]) > timedelta(minutes=settings.idle_minutes):
        raise SessionError(401, "session expired: log in again")
    if method not in _SAFE_METHODS:
        if not csrf_header or not hmac.compare_digest(csrf_header.encode(), row["csrf_token"].encode()):
            raise SessionError(403, "missing or wrong CSRF token: send the session's token in X-CSRF-Token")
    if now - _utc(row["last_seen_at"]) > timedelta(seconds=60):  # one write a minute, not one per request
        with store.engine.begin() as conn:
            conn.execute(update(sessions).where(sessions.c.id == row["id"]).values(last_seen_at=now))
    return Principal(key_id=f"u{row['user_id']}", role=row["role"], name=row["username"], user_id=row["user_id"],
                     pseudonym=row["pseudonym"], csrf_token=row["csrf_token"], session_id=row["id"])


def logout(store: Any, session_id: int) -> None:
    with store.engine.begin() as conn:
        conn.execute(update(sessions).where(sessions.c.id == session_id).values(revoked_at=_now()))


def count_users(store: Any) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(users)).scalar() or 0)
