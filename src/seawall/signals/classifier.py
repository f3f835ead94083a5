"""The `classifier` signal: calibrated violent-threat and extremism scores for every text event.

Labels: `threat`, `extremism`. Score: the cascade's calibrated probability (seawall.classify).
A hit is emitted for a label when its score is at least `min_score`; the evidence names the
n-grams that pushed the score up the most (from the first-stage linear model), the stage that
decided (1 = hashed n-grams, 2 = stage-1 score refined by the word CNN) and the model version.
"""

from __future__ import annotations

from typing import Sequence

from pydantic import Field

from seawall.normalize.item import Item, NormalizedText
from seawall.signals.base import Signal, SignalHit, SignalSettings

LABELS = ("threat", "extremism")
# Which normalised texts of an item are scored, in order (posts: "text"; accounts: profile fields).
TEXT_KEYS = ("text", "bio", "display_name", "name")


class ClassifierSettings(SignalSettings):
    # Scores below this are not reported as hits (the policy engine sees no hit at all).
    min_score: float = Field(0.1, ge=0.0, le=1.0)
    # Stage 2 (word CNN, stage2.npz) on undecided posts; off = first stage only.
    second_stage: bool = True
    # At most this share of a batch goes to stage 2 (bounds its cost whatever the stream; ~10 us per
    # routed post, so 0.5 costs at most ~5 us per post, under 2% of the pipeline's time per post).
    # High enough that it rarely binds: when it does, which posts go depends on how the stream is
    # cut into batches (one process and several workers would then differ by a post or two).
    second_stage_max_share: float = Field(0.5, ge=0.0, le=1.0)
    # A directory holding first_stage.npz (and optionally stage2.npz); default: the shipped models.
    model_dir: str | None = None
    # How many n-grams to name as evidence per hit, for hits scoring at least evidence_min_score
    # (naming them costs a second featurisation of the post; lower hits carry no n-grams).
    evidence_ngrams: int = Field(5, ge=0, le=50)
    evidence_min_score: float = Field(0.8, ge=0.0, le=1.0)


def _item_text(item: Item) -> tuple[str, str] | None:
    """(skeleton, readable text) of the item's texts, joined; None when the item has no text."""
    parts: list[NormalizedText] = []
    for key in TEXT_KEYS:
        nt = item.texts.get(key)
        if nt is not None and nt.skeleton:
            parts.append(nt)
    if not parts:
        parts = [nt for nt in item.texts.values() if nt.skeleton]
    if not parts:
        ev = item.event
        raw = getattr(ev, "text", None) or getattr(ev, "bio", None)
        if not raw:
            return None
        from seawall.normalize.text import normalize_text

        nt = normalize_text(raw)
        parts = [nt]
    from seawall.classify.train import classifier_skeleton

    return " ".join(classifier_skeleton(p.text, p.skeleton) for p in parts), " ".join(p.text for p in parts)


class ClassifierSignal(Signal[ClassifierSettings]):
    name = "classifier"
    version = "unloaded"
    Settings = ClassifierSettings

    def __init__(self, settings: ClassifierSettings | None = None):
        super().__init__(settings)
        from seawall.classify.cascade import shared_cascade

        s = self.settings
        self.cascade = shared_cascade(s.model_dir, s.second_stage, s.second_stage_max_share)
        self.version = self.cascade.version  # type: ignore[misc]

    def labels(self) -> set[str] | None:
        return set(LABELS)

    def evaluate(self, items: Sequence[Item]) -> list[list[SignalHit]]:
        out: list[list[SignalHit]] = [[] for _ in items]
        where: list[int] = []
        skel: list[str] = []
        texts: list[str] = []
        for i, item in enumerate(items):
            got = _item_text(item)
            if got is None:
                continue
            where.append(i)
            skel.append(got[0])
            texts.append(got[1])
        if not where:
            return out
        res = self.cascade.score(skel, texts)
        model = self.cascade.first
        thr = self.settings.min_score
        found: list[tuple[int, int, str, float]] = []  # (row, item index, label, score)
        for row, i in enumerate(where):
            for j, lab in enumerate(self.cascade.labels):
                p = float(res.scores[row, j])
                if p >= thr:
                    found.append((row, i, lab, p))
        if not found:
            return out
        ngrams: list[list[dict] | None] = [None] * len(found)
        explain = [k for k, f in enumerate(found) if f[3] >= self.settings.evidence_min_score]
        if self.settings.evidence_ngrams and explain:
            got = model.explain_batch([skel[found[k][0]] for k in explain], [found[k][2] for k in explain],
                                      self.settings.evidence_ngrams)
            for k, g in zip(explain, got):
                ngrams[k] = g
        thresholds = model.meta.get("thresholds", {})
        for (row, i, lab, p), grams in zip(found, ngrams):
            evidence = {"stage": int(res.stage[row]), "model": self.version, "threshold": thresholds.get(lab, 0.5)}
            if grams is not None:
                evidence["ngrams"] = grams
            if items[i].lang:
                evidence["lang"] = items[i].lang
            out[i].append(self.hit(lab, round(p, 4), **evidence))
        return out
