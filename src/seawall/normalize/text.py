"""Text normalisation: a readable canonical form (`text`) and a matching skeleton (`skeleton`).

`text` (what reviewers read and regexes run on):

1. remove invisible characters: zero-width space/joiners/marks U+200B-200F, bidi embeddings and
   overrides U+202A-202E and isolates U+2066-2069, word joiner and invisible operators U+2060-2064,
   BOM U+FEFF, Mongolian vowel separator U+180E, soft hyphen, combining grapheme joiner U+034F,
   Arabic letter mark U+061C, Unicode tag characters U+E0000-E007F, variation selectors, Hangul
   fillers (a favourite "blank" display name) and lone surrogates. They are removed, not turned
   into spaces, because their use in abuse is to split a word ("k\\u200bill") invisibly;
2. Unicode NFKC: fullwidth, mathematical bold/italic/script letters, ligatures, superscripts and
   Arabic presentation forms become their plain letters; exotic spaces become spaces;
3. homoglyphs folded to Latin inside otherwise-Latin words (see homoglyphs.py);
4. case-folded (str.casefold: ß -> ss, final sigma -> sigma) and NFKC again if folding broke it;
5. Arabic letter variants unified, diacritics and tatweel removed, Arabic digits made ASCII
   (see arabic.py);
6. control characters become spaces; whitespace runs collapse to one space; ends stripped.

`skeleton` (matching only, never shown): `text` further reduced so that obfuscated spellings of a
word agree. Steps, in this order (the order makes skeleton() idempotent):

a. Latin/Greek/Cyrillic diacritics dropped (NFD, drop U+0300-036F, NFC): "kïll" -> "kill";
   emoji and other non-ASCII symbols become spaces (as step e would do; done first for speed);
b. homoglyphs folded again with the matching table (adds Turkish dotless ı -> i), deciding per
   space-separated token, the same unit step c uses (that shared unit is what keeps skeleton()
   idempotent: folding can give a token its first Latin letter, which changes step c);
c. leetspeak undone inside space-separated tokens that contain a Latin letter: 0 o, 1 i, 3 e,
   4 a, 5 s, 7 t, 8 b, 9 g; "!" and "|" between letters -> i, "$" next to a letter -> s, "@"
   between letters -> a.
   Pure numbers ("2015", "9/11") and non-Latin words keep their digits;
d. separators hidden inside a word removed: "k.i.l.l", "ki*ll", "don't" -> "kill", "dont";
e. every other punctuation mark, symbol, emoji and underscore becomes a space; "#" and "@" stay
   only at the start of a token; whitespace collapses;
f. l -> i everywhere, so "k1ll", "ki11" and "kill" agree ("kill" -> "kiii" -> "ki");
g. runs of one repeated letter squeezed to one ("kiiiilll" -> "ki", "ووو" -> "و"); digits are
   not squeezed ("100", "911");
h. runs of three or more single letters joined: "k i l l", "k-i-l-l", "k_i_l_l" -> "ki".

Watch terms go through exactly the same function (skeleton(normalize_text(term).text)), so the
matching is symmetric: whatever the skeleton merges, it merges on both sides.
"""

from __future__ import annotations

import re
import unicodedata

from seawall.normalize.arabic import normalize_arabic
from seawall.normalize.homoglyphs import (
    CONFUSABLE_ANY,
    SKELETON_TABLE,
    TEXT_TABLE,
    TEXT_TABLE_CASED,
    fold_homoglyphs,
)
from seawall.normalize.item import NormalizedText
from seawall.normalize.leet import (
    LEET_CHARS,
    SEPARATOR_CHARS,
    SPACE_TOKEN_RE,
    join_separated,
    join_single_letters,
    non_ascii_symbols,
    punct_to_space,
    squeeze,
    unleet,
)

_INVISIBLE_RANGES = (
    (0x00AD, 0x00AD),  # soft hyphen
    (0x034F, 0x034F),  # combining grapheme joiner
    (0x061C, 0x061C),  # Arabic letter mark (a bidi control)
    (0x115F, 0x1160),  # Hangul choseong/jungseong fillers
    (0x180E, 0x180E),  # Mongolian vowel separator
    (0x200B, 0x200F),  # zero-width space, ZWNJ, ZWJ, LRM, RLM
    (0x202A, 0x202E),  # bidi embeddings and overrides
    (0x2060, 0x2069),  # word joiner, invisible operators, bidi isolates
    (0x3164, 0x3164),  # Hangul filler
    (0xD800, 0xDFFF),  # lone surrogates (cannot be encoded, break downstream code)
    (0xFE00, 0xFE0F),  # variation selectors
    (0xFEFF, 0xFEFF),  # BOM / zero-width no-break space
    (0xFFA0, 0xFFA0),  # halfwidth Hangul filler
    (0xE0000, 0xE007F),  # tag characters
    (0xE0100, 0xE01EF),  # variation selectors supplement
)
_INVISIBLE: dict[int, str | None] = {
    cp: None for lo, hi in _INVISIBLE_RANGES for cp in range(lo, hi + 1)
}
_INVISIBLE[0x2800] = " "  # Braille pattern blank: renders as a space
_INVISIBLE_SET = frozenset(chr(cp) for cp in _INVISIBLE)
# C0/C1 controls that str.split() does not treat as whitespace.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f]")
_CONTROL_SET = frozenset(chr(c) for c in (*range(0x00, 0x09), *range(0x0E, 0x1C), *range(0x7F, 0x85), *range(0x86, 0xA0)))
# Characters whose NFD form carries a U+0300-036F mark (Latin, Greek, Cyrillic with diacritics).
_HAS_DIACRITIC = frozenset(
    c
    for c in map(chr, range(0x00C0, 0x2000))
    if any(0x0300 <= ord(d) <= 0x036F for d in unicodedata.normalize("NFD", c))
) | frozenset(map(chr, range(0x0300, 0x0370)))
_COMBINING_RE = re.compile("[\u0300-\u036f]+")


def clean(s: str) -> str:
    """Invisible characters removed and NFKC applied, case kept: the form URLs are taken from."""
    if s.isascii():
        return s
    if not _INVISIBLE_SET.isdisjoint(s):
        s = s.translate(_INVISIBLE)
    if not unicodedata.is_normalized("NFKC", s):
        s = unicodedata.normalize("NFKC", s)
    return s


def _collapse(t: str, chars: set[str] | None = None) -> str:
    if (_CONTROL_RE.search(t) if chars is None else not _CONTROL_SET.isdisjoint(chars)):
        t = _CONTROL_RE.sub(" ", t)
    return " ".join(t.split())


def text_form(s: str, *, cleaned: bool = False) -> str:
    """The readable normalised form of `s` (steps 1-6 of the module docstring).

    `cleaned=True` says `s` is already clean(s). "Is there anything to do?" is answered by
    intersecting set(s) with precomputed character sets (C speed) rather than by regex scans,
    which cost some 40 ns per character each.
    """
    if s.isascii():
        return _collapse(s.lower())
    t = s if cleaned else clean(s)
    chars = set(t)
    t = normalize_arabic(t, chars)  # first: removing harakat can join two words into one
    if not chars.isdisjoint(CONFUSABLE_ANY):
        t = fold_homoglyphs(t, TEXT_TABLE_CASED, chars=chars)
        # Again after case folding: "İ" becomes an ASCII "i" only now, which can make a word Latin.
        t = fold_homoglyphs(t.casefold(), TEXT_TABLE)
    else:
        t = t.casefold()
    if not unicodedata.is_normalized("NFKC", t):
        t = unicodedata.normalize("NFKC", t)
    return _collapse(t, chars)


def _ascii_skeleton(t: str) -> str:
    t = punct_to_space(join_separated(unleet(t)))
    return join_single_letters(squeeze(t.replace("l", "i")))


def skeleton(t: str) -> str:
    """The matching skeleton of an already normalised `text` (steps a-h of the module docstring)."""
    if t.isascii():
        return _ascii_skeleton(t)
    chars = set(t)
    # Emoji and other non-ASCII symbols become spaces first (step e would do it later anyway): an
    # English post with an emoji then takes the all-ASCII path, several times faster.
    symbols = non_ascii_symbols(chars)
    if symbols:
        for c in symbols:
            t = t.replace(c, " ")
        if t.isascii():
            return _ascii_skeleton(t)
        chars.difference_update(symbols)
    if not _HAS_DIACRITIC.isdisjoint(chars):
        t = unicodedata.normalize("NFC", _COMBINING_RE.sub("", unicodedata.normalize("NFD", t)))
        chars = set(t)
    t = fold_homoglyphs(t, SKELETON_TABLE, SPACE_TOKEN_RE, chars)
    if not LEET_CHARS.isdisjoint(chars):
        t = unleet(t)
    if not SEPARATOR_CHARS.isdisjoint(chars):
        t = join_separated(t, chars)
    # `chars` may now hold characters that were replaced: a superset only costs a no-op replace.
    t = punct_to_space(t, chars)
    return join_single_letters(squeeze(t.replace("l", "i")))


def normalize_text(s: str, *, cleaned: str | None = None) -> NormalizedText:
    """Normalise one string: keeps `original`, fills `text` and `skeleton`.

    `cleaned` may pass clean(s) when the caller already has it (the normaliser does, for URLs).
    """
    t = text_form(s) if cleaned is None else text_form(cleaned, cleaned=True)
    return NormalizedText(original=s, text=t, skeleton=skeleton(t))


def term_skeleton(term: str) -> str:
    """The skeleton a watch term is matched by: the same function as for posts."""
    return skeleton(text_form(term))
