"""Hashtags and mentions: extraction from normalised text and merging with what the event lists.

* A hashtag is "#" followed by Unicode letters, digits, underscores and combining marks (so Arabic
  and Hindi tags work), with at least one letter ("#1" is not a tag), not preceded by a letter,
  digit, "&", "/" or "#" (so URL fragments "page#top", "/#/route" and HTML entities "&#39;" are
  not tags). Stored normalised like `text` (NFKC, case-folded, Arabic unified), without "#".
* A mention is "@" followed by a handle (letters, digits, underscores), optionally with a
  Mastodon/Fediverse instance ("@name@example.social"), not preceded by a word character, "." or
  "/" (so e-mail addresses and "medium.com/@user" paths are not mentions). Without "@".
* hashtag_key() is what hashtag matching compares: the skeleton with spaces removed, so
  "#The_Concept_Of_Lone_Wolf_Attacks", "#TheConceptOfLoneWolfAttacks" and "#the_c0ncept..." agree.
"""

from __future__ import annotations

import re
from typing import Iterable

from seawall.normalize.homoglyphs import MARKS
from seawall.normalize.leet import squeeze
from seawall.normalize.text import skeleton, text_form

# Both patterns start with a literal, so the regex engine skips to each "#"/"@" in C; what may
# precede it is checked in Python for the few hits.
_HASHTAG_RE = re.compile(r"#((?:\w|[" + MARKS + r"])+)")
_MENTION_RE = re.compile(r"@(\w{1,64}(?:@[\w-]+(?:\.[\w-]+)+)?)")
_LETTER_RE = re.compile(r"[^\W\d_]")
_NOT_BEFORE_TAG = frozenset("&/#")
_NOT_BEFORE_MENTION = frozenset("./@")


def extract_hashtags(text: str) -> list[str]:
    """Hashtags in normalised `text`, without "#", in order, deduplicated."""
    if "#" not in text:
        return []
    out: list[str] = []
    for m in _HASHTAG_RE.finditer(text):
        s = m.start()
        if s > 0 and ((prev := text[s - 1]).isalnum() or prev == "_" or prev in _NOT_BEFORE_TAG):
            continue
        tag = m.group(1)
        if _LETTER_RE.search(tag) and tag not in out:
            out.append(tag)
    return out


def extract_mentions(text: str) -> list[str]:
    """Mentioned handles in normalised `text`, without "@", in order, deduplicated."""
    if "@" not in text:
        return []
    out: list[str] = []
    for m in _MENTION_RE.finditer(text):
        s = m.start()
        if s > 0 and ((prev := text[s - 1]).isalnum() or prev == "_" or prev in _NOT_BEFORE_MENTION):
            continue
        handle = m.group(1)
        if handle not in out:
            out.append(handle)
    return out


def normalize_hashtag(tag: str) -> str:
    """A hashtag as an event lists it ("#Foo", "foo") in the normalised form, without "#"."""
    return text_form(tag).lstrip("#").replace(" ", "_")


def normalize_mention(handle: str) -> str:
    return text_form(handle).lstrip("@").replace(" ", "")


def hashtag_key(tag: str) -> str:
    """The form hashtags are matched in: skeleton of the normalised tag, without spaces or "#"."""
    sk = skeleton(text_form(tag.lstrip("#")))
    return squeeze(sk.replace(" ", "").replace("#", ""))


def merge(first: Iterable[str], second: Iterable[str]) -> list[str]:
    """Concatenate without duplicates, keeping the first occurrence's order; empty strings dropped."""
    out: list[str] = []
    seen: set[str] = set()
    for x in (*first, *second):
        if x and x not in seen:
            seen.add(x)
            out.append(x)
    return out
