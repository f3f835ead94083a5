"""Suspended accounts from the Seawall database, as linker profiles.

An account is suspended when the `accounts` table says so (an enforcement event from the platform,
or a Seawall rule that suspended it). Its profile is its latest account event, up to
`max_posts` of its latest posts and the followers its follow events name, all from `events`.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterable

import orjson
from sqlalchemy import and_, select
from sqlalchemy.engine import Engine

from seawall.events.model import parse_event
from seawall.linking.profile import Profile, shoutouts_in
from seawall.storage.schema import accounts, events

_CHUNK = 500


def suspended_since(engine: Engine, since: datetime | None) -> tuple[list[str], datetime | None]:
    """Ids of accounts suspended after `since` (all when None), and the latest suspension time."""
    q = select(accounts.c.id, accounts.c.suspended_at).where(accounts.c.status == "suspended")
    if since is not None:
        q = q.where(accounts.c.suspended_at > since)
    with engine.connect() as conn:
        rows = conn.execute(q.order_by(accounts.c.suspended_at)).all()
    latest = max((r[1] for r in rows if r[1] is not None), default=since)
    return [r[0] for r in rows], latest


def _hour_of(value: Any) -> int | None:
    """UTC hour of a stored ISO timestamp (None when missing or unreadable)."""
    if not isinstance(value, str):
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is not None:
        dt = dt.astimezone(timezone.utc)
    return dt.hour


def load_profiles(engine: Engine, ids: Iterable[str], max_posts: int = 200) -> tuple[list[Profile], list[Any]]:
    """Profiles of the given accounts (those with no stored account event still get one, with
    their posts and followers), and the shout-outs among their posts."""
    ids = list(dict.fromkeys(ids))
    profiles = {i: Profile(i) for i in ids}
    shouts: list[Any] = []
    with engine.connect() as conn:
        for lo in range(0, len(ids), _CHUNK):
            chunk = ids[lo : lo + _CHUNK]
            q = (select(events.c.type, events.c.subject_id, events.c.account_id, events.c.payload)
                 .where(and_(events.c.subject_type == "account", events.c.subject_id.in_(chunk),
                             events.c.type.in_(("account", "follow"))))
                 .order_by(events.c.pk))
            for typ, subject, _acct, payload in conn.execute(q):
                data = orjson.loads(payload)
                if typ == "account":
                    profiles[subject].set_account(parse_event(data))
                elif data.get("action", "follow") == "follow":
                    profiles[subject].add_follower(data["follower_id"], cap=None)
            q = (select(events.c.account_id, events.c.subject_id, events.c.payload)
                 .where(and_(events.c.type == "post", events.c.account_id.in_(chunk)))
                 .order_by(events.c.pk.desc()))
            for acct, post_id, payload in conn.execute(q):
                p = profiles[acct]
                if len(p.posts) >= max_posts:
                    continue
                data = orjson.loads(payload)
                text = data.get("text") or ""
                created = _hour_of(data.get("created_at"))
                if created is not None:
                    p.post_hours.append(created)
                p.post_links.extend(x for x in (data.get("links") or ()) if isinstance(x, str))
                if text:
                    p.posts.append(text)
                    shouts.extend(shoutouts_in(post_id, acct, text, data.get("mentions") or ()))
    for p in profiles.values():
        p.posts.reverse()  # oldest first, like every other profile
        p.post_hours.reverse()
    return list(profiles.values()), shouts
