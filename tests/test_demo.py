"""The generated demo stream: reproducible, valid, and with content the default rules catch."""

from __future__ import annotations

from seawall.demo.generate import BAD_LINES, generate_events, write_demo
from seawall.events import parse_event
from seawall.pipeline.pipeline import Pipeline
from seawall.pipeline.replay import replay_file
from seawall.storage.sql import open_store


def test_same_seed_same_stream_and_every_event_valid():
    a = list(generate_events(seed=3, accounts=50, posts=300))
    b = list(generate_events(seed=3, accounts=50, posts=300))
    assert a == b
    assert a != list(generate_events(seed=4, accounts=50, posts=300))
    for ev in a:
        parse_event(ev)
    times = [parse_event(e).occurred_at for e in a]
    assert times == sorted(times)


def test_demo_replay_catches_some_and_leaves_most_alone(settings, tmp_path):
    path = tmp_path / "demo.jsonl"
    n = write_demo(path, accounts=120, posts=1200)
    assert n == len(path.read_bytes().splitlines())
    store = open_store(settings.database_url)
    s = replay_file(Pipeline.from_settings(settings, store), path)
    assert s["rejected"] == len(BAD_LINES)
    actioned = sum(v for k, v in s["verdicts"].items() if k != "allow")
    assert s["verdicts"]["allow"] > 0.85 * s["accepted"]
    assert actioned > 20
    assert s["cases_opened"] > 10
    queues = store.stats()["cases"]["open_by_queue"]
    assert "threats" in queues
    assert queues.get("security", 0) > 0  # threats naming the example platform's staff escalate
    # Nothing ordinary (football, weather, the news about ISIS) was removed or queued as a threat.
    truth: set[str] = set()
    list(generate_events(seed=7, accounts=120, posts=1200, truth=truth))
    removed = {a["subject_id"] for a in store.list_actions() if a["kind"] == "remove"}
    assert removed and removed <= truth
    flagged = {c["subject"]["id"] for c in store.list_cases(status=None) if c["subject"]["type"] == "post"}
    assert len(flagged - truth) <= 0.01 * (1200 - len(truth))
    assert len(flagged & truth) >= 0.6 * len(truth)
    store.close()
