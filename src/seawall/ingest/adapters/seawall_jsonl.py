"""Seawall's own JSONL format: each object already is an event.

Nothing is converted here; `seawall.events.parse_event` validates the object afterwards, so that
the field names in its errors are the caller's own.
"""

from __future__ import annotations

from typing import Any

from seawall.ingest.adapters._common import type_name
from seawall.ingest.adapters.errors import AdapterError


def convert(obj: Any) -> list[dict]:
    """A Seawall event object -> [obj], unchanged."""
    if not isinstance(obj, dict):
        raise AdapterError(None, f"an event must be a JSON object, not {type_name(obj)}")
    return [obj]
