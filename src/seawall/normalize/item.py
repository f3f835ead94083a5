"""What the normalise stage hands to signals: the event plus its normalised texts and entities."""

from __future__ import annotations

from dataclasses import dataclass, field

from seawall.events import Event


@dataclass(slots=True)
class NormalizedText:
    original: str
    # NFKC, case-folded, homoglyphs folded to Latin inside Latin words, zero-width and bidi
    # controls removed, Arabic letter variants unified, whitespace collapsed: readable.
    text: str
    # `text` with leetspeak undone, look-alike letters merged and repeats squeezed: not for
    # display, only for matching obfuscated words. Watch terms go through the same function.
    skeleton: str


@dataclass(slots=True)
class CanonicalUrl:
    original: str  # as listed by the event, or as found in the text once de-fanged ("hxxp", "[.]")
    # canonical form: lower-case scheme, host in ASCII/punycode form, no default port or user-info,
    # tracking parameters and fragment dropped, other parameters sorted (see normalize/urls.py)
    url: str
    domain: str  # host without "www.", IDNA decoded to Unicode, look-alike letters NOT folded


@dataclass(slots=True)
class Item:
    """One accepted event on its way through the pipeline."""

    event: Event
    key: str
    received_at: float  # epoch seconds when Seawall accepted it; latency is measured from here
    texts: dict[str, NormalizedText] = field(default_factory=dict)
    lang: str | None = None  # ISO 639-1 code, or None when too short or unknown
    lang_confidence: float = 0.0
    urls: list[CanonicalUrl] = field(default_factory=list)
    hashtags: list[str] = field(default_factory=list)  # normalised, without '#'
    mentions: list[str] = field(default_factory=list)  # normalised handles, without '@'
