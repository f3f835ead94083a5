"""Known-content matching against hash banks: PDQ, MD5, SHA-256 for media; canonical URLs; texts.

For every media item of a post or account (its `path` is read and hashed, or its given
sha256 / md5 / pdq are used) and every canonical URL of the item, all enabled banks are looked up.
One hit per (item, bank): label = the bank's label, score 1.0 for an exact match (MD5, SHA-256,
URL, identical text, or PDQ distance 0) falling linearly to 0.5 at the PDQ threshold (for texts:
at the similarity threshold), evidence = the bank,
the entry, the distance and which media. A match in a `negative` bank (known false positives)
suppresses every block-bank hit of the same media or URL.

The banks are read from the database once (streamed) and then kept current: `refresh_seconds`
after the last look, new entries and status changes are picked up; `matcher.add()` takes entries
this process has just stored, so they match at once.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, Sequence

import orjson

from seawall.banks.matcher import BankMatcher, Match
from seawall.media.decode import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS, MediaError
from seawall.media.fetch import fetch
from seawall.media.hashing import hash_bytes, hash_file
from seawall.normalize import Item
from seawall.signals.base import Signal, SignalHit, SignalSettings


class HashBankSettings(SignalSettings):
    # Database holding the banks; empty = the deployment's database (SEAWALL_DATABASE_URL /
    # config.toml `database` / SQLite in SEAWALL_HOME).
    database: str = ""
    # Local media paths are read only under these directories; empty = any path (the platform
    # that sends events is trusted to name its own files).
    media_roots: list[str] = []
    max_bytes: int = DEFAULT_MAX_BYTES
    max_pixels: int = DEFAULT_MAX_PIXELS
    # PDQ hashes of quality below this (flat, featureless images) match too much to be trusted.
    min_quality: int = 50
    refresh_seconds: float = 10.0
    max_matches: int = 10  # matches listed in one hit's evidence
    # Feedback: an enforcement event that removes a post adds the post's media hashes (and its
    # URLs when feedback_urls) to this bank, created on first use with feedback_label. Empty = off.
    feedback_bank: str = "own-removals"
    feedback_label: str = "removed_content"
    feedback_urls: bool = False
    # Quarantine an entry that matches more than flood_limit items within flood_window_seconds
    # (a hash of a meme, a logo, a blank frame: a likely false positive); 0 = never.
    flood_limit: int = 0
    flood_window_seconds: float = 3600.0
    # Near-duplicate texts: minimum estimated Jaccard similarity of the word sets.
    text_threshold: float = 0.6
    # Media given only by URL is fetched when its host is listed here ("cdn.example.com", or
    # "*.example.com" for subdomains); empty = never fetch. Private, loopback, link-local and
    # shared addresses are refused unless fetch_private (see seawall.media.fetch).
    fetch_hosts: list[str] = []
    fetch_private: bool = False
    fetch_timeout: float = 10.0
    # Videos (needs the vpdq package): one frame PDQ per video_seconds_per_hash; a bank hits when
    # at least video_min_fraction of the video's usable frames match its PDQ entries.
    video_seconds_per_hash: float = 1.0
    video_min_fraction: float = 0.5
    video_max_frames: int = 600


class HashBankSignal(Signal[HashBankSettings]):
    name = "hashbank"
    version = "1"
    Settings = HashBankSettings

    def __init__(self, settings: HashBankSettings | None = None, matcher: BankMatcher | None = None):
        super().__init__(settings)
        self._matcher = matcher
        self._loaded_at = time.monotonic() if matcher is not None else 0.0
        self._lock = threading.Lock()
        self._roots = [Path(r).resolve() for r in self.settings.media_roots]

    # -- the bank view --------------------------------------------------------------------------
    @property
    def matcher(self) -> BankMatcher:
        with self._lock:
            if self._matcher is None:
                from seawall.banks.store import BankStore
                from seawall.storage.sql import open_store

                url = self.settings.database
                if not url:
                    from seawall.config import load_settings

                    url = load_settings().database_url
                self._store = open_store(url)
                self._matcher = BankMatcher(BankStore(self._store.engine))
                self._loaded_at = time.monotonic()
            elif time.monotonic() - self._loaded_at >= self.settings.refresh_seconds:
                self._matcher.refresh()
                self._loaded_at = time.monotonic()
            return self._matcher

    def labels(self) -> set[str] | None:
        # Banks are data, created and renamed at run time: any label is accepted by rules.
        return None

    # -- media ----------------------------------------------------------------------------------
    def _allowed(self, path: str) -> bool:
        p = Path(path).resolve()
        if p.exists() and not p.is_file():  # never a device, FIFO or directory: reading could block
            return False
        if not self._roots:
            return True
        return any(p == r or r in p.parents for r in self._roots)

    def _media_hashes(self, media: Any, dihedral: bool) -> dict[str, Any]:
        """Hashes of one MediaRef: those given, else computed from its local path, else from its URL
        when the host is in fetch_hosts."""
        out: dict[str, Any] = {}
        if media.sha256:
            out["sha256"] = media.sha256.lower()
        if media.md5:
            out["md5"] = media.md5.lower()
        if media.pdq:
            out["pdq"] = [media.pdq.lower()]
        if media.kind == "video" and not media.pdq:
            return self._video_hashes(media, out)
        wanted = ("sha256" not in out) or ("pdq" not in out and media.kind in ("image", "gif"))
        if media.path and wanted:
            if not self._allowed(media.path):
                out["error"] = "path_not_allowed"
                return out
            try:
                h = hash_file(media.path, dihedral=dihedral, max_bytes=self.settings.max_bytes,
                              max_pixels=self.settings.max_pixels)
            except MediaError as exc:
                out["error"] = exc.reason
                return out
        elif media.data and wanted:
            try:
                raw = media.data_bytes() or b""
                h = hash_bytes(raw, image=media.kind in ("image", "gif"), dihedral=dihedral,
                               max_bytes=self.settings.max_bytes, max_pixels=self.settings.max_pixels)
            except MediaError as exc:
                out["error"] = exc.reason
                return out
            # Inline bytes are replaced by their hashes, so the stored event keeps what matching
            # and removal feedback need without megabytes of base64 in every row.
            media.sha256, media.md5 = h.sha256, h.md5
            media.drop_data(raw)
            if h.pdq is not None and (h.quality is None or h.quality >= self.settings.min_quality):
                media.pdq = h.pdq
        elif media.url and wanted and self.settings.fetch_hosts:
            try:
                got = fetch(str(media.url), allowed_hosts=self.settings.fetch_hosts,
                            allow_private=self.settings.fetch_private, max_bytes=self.settings.max_bytes,
                            timeout=self.settings.fetch_timeout)
                h = hash_bytes(got.data, image=media.kind in ("image", "gif"), dihedral=dihedral,
                               max_bytes=self.settings.max_bytes, max_pixels=self.settings.max_pixels)
            except MediaError as exc:
                out["error"] = exc.reason
                return out
        else:
            return out
        out.setdefault("sha256", h.sha256)
        out.setdefault("md5", h.md5)
        if h.pdq is not None and "pdq" not in out:
            if h.quality is not None and h.quality < self.settings.min_quality:
                out["low_quality"] = h.quality
            else:
                out["pdq"] = h.dihedral or [h.pdq]
                out["quality"] = h.quality
        elif h.error is not None:
            out["error"] = h.error.reason
        return out

    def _video_hashes(self, media: Any, out: dict[str, Any]) -> dict[str, Any]:
        """A video's SHA-256 / MD5 and its distinct frame PDQ hashes of usable quality."""
        from seawall.media.video import hash_video_bytes, hash_video_file, vpdq_available

        if media.data and not vpdq_available():
            try:  # exact hashes at least; the bytes are not kept either way
                h = hash_bytes(media.data_bytes() or b"", image=False, max_bytes=self.settings.max_bytes)
                out.setdefault("sha256", h.sha256)
                out.setdefault("md5", h.md5)
                media.sha256, media.md5 = out["sha256"], out["md5"]
            except MediaError as exc:
                out["error"] = exc.reason
            media.drop_data()
            return out
        if not vpdq_available() or not (media.path or media.data or (media.url and self.settings.fetch_hosts)):
            return out
        kw = {"max_bytes": self.settings.max_bytes, "seconds_per_hash": self.settings.video_seconds_per_hash,
              "max_frames": self.settings.video_max_frames}
        try:
            if media.data:
                # Stored events keep the exact hashes of inline videos, not their frames.
                data = media.data_bytes() or b""
                media.drop_data(data)
                v = hash_video_bytes(data, **kw)
                media.sha256, media.md5 = v.sha256, v.md5
            elif media.path:
                if not self._allowed(media.path):
                    out["error"] = "path_not_allowed"
                    return out
                v = hash_video_file(media.path, **kw)
            else:
                got = fetch(str(media.url), allowed_hosts=self.settings.fetch_hosts,
                            allow_private=self.settings.fetch_private, max_bytes=self.settings.max_bytes,
                            timeout=self.settings.fetch_timeout)
                v = hash_video_bytes(got.data, **kw)
        except MediaError as exc:
            out["error"] = exc.reason
            return out
        out.setdefault("sha256", v.sha256)
        out.setdefault("md5", v.md5)
        frames = v.distinct_pdq(self.settings.min_quality)
        if frames:
            out["frames"] = frames
        else:
            out["low_quality"] = max((f.quality for f in v.frames), default=0)
        return out

    @staticmethod
    def _media_of(item: Item) -> list[tuple[str, Any]]:
        ev = item.event
        if ev.type == "post":
            return [(f"media[{i}]", m) for i, m in enumerate(ev.media)]
        if ev.type == "account":
            return [(k, getattr(ev, k)) for k in ("avatar", "banner") if getattr(ev, k) is not None]
        return []

    # -- feedback from removals ------------------------------------------------------------------
    def _feedback(self, matcher: BankMatcher, items: Sequence[Item]) -> None:
        """Removed posts' media join the feedback bank before anything in this batch is matched,
        so a re-upload later in the same batch is already caught."""
        removed = [it.event.post_id for it in items
                   if it.event.type == "enforcement" and it.event.action == "remove" and it.event.post_id]
        if not removed or not self.settings.feedback_bank or matcher.store is None:
            return
        from sqlalchemy import select

        from seawall.banks.model import BankError, EntryIn
        from seawall.events.model import MediaRef
        from seawall.normalize import canonical_url
        from seawall.storage.schema import events

        store = matcher.store
        with store.engine.connect() as conn:
            rows = conn.execute(
                select(events.c.subject_id, events.c.payload)
                .where(events.c.subject_type == "post", events.c.type == "post",
                       events.c.subject_id.in_(removed[:500]))
            ).all()
        entries: list[EntryIn] = []
        for post_id, payload in rows:
            data = orjson.loads(payload)
            note = f"removed post {post_id}"
            for m in data.get("media", []):
                try:
                    h = self._media_hashes(MediaRef.model_validate(m), dihedral=False)
                except ValueError:
                    continue
                for kind in ("sha256", "md5"):
                    if kind in h:
                        entries.append(EntryIn.make(kind, h[kind], note=note, ref=f"post:{post_id}"))
                if "pdq" in h:
                    entries.append(EntryIn.make("pdq", h["pdq"][0], note=note, ref=f"post:{post_id}"))
                for frame in h.get("frames", []):  # a video: its distinct frames
                    entries.append(EntryIn.make("pdq", frame, note=f"{note} (video frame)", ref=f"post:{post_id}"))
            if self.settings.feedback_urls:
                for link in data.get("links", []):
                    c = canonical_url(link)
                    if c is not None:
                        entries.append(EntryIn.make("url", c.url, note=note, ref=f"post:{post_id}"))
        if not entries:
            return
        name = self.settings.feedback_bank
        if store.get_bank(name) is None:
            try:
                store.create_bank(name, self.settings.feedback_label, source="feedback",
                                  description="media of posts removed on this platform")
            except BankError:
                pass  # created meanwhile by another worker
        ids, _ = store.add_entries(name, entries)
        if ids:
            matcher.add(store.entries(after_id=min(ids) - 1))

    # -- evaluate -------------------------------------------------------------------------------
    def evaluate(self, items: Sequence[Item]) -> list[list[SignalHit]]:
        matcher = self.matcher
        self._feedback(matcher, items)
        dihedral = any(b.dihedral for b in matcher.banks.values())
        # per item: list of (where, description, matches)
        found: list[list[tuple[str, dict[str, Any], list[Match]]]] = [[] for _ in items]
        pdq_queries: list[list[str]] = []
        pdq_owner: list[tuple[int, int]] = []
        text_queries: list[str] = []
        text_owner: list[tuple[int, str]] = []
        videos: list[tuple[int, int, list[str]]] = []
        for i, item in enumerate(items):
            for where, media in self._media_of(item):
                h = self._media_hashes(media, dihedral)
                desc: dict[str, Any] = {"media": where}
                if media.id:
                    desc["media_id"] = media.id
                matches: list[Match] = []
                for kind in ("sha256", "md5"):
                    if kind in h:
                        matches.extend(matcher.match_exact(kind, h[kind]))
                found[i].append((where, desc, matches))
                if "pdq" in h:
                    pdq_queries.append(h["pdq"])
                    pdq_owner.append((i, len(found[i]) - 1))
                if "frames" in h:
                    videos.append((i, len(found[i]) - 1, h["frames"]))
            for cu in item.urls:
                matches = matcher.match_exact("url", cu.url)
                labels = cu.domain.split(".")
                for k in range(len(labels) - 1):  # the host and each parent domain
                    matches.extend(matcher.match_exact("domain", ".".join(labels[k:])))
                if matches:
                    found[i].append((cu.url, {"url": cu.url}, matches))
            for field, nt in item.texts.items():
                if nt.text:
                    text_queries.append(nt.text)
                    text_owner.append((i, field))
        if pdq_queries:
            for (i, j), ms in zip(pdq_owner, matcher.match_pdq(pdq_queries)):
                found[i][j][2].extend(ms)
        for i, j, frames in videos:
            found[i][j][2].extend(self._video_matches(matcher, frames, found[i][j][1]))
        if text_queries:
            for (i, field), ms in zip(text_owner, matcher.match_text(text_queries, self.settings.text_threshold)):
                if ms:
                    found[i].append((f"text:{field}", {"text_field": field}, ms))
        self._count_hits(matcher, found)
        return [self._hits(f) for f in found]

    def _video_matches(self, matcher: BankMatcher, frames: list[str], desc: dict[str, Any]) -> list[Match]:
        """Each frame against the PDQ index; a bank's matches count when at least
        video_min_fraction of the frames match one of its entries (best distance per entry)."""
        per_frame = matcher.match_pdq([[f] for f in frames])
        frames_by_bank: dict[int, int] = {}
        best: dict[int, Match] = {}
        for ms in per_frame:
            for bank_id in {m.bank.id for m in ms}:
                frames_by_bank[bank_id] = frames_by_bank.get(bank_id, 0) + 1
            for m in ms:
                if m.entry_id not in best or m.distance < best[m.entry_id].distance:
                    best[m.entry_id] = m
        desc["frames"] = len(frames)
        kept = {b for b, n in frames_by_bank.items() if n / len(frames) >= self.settings.video_min_fraction}
        if kept:
            desc["frames_matched"] = {matcher.banks[b].name: frames_by_bank[b] for b in sorted(kept)}
        return [m for m in best.values() if m.bank.id in kept]

    def _count_hits(self, matcher: BankMatcher, found: list[list[tuple[str, dict[str, Any], list[Match]]]]) -> None:
        """Per-entry hit counts go to the store; an entry over the flood limit is quarantined."""
        counts: dict[int, int] = {}
        for per_item in found:
            seen = {m.entry_id for _, _, ms in per_item for m in ms}
            for e in seen:
                counts[e] = counts.get(e, 0) + 1
        if not counts or matcher.store is None:
            return
        matcher.store.add_hits(counts)
        if self.settings.flood_limit <= 0:
            return
        now = time.monotonic()
        flood = []
        window = getattr(self, "_window", None)
        if window is None or now - window[0] > self.settings.flood_window_seconds:
            window = self._window = (now, {})
        for e, n in counts.items():
            window[1][e] = window[1].get(e, 0) + n
            if window[1][e] > self.settings.flood_limit:
                flood.append(e)
                del window[1][e]
        if flood:
            matcher.store.set_entry_status(
                flood, "quarantined",
                note=f"matched over {self.settings.flood_limit} items in {self.settings.flood_window_seconds:g} s",
            )
            matcher.set_status(flood, "quarantined")

    def _hits(self, found: list[tuple[str, dict[str, Any], list[Match]]]) -> list[SignalHit]:
        per_bank: dict[int, dict[str, Any]] = {}
        for where, desc, matches in found:
            if not matches:
                continue
            if any(m.bank.kind == "negative" for m in matches):
                continue  # a known false positive: nothing from this media or URL counts
            for m in matches:
                score = self._score(m)
                b = per_bank.setdefault(m.bank.id, {"bank": m.bank, "score": 0.0, "matches": []})
                b["score"] = max(b["score"], score)
                rec = {"entry_id": m.entry_id, "kind": m.kind, "distance": m.distance, **desc}
                if m.kind == "text":
                    rec["similarity"] = m.similarity
                if m.variant != "original":
                    rec["variant"] = m.variant
                b["matches"].append(rec)
        hits = []
        for b in per_bank.values():
            bank = b["bank"]
            ms = sorted(b["matches"], key=lambda r: (r["distance"], r["entry_id"]))
            hits.append(self.hit(
                bank.label, round(b["score"], 4), bank=bank.name, source=bank.source, severity=bank.severity,
                matches=ms[: self.settings.max_matches], match_count=len(ms),
            ))
        return hits

    def _score(self, m: Match) -> float:
        if m.kind == "text":
            t = self.settings.text_threshold
            return 1.0 - 0.5 * (1.0 - m.similarity) / max(1.0 - t, 1e-6)
        if m.kind != "pdq" or m.distance == 0:
            return 1.0
        t = max(m.bank.pdq_threshold, 1)
        return 1.0 - 0.5 * min(m.distance, t) / t
