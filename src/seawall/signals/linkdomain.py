"""Link-domain lists: file lockers, paste sites, anonymous upload services, URL shorteners...

A URL matches a listed domain when its host is that domain or a subdomain of it
("files.example.com" matches "example.com"; "badexample.com" does not), compared in lower-case
Unicode form on both sides (the normaliser decodes IDNA/punycode hosts; the list loader does the
same with list entries), so "xn--..." and the Unicode spelling of a domain are one entry.

One hit per (item, category): score = the highest weight among the matched domains of that
category; evidence lists the matched list domains and the item's canonical URLs that matched.
"""

from __future__ import annotations

from typing import Any, Sequence

from seawall.normalize import Item
from seawall.signals.base import Signal, SignalHit, SignalSettings
from seawall.signals.lists import DomainEntry, load_domain_lists

_CACHE_MAX = 100_000


class LinkDomainSettings(SignalSettings):
    lists: list[str] = ["builtin:domains.csv"]
    min_score: float = 0.0


class LinkDomainSignal(Signal[LinkDomainSettings]):
    name = "linkdomain"
    version = "1"
    Settings = LinkDomainSettings

    def __init__(self, settings: LinkDomainSettings | None = None):
        super().__init__(settings)
        self.entries = load_domain_lists(self.settings.lists)
        self._by_domain: dict[str, list[DomainEntry]] = {}
        for e in self.entries:
            self._by_domain.setdefault(e.domain, []).append(e)
        self._cache: dict[str, tuple[DomainEntry, ...]] = {}

    def labels(self) -> set[str]:
        return {e.category for e in self.entries}

    def lookup(self, domain: str) -> tuple[DomainEntry, ...]:
        """Entries whose domain is `domain` or one of its parent domains."""
        hit = self._cache.get(domain)
        if hit is not None:
            return hit
        found: list[DomainEntry] = []
        d = domain.lower().rstrip(".")
        while True:
            found.extend(self._by_domain.get(d, ()))
            dot = d.find(".")
            if dot < 0:
                break
            d = d[dot + 1 :]
        result = tuple(found)
        if len(self._cache) >= _CACHE_MAX:
            self._cache.clear()  # hosts seen are unbounded; a full reset is cheap and rare
        self._cache[domain] = result
        return result

    def evaluate(self, items: Sequence[Item]) -> list[list[SignalHit]]:
        results: list[list[SignalHit]] = []
        for item in items:
            per_cat: dict[str, dict[str, Any]] = {}
            for cu in item.urls:
                for e in self.lookup(cu.domain):
                    c = per_cat.setdefault(e.category, {"score": 0.0, "domains": [], "urls": [], "list": e.source})
                    if e.weight > c["score"]:
                        c["score"], c["list"] = e.weight, e.source
                    if e.domain not in c["domains"]:
                        c["domains"].append(e.domain)
                    if cu.url not in c["urls"]:
                        c["urls"].append(cu.url)
            hits = [
                self.hit(cat, c["score"], domains=c["domains"], urls=c["urls"], list=c["list"])
                for cat, c in per_cat.items()
                if c["score"] >= self.settings.min_score
            ]
            results.append(hits)
        return results
