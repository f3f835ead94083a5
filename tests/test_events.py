"""The event model: the minimal forms from the issue, and bad input with field and reason."""

from __future__ import annotations

import pytest

from seawall.events import MAX_TEXT_CHARS, EventError, parse_event

MINIMAL = [
    {"type": "account", "id": "a1", "handle": "x", "created_at": "2015-06-01T10:00:00Z"},
    {"type": "post", "id": "p1", "account_id": "a1", "text": "...", "created_at": "2015-06-01T10:00:00Z"},
    {"type": "enforcement", "account_id": "a1", "action": "suspend", "at": "2015-06-01T10:00:00Z"},
    {"type": "follow", "follower_id": "a2", "followee_id": "a1", "at": "2015-06-01T10:00:00Z"},
    {"type": "report", "target_type": "post", "target_id": "p1", "reason": "terrorism", "at": "2015-06-01T10:00:00Z"},
]


@pytest.mark.parametrize("data", MINIMAL, ids=lambda d: d["type"])
def test_minimal_forms_are_accepted(data):
    ev = parse_event(data)
    assert ev.type == data["type"]
    assert ev.v == 1
    assert ev.occurred_at.tzinfo is not None


def test_keys_make_redelivery_idempotent():
    a = parse_event(MINIMAL[1])
    b = parse_event(dict(MINIMAL[1], text="edited later"))
    assert a.key() == b.key() == "post:p1"  # a post is its id
    e1, e2 = parse_event(MINIMAL[2]), parse_event(MINIMAL[2])
    assert e1.key() == e2.key()
    assert parse_event(dict(MINIMAL[2], at="2015-06-02T10:00:00Z")).key() != e1.key()
    assert parse_event(dict(MINIMAL[2], event_id="x")).key() == "enforcement:e:x"


def test_numeric_ids_and_naive_times_are_normalised():
    ev = parse_event({"type": "post", "id": 12345, "account_id": 9, "created_at": "2015-06-01T10:00:00"})
    assert ev.id == "12345" and ev.account_id == "9"
    assert ev.created_at.utcoffset().total_seconds() == 0
    ev = parse_event({"type": "post", "id": "p", "account_id": "a", "created_at": "2015-06-01T12:00:00+02:00"})
    assert ev.created_at.hour == 10


@pytest.mark.parametrize(
    "data, field, reason",
    [
        ({"type": "zzz"}, "type", "unknown event type 'zzz'"),
        ({"id": "p1"}, "type", "missing"),
        ({"type": "post", "id": "p1", "created_at": "2015-06-01T10:00:00Z"}, "account_id", "required field is missing"),
        ({"type": "post", "id": "p1", "account_id": "a", "created_at": "yesterday"}, "created_at", "datetime"),
        ({"type": "post", "id": "p1", "account_id": "a", "text": 5, "created_at": "2015-06-01"}, "text", "string"),
        ({"type": "post", "id": "p1", "account_id": "a", "txt": "x", "created_at": "2015-06-01"}, "txt", "unknown field"),
        ({"type": "post", "id": "", "account_id": "a", "created_at": "2015-06-01"}, "id", "at least 1"),
        ({"type": "post", "id": "p\t1", "account_id": "a", "created_at": "2015-06-01"}, "id", "control characters"),
        ({"type": "post", "id": "p", "account_id": "a", "created_at": "2015-06-01",
          "text": "x" * (MAX_TEXT_CHARS + 1)}, "text", f"at most {MAX_TEXT_CHARS}"),
        ({"type": "post", "id": "p", "account_id": "a", "created_at": "2015-06-01",
          "media": [{"kind": "image", "sha256": "nothex"}]}, "media.0.sha256", "pattern"),
        ({"type": "enforcement", "action": "suspend", "at": "2015-06-01T10:00:00Z"}, "account_id", "required"),
        ({"type": "enforcement", "account_id": "a", "action": "ban", "at": "2015-06-01T10:00:00Z"}, "action", "suspend"),
        ({"type": "report", "target_type": "user", "target_id": "a", "reason": "x", "at": "2015-06-01"},
         "target_type", "post"),
    ],
)
def test_bad_input_names_the_field_and_the_reason(data, field, reason):
    with pytest.raises(EventError) as err:
        parse_event(data)
    assert err.value.field == field
    assert reason in err.value.reason


@pytest.mark.parametrize("value", [[1, 2], "text", 3, None])
def test_non_objects_are_rejected(value):
    with pytest.raises(EventError, match="must be a JSON object"):
        parse_event(value)
