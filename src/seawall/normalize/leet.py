"""The steps that turn readable normalised text into a matching skeleton.

Speed: every step is one C-level scan (str.find/replace/split, bytes.translate or a regex that
starts with a plain character class, so the regex engine skips ahead in C); Python code runs only
on the few places a scan finds (a token with a digit, a dot between letters, a run of single
letters), never once per character. Tokens are the space-separated words of `text` (which has
single spaces only).
"""

from __future__ import annotations

import re
import string
import unicodedata

from seawall.normalize.homoglyphs import SKELETON_TABLE, WORD_SEPARATORS, fold_homoglyphs

# Digits read as letters inside words: "k1ll", "h4te", "3xtr3m1st". 2 and 6 have no agreed reading.
DIGIT_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g"})
_DIGIT_LEET_BYTES = bytes.maketrans(b"01345789", b"oieastbg")

_LATIN_RE = re.compile(r"[a-z]")
_LEET_HIT_RE = re.compile(r"[0-9$!|@]")
LEET_CHARS = frozenset("0123456789$!|@")
# Symbols as letters, only where a letter is next to them, so "kill!!!", "$100" and "@user" keep
# their meaning: "k!ll", "k|ll" -> i; "$hit", "a$$" -> s; "h@te" -> a.
_BANG_RE = re.compile(r"(?<=[a-z])[!|](?=[a-z])")
_DOLLAR_RE = re.compile(r"\$(?=[a-z])|(?<=[a-z])\$")
_AT_RE = re.compile(r"(?<=[a-z])@(?=[a-z])")

SPACE_TOKEN_RE = re.compile(r"[^ ]+")


def _unleet_token(tok: str) -> str:
    if tok.isdigit() or _LATIN_RE.search(tok) is None:
        return tok  # "2015", "$100", "٣": numbers and non-Latin words keep their digits
    # bytes.translate is a table lookup in C; str.translate with a dict is a Python call per char.
    tok = tok.encode().translate(_DIGIT_LEET_BYTES).decode() if tok.isascii() else tok.translate(DIGIT_LEET)
    if "!" in tok or "|" in tok:
        tok = _BANG_RE.sub("i", tok)
    if "$" in tok:
        tok = _DOLLAR_RE.sub("s", tok)
    if "@" in tok:
        tok = _AT_RE.sub("a", tok)
    return tok


def _token_bounds(t: str, start: int, end: int) -> tuple[int, int]:
    te = t.find(" ", end)
    return t.rfind(" ", 0, start) + 1, (len(t) if te < 0 else te)


def unleet(t: str) -> str:
    """Undo leetspeak in tokens that contain a Latin letter; pure numbers are left alone."""
    m = _LEET_HIT_RE.search(t)
    if m is None:
        return t
    out: list[str] = []
    pos = 0
    while m is not None:
        ts, te = _token_bounds(t, m.start(), m.end())
        tok = t[ts:te]
        new = _unleet_token(tok)
        if new != tok:
            out.append(t[pos:ts])
            out.append(new)
            pos = te
        m = _LEET_HIT_RE.search(t, te)
    if not out:
        return t
    out.append(t[pos:])
    return "".join(out)


# Separators hidden between the letters of one word: "k.i.l.l", "ki*ll", "don't" -> joined.
# Hyphens and underscores are not in this set: "lone-wolf" is two words, not "lonewolf".

SEPARATOR_CHARS = frozenset(WORD_SEPARATORS)
_ASCII_SEPARATORS = tuple(c for c in WORD_SEPARATORS if c.isascii())


def _join_at(t: str, spans: list[tuple[int, int]]) -> str:
    n = len(t)
    out: list[str] = []
    pos = 0
    for s, e in spans:
        if s > 0 and e < n and t[s - 1].isalpha() and t[e].isalpha():
            out.append(t[pos:s])
            pos = e
    if not out:
        return t
    out.append(t[pos:])
    return "".join(out)


def join_separated(t: str, chars: set[str] | None = None) -> str:
    """Remove separators between two letters ("k.i.l.l" -> "kill"); `chars` may pass set(t)."""
    # A handful of str.find calls (memchr in C) beat a regex scan on tweet-length text.
    present = _ASCII_SEPARATORS if t.isascii() else SEPARATOR_CHARS.intersection(set(t) if chars is None else chars)
    spans: list[tuple[int, int]] = []
    n = len(t)
    for sep in present:
        i = t.find(sep)
        while i >= 0:
            j = i + 1
            while j < n and t[j] in SEPARATOR_CHARS:
                j += 1
            spans.append((i, j))
            i = t.find(sep, j)
    if not spans:
        return t
    spans.sort()
    # Overlapping spans (".'" found from both "." and "'") collapse to the first.
    merged = [spans[0]]
    for s_, e_ in spans[1:]:
        if s_ >= merged[-1][1]:
            merged.append((s_, e_))
    return _join_at(t, merged)


# Everything that is not a letter, digit, combining mark, whitespace, "#" or "@" becomes a space:
# punctuation, symbols, emoji, underscores ("#lone_wolf" -> "#lone wolf").
_ASCII_PUNCT = (string.punctuation.replace("#", "").replace("@", "") + "_").encode()
_ASCII_PUNCT_TABLE = bytes.maketrans(
    _ASCII_PUNCT + bytes(range(0, 32)) + b"\x7f", b" " * (len(_ASCII_PUNCT) + 33)
)
# Characters that are certainly word characters (checked first so that the per-character test
# below runs only on the few distinct punctuation marks and symbols of a text).
_WORD_FAST = frozenset(
    c for c in map(chr, range(0x0000, 0x0800)) if c.isalnum() or c.isspace() or c in "#@"
)
_punct_cache: dict[str, bool] = {}


def _is_punct(c: str) -> bool:
    p = _punct_cache.get(c)
    if p is None:
        # Combining marks are not \w in Python's re but are parts of letters (Indic vowel signs):
        # keep them, or every Hindi or Bengali word would be cut apart.
        p = not (c.isalnum() or c.isspace() or c in "#@" or unicodedata.category(c).startswith("M"))
        if len(_punct_cache) < 100_000:
            _punct_cache[c] = p
    return p


def non_ascii_symbols(chars: set[str]) -> list[str]:
    """The non-ASCII punctuation marks and symbols (emoji...) among `chars`, in-word separators
    (’ · •) excepted."""
    return [
        c for c in chars.difference(_WORD_FAST)
        if not c.isascii() and c not in SEPARATOR_CHARS and _is_punct(c)
    ]


def punct_to_space(t: str, chars: set[str] | None = None) -> str:
    """Punctuation and symbols to spaces; "#"/"@" kept only at token starts; spaces collapsed.

    `chars` (set(t) or a superset) may be passed for non-ASCII text.
    """
    if t.isascii():
        t = t.encode().translate(_ASCII_PUNCT_TABLE).decode()
    else:
        for c in (set(t) if chars is None else chars).difference(_WORD_FAST):
            if _is_punct(c):
                t = t.replace(c, " ")
    if "#" in t:
        t = t.replace("#", " #")
    if "@" in t:
        t = t.replace("@", " @")
    return " ".join(t.split())


_DOUBLE_RE = re.compile(r"(.)\1", re.DOTALL)


def squeeze(t: str) -> str:
    """Runs of one repeated letter become one: "kiiiill" -> "kil". Digits are kept: "100", "911".

    One regex scan finds which characters are doubled; str.replace (a C loop) then squeezes each.
    A back-referencing regex substitution over the whole string is several times slower.
    """
    for c in set(_DOUBLE_RE.findall(t)):
        if c.isalpha():
            dd = c + c
            while dd in t:
                t = t.replace(dd, c)
    return t


# Three or more single letters or digits in a row: "k i l l" (and "k-i-l-l", "k_i_l_l", whose
# separators are spaces by now). Matched on " " + t + " " so the pattern starts with a literal.
_SINGLES_RE = re.compile(r" [^\W_](?: [^\W_]){2,}(?= )")


def _join_run(m: re.Match[str]) -> str:
    run = m.group().replace(" ", "")
    if run.isdigit():
        return m.group()  # "1 2 3" is a list of numbers, not a spelled-out word
    if not run.isascii():
        run = fold_homoglyphs(run, SKELETON_TABLE, SPACE_TOKEN_RE)
    if _LATIN_RE.search(run):
        run = run.translate(DIGIT_LEET)
    return " " + squeeze(run.replace("l", "i"))


def join_single_letters(t: str) -> str:
    padded = " " + t + " "
    if _SINGLES_RE.search(padded) is None:
        return t
    return _SINGLES_RE.sub(_join_run, padded)[1:-1]
