"""Format adapters: real platform objects in, Seawall event dicts out.

Each adapter takes one decoded JSON value and returns a list of event dicts (an embedded author
becomes an `account` event before the `post`). The dicts are *not* validated here: pass each to
`seawall.events.parse_event`. A value an adapter cannot convert raises `AdapterError` with the
dotted path of the offending field inside the platform object.
"""

from __future__ import annotations

from typing import Any, Callable

from seawall.ingest.adapters import atproto, mastodon, seawall_jsonl, twitter_v1
from seawall.ingest.adapters.errors import AdapterError

Adapter = Callable[[Any], list[dict]]

ADAPTERS: dict[str, Adapter] = {
    "seawall": seawall_jsonl.convert,
    "twitter-v1": twitter_v1.convert,
    "mastodon": mastodon.convert,
    "atproto": atproto.convert,
}


def get_adapter(name: str) -> Adapter:
    """The adapter for a format name, or ValueError listing the known formats."""
    try:
        return ADAPTERS[name]
    except (KeyError, TypeError):
        known = ", ".join(sorted(ADAPTERS))
        raise ValueError(f"unknown input format {name!r}; known formats: {known}") from None


__all__ = ["ADAPTERS", "Adapter", "AdapterError", "get_adapter"]
