"""Intake never loses or crashes on input: every line is either an event or a kept rejection."""

from __future__ import annotations

import io

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from seawall.ingest.intake import MAX_LINE_BYTES, Intake, decode_json_line, read_lines

VALID = orjson.dumps({"type": "post", "id": "p1", "account_id": "a", "text": "x", "created_at": "2015-06-01T10:00:00Z"})
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=200) | json_values.map(orjson.dumps) | st.just(VALID), max_size=20))
def test_every_line_is_accounted_for(lines):
    stream = io.BytesIO(b"\n".join(line.replace(b"\n", b" ").replace(b"\r", b" ") for line in lines) + b"\n")
    chunks = list(read_lines(stream, 7))
    numbered = [x for c in chunks for x in c]
    result = Intake().accept_lines(numbered)
    assert result.read == len(numbered)
    rejected_lines = {d.line_no for d in result.rejected}
    assert len(rejected_lines) == len(result.rejected)
    # A line is either rejected with a reason or produced exactly one Seawall event.
    assert len(result.items) + len(result.rejected) == len(numbered)
    for d in result.rejected:
        assert d.reason and d.kind == "rejected" and d.raw is not None


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["twitter-v1", "mastodon", "atproto"]), json_values)
def test_platform_adapters_reject_garbage_with_a_reason(fmt, value):
    result = Intake(fmt).accept_objects([(1, value, orjson.dumps(value))])
    assert result.read == 1
    for d in result.rejected:
        assert d.reason and "adapter failed" not in d.reason  # no adapter bug leaks as a crash


def test_oversized_and_undecodable_lines():
    from seawall.events import EventError

    for raw, reason in [(b"x" * (MAX_LINE_BYTES + 1), "the limit is"), (b"\xc3\x28", "invalid UTF-8 at byte 0"),
                        (b"[1,", "malformed JSON")]:
        try:
            decode_json_line(raw)
        except EventError as exc:
            assert reason in exc.reason
        else:
            raise AssertionError(raw[:20])


def test_invalid_utf8_is_kept_escaped_not_dropped():
    [d] = Intake().accept_lines([(5, b'{"type":"post","text":"\xff"}')]).rejected
    assert d.line_no == 5 and "\\xff" in d.raw
