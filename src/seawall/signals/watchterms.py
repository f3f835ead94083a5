"""Watch-list matching: terms, hashtags and regexes in any script, robust to obfuscation.

* Terms are matched on the skeleton (see seawall.normalize.text), with the term itself reduced by
  the same function, so "k1ll", "K I L L", "kіll" (Cyrillic і), "k\u200bill" all meet "kill".
  One Aho-Corasick automaton (pyahocorasick) holds every term, so the cost per post does not grow
  with the size of the list.
* Word boundaries are enforced: a match must start and end at a token edge, so "isis" does not
  match inside "crisis". Tokens of the skeleton are separated by spaces; "#" and "@" at a token
  start count as edges ("#isis" matches the term "isis").
* Arabic attaches clitics to words, so a term with Arabic letters at its start may follow a
  proclitic inside the same token: و ف (and, so), ب ك ل (with/by, like, for), س (future, on verbs),
  the article ال and their combinations (وال، بال، فال، كال، وب، ول، فب...), and the contraction
  لل (li + al: "للدولة" has lost the alef of "الدولة", so a term starting with ال also matches
  after ل with the article dropped). A term ending in an Arabic letter may be followed by an
  attached pronoun or plural ending: ه ها هم هما هن ك كم كما كن ي ني نا وا ون ين ات. Nothing else
  is accepted inside a token: "الدولة" does not match inside an unrelated longer word. Squeezing in
  the skeleton can merge a clitic's last letter with the term's first (ال + لواء -> الواء); the
  checks allow for that.
* Hashtags are compared whole, by hashtag_key (skeleton without spaces or underscores), against
  the item's hashtags: "#The_Concept_Of_Lone_Wolf_Attacks" = "#theconceptoflonewolfattacks".
* Regexes run on the readable normalised text (lower-case, Arabic letters unified).

One hit per (item, category): score = the highest weight among that category's matches.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Sequence

import ahocorasick

from seawall.normalize import Item, NormalizedText, hashtag_key
from seawall.signals.base import Signal, SignalHit, SignalSettings
from seawall.signals.lists import WatchEntry, load_watch_lists

_ARABIC_LETTERS = frozenset(chr(c) for c in range(0x0620, 0x064B))
# In skeleton form (as the text skeleton spells them: squeezed, so "لل" is "ل").
_PROCLITICS = frozenset(
    "و ف ب ك ل س ال وال فال بال كال ول فل وب فب وك فك وس فس".split()
)
_AFTER_LIL = frozenset("ل ول فل".split())  # prefixes left of a term whose ال was contracted
_ENCLITICS = frozenset("ه ها هم هما هن ك كم كما كن ي ني نا وا ون ين ات".split())
_EDGE = frozenset(" #@")


class WatchTermsSettings(SignalSettings):
    lists: list[str] = ["builtin:watchterms.csv"]
    min_score: float = 0.0
    max_matches: int = 10  # per hit, in the evidence


@lru_cache(maxsize=100_000)
def _tag_key(tag: str) -> str:
    return hashtag_key(tag)  # hashtags repeat across posts far more than texts do


def _excerpt(nt: NormalizedText, start: int, end: int, width: int = 60) -> str:
    """The stretch of readable text around a skeleton match (positions scale roughly linearly)."""
    t, sk = nt.text, nt.skeleton
    if not sk:
        return t[: 2 * width]
    ratio = len(t) / len(sk)
    lo = max(0, int(start * ratio) - width // 2)
    hi = min(len(t), int(end * ratio) + width // 2)
    if lo > 0:
        sp = t.find(" ", lo)
        lo = sp + 1 if 0 <= sp < start * ratio else lo
    if hi < len(t):
        sp = t.rfind(" ", 0, hi)
        hi = sp if sp > end * ratio else hi
    return ("…" if lo > 0 else "") + t[lo:hi] + ("…" if hi < len(t) else "")


class WatchTermsSignal(Signal[WatchTermsSettings]):
    name = "watchterms"
    version = "1"
    Settings = WatchTermsSettings

    def __init__(self, settings: WatchTermsSettings | None = None):
        super().__init__(settings)
        entries = load_watch_lists(self.settings.lists)
        self.entries = entries
        self._automaton: Any = None
        keys: dict[str, list[tuple[WatchEntry, bool]]] = {}
        self._hashtags: dict[str, list[WatchEntry]] = {}
        self._regexes: list[tuple[WatchEntry, re.Pattern[str]]] = []
        for e in entries:
            if e.kind == "term":
                keys.setdefault(e.key, []).append((e, False))
                if e.key.startswith("ال") and len(e.key) > 3:
                    keys.setdefault(e.key[2:], []).append((e, True))  # after the لل contraction
            elif e.kind == "hashtag":
                self._hashtags.setdefault(e.key, []).append(e)
            else:
                self._regexes.append((e, re.compile(e.key)))
        if keys:
            a = ahocorasick.Automaton()
            for k, v in keys.items():
                a.add_word(k, (k, tuple(v)))
            a.make_automaton()
            self._automaton = a
        try:  # one scan decides whether any regex can match; individual ones only then
            self._any_regex = (
                re.compile("|".join(f"(?:{r.pattern})" for _, r in self._regexes)) if self._regexes else None
            )
        except re.error:  # e.g. inline global flags cannot be combined
            self._any_regex = None

    def labels(self) -> set[str]:
        return {e.category for e in self.entries}

    # -- matching ---------------------------------------------------------------------------
    @staticmethod
    def _left_ok(s: str, start: int, key: str, contracted: bool) -> bool:
        if start == 0 or s[start - 1] in _EDGE:
            return not contracted
        if key[0] not in _ARABIC_LETTERS:
            return False
        ws = max(s.rfind(" ", 0, start), s.rfind("#", 0, start), s.rfind("@", 0, start)) + 1
        prefix = s[ws:start]
        if contracted:
            return prefix in _AFTER_LIL
        return prefix in _PROCLITICS or (prefix + key[0]) in _PROCLITICS

    @staticmethod
    def _right_ok(s: str, end: int, key: str) -> bool:
        if end == len(s) or s[end] == " ":
            return True
        if key[-1] not in _ARABIC_LETTERS:
            return False
        we = s.find(" ", end)
        suffix = s[end : len(s) if we < 0 else we]
        return suffix in _ENCLITICS or (key[-1] + suffix) in _ENCLITICS

    def _match_terms(self, field: str, nt: NormalizedText, out: dict[str, list[dict[str, Any]]]) -> None:
        s = nt.skeleton
        for end_idx, (key, targets) in self._automaton.iter(s):
            start, end = end_idx - len(key) + 1, end_idx + 1
            if not self._right_ok(s, end, key):
                continue
            for entry, contracted in targets:
                if self._left_ok(s, start, key, contracted):
                    out.setdefault(entry.category, []).append(
                        {
                            "pattern": entry.pattern,
                            "kind": "term",
                            "field": field,
                            "excerpt": _excerpt(nt, start, end),
                            "weight": entry.weight,
                            "list": entry.source,
                        }
                    )

    def _match_regexes(self, field: str, nt: NormalizedText, out: dict[str, list[dict[str, Any]]]) -> None:
        t = nt.text
        if self._any_regex is not None and self._any_regex.search(t) is None:
            return
        for entry, rx in self._regexes:
            m = rx.search(t)
            if m is not None:
                out.setdefault(entry.category, []).append(
                    {
                        "pattern": entry.pattern,
                        "kind": "regex",
                        "field": field,
                        "span": [m.start(), m.end()],
                        "excerpt": t[max(0, m.start() - 30) : m.end() + 30],
                        "weight": entry.weight,
                        "list": entry.source,
                    }
                )

    def evaluate(self, items: Sequence[Item]) -> list[list[SignalHit]]:
        results: list[list[SignalHit]] = []
        for item in items:
            found: dict[str, list[dict[str, Any]]] = {}
            for field, nt in item.texts.items():
                if self._automaton is not None and nt.skeleton:
                    self._match_terms(field, nt, found)
                if self._regexes and nt.text:
                    self._match_regexes(field, nt, found)
            if self._hashtags:
                for tag in item.hashtags:
                    for entry in self._hashtags.get(_tag_key(tag), ()):
                        found.setdefault(entry.category, []).append(
                            {
                                "pattern": entry.pattern,
                                "kind": "hashtag",
                                "field": "hashtags",
                                "excerpt": "#" + tag,
                                "weight": entry.weight,
                                "list": entry.source,
                            }
                        )
            results.append(self._hits(found))
        return results

    def _hits(self, found: dict[str, list[dict[str, Any]]]) -> list[SignalHit]:
        hits: list[SignalHit] = []
        for category, matches in found.items():
            matches.sort(key=lambda m: -m["weight"])
            score = matches[0]["weight"]
            if score < self.settings.min_score:
                continue
            # One entry per (pattern, field): a term repeated ten times is one piece of evidence.
            seen: set[tuple[str, str]] = set()
            unique = []
            for m in matches:
                k = (m["pattern"], m["field"])
                if k not in seen:
                    seen.add(k)
                    unique.append(m)
            hits.append(
                self.hit(category, score, matches=unique[: self.settings.max_matches], list=matches[0]["list"])
            )
        return hits
