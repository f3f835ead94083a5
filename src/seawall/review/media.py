"""Media for review: the bytes of case-worthy events' inline media, shown blurred and greyscale by
default and in full only after a reveal, which is audited and counts against the reviewer's daily
exposure cap.

The blurred picture is made on the server, so the full picture never reaches a browser before the
reviewer asks for it. Both are re-encoded (metadata such as GPS positions is dropped) and decoded
with the byte and pixel limits of `seawall.media`.
"""

from __future__ import annotations

import io
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Sequence

from sqlalchemy import and_, func, select
from sqlalchemy.engine import Connection

from seawall.audit import record
from seawall.media.decode import MediaError, decode_image
from seawall.review.schema import case_media, media_reveals

if TYPE_CHECKING:
    from seawall.pipeline.result import ProcessedEvent

KEPT_KINDS = ("image", "gif", "video")
BLUR_SIDE = 480
FULL_SIDE = 1600


def keep_case_media(store: Any, conn: Connection, target: Sequence[tuple[ProcessedEvent, dict]],
                    pks: dict[str, int]) -> int:
    """Store the inline media bytes of events that opened or merged into a case."""
    rows = []
    now = datetime.now(timezone.utc)
    for r, case in target:
        ev = r.item.event
        refs: list[tuple[str, Any]] = []
        if ev.type == "post":
            refs = [(f"media[{i}]", m) for i, m in enumerate(ev.media)]
        elif ev.type == "account":
            refs = [(k, getattr(ev, k)) for k in ("avatar", "banner") if getattr(ev, k) is not None]
        for field, m in refs:
            if m.kind not in KEPT_KINDS:
                continue
            data = m.data_bytes() or b""
            if not data and not m.url:
                continue  # a local path or hashes only: nothing a reviewer could be shown
            rows.append({"case_id": case["id"], "event_pk": pks[r.item.key], "field": field, "kind": m.kind,
                         "mime": m.mime, "sha256": m.sha256, "size_bytes": len(data), "data": data,
                         "url": None if data else str(m.url), "created_at": now})
    if rows:
        conn.execute(store._insert(case_media).on_conflict_do_nothing(), rows)
    return len(rows)


def media_of_case(conn: Connection, case_id: int) -> list[dict[str, Any]]:
    q = (select(case_media.c.id, case_media.c.event_pk, case_media.c.field, case_media.c.kind, case_media.c.mime,
                case_media.c.sha256, case_media.c.size_bytes)
         .where(case_media.c.case_id == case_id).order_by(case_media.c.id))
    return [dict(r) for r in conn.execute(q).mappings()]


def today() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d")


def exposure(conn: Connection, actor: str, cap: int) -> dict[str, Any]:
    n = conn.execute(select(func.count()).select_from(media_reveals).where(
        and_(media_reveals.c.actor == actor, media_reveals.c.day == today()))).scalar() or 0
    return {"day": today(), "reveals": int(n), "cap": cap, "remaining": max(0, cap - int(n))}


class ExposureCapReached(Exception):
    pass


def reveal(store: Any, actor: str, media_id: int, cap: int) -> dict[str, Any] | None:
    """Record that `actor` reveals a medium today (audited); None if there is no such medium.
    A second reveal of the same medium on the same day is free. Raises ExposureCapReached at the cap."""
    day = today()
    with store.engine.begin() as conn:
        m = conn.execute(select(case_media.c.id, case_media.c.case_id, case_media.c.kind)
                         .where(case_media.c.id == media_id)).first()
        if m is None:
            return None
        seen = conn.execute(select(media_reveals.c.id).where(and_(
            media_reveals.c.actor == actor, media_reveals.c.media_id == media_id, media_reveals.c.day == day))).first()
        if seen is None:
            used = exposure(conn, actor, cap)["reveals"]
            if used >= cap:
                raise ExposureCapReached(f"daily exposure cap of {cap} reveals reached; media stay blurred until tomorrow (UTC)")
            conn.execute(media_reveals.insert().values(actor=actor, media_id=media_id, day=day,
                                                       revealed_at=datetime.now(timezone.utc)))
        record(conn, actor=actor, action="media.reveal", target=f"case:{m.case_id}",
               details={"media_id": media_id, "kind": m.kind, "counted": seen is None})
        return exposure(conn, actor, cap)


def revealed(conn: Connection, actor: str, media_id: int) -> bool:
    return conn.execute(select(media_reveals.c.id).where(and_(
        media_reveals.c.actor == actor, media_reveals.c.media_id == media_id, media_reveals.c.day == today()))).first() is not None


def load(conn: Connection, media_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(case_media).where(case_media.c.id == media_id)).mappings().first()
    return dict(row) if row else None


def ensure_bytes(store: Any, m: dict[str, Any], hashbank_settings: dict[str, Any]) -> bytes:
    """The medium's bytes, fetching a URL-only medium once (through `seawall.media.fetch`: only the
    hosts in `[signals.hashbank] fetch_hosts`, never private addresses unless `fetch_private`) and
    keeping them for the next view. Raises MediaError with the reason."""
    if m["data"]:
        return m["data"]
    if not m.get("url"):
        raise MediaError("not_found", "no bytes and no URL were sent for this medium")
    from sqlalchemy import update

    from seawall.media.fetch import fetch
    from seawall.signals.hashbank import HashBankSettings

    hb = HashBankSettings.model_validate(hashbank_settings)
    if not hb.fetch_hosts:
        raise MediaError("fetch_disabled", "media URLs are fetched only from [signals.hashbank] fetch_hosts, which is empty")
    got = fetch(m["url"], allowed_hosts=hb.fetch_hosts, allow_private=hb.fetch_private, max_bytes=hb.max_bytes,
                timeout=hb.fetch_timeout)
    with store.engine.begin() as conn:
        conn.execute(update(case_media).where(case_media.c.id == m["id"]).values(data=got.data, size_bytes=len(got.data)))
    return got.data


def render(data: bytes, blurred: bool, max_bytes: int, max_pixels: int) -> bytes:
    """A JPEG of the picture: blurred and greyscale, or in full (downscaled, metadata dropped)."""
    from PIL import ImageFilter

    img = decode_image(data, max_pixels=max_pixels, max_bytes=max_bytes)
    if blurred:
        img = img.convert("L")
        img.thumbnail((BLUR_SIDE, BLUR_SIDE))
        # A blur radius proportional to the picture: shapes stay, details (faces, text) do not.
        img = img.filter(ImageFilter.GaussianBlur(radius=max(8, max(img.size) // 24)))
    else:
        img.thumbnail((FULL_SIDE, FULL_SIDE))
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=85)
    return out.getvalue()


__all__ = ["ExposureCapReached", "MediaError", "exposure", "keep_case_media", "load", "media_of_case",
           "render", "reveal", "revealed"]
