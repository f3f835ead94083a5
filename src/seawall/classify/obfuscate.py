"""Obfuscated copies of test texts, to measure how much evasion costs the classifiers.

Each function is deterministic for a given seed, so figures can be reproduced."""

from __future__ import annotations

import random
import re

HOMOGLYPHS = {"a": "а", "e": "е", "o": "о", "c": "с", "p": "р", "x": "х", "i": "і", "y": "у", "k": "κ", "s": "ѕ",
              "A": "Α", "E": "Ε", "O": "Ο", "T": "Т", "H": "Н", "K": "К", "M": "М", "B": "В"}
LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7", "l": "1", "g": "9", "b": "8"}
ARABIC_MARKS = ["\u064e", "\u064f", "\u0650", "\u0651", "\u0652", "\u064b", "\u0640"]  # harakat, shadda, sukun, tatweel
_AR = re.compile(r"[\u0621-\u064A]")


def homoglyphs(text: str, rate: float = 0.5, seed: int = 0) -> str:
    rnd = random.Random(seed)
    return "".join(HOMOGLYPHS[c] if c in HOMOGLYPHS and rnd.random() < rate else c for c in text)


def leetspeak(text: str, rate: float = 0.5, seed: int = 0) -> str:
    rnd = random.Random(seed)
    return "".join(LEET[c.lower()] if c.lower() in LEET and rnd.random() < rate else c for c in text)


def spacing(text: str, rate: float = 0.4, seed: int = 0) -> str:
    """Split words: letters spaced out ("k i l l"), dotted ("k.i.l.l") or joined by zero-width spaces."""
    rnd = random.Random(seed)
    out = []
    for w in text.split(" "):
        if len(w) >= 3 and rnd.random() < rate:
            sep = rnd.choice([" ", ".", "\u200b", "-"])
            w = sep.join(w)
        out.append(w)
    return " ".join(out)


def diacritics(text: str, rate: float = 0.5, seed: int = 0) -> str:
    """Arabic harakat and tatweel after Arabic letters; combining accents on Latin vowels."""
    rnd = random.Random(seed)
    out = []
    for c in text:
        out.append(c)
        if _AR.match(c) and rnd.random() < rate:
            out.append(rnd.choice(ARABIC_MARKS))
        elif c in "aeiouAEIOU" and rnd.random() < rate:
            out.append(rnd.choice(["\u0301", "\u0308", "\u0300"]))
    return "".join(out)


def mixed(text: str, seed: int = 0) -> str:
    return diacritics(spacing(leetspeak(homoglyphs(text, 0.3, seed), 0.3, seed + 1), 0.2, seed + 2), 0.3, seed + 3)


OBFUSCATORS = {"homoglyphs": homoglyphs, "leetspeak": leetspeak, "spacing": spacing, "diacritics": diacritics, "mixed": mixed}
