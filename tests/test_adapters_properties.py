"""Property tests: whatever JSON an adapter is fed, the only errors are AdapterError (the input is
not convertible) or EventError (the converted event fails validation): never a KeyError,
TypeError or AttributeError from inside an adapter."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seawall.events import EventError, parse_event
from seawall.ingest.adapters import ADAPTERS, AdapterError

FIXTURES = Path(__file__).parent / "fixtures" / "adapters"
PROFILE = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

FIXTURES_BY_FORMAT = {
    "twitter-v1": ["twitter_extended.json", "twitter_retweet.json", "twitter_quote.json", "twitter_reply_video.json"],
    "mastodon": ["mastodon_status.json", "mastodon_reblog.json", "mastodon_quote.json", "mastodon_account_remote.json"],
    "atproto": ["atproto_postview_facets.json", "atproto_postview_external.json", "atproto_feeditem_quote.json",
                "atproto_jetstream_post.json", "atproto_jetstream_follow.json"],
}
SAMPLES = {fmt: [json.loads((FIXTURES / n).read_text(encoding="utf-8")) for n in names]
           for fmt, names in FIXTURES_BY_FORMAT.items()}
SAMPLES["seawall"] = [{"type": "post", "id": "p1", "account_id": "a1", "text": "hi",
                       "created_at": "2024-03-05T10:00:00Z", "media": [{"kind": "image", "url": "https://x.example/a.jpg"}]}]

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=25,
)


def _keys(value: Any, out: set[str]) -> set[str]:
    if isinstance(value, dict):
        out.update(value)
        for v in value.values():
            _keys(v, out)
    elif isinstance(value, list):
        for v in value:
            _keys(v, out)
    return out


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path to a nested value (dict key or list index), the root excluded."""
    out = []
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else []
    for key, child in items:
        out.append(prefix + (key,))
        out += _paths(child, prefix + (key,))
    return out


def _mutate(obj: Any, path: tuple, op: str, replacement: Any) -> Any:
    obj = copy.deepcopy(obj)
    parent = obj
    for key in path[:-1]:
        parent = parent[key]
    if op == "drop" and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = replacement
    return obj


def _run(fmt: str, value: Any) -> None:
    try:
        events = ADAPTERS[fmt](value)
        assert isinstance(events, list) and events
        for event in events:
            assert isinstance(event, dict)
            parse_event(event)
    except (AdapterError, EventError):
        pass


# Platform vocabulary, so that random objects reach past the first "is this a tweet" checks.
VOCAB = {fmt: sorted(set().union(*(_keys(s, set()) for s in samples))) for fmt, samples in SAMPLES.items()}


@st.composite
def mutated(draw: st.DrawFn, fmt: str) -> Any:
    value = draw(st.sampled_from(SAMPLES[fmt]))
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(value)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        op = draw(st.sampled_from(["drop", "replace"]))
        value = _mutate(value, path, op, draw(json_values))
    return value


def vocab_objects(fmt: str) -> st.SearchStrategy:
    keyed = st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(VOCAB[fmt]), inner, max_size=6),
        max_leaves=30,
    )
    return st.dictionaries(st.sampled_from(VOCAB[fmt]), keyed, max_size=8)


@PROFILE
@given(json_values)
def test_twitter_arbitrary_json(value):
    _run("twitter-v1", value)


@PROFILE
@given(st.one_of(mutated("twitter-v1"), vocab_objects("twitter-v1")))
def test_twitter_mutated(value):
    _run("twitter-v1", value)


@PROFILE
@given(json_values)
def test_mastodon_arbitrary_json(value):
    _run("mastodon", value)


@PROFILE
@given(st.one_of(mutated("mastodon"), vocab_objects("mastodon")))
def test_mastodon_mutated(value):
    _run("mastodon", value)


@PROFILE
@given(json_values)
def test_atproto_arbitrary_json(value):
    _run("atproto", value)


@PROFILE
@given(st.one_of(mutated("atproto"), vocab_objects("atproto")))
def test_atproto_mutated(value):
    _run("atproto", value)


@PROFILE
@given(st.one_of(json_values, mutated("seawall")))
def test_seawall_any_json(value):
    _run("seawall", value)


@PROFILE
@given(st.text(max_size=200))
def test_mastodon_any_html_content(html):
    status = copy.deepcopy(SAMPLES["mastodon"][0])
    status["content"] = html
    status["account"]["note"] = html
    _run("mastodon", status)


@PROFILE
@given(st.text(max_size=60), st.lists(st.tuples(st.integers(-5, 300), st.integers(-5, 300)), max_size=4))
def test_atproto_any_facet_offsets(text, spans):
    view = copy.deepcopy(SAMPLES["atproto"][0])
    view["record"]["text"] = text
    kinds = [("link", {"uri": "https://a.example/x"}), ("mention", {"did": "did:plc:x"}), ("tag", {"tag": "t"})]
    view["record"]["facets"] = [
        {"index": {"byteStart": a, "byteEnd": b},
         "features": [{"$type": f"app.bsky.richtext.facet#{kinds[i % 3][0]}", **kinds[i % 3][1]}]}
        for i, (a, b) in enumerate(spans)
    ]
    _run("atproto", view)
