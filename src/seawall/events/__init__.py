"""Versioned event model shared by every adapter and stage."""

from seawall.events.model import (
    EVENT_TYPES,
    MAX_TEXT_CHARS,
    SCHEMA_VERSION,
    AccountEvent,
    EnforcementEvent,
    Event,
    EventError,
    FollowEvent,
    MediaRef,
    PostEvent,
    ReportEvent,
    parse_event,
)

__all__ = [
    "EVENT_TYPES",
    "MAX_TEXT_CHARS",
    "SCHEMA_VERSION",
    "AccountEvent",
    "EnforcementEvent",
    "Event",
    "EventError",
    "FollowEvent",
    "MediaRef",
    "PostEvent",
    "ReportEvent",
    "parse_event",
]
