"""Loaders for the labelled data sets, and the user data format.

Every loader returns `Row`s: the text, its labels (`threat`, `extremism`: 1, 0, or absent when the
set says nothing about that label), a group id for splitting (video, channel, account, author; a
hash of the text when the set has no grouping), a language code and the data set's name.

Splits are by group, never by row: the group id is hashed (crc32, stable) to a number in 0..99;
< 70 train, < 80 calibration, the rest test. Sets with few groups (the YouTube corpus has 13
videos) are instead split by walking the groups in hash order and giving each to the split that is
furthest below its share of rows, so that each split gets whole videos and about its share.

User data (`--data` pointing at a file, or any *.csv / *.jsonl in `DIR/user/`): CSV with a header,
or JSON lines, with the fields

    text   (required)  the post
    label  (required)  "threat", "extremism", "none" (or 1/0 with a `target` column naming the label);
                       several labels may be joined with "|" ("threat|extremism")
    group  (optional)  author, account, thread or video id: rows of one group stay in one split
    lang   (optional)  ISO 639-1 code, used to report figures per language
"""

from __future__ import annotations

import csv
import gzip
import json
import os
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

LABELS = ("threat", "extremism")

csv.field_size_limit(10_000_000)


@dataclass(slots=True)
class Row:
    text: str
    labels: dict[str, int]
    group: str
    lang: str
    dataset: str
    account: str | None = None  # account id, for account-level evaluation
    profile: str | None = None  # account profile text (bio), when the set has it
    split: str = ""
    extra: dict = field(default_factory=dict)


_AR = re.compile(r"[\u0600-\u06FF]")
_LATIN = re.compile(r"[A-Za-z]")


def script_lang(text: str, default: str = "en") -> str:
    """Cheap language guess for mixed sets: Arabic when Arabic letters outnumber Latin ones."""
    ar = len(_AR.findall(text))
    la = len(_LATIN.findall(text))
    if ar > la:
        return "ar"
    return default


def _text_group(text: str) -> str:
    return "t" + format(zlib.crc32(text.strip().lower().encode("utf-8")), "08x")


def default_data_dir() -> Path:
    env = os.environ.get("SEAWALL_SHARED_DATA")
    if env:
        return Path(env)
    # src/seawall/classify/datasets.py -> repo root is parents[3]; shared data sits beside the repo
    here = Path(__file__).resolve()
    for base in (here.parents[3], Path.cwd()):
        cand = base.parent / "shared" / "data"
        if cand.is_dir():
            return cand
    return here.parents[3].parent / "shared" / "data"


def _csv(path: Path) -> Iterator[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        yield from csv.DictReader(fh)


# --- the shared sets -----------------------------------------------------------------------------


def youtube_threats(d: Path) -> Iterator[Row]:
    for r in _csv(d / "threats" / "youtube_threat_sentences.csv"):
        yield Row(r["sentence"], {"threat": int(r["threat"]), "extremism": 0}, "v" + r["video"], "en", "youtube",
                  extra={"comment": r["video"] + ":" + r["comment"]})


def threatgram(d: Path) -> Iterator[Row]:
    for r in _csv(d / "threats" / "threatgram_telegram.csv"):
        yield Row(r["reply"], {"threat": int(r["Label"] == "2")}, r["telegramChannel"], "en", "threatgram")


def gab(d: Path) -> Iterator[Row]:
    # Two files: the upstream train/test split is by row; we regroup by text hash and keep the
    # published test file as test (its own split) so figures stay comparable.
    for part in ("train", "test"):
        for r in _csv(d / "threats" / f"gab_hate_corpus_{part}.csv"):
            row = Row(r["text"], {"threat": int(r["cv"])}, _text_group(r["text"]), "en", "gab")
            if part == "test":
                row.split = "test"
            yield row


def latent_hatred(d: Path) -> Iterator[Row]:
    for r in _csv(d / "threats" / "latent_hatred_stage2.csv"):
        yield Row(r["post"], {"threat": int(r["implicit_class"] == "threatening")}, _text_group(r["post"]), "en", "latent_hatred")


def fifth_tribe(d: Path) -> Iterator[Row]:
    for r in _csv(d / "extremism" / "fifth_tribe_pro_isis_tweets.csv"):
        yield Row(r["tweets"], {"extremism": 1}, "u" + r["username"], script_lang(r["tweets"]), "fifth_tribe",
                  account="ft:" + r["username"], profile=r["description"] or "")


def radicalization_tt(d: Path, which: str = "CON") -> Iterator[Row]:
    with gzip.open(d / "extremism" / "radicalization_tt.jsonl.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            if r["label"] != which:
                continue
            lang = r.get("lang") or "und"
            if lang in ("und", "in", "hi", "ja", "it") or not lang:
                lang = script_lang(r["text"], lang)
            yield Row(r["text"], {"extremism": 0 if which == "CON" else 1}, "u" + r["user_id"], lang,
                      "radicalization_" + which.lower(), account="rt:" + r["user_id"],
                      profile=r.get("user_description") or "", extra={"retweet": r.get("is_retweet")})


def arabic_sets(d: Path) -> Iterator[Row]:
    """Arabic offensive / hate sets: negatives for extremism (they are not terrorist propaganda);
    their own labels are kept in `extra` to report what the classifiers do on offensive speech."""
    for part in ("train", "dev"):
        for r in _csv(d / "arabic" / f"osact4_{part}.csv"):
            yield Row(r["text"].replace("<LF>", "\n"), {"extremism": 0}, _text_group(r["text"]), "ar", "osact4",
                      extra={"offensive": int(r["offensive"] == "OFF"), "hate": int(r["hate"] == "HS")})
    for r in _csv(d / "arabic" / "l_hsab.csv"):
        yield Row(r["text"], {"extremism": 0}, _text_group(r["text"]), "ar", "l_hsab",
                  extra={"offensive": int(r["label"] != "normal"), "hate": int(r["label"] == "hate")})
    for lang in ("ar", "en", "fr"):
        for r in _csv(d / "arabic" / f"mlma_{lang}.csv"):
            s = r["sentiment"]
            # MLMA's closest thing to a threat label: hostility type "fearful" (the tweet spreads fear
            # of a group) and annotators who reported fear on reading it. Neither marks a violent
            # threat (see the model card); they are reported as proxies, never trained on.
            yield Row(r["tweet"], {"extremism": 0}, _text_group(r["tweet"]), lang, f"mlma_{lang}",
                      extra={"offensive": int(s != "normal"), "hate": int("hateful" in s),
                             "fearful": int("fearful" in s),
                             "annotator_fear": int("fear" in r.get("annotator_sentiment", "").split("_"))})


def general_negatives(d: Path) -> Iterator[Row]:
    """English offensive / hate tweets: negatives for extremism, and for threats only where the set's
    own labels make a violent threat unlikely (TweetEval; Davidson 'neither')."""
    for r in _csv(d / "hate" / "davidson_2017.csv"):
        lab = {"extremism": 0}
        if r["class"] == "2":
            lab["threat"] = 0
        yield Row(r["tweet"], lab, _text_group(r["tweet"]), "en", "davidson")
    for kind in ("hate", "offensive"):
        for part in ("train", "val", "test"):
            p = d / "hate" / f"tweeteval_{kind}_{part}.csv"
            if p.exists():
                for r in _csv(p):
                    yield Row(r["text"], {"extremism": 0}, _text_group(r["text"]), "en", f"tweeteval_{kind}")


LOADERS: dict[str, Callable[[Path], Iterable[Row]]] = {
    "youtube": youtube_threats,
    "threatgram": threatgram,
    "gab": gab,
    "latent_hatred": latent_hatred,
    "fifth_tribe": fifth_tribe,
    "radicalization_con": lambda d: radicalization_tt(d, "CON"),
    "arabic": arabic_sets,
    "general": general_negatives,
}
# Loaded for evaluation only (noisy labels, see the model card).
EVAL_ONLY = {"radicalization_pro": lambda d: radicalization_tt(d, "PRO")}


# --- user data -----------------------------------------------------------------------------------


def _user_rows(path: Path) -> Iterator[Row]:
    name = "user:" + path.stem
    if path.suffix == ".jsonl" or path.name.endswith(".jsonl.gz"):
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as fh:
            recs: Iterable[dict] = [json.loads(line) for line in fh if line.strip()]
    else:
        recs = list(_csv(path))
    for i, r in enumerate(recs):
        text = str(r.get("text") or "")
        if not text:
            continue
        raw = str(r.get("label", "")).strip().lower()
        labels: dict[str, int]
        if r.get("target"):
            labels = {str(r["target"]).strip(): int(float(raw or 0))}
        else:
            names = {x for x in re.split(r"[|,; ]+", raw) if x}
            labels = {lab: int(lab in names) for lab in LABELS}
        group = str(r.get("group") or _text_group(text))
        yield Row(text, labels, group, str(r.get("lang") or script_lang(text)), name)


def load_rows(data: Path, sets: Iterable[str] | None = None) -> list[Row]:
    """All rows of the shared sets found under `data` (missing files are skipped), or of the user
    file(s) when `data` is a file or holds a `user/` folder."""
    data = Path(data)
    if data.is_file():
        return list(_user_rows(data))
    rows: list[Row] = []
    for name, fn in LOADERS.items():
        if sets is not None and name not in sets:
            continue
        try:
            rows.extend(fn(data))
        except FileNotFoundError:
            continue
    user = data / "user"
    if user.is_dir():
        for p in sorted(user.iterdir()):
            if p.suffix in (".csv", ".jsonl") or p.name.endswith(".jsonl.gz"):
                rows.extend(_user_rows(p))
    return rows


def _h(s: str) -> int:
    return zlib.crc32(s.encode("utf-8")) % 100


def assign_splits(rows: list[Row], fractions: tuple[float, float] = (0.7, 0.1)) -> None:
    """Set row.split to train / calib / test by group (never by row)."""
    tr, ca = fractions
    by_set: dict[str, dict[str, int]] = {}
    for r in rows:
        by_set.setdefault(r.dataset, {}).setdefault(r.group, 0)
        by_set[r.dataset][r.group] += 1
    plan: dict[tuple[str, str], str] = {}
    for ds, groups in by_set.items():
        if len(groups) < 50:
            # few groups: hand each group (in hash order) to the split furthest below its share
            total = sum(groups.values())
            target = {"train": tr * total, "calib": ca * total, "test": (1 - tr - ca) * total}
            fill = {"train": 0.0, "calib": 0.0, "test": 0.0}
            for g in sorted(groups, key=lambda g: (zlib.crc32((ds + "/" + g).encode()), g)):
                sp = max(target, key=lambda k: (target[k] - fill[k]) / target[k] if target[k] else -1)
                plan[(ds, g)] = sp
                fill[sp] += groups[g]
        else:
            for g in groups:
                h = _h(ds + "/" + g)
                plan[(ds, g)] = "train" if h < tr * 100 else ("calib" if h < (tr + ca) * 100 else "test")
    for r in rows:
        if r.split:  # a set with its own fixed test part (Gab)
            continue
        r.split = plan[(r.dataset, r.group)]
