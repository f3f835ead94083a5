"""Normalisation, language-id and list-signal throughput: prints one JSON object.

    .venv/bin/python bench/normalize.py [--posts 20000] [--batch 500] [--seed 7]

Figures (wall clock, this process; lingua's parallel mode uses both cores):
  normalize_posts_per_s     Normalizer.normalize_batch end to end: texts, skeletons, URLs,
                            hashtags, mentions and language (the stage as the pipeline runs it)
  langid_posts_per_s        LanguageIdentifier.detect_batch on the same posts' texts
  watchterms_posts_per_s    WatchTermsSignal.evaluate (default list) on normalised items
  linkdomain_posts_per_s    LinkDomainSignal.evaluate (default list) on normalised items
  normalize_us_per_post     1e6 / normalize_posts_per_s
  normalize_cpu_us_per_post CPU time of this process per post (all threads, lingua's included):
                            the cost that does not depend on what else the machine is running
  lingua_share              share of posts whose language needed lingua (no fast path)
  lingua_only_seq_posts_per_s / lingua_only_parallel_posts_per_s
                            lingua alone (low-accuracy mode) on the posts that need it, one call
                            per text vs. the multi-threaded batch call
  load_avg_1min             the machine's load when the run started (other processes share it)

Posts are synthetic, generated here from templates and word lists (60% English, 40% Arabic,
tweet-length, with mentions, hashtags, numbers, emoji and links, a few obfuscated threats);
no shared data set is read.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from datetime import datetime, timezone

from seawall.events import PostEvent
from seawall.normalize import Item, LanguageIdentifier, Normalizer, clean
from seawall.signals.linkdomain import LinkDomainSignal
from seawall.signals.watchterms import WatchTermsSignal

EN_SUBJ = "police officials residents the army protesters my brother our team the mayor witnesses they we".split(" ")
EN_VERB = ["said", "reported", "confirmed", "denied", "announced", "warned", "claimed", "will visit", "are watching"]
EN_OBJ = ["a fire near the station", "the road closures downtown", "new rules for the border", "the match tonight",
          "a large protest in the square", "the attack on the checkpoint", "the results of the election",
          "rising prices at the market", "the video that went viral", "a storm coming this weekend"]
EN_CASUAL = ["lol this is so true", "can't believe it", "honestly the best day", "who else is watching",
             "we always come back stronger", "not again smh", "thank you all for the support", "so proud of you",
             "this is why we can't have nice things", "good morning everyone"]
EN_SHORT = ["Brutal.", "Unreal scenes tonight", "Big news for Manchester", "Massive respect", "Huge if true"]
AR_SUBJ = ["الشرطة", "وزارة الداخلية", "الأهالي", "الجيش", "المتظاهرون", "أخي", "فريقنا", "المحافظ", "الشهود"]
AR_VERB = ["أعلنت", "أكدت", "نفت", "حذرت", "قالت", "ذكرت", "سيزور", "يتابعون"]
AR_OBJ = ["اندلاع حريق قرب المحطة", "إغلاق الطرق وسط المدينة", "قواعد جديدة على الحدود", "مباراة الليلة",
          "مظاهرة كبيرة في الساحة", "الهجوم على نقطة التفتيش", "نتائج الانتخابات", "ارتفاع الأسعار في السوق",
          "المقطع الذي انتشر بسرعة", "عاصفة قادمة نهاية الأسبوع"]
AR_CASUAL = ["والله كلام صحيح", "ما شاء الله تبارك الله", "صباح الخير يا جماعة", "الحمد لله على كل حال",
             "شكرا لكم على الدعم", "يا رب فرجك", "هههههه والله ضحكت"]
HASHTAGS_EN = ["news", "breaking", "football", "MondayMotivation", "WorldCup", "weather", "election", "ThrowbackThursday"]
HASHTAGS_AR = ["عاجل", "السعودية", "مصر", "الكويت", "كأس_العالم", "الدوري", "رمضان", "صباح_الخير"]
NORMAL_SITES = ["https://www.bbc.co.uk/news/world-{n}", "https://www.aljazeera.net/news/2015/{n}",
                "https://www.youtube.com/watch?v={code}&feature=share", "https://t.co/{code}",
                "https://twitter.com/user{n}/status/{n}?s=20", "https://example.com/p/{n}?utm_source=tw"]
LISTED_SITES = ["https://mega.nz/#!{code}!{code}", "https://justpaste.it/{code}", "https://bit.ly/{code}",
                "https://top4top.io/downloadf-{n}-zip.html", "telegra.ph/post-{n}"]
THREATS = ["I w1ll k\u200bill you", "we will behead y0u all", "سنذبحكم", "#The_Concept_Of_Lone_Wolf_Attacks",
           "باقـــية وتتمدد", "kіll the kuffar"]
EMOJI = ["😂", "🔥", "🙏", "❤️", "👀", "💔", ""]


def _code(rng: random.Random) -> str:
    return "".join(rng.choice("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(10))


def make_post(rng: random.Random, i: int) -> str:
    english = rng.random() < 0.6
    parts: list[str] = []
    if rng.random() < 0.3:
        parts.append(f"@user_{rng.randint(1, 5000)}")
    r = rng.random()
    if english:
        if r < 0.5:
            parts.append(f"{rng.choice(EN_SUBJ).capitalize()} {rng.choice(EN_VERB)} {rng.choice(EN_OBJ)}")
        elif r < 0.8:
            parts.append(rng.choice(EN_CASUAL))
        else:
            parts.append(rng.choice(EN_SHORT))
        if rng.random() < 0.4:
            parts.append(f"at {rng.randint(1, 12)}pm, {rng.randint(2, 900)} people")
    else:
        parts.append(f"{rng.choice(AR_SUBJ)} {rng.choice(AR_VERB)} {rng.choice(AR_OBJ)}" if r < 0.6 else rng.choice(AR_CASUAL))
        if rng.random() < 0.3:
            parts.append(f"{rng.randint(2, 900)} شخص")
    if rng.random() < 0.02:
        parts.append(rng.choice(THREATS))
    for _ in range(rng.choice((0, 0, 1, 1, 2))):
        parts.append("#" + rng.choice(HASHTAGS_EN if english else HASHTAGS_AR))
    if rng.random() < 0.5:
        site = rng.choice(LISTED_SITES) if rng.random() < 0.1 else rng.choice(NORMAL_SITES)
        parts.append(site.format(n=rng.randint(1, 10**6), code=_code(rng)))
    parts.append(rng.choice(EMOJI))
    return " ".join(p for p in parts if p)


def _items(texts: list[str]) -> list[Item]:
    now = datetime.now(timezone.utc)
    out = []
    for i, t in enumerate(texts):
        ev = PostEvent(id=str(i), account_id=f"a{i % 997}", text=t, created_at=now)
        out.append(Item(event=ev, key=ev.key(), received_at=0.0))
    return out


def _rate(n: int, seconds: float) -> float:
    return round(n / seconds, 1) if seconds > 0 else float("inf")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--posts", type=int, default=20_000)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    load = os.getloadavg()[0]
    rng = random.Random(args.seed)
    texts = [make_post(rng, i) for i in range(args.posts)]

    normalizer = Normalizer()
    watch, links = WatchTermsSignal(), LinkDomainSignal()
    normalizer.normalize_batch(_items(texts[:200]))  # warm up: lingua models, caches of the code paths

    items = _items(texts)
    t0, c0 = time.perf_counter(), time.process_time()
    for k in range(0, len(items), args.batch):
        normalizer.normalize_batch(items[k : k + args.batch])
    t_norm, c_norm = time.perf_counter() - t0, time.process_time() - c0

    lid: LanguageIdentifier = normalizer.langid
    cleaned = [clean(t) for t in texts]
    t0 = time.perf_counter()
    for k in range(0, len(cleaned), args.batch):
        lid.detect_batch(cleaned[k : k + args.batch])
    t_lang = time.perf_counter() - t0

    t0 = time.perf_counter()
    for k in range(0, len(items), args.batch):
        watch.evaluate(items[k : k + args.batch])
    t_watch = time.perf_counter() - t0

    t0 = time.perf_counter()
    for k in range(0, len(items), args.batch):
        links.evaluate(items[k : k + args.batch])
    t_links = time.perf_counter() - t0

    need = [p for p in (lid._prepare(c) for c in cleaned) if lid._fast(p) is None]
    detector = lid._detector
    t0 = time.perf_counter()
    for p in need:
        detector.compute_language_confidence_values(p)
    t_seq = time.perf_counter() - t0
    t0 = time.perf_counter()
    for k in range(0, len(need), args.batch):
        detector.compute_language_confidence_values_in_parallel(need[k : k + args.batch])
    t_par = time.perf_counter() - t0

    print(
        json.dumps(
            {
                "normalize_posts_per_s": _rate(len(items), t_norm),
                "langid_posts_per_s": _rate(len(texts), t_lang),
                "watchterms_posts_per_s": _rate(len(items), t_watch),
                "linkdomain_posts_per_s": _rate(len(items), t_links),
                "normalize_us_per_post": round(t_norm / len(items) * 1e6, 1),
                "normalize_cpu_us_per_post": round(c_norm / len(items) * 1e6, 1),
                "lingua_share": round(len(need) / len(texts), 3),
                "lingua_only_seq_posts_per_s": _rate(len(need), t_seq),
                "lingua_only_parallel_posts_per_s": _rate(len(need), t_par),
                "posts": len(texts),
                "watchterms_hits": sum(1 for h in watch.evaluate(items) if h),
                "linkdomain_hits": sum(1 for h in links.evaluate(items) if h),
                "load_avg_1min": round(load, 2),
                "cpus": os.cpu_count(),
            }
        )
    )


if __name__ == "__main__":
    main()
