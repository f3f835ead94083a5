"""Typed, path-aware access to untrusted platform JSON, shared by the adapters.

Platform exports are decoded JSON of unknown quality. Every read goes through `Node` so that a
wrong type or a missing required part becomes an AdapterError naming the dotted path, never a
KeyError/TypeError deep inside an adapter. The rule throughout: null or absent means "not given";
a value of the wrong type is an error.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterable

from seawall.events.model import MAX_ID_CHARS, MAX_LIST_ITEMS
from seawall.ingest.adapters.errors import AdapterError

# Nested objects (a retweet of a quote of ...) are followed this deep; beyond it only the id is
# kept. Real platforms nest at most two levels; the limit stops crafted input from recursing.
MAX_NESTING = 4

_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "a boolean", dict: "an object",
               list: "an array", type(None): "null"}


def type_name(value: Any) -> str:
    """How a JSON value's type reads in an error message ("an integer", "null")."""
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def join(path: str, key: str | int) -> str:
    return f"{path}.{key}" if path else str(key)


class Node:
    """A JSON object together with its path inside the original platform object."""

    __slots__ = ("data", "path")

    def __init__(self, data: Any, path: str = ""):
        if not isinstance(data, dict):
            raise AdapterError(path or None, f"expected an object, got {type_name(data)}")
        self.data = data
        self.path = path

    def at(self, key: str) -> str:
        return join(self.path, key)

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def raw(self, key: str) -> Any:
        return self.data.get(key)

    def _typed(self, key: str, kind: type, required: bool) -> Any:
        value = self.data.get(key)
        if value is None:
            if required:
                raise AdapterError(self.at(key), "required field is missing")
            return None
        # bool is a subclass of int in Python; a JSON true is never a count.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise AdapterError(self.at(key), f"expected {_TYPE_NAMES[kind]}, got {type_name(value)}")
        return value

    def str(self, key: str, required: bool = False) -> str | None:
        return self._typed(key, str, required)

    def text(self, key: str) -> str | None:
        """An optional string where "" means absent (empty bios, empty locations)."""
        return self._typed(key, str, False) or None

    def int(self, key: str, required: bool = False) -> int | None:
        return self._typed(key, int, required)

    def bool(self, key: str) -> bool | None:
        return self._typed(key, bool, False)

    def id(self, key: str, required: bool = False) -> str | None:
        """An opaque identifier: platforms send strings or (Twitter's `id`) numbers."""
        value = self.data.get(key)
        if value is None or value == "":
            if required:
                raise AdapterError(self.at(key), "required field is missing")
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if not isinstance(value, str):
            raise AdapterError(self.at(key), f"expected an identifier, got {type_name(value)}")
        if len(value) > MAX_ID_CHARS:
            raise AdapterError(self.at(key), f"identifier longer than {MAX_ID_CHARS} characters")
        return value

    def node(self, key: str, required: bool = False) -> "Node | None":
        value = self._typed(key, dict, required)
        return None if value is None else Node(value, self.at(key))

    def nodes(self, key: str) -> list["Node"]:
        """An optional array of objects; null items are skipped, other non-objects are errors."""
        items = self._typed(key, list, False) or []
        path = self.at(key)
        return [Node(item, join(path, i)) for i, item in enumerate(items) if item is not None]

    def strs(self, key: str) -> list[str]:
        items = self._typed(key, list, False) or []
        out = []
        for i, item in enumerate(items):
            if item is None:
                continue
            if not isinstance(item, str):
                raise AdapterError(join(self.at(key), i), f"expected a string, got {type_name(item)}")
            out.append(item)
        return out


def require_object(obj: Any) -> Node:
    if not isinstance(obj, dict):
        raise AdapterError(None, f"expected a JSON object, got {type_name(obj)}")
    return Node(obj)


def parse_iso_time(value: Any, path: str) -> str:
    """ISO 8601 (Mastodon, AT Protocol) -> ISO 8601 in UTC; a naive time is taken as UTC."""
    if not isinstance(value, str):
        raise AdapterError(path, f"expected an ISO 8601 timestamp, got {type_name(value)}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise AdapterError(path, f"not an ISO 8601 timestamp: {value[:40]!r}") from None
    return utc_iso(parsed)


def utc_iso(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat()


def from_epoch(value: Any, path: str, scale: float) -> str:
    """Epoch seconds * scale (ms, µs) as ISO 8601 UTC; digits-only strings are accepted too."""
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise AdapterError(path, f"expected an epoch timestamp, got {type_name(value)}")
    try:
        return utc_iso(datetime.fromtimestamp(value / scale, tz=timezone.utc))
    except (OverflowError, OSError, ValueError):
        raise AdapterError(path, "epoch timestamp out of range") from None


def lang(value: str | None) -> str | None:
    # "und" is Twitter's "undetermined"; over-long tags are dropped rather than rejecting a post
    # for a cosmetic field.
    if not value or value == "und" or len(value) > 16:
        return None
    return value


def unique(items: Iterable[str | None]) -> list[str]:
    """Order-preserving de-duplication, capped at the model's list limit.

    A post with more than MAX_LIST_ITEMS hashtags is spam we still want to see, so the list is
    cut rather than the post rejected.
    """
    seen: dict[str, None] = {}
    for item in items:
        if item and item not in seen:
            seen[item] = None
    return list(seen)[:MAX_LIST_ITEMS]


def dedupe_events(events: list[dict]) -> list[dict]:
    """Keep the first event per (type, id): a self-retweet must not emit its author twice."""
    seen: set[tuple[str, str]] = set()
    out = []
    for event in events:
        key = (str(event.get("type")), str(event.get("id", id(event))))
        if key in seen:
            continue
        seen.add(key)
        out.append(event)
    return out


def compact(attributes: dict[str, Any]) -> dict[str, Any]:
    """Attributes without the noise: drops null, false and empty values, keeps zero counts."""
    return {k: v for k, v in attributes.items()
            if v is not None and v is not False and not (isinstance(v, (str, list, dict)) and not v)}


def drop_none(fields: dict[str, Any]) -> dict[str, Any]:
    """An event or media dict without its absent (None) fields."""
    return {k: v for k, v in fields.items() if v is not None}
