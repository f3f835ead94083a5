"""The adapter registry, the shared error type and the identity (Seawall JSONL) adapter."""

from __future__ import annotations

import pytest

from seawall.events import EventError, parse_event
from seawall.ingest.adapters import ADAPTERS, AdapterError, get_adapter


def test_registry_names():
    assert set(ADAPTERS) == {"seawall", "twitter-v1", "mastodon", "atproto"}
    for name, adapter in ADAPTERS.items():
        assert get_adapter(name) is adapter


def test_unknown_format_lists_the_known_ones():
    with pytest.raises(ValueError) as info:
        get_adapter("facebook")
    message = str(info.value)
    assert "'facebook'" in message
    assert "atproto, mastodon, seawall, twitter-v1" in message
    assert not isinstance(info.value, AdapterError)


def test_adapter_error():
    err = AdapterError("user.screen_name", "required field is missing")
    assert isinstance(err, ValueError)
    assert str(err) == "user.screen_name: required field is missing"
    assert err.as_dict() == {"field": "user.screen_name", "reason": "required field is missing"}
    assert AdapterError(None, "not an object").as_dict() == {"field": None, "reason": "not an object"}


def test_seawall_identity_adapter():
    event = {"type": "post", "id": "p1", "account_id": "a1", "text": "hi", "created_at": "2024-03-05T10:00:00Z"}
    (out,) = get_adapter("seawall")(event)
    assert out is event
    assert parse_event(out).id == "p1"
    # Validation is parse_event's job, with the caller's own field names.
    (bad,) = get_adapter("seawall")({"type": "post", "txt": "hi"})
    with pytest.raises(EventError):
        parse_event(bad)


@pytest.mark.parametrize("value", [[], "text", 3, None])
def test_seawall_adapter_refuses_non_objects(value):
    with pytest.raises(AdapterError) as info:
        get_adapter("seawall")(value)
    assert info.value.field is None
