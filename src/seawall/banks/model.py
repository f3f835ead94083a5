"""The bank model: named banks of known content, and the entries in them.

A bank has a `label` (what a match means: the label of the signal hit, e.g. "terrorist_propaganda"),
a `source` (who supplied it), a `severity`, an enabled flag and a `kind`: `block` banks say "this is
known bad content"; a `negative` bank lists known false positives, and a match in it suppresses the
block-bank hits of the same media. An entry is one hash, URL or text of one kind; it is `active`,
`disabled` (by a person) or `quarantined` (it matched so much that it is probably a false positive,
and is held back until someone looks).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

ENTRY_KINDS = ("pdq", "md5", "sha256", "url", "domain", "text")
BANK_KINDS = ("block", "negative")
SEVERITIES = ("low", "medium", "high", "critical")
ENTRY_STATUSES = ("active", "disabled", "quarantined")
PDQ_MAX_THRESHOLD = 31

_NAME = re.compile(r"^[a-z0-9][a-z0-9_.:-]{0,63}$")
_LABEL = re.compile(r"^[a-z0-9][a-z0-9_.:-]{0,127}$")
_HEX = {"pdq": 64, "md5": 32, "sha256": 64}
_HEXCHARS = re.compile(r"^[0-9a-f]+$")
MAX_TEXT = 5_000


class BankError(ValueError):
    """A bank operation that cannot be done, or a value that cannot be an entry."""


def check_name(name: str) -> str:
    if not _NAME.match(name or ""):
        raise BankError(f"bank name {name!r}: use 1-64 of a-z, 0-9, '_', '.', ':', '-', starting with a letter or digit")
    return name


def check_label(label: str) -> str:
    if not _LABEL.match(label or ""):
        raise BankError(f"label {label!r}: use 1-128 of a-z, 0-9, '_', '.', ':', '-', starting with a letter or digit")
    return label


def normalize_value(kind: str, value: str) -> str:
    """The stored, matchable form of an entry value; raises BankError saying what is wrong."""
    if kind not in ENTRY_KINDS:
        raise BankError(f"unknown entry kind {kind!r}; expected one of {', '.join(ENTRY_KINDS)}")
    if not isinstance(value, str):
        raise BankError(f"{kind} value must be a string")
    v = value.strip()
    if not v:
        raise BankError(f"empty {kind} value")
    if kind in _HEX:
        v = v.lower()
        if len(v) != _HEX[kind] or not _HEXCHARS.match(v):
            raise BankError(f"{kind} must be {_HEX[kind]} hex digits, got {len(v)} characters: {value[:80]!r}")
        return v
    if kind == "url":
        from seawall.normalize import canonical_url

        c = canonical_url(v)
        if c is None:
            raise BankError(f"not a URL Seawall can canonicalise: {value[:200]!r}")
        return c.url
    if kind == "domain":
        # A domain entry matches links to it and to its subdomains (files.example.com -> example.com).
        from seawall.signals.lists import normalize_domain

        d = normalize_domain(v)
        if d is None:
            raise BankError(f"not a domain: {value[:200]!r}")
        return d
    # text: matched on the normalised, readable form (near-duplicate matching uses the same form)
    from seawall.normalize import normalize_text

    if len(v) > MAX_TEXT:
        raise BankError(f"text entries are limited to {MAX_TEXT} characters")
    norm = normalize_text(v).text
    if not norm:
        raise BankError("text is empty once normalised")
    return norm


@dataclass(slots=True)
class Bank:
    id: int
    name: str
    label: str
    kind: str = "block"
    source: str | None = None
    severity: str = "high"
    enabled: bool = True
    dihedral: bool = False  # also match flipped / rotated copies of a query image
    pdq_threshold: int = PDQ_MAX_THRESHOLD
    description: str | None = None
    tags: list[str] = field(default_factory=list)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    entry_counts: dict[str, int] = field(default_factory=dict)  # status -> count, when listed

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "kind": self.kind,
            "source": self.source,
            "severity": self.severity,
            "enabled": self.enabled,
            "dihedral": self.dihedral,
            "pdq_threshold": self.pdq_threshold,
            "description": self.description,
            "tags": list(self.tags),
            "entries": dict(self.entry_counts),
        }


@dataclass(slots=True)
class EntryIn:
    """An entry to add: kind and value, with optional tags, note and the supplier's own id."""

    kind: str
    value: str
    tags: list[str] = field(default_factory=list)
    note: str | None = None
    ref: str | None = None  # the supplier's id for this item (ThreatExchange id, TCAP id, ...)
    original: str | None = None  # what the supplier wrote, when normalisation changed it

    @classmethod
    def make(cls, kind: str, value: str, **kw: Any) -> "EntryIn":
        kind = (kind or "").strip().lower()
        norm = normalize_value(kind, value)
        original = value.strip() if norm != value.strip() and kind in ("url", "text") else None
        return cls(kind, norm, original=original, **kw)


@dataclass(slots=True)
class Entry:
    id: int
    bank_id: int
    bank: str
    kind: str
    value: str
    status: str = "active"
    tags: list[str] = field(default_factory=list)
    note: str | None = None
    ref: str | None = None
    original: str | None = None
    hits: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        out = {
            "id": self.id,
            "bank": self.bank,
            "kind": self.kind,
            "value": self.value,
            "status": self.status,
            "tags": list(self.tags),
        }
        for k in ("note", "ref", "original"):
            v = getattr(self, k)
            if v is not None:
                out[k] = v
        return out
