"""Demo streams. `write_demo` (used by `seawall run --demo`) writes a small platform simulation
(seawall.simulate): ordinary talk, an extremist network with campaign bursts, threats against the
platform's staff, re-uploads of known pictures and returning accounts, so a new user sees Seawall
both leave ordinary talk alone and catch what its default rules are for.

`generate_events` is the older, simpler generator with a given number of posts (no media); the
throughput benchmarks (bench/pipeline.py, bench/scale.py) and `seawall demo generate` use it as a
load stream.

Everything is generated from the vocabularies below (written for this demo, fictional accounts);
no real data is used. The same seed gives the same stream, byte for byte.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import orjson

START = datetime(2015, 6, 1, 8, 0, tzinfo=timezone.utc)

FIRST = ["maria", "omar", "lena", "sam", "aisha", "tom", "yusuf", "nora", "li", "jamal", "ines", "dave",
         "fatima", "karim", "zoe", "hassan", "emma", "ali", "sara", "noah", "layla", "ben", "amira", "leo"]
LAST = ["lopez", "haddad", "smith", "nasser", "martin", "khan", "dubois", "rahman", "brown", "saleh",
        "moreau", "ahmed", "wilson", "farouk", "garcia", "hussein"]
BIOS = ["coffee, football and bad puns", "teacher. opinions my own", "مهندس برمجيات ومحب للقراءة",
        "photographer | traveller", "nurse, mum of two", "طالب جامعي - كرة القدم", "cycling every weekend",
        "journalist covering the Middle East", "amateur chef", "gamer and night owl", ""]

EN_ORDINARY = [
    "what a match last night, {team} were unbelievable",
    "anyone know a good place for breakfast near {city}?",
    "finally finished my thesis, time to sleep for a week",
    "the weather in {city} is lovely today",
    "reading a great book about the history of {city}",
    "my cat just knocked over my coffee again",
    "traffic on the ring road is terrible this morning",
    "new recipe tonight: lentil soup with lemon",
    "congrats to my sister on her graduation!",
    "who else is watching the final tonight? {team} to win",
    "this killer workout is going to kill me, legs are dead",
    "we are going to destroy them in the derby on saturday",
]
AR_ORDINARY = [
    "صباح الخير من {city_ar}، الجو جميل اليوم",
    "مبروك للفريق على الفوز الرائع",
    "أحتاج توصية لكتاب جيد عن التاريخ",
    "رمضان كريم لكل المتابعين",
    "القهوة أولا ثم العمل",
]
NEWS = [
    "Report: the Islamic State lost territory near Mosul, officials say {link}",
    "Analysis of how ISIS propaganda spread online in 2015 {link}",
    "Researchers study the hashtag campaigns of extremist groups {link}",
]
EXTREMIST = [
    "Baqiya wa tatamadad! the new release is out, download before it is removed {locker}",
    "باقية وتتمدد الإصدار الجديد {locker}",
    "Full video of the soldiers of the khilafah {locker} #AllEyesOnISIS",
    "the dawla remains and expands, share everywhere {paste}",
    "#The_Concept_Of_Lone_Wolf_Attacks read and act {paste}",
    "brothers, the caliphate calls you, hijrah now {locker}",
]
THREATS = [
    "@{target} we will behead you, your days are numbered",
    "@{target} you will be slaughtered like the others",
    "@{target} i will kill you and everyone in your office",
]
INCITEMENT = [
    "kill the kuffar wherever you find them, do not wait for orders",
    "every brother must strike them in their streets #lone_wolf",
]
TEAMS = ["Arsenal", "Barca", "Al Ahly", "Liverpool", "PSG", "Galatasaray"]
CITIES = ["London", "Paris", "Cairo", "Amman", "Leeds", "Lyon", "Manchester"]
CITIES_AR = ["القاهرة", "عمان", "بيروت", "الرياض"]
ORDINARY_LINKS = ["https://www.bbc.co.uk/news/world-33067866", "https://en.wikipedia.org/wiki/Mosul",
                  "https://www.youtube.com/watch?v=dQw4w9WgXcQ", "https://www.theguardian.com/world"]
LOCKERS = ["https://mega.nz/file/Xy12AbCd", "https://www.mediafire.com/file/q9w8e7r6/release.mp4",
           "https://archive.org/details/nashir_release_12", "https://top4top.io/downloadf-771ab"]
PASTES = ["https://justpaste.it/4f7xk", "https://pastebin.com/raw/Zx81Qp2L", "https://telegra.ph/news-06-01"]
# The fictional platform staff of the shipped example targets watchlist (data/lists/targets.toml),
# so that threats against them show escalation to the security queue.
STAFF = ["example_ceo", "karim_z_safety", "ilya_m_example", "examplesocial"]

# Inputs that a real firehose also carries; they show the dead-letter store at work.
BAD_LINES = [
    b'{"type":"post","id":"bad1","account_id":"u0001","text":"missing its timestamp"}',
    b'{"type":"post","id":"bad2","account_id":"u0001","created_at":"2015-06-01T10:00:00Z","text":"truncated',
    b'{"type":"poll","id":"bad3","created_at":"2015-06-01T10:00:00Z"}',
]


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def generate_events(
    seed: int = 7, accounts: int = 300, posts: int = 3000, truth: set[str] | None = None
) -> Iterator[dict[str, Any]]:
    """Events in time order: account sign-ups, posts, follows, reports and enforcement.
    If `truth` is given, the ids of the violating posts are added to it (kept out of the stream)."""
    rng = random.Random(seed)
    events: list[tuple[datetime, int, dict[str, Any]]] = []
    n = 0

    def add(t: datetime, ev: dict[str, Any]) -> None:
        nonlocal n
        events.append((t, n, ev))
        n += 1

    span = timedelta(days=2)
    ids = [f"u{i:04d}" for i in range(accounts)]
    # About 4% of accounts belong to the extremist network; one of them threatens staff.
    network = set(rng.sample(ids, max(3, accounts // 25)))
    joined: dict[str, datetime] = {}
    handles: dict[str, str] = {}
    for i, aid in enumerate(ids):
        t = START + timedelta(seconds=rng.randint(0, 3600 * 6))
        joined[aid] = t
        if aid in network:
            handle = f"abu_{rng.choice(FIRST)}{rng.randint(1, 9)}"
            name = rng.choice(["Soldier of Khilafah", "Abu Muhajir", "جندي الخلافة", "Ansar"])
            bio = rng.choice(["baqiya wa tatamadad", "الدولة الإسلامية باقية", "follow my new account, old one suspended"])
        else:
            handle = f"{rng.choice(FIRST)}_{rng.choice(LAST)}{rng.randint(1, 99)}"
            name = handle.split("_")[0].title()
            bio = rng.choice(BIOS)
        handles[aid] = handle
        add(t, {"type": "account", "id": aid, "handle": handle, "display_name": name, "bio": bio,
                "followers_count": int(rng.paretovariate(1.2) * 20), "created_at": _iso(t)})
    ordinary = [a for a in ids if a not in network]
    post_ids: list[tuple[str, str, bool]] = []
    for p in range(posts):
        in_network = rng.random() < 0.06
        author = rng.choice(sorted(network)) if in_network else rng.choice(ordinary)
        t = joined[author] + timedelta(seconds=rng.randint(60, int(span.total_seconds())))
        ev: dict[str, Any] = {"type": "post", "id": f"p{p:05d}", "account_id": author, "created_at": _iso(t)}
        if in_network:
            roll = rng.random()
            if roll < 0.6:
                text = rng.choice(EXTREMIST).format(locker=rng.choice(LOCKERS), paste=rng.choice(PASTES))
            elif roll < 0.8:
                # Half threaten the platform's (protected) staff, half ordinary users.
                target = rng.choice(STAFF) if rng.random() < 0.5 else handles[rng.choice(ordinary)]
                text = rng.choice(THREATS).format(target=target)
            else:
                text = rng.choice(INCITEMENT)
            violating = True
        else:
            roll = rng.random()
            if roll < 0.05:
                text = rng.choice(NEWS).format(link=rng.choice(ORDINARY_LINKS))
            elif roll < 0.25:
                text = rng.choice(AR_ORDINARY).format(city_ar=rng.choice(CITIES_AR))
            else:
                text = rng.choice(EN_ORDINARY).format(team=rng.choice(TEAMS), city=rng.choice(CITIES))
                if rng.random() < 0.1:
                    text += " " + rng.choice(ORDINARY_LINKS)
            violating = False
        ev["text"] = text
        if post_ids and rng.random() < 0.1:
            ev["reply_to"] = rng.choice(post_ids)[0]
        add(t, ev)
        post_ids.append((ev["id"], author, violating))
        if violating and truth is not None:
            truth.add(ev["id"])
        if violating and rng.random() < 0.3:
            seen_at = t + timedelta(minutes=rng.randint(1, 120))
            add(seen_at, {
                "type": "report", "id": f"r{p:05d}", "reporter_id": rng.choice(ordinary),
                "target_type": "post", "target_id": ev["id"],
                "reason": rng.choice(["terrorism", "violent_threat", "violence"]),
                "at": _iso(seen_at),
            })
        elif not violating and rng.random() < 0.005:
            add(t + timedelta(minutes=5), {"type": "report", "id": f"r{p:05d}", "reporter_id": rng.choice(ordinary),
                                            "target_type": "post", "target_id": ev["id"], "reason": "spam",
                                            "at": _iso(t + timedelta(minutes=5))})
    for _ in range(accounts * 2):
        a, b = rng.sample(ids, 2)
        t = max(joined[a], joined[b]) + timedelta(minutes=rng.randint(1, 600))
        add(t, {"type": "follow", "follower_id": a, "followee_id": b, "at": _iso(t)})
    # The platform's own staff suspend one network account late on day one.
    suspended = sorted(network)[0]
    t = START + timedelta(hours=20)
    add(t, {"type": "enforcement", "account_id": suspended, "action": "suspend", "reason": "terrorism",
            "by": "platform-staff", "at": _iso(t)})
    for _, _, ev in sorted(events, key=lambda e: (e[0], e[1])):
        yield ev


def simulated_events(seed: int = 7, accounts: int = 500, days: float = 1.0,
                     truth: set[str] | None = None) -> list[dict[str, Any]]:
    """The demo of `seawall run --demo`: a small platform simulation (seawall.simulate, see
    docs/simulator.md) with an extremist network, re-uploads and returning accounts. If `truth` is
    given, the ids of the violating posts are added to it."""
    from seawall.simulate import SimParams, simulate

    sim = simulate(SimParams(accounts=accounts, days=days, seed=seed))
    end = sim.summary["end"]  # the network's life after the window only matters to the benchmark
    events = [ev for ev in sim.events if (ev.get("updated_at") or ev.get("created_at") or ev.get("at")) < end]
    if truth is not None:
        posts = {ev["id"] for ev in events if ev["type"] == "post"}
        truth.update(rec["id"] for rec in sim.truth if rec["kind"] == "post" and rec["id"] in posts)
    return events


def write_demo(path: Path, seed: int = 7, accounts: int = 500, days: float = 1.0) -> int:
    """Write the demo stream (a small simulation), with a few malformed lines mixed in; returns
    the number of lines."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [orjson.dumps(ev) for ev in simulated_events(seed, accounts, days)]
    for i, bad in enumerate(BAD_LINES):
        lines.insert((i + 1) * len(lines) // (len(BAD_LINES) + 1), bad)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(b"\n".join(lines) + b"\n")
    tmp.replace(path)
    return len(lines)
