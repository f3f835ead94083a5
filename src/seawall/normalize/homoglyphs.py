"""Fold look-alike letters (Cyrillic, Greek, Cherokee, ...) to Latin inside Latin words.

Spoofers write "раураl" with Cyrillic р/а, or "ІЅІЅ" in Cyrillic capitals, so that a filter looking
for the Latin word misses it while a reader sees the same thing. Folding every Cyrillic "а" to "a"
would destroy Russian, so a word is folded only when it is *otherwise Latin*:

* a word that contains at least one ASCII letter is folded (a Latin word with intruders), and
* a word made only of look-alikes is folded when the whole text is Latin-looking: it has ASCII
  letters and no letter of a spoofing script (Greek, Cyrillic, ...) that has no Latin look-alike.
  "join ІЅІЅ now" folds; "сор на улице" stays Russian (н, л, и, ц have no Latin twin).

The table comes from the Unicode confusables data shipped by the `confusable-homoglyphs` package
(single letters confusable with one ASCII letter), limited to scripts used for spoofing, plus a few
lower-case Cyrillic/Greek letters that look like Latin small capitals and are missing from that
data. Fullwidth and mathematical alphanumerics need no table: NFKC already maps them to ASCII.
Arabic, Hebrew, CJK and Indic look-alikes are left alone: their "o"-like letters and digits are
real letters of large living scripts, and Arabic-Indic digits are turned into ASCII digits elsewhere.
"""

from __future__ import annotations

import re
import unicodedata
from importlib import resources

import orjson

# Scripts whose letters are used to imitate Latin ones (first word of the Unicode character name).
_SPOOF_SCRIPTS = frozenset(
    {"LATIN", "GREEK", "CYRILLIC", "ARMENIAN", "CHEROKEE", "COPTIC", "LISU", "CANADIAN"}
)
# Letters that look like Latin small capitals or close shapes, missing from confusables.txt.
_EXTRA = {
    "к": "k", "м": "m", "т": "t", "н": "h", "в": "b", "п": "n", "ш": "w", "ԁ": "d",
    "κ": "k", "τ": "t", "ε": "e", "χ": "x", "ω": "w", "η": "n", "β": "b", "μ": "u",
}
# Real letters of living Latin-script orthographies that must stay in readable text.
_KEEP_IN_TEXT = frozenset({"ı"})  # Turkish dotless i

# Blocks of the non-Latin spoofing scripts; their letters that have no Latin look-alike mark a
# text as genuinely written in that script.
_FOREIGN_RANGES = (
    (0x0370, 0x03FF), (0x1F00, 0x1FFF),  # Greek
    (0x0400, 0x052F), (0x1C80, 0x1C8F), (0x2DE0, 0x2DFF), (0xA640, 0xA69F),  # Cyrillic
    (0x0530, 0x058F),  # Armenian
    (0x13A0, 0x13FF), (0xAB70, 0xABBF),  # Cherokee
    (0x2C80, 0x2CFF),  # Coptic
    (0xA4D0, 0xA4FF),  # Lisu
    (0x1400, 0x167F),  # Canadian syllabics
)


def _load_confusables() -> dict[str, str]:
    raw = orjson.loads(
        resources.files("confusable_homoglyphs").joinpath("confusables.json").read_bytes()
    )
    table: dict[str, str] = {}
    for src, entries in raw.items():
        if len(src) != 1 or src.isascii() or not unicodedata.category(src).startswith("L"):
            continue
        if unicodedata.normalize("NFKC", src) != src:
            continue  # NFKC handles it (fullwidth, mathematical, ligatures)
        try:
            script = unicodedata.name(src).split(" ", 1)[0]
        except ValueError:
            continue
        if script not in _SPOOF_SCRIPTS:
            continue
        targets = sorted(
            e["c"] for e in entries if len(e["c"]) == 1 and e["c"].isascii() and e["c"].isalpha()
        )
        if not targets:
            continue
        target = targets[0]
        if src.isupper() and target == "l":
            target = "I"  # Cyrillic/Greek capital I is listed as confusable with "l"
        table[src] = target
    for src, target in _EXTRA.items():
        table.setdefault(src, target)
    return table


_MAP = _load_confusables()
# Readable text: everything but letters of real Latin orthographies. Folding runs before case
# folding (capital Greek Eta is "H", small eta is "n") with the case of the source kept, and again
# after it with lower-case targets.
_TEXT_MAP = {k: v for k, v in _MAP.items() if k not in _KEEP_IN_TEXT}
TEXT_TABLE_CASED = str.maketrans(
    {k: (v.upper() if k.isupper() else v.lower()) for k, v in _TEXT_MAP.items()}
)
TEXT_TABLE = str.maketrans({k: v.lower() for k, v in _TEXT_MAP.items()})
# Skeleton (matching only): also Turkish dotless i, and every target lower-cased with l -> i so a
# folded letter agrees with the skeleton's leet rules.
SKELETON_TABLE = str.maketrans({k: v.lower().replace("l", "i") for k, v in _MAP.items()})

CONFUSABLE_CHARS = frozenset(_MAP)
# Characters that are, or case-fold to, a look-alike ("П" folds to "п"): the cheap "can folding
# change anything?" test is a set intersection with this, done in C.
CONFUSABLE_ANY = CONFUSABLE_CHARS | frozenset(
    c
    for c in map(chr, range(0x80, 0x20000))
    if (cf := c.casefold()) != c and not CONFUSABLE_CHARS.isdisjoint(cf)
)
ASCII_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_ASCII_LETTER_RE = re.compile(r"[A-Za-z]")
# Letters of the non-Latin spoofing scripts with no Latin look-alike: their presence marks a text as
# genuinely written in that script.
FOREIGN_LETTERS = frozenset(
    chr(cp)
    for lo, hi in _FOREIGN_RANGES
    for cp in range(lo, hi + 1)
    if chr(cp) not in CONFUSABLE_CHARS and unicodedata.category(chr(cp)).startswith("L")
)


def _marks_class() -> str:
    ranges: list[tuple[int, int]] = []
    for cp in range(0x0300, 0x1FFFF + 1):  # above: only tags and VS, removed earlier
        if unicodedata.category(chr(cp)).startswith("M"):
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1] = (ranges[-1][0], cp)
            else:
                ranges.append((cp, cp))
    return "".join(
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges
    )


# Combining marks (as the body of a regex character class). They are not \w in Python's re, but
# they are parts of letters (Indic vowel signs, a Latin letter plus accent), so words include them.
MARKS = _marks_class()

# A "word" for folding in readable text: letters and digits plus the in-word separators the
# skeleton deletes ("k.іll" is one word).
WORD_SEPARATORS = ".*'\u2019\u2018`\u00b7\u2022\u2027"
_WORD_RE = re.compile(r"(?:[^\W_]|[" + re.escape(WORD_SEPARATORS) + MARKS + r"])+")


def fold_homoglyphs(
    s: str,
    table: dict[int, str] = TEXT_TABLE,  # type: ignore[assignment]
    word_re: re.Pattern[str] = _WORD_RE,
    chars: set[str] | frozenset[str] | None = None,
) -> str:
    """Fold look-alike letters to Latin in the words of `s` that are otherwise Latin.

    `chars` may pass set(s) when the caller has it. Cheap when nothing can change: ASCII text, text
    without look-alikes, and text without any ASCII letter (Russian, Greek, Arabic) return at once.
    """
    if s.isascii():
        return s
    if chars is None:
        chars = set(s)
    if chars.isdisjoint(CONFUSABLE_CHARS) or chars.isdisjoint(ASCII_LETTERS):
        return s
    latin_context = chars.isdisjoint(FOREIGN_LETTERS)

    def fold_word(m: re.Match[str]) -> str:
        w = m.group()
        if latin_context or _ASCII_LETTER_RE.search(w):
            return w.translate(table)
        return w

    return word_re.sub(fold_word, s)
