"""The normalise stage: fills an Item's texts, language, URLs, hashtags and mentions in place."""

from __future__ import annotations

from typing import Sequence

from seawall.events import AccountEvent, PostEvent, ReportEvent
from seawall.normalize.entities import (
    extract_hashtags,
    extract_mentions,
    merge,
    normalize_hashtag,
    normalize_mention,
)
from seawall.normalize.item import CanonicalUrl, Item
from seawall.normalize.langid import LanguageIdentifier
from seawall.normalize.text import clean, normalize_text
from seawall.normalize.urls import canonical_url, extract_urls


def _canonical_urls(raws: list[str]) -> list[CanonicalUrl]:
    out: list[CanonicalUrl] = []
    seen: set[str] = set()
    for raw in raws:
        cu = canonical_url(raw)
        if cu is not None and cu.url not in seen:
            seen.add(cu.url)
            out.append(cu)
    return out


class Normalizer:
    """Builds its language detector once (models load in the constructor); reuse one per process.

    Which fields are texts:
      post -> "text"; account -> "handle", "display_name", "bio"; report -> "text" (if any).
    The language is detected on the main text (post/report text; account bio, else display name),
    with the platform's declared `lang` only as a tie-breaker. Follow and enforcement events carry
    no text and are left as they are.
    """

    def __init__(
        self,
        languages: Sequence[str] | None = None,
        *,
        langid: LanguageIdentifier | None = None,
    ):
        self.langid = langid if langid is not None else LanguageIdentifier(languages)

    def normalize(self, item: Item) -> None:
        self.normalize_batch([item])

    def normalize_batch(self, items: list[Item]) -> None:
        """Fill every item in place; language detection runs once for the whole batch."""
        lang_idx: list[int] = []
        lang_texts: list[str] = []
        declared: list[str | None] = []
        for i, item in enumerate(items):
            main = self._fill(item)
            if main is not None:
                lang_idx.append(i)
                lang_texts.append(main[0])
                declared.append(main[1])
        if lang_texts:
            for i, (code, conf) in zip(lang_idx, self.langid.detect_batch(lang_texts, declared)):
                items[i].lang = code
                items[i].lang_confidence = conf

    def _fill(self, item: Item) -> tuple[str, str | None] | None:
        """Texts, URLs and entities of one item; returns (main text, declared lang) for langid."""
        ev = item.event
        if isinstance(ev, PostEvent):
            fields = {"text": ev.text}
            main, declared = "text", ev.lang
            links, tags, mentions = ev.links, ev.hashtags, ev.mentions
        elif isinstance(ev, AccountEvent):
            fields = {"handle": ev.handle, "display_name": ev.display_name, "bio": ev.bio}
            main = "bio" if ev.bio else "display_name"
            declared = ev.lang
            links, tags, mentions = ev.links, [], []
        elif isinstance(ev, ReportEvent):
            fields = {"text": ev.text}
            main, declared = "text", None
            links, tags, mentions = [], [], []
        else:
            return None
        raw_urls = list(links)
        found_tags: list[str] = []
        found_mentions: list[str] = []
        main_clean: str | None = None
        for name, value in fields.items():
            if not value:
                continue
            cleaned = clean(value)
            if name == main:
                main_clean = cleaned
            nt = normalize_text(value, cleaned=cleaned)
            item.texts[name] = nt
            if name == "handle":
                continue  # a handle is an identifier, not prose with links and tags
            raw_urls.extend(extract_urls(cleaned))
            found_tags.extend(extract_hashtags(nt.text))
            found_mentions.extend(extract_mentions(nt.text))
        item.urls = _canonical_urls(raw_urls)
        item.hashtags = merge((normalize_hashtag(t) for t in tags), found_tags)
        item.mentions = merge((normalize_mention(m) for m in mentions), found_mentions)
        if not main_clean:
            return None
        return main_clean, declared
