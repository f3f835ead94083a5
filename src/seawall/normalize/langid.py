"""Offline language identification: lingua (Rust core) behind cheap, measured fast paths.

Default languages (DEFAULT_LANGUAGES), chosen for violent-extremist content work: the languages
in which jihadist and far-right propaganda and threats were documented in volume (Arabic, English,
French, German, Russian, Turkish, Persian, Urdu, Indonesian, Somali, Swahili, Tagalog, Albanian,
Bosnian, Bengali, Hindi), the big European languages of the platforms' users (Spanish, Italian,
Portuguese, Dutch, Ukrainian), and Chinese and Hebrew so that text in those scripts is named rather
than forced into a wrong label. Malay is left out on purpose: with Indonesian configured too, the
two (nearly one language) split each other's texts; Pashto, Kurdish, Hausa and Uyghur are not
supported by lingua. Every extra Latin-script language makes lingua slower and its errors more
frequent on short posts, so the set is configurable rather than "all".

Decision order for one text (what is left of it after URLs and @mentions are removed):

1. fewer than 3 letters: (None, 0.0);
2. all letters in one script that only one configured language uses (Hangul, Hebrew, Bengali,
   Devanagari when only Hindi is configured, Cyrillic when only Russian is): that language, 1.0;
3. Arabic script without any of the letters Persian and Urdu add (پ چ ژ گ ک ی ٹ ڈ ڑ ں ے ہ ھ):
   Arabic, FAST_ARABIC_CONFIDENCE. Persian and Urdu keyboards type ی and ک for ي and ك, so real
   Persian or Urdu text of more than a few words virtually always contains one of them;
4. ASCII text dominated by English function words with none of the other configured Latin-script
   languages' function words: English, FAST_ENGLISH_CONFIDENCE;
5. otherwise lingua (low-accuracy mode, preloaded models) on at most `max_chars` characters, in
   parallel over a batch when the batch is large enough to pay for the threads.

The fast paths' confidences are their measured agreement with lingua's high-accuracy mode on real
tweets (see docs/normalization.md), not lingua's own (uncalibrated) values.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from typing import Sequence

from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

from seawall.normalize.arabic import PERSIAN_URDU_LETTERS

DEFAULT_LANGUAGES: tuple[str, ...] = (
    "en", "ar", "fr", "de", "es", "it", "pt", "nl", "ru", "uk", "tr", "fa", "ur",
    "hi", "bn", "id", "tl", "so", "sw", "sq", "bs", "zh", "he",
)
FAST_ARABIC_CONFIDENCE = 0.98
FAST_ENGLISH_CONFIDENCE = 0.98

# Script of each language lingua supports that we may configure (the script its text is written in).
_SCRIPT_OF = {
    "ar": "arabic", "fa": "arabic", "ur": "arabic",
    "ru": "cyrillic", "uk": "cyrillic", "bg": "cyrillic", "mk": "cyrillic", "sr": "cyrillic",
    "be": "cyrillic", "kk": "cyrillic", "mn": "cyrillic",
    "el": "greek", "he": "hebrew", "hi": "devanagari", "mr": "devanagari", "bn": "bengali",
    "zh": "han", "ja": "kana", "ko": "hangul", "th": "thai", "ka": "georgian", "hy": "armenian",
    "gu": "gujarati", "pa": "gurmukhi", "ta": "tamil", "te": "telugu",
}


def _chars(*ranges: tuple[int, int]) -> frozenset[str]:
    return frozenset(chr(cp) for lo, hi in ranges for cp in range(lo, hi + 1) if chr(cp).isalpha())


_SCRIPT_CHARS: dict[str, frozenset[str]] = {
    "latin": _chars((0x41, 0x5A), (0x61, 0x7A), (0xC0, 0x24F), (0x1E00, 0x1EFF)),
    "arabic": _chars((0x0600, 0x06FF), (0x0750, 0x077F), (0x08A0, 0x08FF)),
    "cyrillic": _chars((0x0400, 0x052F)),
    "greek": _chars((0x0370, 0x03FF), (0x1F00, 0x1FFF)),
    "hebrew": _chars((0x0590, 0x05FF)),
    "devanagari": _chars((0x0900, 0x097F)),
    "bengali": _chars((0x0980, 0x09FF)),
    "han": _chars((0x3400, 0x4DBF), (0x4E00, 0x9FFF)),
    "kana": _chars((0x3040, 0x30FF)),
    "hangul": _chars((0x1100, 0x11FF), (0x3130, 0x318F), (0xAC00, 0xD7AF)),
    "thai": _chars((0x0E00, 0x0E7F)),
    "georgian": _chars((0x10A0, 0x10FF)),
    "armenian": _chars((0x0530, 0x058F)),
}

# English function words, and the commonest function words of the other Latin-script languages
# that are not also English words or English slang ("da", "ya", "dat", "yo", "ma", "ben"... left out).
_EN_WORDS = frozenset(
    """the and you your that this with have has for are was were what they them their there from
    just about would will been not but all can when who how our out get got like know people because
    don't i'm it's can't he's she's we're they're you're i've should could than then which into only
    some any also more after before over his her him she he my me we us of to is it in on at be or
    an by if so no do up a i am its why where going want need think these those being did does
    doing here very much most many other even still never ever now today back down off again too
    well really right good bad new old great best man men women woman thing things time day year
    years way life world make made see go come take say said tell let look give use own same
    gonna wanna lol lmao u ur im dont cant thats yall aint shit fuck fucking bitch ass
    police report reports large small near until after under against during while since between
    around through without within across already another every each both few first last next
    two three four five said says told news breaking killed attack attacks government state
    country city group today yesterday week month morning night home house school family friend
    friends life live living dead death please thank thanks everyone someone anyone nothing something
    always sometimes maybe yes yeah sure why because though although however still yet must might
    shall may cannot isn't wasn't aren't don't doesn't didn't won't wouldn't shouldn't couldn't
    i'll you'll we'll they'll he'll i'd you'd we've they've let's there's here's what's that's""".split()
)
_OTHER_WORDS = frozenset(
    """le la les et est une des du je nous vous ils pas que qui dans pour avec sur ce cette mais très
    sont être c'est j'ai au aux der das und ist nicht ich sie wir ein eine mit auf für zu sich auch
    bei aus wie oder nach noch nur sind wird kein schon dass el los las es del por con para una un
    lo como más pero sus muy sí porque esta este está hay nos todo qué il di che è sono gli della
    questo sei anche os não com uma é dos das você isso muito tem het een niet zijn voor maar ook
    dit hij naar bir bu için ile ne çok değil yok gibi daha yang di ini itu dengan untuk tidak ke
    saya kita kami akan dari juga sudah bisa aku kamu ang ng sa mga ako siya hindi ito lang naman
    kasi iyo waa ka ku aan waxaa wa kwa ni za katika hii kuwa cha sana lakini të në dhe një për
    nuk është që janë je su od što kao nije smo""".split()
) - _EN_WORDS
_WORD_RE = re.compile(r"[a-z']+")
_ASCII_CHARS = frozenset(map(chr, range(128)))
_ASCII_NON_LETTERS = bytes(c for c in range(128) if not chr(c).isalpha())
_THREE_LETTERS_RE = re.compile(r"[^\W\d_](?:[\W\d_]*?[^\W\d_]){2}")


@lru_cache(maxsize=8)
def _detector(codes: tuple[str, ...], low_accuracy: bool):  # type: ignore[no-untyped-def]
    """One lingua detector per language set, shared by every Normalizer in the process."""
    languages = [Language.from_iso_code_639_1(getattr(IsoCode639_1, c.upper())) for c in codes]
    builder = LanguageDetectorBuilder.from_languages(*languages).with_preloaded_language_models()
    if low_accuracy:
        builder = builder.with_low_accuracy_mode()
    return builder.build()


# Starts with literal characters, so the engine skips to candidates in C.
_STRIP_RE = re.compile(r"@\w+|https?://\S+|HTTPS?://\S+|www\.\S+")


def _strip_handles_and_urls(s: str) -> str:
    # @mentions and URLs are not in any language and mislead the models.
    if "@" not in s and "://" not in s and "www." not in s:
        return s
    return _STRIP_RE.sub(" ", s)


class LanguageIdentifier:
    """Detects the language of short texts; build once, reuse (the models load at construction)."""

    def __init__(
        self,
        languages: Sequence[str] | None = None,
        *,
        low_accuracy: bool = True,
        max_chars: int = 160,
        parallel_threshold: int = 16,
    ):
        codes = tuple(dict.fromkeys(c.lower() for c in (languages or DEFAULT_LANGUAGES)))
        unknown = [c for c in codes if not hasattr(IsoCode639_1, c.upper())]
        if unknown:
            raise ValueError(f"unsupported language code(s): {', '.join(unknown)}")
        self.languages = codes
        self.max_chars = max_chars
        self.parallel_threshold = parallel_threshold
        self._detector = _detector(codes, low_accuracy)
        self._lock = threading.Lock()
        by_script: dict[str, list[str]] = {}
        for c in codes:
            by_script.setdefault(_SCRIPT_OF.get(c, "latin"), []).append(c)
        # Scripts that settle the language on their own among the configured ones.
        self._unique_script = {s: langs[0] for s, langs in by_script.items() if len(langs) == 1}
        self._scripts = {s: _SCRIPT_CHARS[s] for s in by_script if s in _SCRIPT_CHARS}
        self._arabic_fast = "ar" in codes
        self._english_fast = "en" in codes

    # -- fast paths -------------------------------------------------------------------------
    def _fast(self, s: str) -> tuple[str | None, float] | None:
        """A decision without lingua, or None when lingua must decide."""
        if _THREE_LETTERS_RE.search(s) is None:
            return (None, 0.0)
        if s.isascii():
            return self._english(s) if self._english_fast else None
        chars = set(s)
        if not any(c.isalpha() for c in chars.difference(_ASCII_CHARS)):
            # Only ASCII letters (plus emoji or typographic quotes): as for ASCII text.
            return self._english(s) if self._english_fast else None
        present = [name for name, cs in self._scripts.items() if not cs.isdisjoint(chars)]
        if not present:
            # Letters only of scripts no configured language uses (Thai when Thai is not configured).
            latin_ext = not _SCRIPT_CHARS["latin"].isdisjoint(chars)
            return None if latin_ext else (None, 0.0)
        if len(present) == 2 and "latin" in present:
            # Arabic or Cyrillic posts carry a Latin "RT", hashtag or brand name; a few Latin
            # letters against many others do not make the text mixed. Both counts are C-speed:
            # ASCII letters via bytes.translate, other characters as the non-ASCII remainder.
            ascii_part = s.encode("ascii", "ignore")
            latin = len(ascii_part.translate(None, _ASCII_NON_LETTERS))
            if latin * 5 <= len(s) - len(ascii_part):
                present.remove("latin")
        if len(present) != 1:
            return None
        script = present[0]
        if script in self._unique_script:
            return (self._unique_script[script], 1.0)
        if script == "arabic" and self._arabic_fast and PERSIAN_URDU_LETTERS.isdisjoint(chars):
            return ("ar", FAST_ARABIC_CONFIDENCE)
        if script == "latin" and self._english_fast:
            return self._english(s)  # curly quotes, emoji: still possibly plain English
        return None

    def _english(self, s: str) -> tuple[str | None, float] | None:
        words = _WORD_RE.findall(s.lower().replace("\u2019", "'"))
        n = len(words)
        if n < 3:
            return None
        en = sum(map(_EN_WORDS.__contains__, words))
        # Three function words (two in a very short post), at least 30% of the words, and not
        # one function word of another configured Latin-script language.
        if (en >= 3 or (en == 2 and n <= 5)) and en * 10 >= n * 3 and _OTHER_WORDS.isdisjoint(words):
            return ("en", FAST_ENGLISH_CONFIDENCE)
        return None

    # -- lingua ---------------------------------------------------------------------------------
    def _prepare(self, s: str) -> str:
        s = _strip_handles_and_urls(s)
        if len(s) > self.max_chars:
            cut = s.rfind(" ", 0, self.max_chars)
            s = s[: cut if cut > self.max_chars // 2 else self.max_chars]
        return s

    def _lingua(
        self, texts: list[str], declared: list[str | None]
    ) -> list[tuple[str | None, float]]:
        with self._lock:  # lingua's own pool is used for parallel calls; one batch at a time
            if len(texts) >= self.parallel_threshold:
                all_values = self._detector.compute_language_confidence_values_in_parallel(texts)
            else:
                all_values = [self._detector.compute_language_confidence_values(t) for t in texts]
        out: list[tuple[str | None, float]] = []
        for values, prior in zip(all_values, declared):
            if not values or values[0].value <= 0.0:
                out.append((None, 0.0))
                continue
            best = values[0]
            code, conf = best.language.iso_code_639_1.name.lower(), float(best.value)
            if prior is not None and prior != code and conf < 0.6:
                # The platform's declared language breaks a near-tie in its favour.
                for v in values[1:]:
                    if v.language.iso_code_639_1.name.lower() == prior and v.value >= 0.25 * conf:
                        code, conf = prior, float(v.value)
                        break
            out.append((code, conf))
        return out

    # -- public API -----------------------------------------------------------------------------
    def detect(self, text: str, declared: str | None = None) -> tuple[str | None, float]:
        """(ISO 639-1 code or None, confidence in [0, 1]) for one text."""
        return self.detect_batch([text], [declared])[0]

    def detect_batch(
        self, texts: Sequence[str], declared: Sequence[str | None] | None = None
    ) -> list[tuple[str | None, float]]:
        """Detect many texts at once; lingua runs on both cores for the ones it must decide.

        `declared`: the platform's language tag per text ("en", "en-GB", "und"), used only as a
        prior when lingua's own answer is uncertain.
        """
        priors = [self._prior(d) for d in (declared or [None] * len(texts))]
        results: list[tuple[str | None, float] | None] = []
        pending: list[int] = []
        prepared: list[str] = []
        for i, raw in enumerate(texts):
            s = self._prepare(raw)
            r = self._fast(s)
            results.append(r)
            if r is None:
                pending.append(i)
                prepared.append(s)
        if pending:
            for i, r in zip(pending, self._lingua(prepared, [priors[i] for i in pending])):
                results[i] = r
        return results  # type: ignore[return-value]

    def _prior(self, declared: str | None) -> str | None:
        if not declared:
            return None
        code = declared.split("-", 1)[0].split("_", 1)[0].lower()
        return code if code in self.languages else None
