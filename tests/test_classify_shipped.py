"""The shipped models: the Signal on real normalised Items, `seawall score`, and a smoke test of
accuracy on handwritten sentences (not taken from any training set)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import click
import numpy as np
import pytest
from click.testing import CliRunner

from seawall.classify.cascade import Cascade, shared_cascade
from seawall.classify.cli import COMMANDS
from seawall.classify.train import normalize_skeletons
from seawall.events.model import PostEvent
from seawall.normalize.item import Item
from seawall.signals.classifier import ClassifierSignal, ClassifierSettings

CLEAR_THREATS = [
    "I am going to kill you and your whole family",
    "I will find where you live and put a bullet in your head",
    "we will slaughter every one of you, you will all die",
    "I'm going to burn your house down with you inside",
    "You better watch your back, I will stab you",
]
CLEAR_BENIGN = [
    "Thanks for sharing the recipe, the cake turned out great",
    "The weather is lovely today, going for a walk in the park",
    "Does anyone know when the next train to Leeds leaves?",
    "Congratulations on your graduation, so proud of you",
    "I really enjoyed the concert last night",
]


@pytest.fixture(scope="module")
def cascade():
    return shared_cascade(None, use_second=False)


def _items(texts):
    now = datetime(2026, 11, 29, tzinfo=timezone.utc)
    items = [Item(PostEvent(id=f"p{i}", account_id="a1", text=t, created_at=now), f"post:p{i}", 0.0)
             for i, t in enumerate(texts)]
    try:
        from seawall.normalize import Normalizer  # type: ignore[attr-defined]
    except ImportError:
        from seawall.normalize.text import normalize_text

        for it in items:
            it.texts["text"] = normalize_text(it.event.text)
    else:
        Normalizer().normalize_batch(items)
    return items


def test_shipped_model_separates_clear_cases(cascade):
    p = cascade.score(normalize_skeletons(CLEAR_THREATS + CLEAR_BENIGN)).scores[:, cascade.labels.index("threat")]
    threats, benign = p[:5], p[5:]
    assert threats.min() > benign.max()
    assert (threats >= 0.3).all() and (threats >= 0.5).sum() >= 3
    assert (benign < 0.2).all()


def test_posts_without_readable_text_are_not_scored(cascade):
    # Emoji, punctuation or a bare link carry nothing a text model can read; the shipped model
    # scored them 0.97 extremism before the guard (what near-empty training rows looked like).
    texts = ["😂😂", "!!!", "ok", "https://example.com/x", "kill them all"]
    res = cascade.score(normalize_skeletons(texts))
    assert (res.scores[:4] == 0).all() and (res.stage[:4] == 0).all()
    assert res.scores[4, cascade.labels.index("threat")] > 0.5 and res.stage[4] >= 1


def test_shipped_model_extremism_smoke(cascade):
    j = cascade.labels.index("extremism")
    p = cascade.score(normalize_skeletons([
        "The soldiers of the Khilafah have struck the kuffar, may Allah accept our brothers as shuhada. Join the caravan",
        "Baqiyah! The Islamic State remains and expands, the mujahideen advance in Wilayat Raqqah",
        "I baked bread this morning and took the dog for a walk",
        "ISIS is a terrorist group that murders civilians; they must be defeated",
    ])).scores[:, j]
    assert min(p[0], p[1]) > max(p[2], p[3])


def test_obfuscation_barely_moves_scores(cascade):
    j = cascade.labels.index("threat")
    p = cascade.score(normalize_skeletons(["I will kill you", "I w1ll k.i.l.l y0u", "I wіll kіll уou"])).scores[:, j]
    assert np.ptp(p) < 0.1


def test_signal_on_items():
    sig = ClassifierSignal(ClassifierSettings(second_stage=False, min_score=0.2, evidence_min_score=0.5))
    assert sig.labels() == {"threat", "extremism"}
    assert sig.version.startswith("hng-")
    items = _items(["I am going to kill you and your whole family", "What a lovely day for a picnic"])
    hits = sig.evaluate(items)
    assert len(hits) == 2
    threat = [h for h in hits[0] if h.label == "threat"]
    assert threat and threat[0].score >= 0.5 and threat[0].signal == "classifier"
    ev = threat[0].evidence
    assert ev["stage"] == 1 and ev["ngrams"] and any("ki" in g["ngram"] for g in ev["ngrams"])
    assert not [h for h in hits[1] if h.label == "threat"]
    assert sig.evaluate([]) == []
    # Below evidence_min_score a hit carries its score but no n-grams (naming them costs a second
    # featurisation of the post).
    strict = ClassifierSignal(ClassifierSettings(second_stage=False, min_score=0.2, evidence_min_score=1.0))
    [hit] = [h for h in strict.evaluate(items)[0] if h.label == "threat"]
    assert "ngrams" not in hit.evidence and hit.score == threat[0].score


def test_score_cli(tmp_path):
    lines = [
        {"type": "post", "id": "p1", "account_id": "a1", "text": "I will kill you tonight", "created_at": "2026-11-29T10:00:00Z"},
        {"type": "post", "id": "p2", "account_id": "a1", "text": "lovely weather today", "created_at": "2026-11-29T10:01:00Z"},
        {"type": "account", "id": "a1", "handle": "someone", "bio": "gardener", "created_at": "2026-11-29T09:00:00Z"},
    ]
    f = tmp_path / "in.jsonl"
    f.write_text("\n".join(json.dumps(x) for x in lines) + "\n{not json\n")

    @click.group()
    def cli():
        pass

    for c in COMMANDS:
        cli.add_command(c)
    res = CliRunner().invoke(cli, ["score", str(f), "--format", "seawall", "--no-second-stage"])
    assert res.exit_code == 0, res.output
    out = [json.loads(x) for x in res.stdout.splitlines() if x.strip()]
    assert [o["id"] for o in out] == ["p1", "p2", "a1"]
    assert out[0]["scores"]["threat"] > 0.5 > out[1]["scores"]["threat"]
    assert set(out[0]["scores"]) == {"threat", "extremism"}
    assert "rejected" in res.stderr


def test_second_stage_routing_is_capped(cascade):
    from seawall.classify.wordcnn import WordCNN

    # A head that answers 0.5 whatever it reads (all weights zero), on the threat label only.
    head = WordCNN(["threat"], np.zeros((2**10 + 1, 4), np.float32), np.zeros((3, 4, 3), np.float32),
                   np.zeros(3, np.float32), np.zeros((1, 3), np.float32), np.zeros(1), np.zeros((1, 3)),
                   {"band": [0.0, 1.0], "bits": 10, "version": "t"})
    c = Cascade(cascade.first, head, use_second=True, max_share=0.25)
    res = c.score(normalize_skeletons(CLEAR_THREATS + CLEAR_BENIGN + ["hello"] * 2))
    assert (res.stage == 2).sum() == 3  # ceil(0.25 * 12)
    j = c.labels.index("threat")
    assert np.allclose(res.scores[res.stage == 2, j], 0.5)
    # labels the head does not score keep their stage-1 probabilities
    k = c.labels.index("extremism")
    p1 = cascade.score(normalize_skeletons(CLEAR_THREATS + CLEAR_BENIGN + ["hello"] * 2)).scores
    assert np.allclose(res.scores[:, k], p1[:, k])


def test_links_are_not_read_by_the_classifiers(cascade):
    # Full links were a collection artifact of the pro-ISIS training tweets; the classifiers skip
    # them (link targets are the linkdomain and hashbank signals' business).
    plain = ["The weather in Leeds is lovely today", "Three hours of meetings and nothing decided"]
    linked = [plain[0] + " https://www.bbc.co.uk/news/world-21846", plain[1] + " www.github.com/someone/x"]
    a = cascade.score(normalize_skeletons(plain)).scores
    b = cascade.score(normalize_skeletons(linked)).scores
    assert np.allclose(a, b)
    assert b[:, cascade.labels.index("extremism")].max() < 0.5
    # the signal reads the same URL-free skeleton
    sig = ClassifierSignal(ClassifierSettings(second_stage=False, min_score=0.5))
    assert sig.evaluate(_items(linked)) == [[], []]
