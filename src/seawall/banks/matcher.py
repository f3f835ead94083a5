"""The in-memory view of every bank that one process matches against.

Built from a BankStore at start (streaming the entries), kept current by `refresh()` (new and
changed entries since the last look, and the bank settings) or by `add()` for entries this process
has just stored. PDQ entries live in one PDQIndex; MD5, SHA-256, URL and text entries in dicts.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Sequence

import numpy as np

from seawall.banks.index import PDQIndex
from seawall.banks.model import Bank, Entry
from seawall.banks.store import BankStore
from seawall.banks.text_index import TextIndex


@dataclass(slots=True, frozen=True)
class Match:
    entry_id: int
    bank: Bank
    kind: str  # pdq | md5 | sha256 | url | domain | text
    distance: int  # 0 for exact kinds
    variant: str = "original"  # which dihedral variant of the query matched
    similarity: float = 1.0  # texts: estimated Jaccard similarity of the word sets


class BankMatcher:
    def __init__(self, store: BankStore | None = None):
        self.store = store
        self._lock = threading.RLock()
        self.banks: dict[int, Bank] = {}
        self.pdq = PDQIndex(threshold=31, workers=1)
        self._pdq_entry = np.zeros(0, dtype=np.int64)  # pdq index id -> entry id
        self._pdq_bank = np.zeros(0, dtype=np.int64)  # pdq index id -> bank id
        self._pdq_of_entry: dict[int, int] = {}  # entry id -> pdq index id
        self.exact: dict[tuple[str, str], list[int]] = {}  # (kind, value) -> entry ids
        self.text = TextIndex()
        self._text_entry: list[int] = []  # text index id -> entry id
        self._text_of_entry: dict[int, int] = {}
        self.entries: dict[int, tuple[int, str, str]] = {}  # entry id -> (bank id, kind, status)
        self._last_id = 0
        self._last_update: datetime | None = None
        if store is not None:
            self.load()

    # -- loading --------------------------------------------------------------------------------
    def load(self) -> None:
        assert self.store is not None
        with self._lock:
            self._load_banks()
            self.add(self.store.entries(batch=50_000))

    def _load_banks(self) -> None:
        assert self.store is not None
        self.banks = {b.id: b for b in self.store.list_banks()}

    def refresh(self) -> None:
        """Pick up bank changes, new entries and status changes made by other processes."""
        if self.store is None:
            return
        with self._lock:
            self._load_banks()
            self.add(self.store.entries(after_id=self._last_id, batch=50_000))
            if self._last_update is not None:
                for e in self.store.entries(updated_since=self._last_update, batch=50_000):
                    self._set_status(e.id, e.status)
                    self._note_update(e)

    def _note_update(self, e: Entry) -> None:
        if e.updated_at is not None and (self._last_update is None or e.updated_at > self._last_update):
            self._last_update = e.updated_at

    def add(self, entries: Iterable[Entry]) -> int:
        """Add stored entries (with their ids) to the in-memory view; returns how many were new."""
        n = 0
        pdq_vals: list[str] = []
        pdq_entries: list[int] = []
        pdq_banks: list[int] = []
        texts: list[tuple[int, str]] = []
        with self._lock:
            for e in entries:
                if e.id in self.entries:
                    continue
                if e.bank_id not in self.banks and self.store is not None:
                    self._load_banks()
                self.entries[e.id] = (e.bank_id, e.kind, e.status)
                self._last_id = max(self._last_id, e.id)
                self._note_update(e)
                n += 1
                if e.kind == "pdq":
                    pdq_vals.append(e.value)
                    pdq_entries.append(e.id)
                    pdq_banks.append(e.bank_id)
                    if len(pdq_vals) >= 200_000:
                        self._add_pdq(pdq_vals, pdq_entries, pdq_banks)
                        pdq_vals, pdq_entries, pdq_banks = [], [], []
                else:
                    self.exact.setdefault((e.kind, e.value), []).append(e.id)
                    if e.kind == "text":
                        texts.append((e.id, e.value))
            if pdq_vals:
                self._add_pdq(pdq_vals, pdq_entries, pdq_banks)
            if texts:
                ids = self.text.add([t for _, t in texts])
                for i, (eid, _) in zip(ids.tolist(), texts):
                    self._text_entry.append(eid)
                    self._text_of_entry[eid] = i
                    if self.entries[eid][2] != "active":
                        self.text.disable([i])
        return n

    def _add_pdq(self, values: list[str], entry_ids: list[int], bank_ids: list[int]) -> None:
        ids = self.pdq.add(values)
        self._pdq_entry = np.concatenate([self._pdq_entry, np.asarray(entry_ids, dtype=np.int64)])
        self._pdq_bank = np.concatenate([self._pdq_bank, np.asarray(bank_ids, dtype=np.int64)])
        for i, e in zip(ids.tolist(), entry_ids):
            self._pdq_of_entry[e] = i
            if self.entries[e][2] != "active":
                self.pdq.disable([i])
        if self.pdq.segments > 4 and len(values) > 1000:
            self.pdq.compact()

    def _set_status(self, entry_id: int, status: str) -> None:
        cur = self.entries.get(entry_id)
        if cur is None:
            return
        self.entries[entry_id] = (cur[0], cur[1], status)
        i = self._pdq_of_entry.get(entry_id)
        if i is not None:
            (self.pdq.enable if status == "active" else self.pdq.disable)([i])
        j = self._text_of_entry.get(entry_id)
        if j is not None:
            (self.text.enable if status == "active" else self.text.disable)([j])

    def set_status(self, entry_ids: Sequence[int], status: str) -> None:
        """Apply a status change made through the store in this process, effective at once."""
        with self._lock:
            for e in entry_ids:
                self._set_status(int(e), status)

    # -- matching -------------------------------------------------------------------------------
    def _usable(self, entry_id: int) -> Bank | None:
        info = self.entries.get(entry_id)
        if info is None or info[2] != "active":
            return None
        bank = self.banks.get(info[0])
        if bank is None or not bank.enabled:
            return None
        return bank

    def match_exact(self, kind: str, value: str) -> list[Match]:
        out = []
        for eid in self.exact.get((kind, value), ()):
            bank = self._usable(eid)
            if bank is not None:
                out.append(Match(eid, bank, kind, 0))
        return out

    def match_pdq(self, queries: Sequence[Sequence[str]]) -> list[list[Match]]:
        """queries[i] = [original hash, then optionally its 7 other dihedral variants]; dihedral
        variants only count for banks that ask for them. Best distance per entry."""
        from seawall.media.hashing import DIHEDRAL

        flat: list[str] = []
        owner: list[tuple[int, int]] = []
        for i, variants in enumerate(queries):
            for v, h in enumerate(variants[:8]):
                flat.append(h)
                owner.append((i, v))
        out: list[list[Match]] = [[] for _ in queries]
        if not flat or len(self.pdq) == 0:
            return out
        m = self.pdq.search(flat)
        best: dict[tuple[int, int], Match] = {}
        for qi, pid, d in zip(m.query.tolist(), m.ids.tolist(), m.distance.tolist()):
            i, v = owner[qi]
            eid = int(self._pdq_entry[pid])
            bank = self._usable(eid)
            if bank is None or d > bank.pdq_threshold or (v > 0 and not bank.dihedral):
                continue
            prev = best.get((i, eid))
            if prev is None or d < prev.distance:
                best[(i, eid)] = Match(eid, bank, "pdq", int(d), DIHEDRAL[v])
        for (i, _), match in best.items():
            out[i].append(match)
        for lst in out:
            lst.sort(key=lambda x: (x.distance, x.entry_id))
        return out

    def match_text(self, texts: Sequence[str], threshold: float | None = None) -> list[list[Match]]:
        """Near-duplicate texts (normalised form) per query, best first."""
        out: list[list[Match]] = []
        for found in self.text.search(texts, threshold) if len(self.text) else [[] for _ in texts]:
            ms = []
            for tid, sim in found:
                eid = self._text_entry[tid]
                bank = self._usable(eid)
                if bank is not None:
                    ms.append(Match(eid, bank, "text", 0 if sim >= 1.0 else 1, similarity=sim))
            out.append(ms)
        return out

    def labels(self) -> set[str]:
        return {b.label for b in self.banks.values() if b.kind == "block"}
