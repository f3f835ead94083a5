"""Normalisation: canonical text, matching skeletons, language, URLs, hashtags and mentions.

The public API: `Normalizer` for the pipeline stage; the functions for signals and tools that
must normalise their own patterns exactly like posts are normalised (watch lists, domain lists).
"""

from seawall.normalize.entities import (
    extract_hashtags,
    extract_mentions,
    hashtag_key,
    normalize_hashtag,
    normalize_mention,
)
from seawall.normalize.item import CanonicalUrl, Item, NormalizedText
from seawall.normalize.langid import DEFAULT_LANGUAGES, LanguageIdentifier
from seawall.normalize.normalizer import Normalizer
from seawall.normalize.text import clean, normalize_text, skeleton, term_skeleton, text_form
from seawall.normalize.urls import canonical_url, defang, extract_urls

__all__ = [
    "DEFAULT_LANGUAGES",
    "CanonicalUrl",
    "Item",
    "LanguageIdentifier",
    "NormalizedText",
    "Normalizer",
    "canonical_url",
    "clean",
    "defang",
    "extract_hashtags",
    "extract_mentions",
    "extract_urls",
    "hashtag_key",
    "normalize_hashtag",
    "normalize_mention",
    "normalize_text",
    "skeleton",
    "term_skeleton",
    "text_form",
]
