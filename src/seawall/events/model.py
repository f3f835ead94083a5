"""The event model: what a platform tells Seawall, versioned and validated.

Every adapter (Seawall JSONL, Twitter v1.1, Mastodon, AT Protocol) produces these objects, so the
rest of the pipeline never sees a platform's own format.
"""

from __future__ import annotations

import binascii
import hashlib
from datetime import datetime, timezone
from typing import Annotated, Any, Literal, Union

import orjson
from pydantic import (
    BaseModel,
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    TypeAdapter,
    ValidationError,
    model_validator,
)

SCHEMA_VERSION = 1
# Longest text accepted in any one field. Twitter allows 10k for long posts, Mastodon instances a
# few thousand; anything near a megabyte is an attack or a bug, not a post.
MAX_TEXT_CHARS = 50_000
MAX_ID_CHARS = 256
# Media sent inline (base64) are hashed and then dropped from the stored event (their hashes stay):
# about 9 MiB of bytes, inside the API's 16 MiB body limit.
MAX_MEDIA_B64_CHARS = 12 * 1024 * 1024
MAX_LIST_ITEMS = 100


def _id_from_number(value: Any) -> Any:
    # Platforms emit numeric ids (Twitter's id, not id_str); an id is an opaque string to us.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _check_base64(value: str) -> str:
    try:
        binascii.a2b_base64(value, strict_mode=True)
    except binascii.Error as exc:
        raise ValueError(f"not valid base64 ({exc})") from None
    return value


def _as_utc(value: datetime) -> datetime:
    # Naive timestamps are taken as UTC so that every stored time compares with every other.
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def _no_control_characters(value: str) -> str:
    # Ids are opaque, but end up in logs, CSV exports and tab-separated Redis members, where a
    # tab or a newline would split them.
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise ValueError("must not contain control characters (tab, newline, ...)")
    return value


Id = Annotated[
    str,
    BeforeValidator(_id_from_number),
    Field(min_length=1, max_length=MAX_ID_CHARS),
    AfterValidator(_no_control_characters),
]
UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]
Text = Annotated[str, Field(max_length=MAX_TEXT_CHARS)]
ShortText = Annotated[str, Field(max_length=2_000)]
Url = Annotated[str, Field(min_length=1, max_length=4_096)]


class _Model(BaseModel):
    # Unknown fields are refused so that a typo ("txt") is an error, not a silently empty post;
    # platform-specific extras belong in `attributes`.
    model_config = ConfigDict(extra="forbid", frozen=False, str_strip_whitespace=False)


class MediaRef(_Model):
    """A picture, video or file attached to a post or used as an avatar."""

    id: Id | None = None
    kind: Literal["image", "video", "audio", "gif", "file"] = "image"
    url: Url | None = None
    path: ShortText | None = None
    mime: ShortText | None = None
    alt_text: Text | None = None
    sha256: Annotated[str, Field(pattern=r"^[0-9a-fA-F]{64}$")] | None = None
    md5: Annotated[str, Field(pattern=r"^[0-9a-fA-F]{32}$")] | None = None
    pdq: Annotated[str, Field(pattern=r"^[0-9a-fA-F]{64}$")] | None = None
    # The bytes themselves, base64-encoded, for platforms that send media inline.
    data: Annotated[str, Field(max_length=MAX_MEDIA_B64_CHARS), AfterValidator(_check_base64)] | None = None

    # The inline bytes after `drop_data`: not part of the stored event, but kept in memory for the
    # rest of this pipeline pass so that the review store can keep the media of case-worthy events.
    _dropped: bytes | None = PrivateAttr(default=None)

    def data_bytes(self) -> bytes | None:
        if self.data:
            return binascii.a2b_base64(self.data)
        return self._dropped

    def drop_data(self, decoded: bytes | None = None) -> None:
        """Remove the base64 bytes from what is stored with the event (hashes stay)."""
        if self.data:
            self._dropped = decoded if decoded is not None else binascii.a2b_base64(self.data)
            self.data = None


class _Event(_Model):
    v: Literal[1] = SCHEMA_VERSION
    # Optional caller-chosen identity of the event itself, for idempotent redelivery of events
    # that have no natural id (follows, enforcements, account updates).
    event_id: Id | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)

    def key(self) -> str:
        """Stable identity used to make redelivery idempotent."""
        if self.event_id is not None:
            return f"{self.type}:e:{self.event_id}"  # type: ignore[attr-defined]
        return f"{self.type}:h:{self.content_hash()}"  # type: ignore[attr-defined]

    def content_hash(self) -> str:
        body = orjson.dumps(self.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)
        return hashlib.sha256(body).hexdigest()[:32]

    @property
    def subject(self) -> tuple[str, str]:
        """(subject type, subject id) that a verdict on this event applies to."""
        raise NotImplementedError

    @property
    def occurred_at(self) -> datetime:
        raise NotImplementedError


class AccountEvent(_Event):
    type: Literal["account"] = "account"
    action: Literal["created", "updated"] = "created"
    id: Id
    handle: Annotated[str, Field(min_length=1, max_length=256)]
    display_name: ShortText | None = None
    bio: Text | None = None
    avatar: MediaRef | None = None
    banner: MediaRef | None = None
    links: Annotated[list[Url], Field(max_length=MAX_LIST_ITEMS)] = Field(default_factory=list)
    location: ShortText | None = None
    lang: Annotated[str, Field(max_length=16)] | None = None
    followers_count: Annotated[int, Field(ge=0)] | None = None
    following_count: Annotated[int, Field(ge=0)] | None = None
    posts_count: Annotated[int, Field(ge=0)] | None = None
    verified: bool | None = None
    created_at: UtcDatetime
    updated_at: UtcDatetime | None = None


    @property
    def subject(self) -> tuple[str, str]:
        return ("account", self.id)

    @property
    def occurred_at(self) -> datetime:
        return self.updated_at or self.created_at


class PostEvent(_Event):
    type: Literal["post"] = "post"
    id: Id
    account_id: Id
    text: Text = ""
    lang: Annotated[str, Field(max_length=16)] | None = None
    media: Annotated[list[MediaRef], Field(max_length=MAX_LIST_ITEMS)] = Field(default_factory=list)
    links: Annotated[list[Url], Field(max_length=MAX_LIST_ITEMS)] = Field(default_factory=list)
    hashtags: Annotated[list[ShortText], Field(max_length=MAX_LIST_ITEMS)] = Field(default_factory=list)
    mentions: Annotated[list[ShortText], Field(max_length=MAX_LIST_ITEMS)] = Field(default_factory=list)
    reply_to: Id | None = None
    repost_of: Id | None = None
    quote_of: Id | None = None
    created_at: UtcDatetime


    def key(self) -> str:
        # A post is its id: the same post delivered twice is one post.
        if self.event_id is not None:
            return f"post:e:{self.event_id}"
        return f"post:{self.id}"

    @property
    def subject(self) -> tuple[str, str]:
        return ("post", self.id)

    @property
    def occurred_at(self) -> datetime:
        return self.created_at


class FollowEvent(_Event):
    type: Literal["follow"] = "follow"
    action: Literal["follow", "unfollow"] = "follow"
    follower_id: Id
    followee_id: Id
    at: UtcDatetime


    @property
    def subject(self) -> tuple[str, str]:
        return ("account", self.followee_id)

    @property
    def occurred_at(self) -> datetime:
        return self.at


class ReportEvent(_Event):
    """A user report or a flag from a trusted flagger against a post or an account."""

    type: Literal["report"] = "report"
    id: Id | None = None
    reporter_id: Id | None = None
    target_type: Literal["post", "account"]
    target_id: Id
    reason: Annotated[str, Field(min_length=1, max_length=200)]
    text: Text | None = None
    at: UtcDatetime


    def key(self) -> str:
        if self.id is not None and self.event_id is None:
            return f"report:{self.id}"
        return super().key()

    @property
    def subject(self) -> tuple[str, str]:
        return (self.target_type, self.target_id)

    @property
    def occurred_at(self) -> datetime:
        return self.at


class EnforcementEvent(_Event):
    """An action the platform itself took (a suspension by its own staff, a restore, a removal)."""

    type: Literal["enforcement"] = "enforcement"
    action: Literal["suspend", "restore", "remove"]
    account_id: Id | None = None
    post_id: Id | None = None
    reason: ShortText | None = None
    by: ShortText | None = None
    at: UtcDatetime


    @model_validator(mode="after")
    def _target_present(self) -> "EnforcementEvent":
        if self.action in ("suspend", "restore") and self.account_id is None and self.post_id is None:
            raise ValueError(f"account_id is required for action '{self.action}'")
        if self.action == "remove" and self.post_id is None and self.account_id is None:
            raise ValueError("post_id or account_id is required for action 'remove'")
        return self

    @property
    def subject(self) -> tuple[str, str]:
        if self.post_id is not None and (self.action == "remove" or self.account_id is None):
            return ("post", self.post_id)
        return ("account", self.account_id or "")

    @property
    def occurred_at(self) -> datetime:
        return self.at


Event = Annotated[
    Union[AccountEvent, PostEvent, FollowEvent, ReportEvent, EnforcementEvent],
    Field(discriminator="type"),
]
EVENT_TYPES = ("account", "post", "follow", "report", "enforcement")
EventAdapter: TypeAdapter[Event] = TypeAdapter(Event)


class EventError(ValueError):
    """Why one input could not be accepted: which field, and what is wrong with it."""

    def __init__(self, field: str | None, reason: str):
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}" if field else reason)

    def as_dict(self) -> dict[str, str | None]:
        return {"field": self.field, "reason": self.reason}


def _field_path(loc: tuple[Any, ...]) -> str:
    # pydantic puts the union tag ("post") first in the location; the caller's field is what follows.
    parts = list(loc)
    if parts and parts[0] in EVENT_TYPES:
        parts = parts[1:]
    return ".".join(str(p) for p in parts)


def error_from_validation(exc: ValidationError) -> EventError:
    """The first, most useful error of a pydantic failure as an EventError."""
    errors = exc.errors(include_url=False, include_input=False)
    first = errors[0]
    field = _field_path(tuple(first.get("loc", ())))
    kind = first.get("type", "")
    msg = first.get("msg", "invalid")
    if kind == "union_tag_invalid":
        ctx = first.get("ctx") or {}
        return EventError("type", f"unknown event type {ctx.get('tag')!r}; expected one of {', '.join(EVENT_TYPES)}")
    if kind == "union_tag_not_found":
        return EventError("type", f"missing; expected one of {', '.join(EVENT_TYPES)}")
    if kind == "missing":
        return EventError(field, "required field is missing")
    if kind == "extra_forbidden":
        return EventError(field, "unknown field (platform-specific data belongs in 'attributes')")
    if kind == "value_error":
        msg = msg.removeprefix("Value error, ")
        head = msg.split(" ", 1)[0]
        if not field and head.endswith("_id"):
            # A cross-field rule names its field first ("account_id is required ...").
            field = head
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return EventError(field or None, msg + more)


def parse_event(data: Any) -> Event:
    """Validate one decoded JSON value as a Seawall event, raising EventError with the field."""
    if not isinstance(data, dict):
        raise EventError(None, f"an event must be a JSON object, not {type(data).__name__}")
    try:
        return EventAdapter.validate_python(data)
    except ValidationError as exc:
        raise error_from_validation(exc) from None
