"""Persistence of banks and entries over the store's SQLAlchemy engine (SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from typing import Any, Iterable, Iterator, Sequence

import orjson
from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from seawall.banks.model import (
    BANK_KINDS,
    ENTRY_STATUSES,
    PDQ_MAX_THRESHOLD,
    SEVERITIES,
    Bank,
    BankError,
    Entry,
    EntryIn,
    check_label,
    check_name,
)
from seawall.banks.schema import bank_entries, banks

_CHUNK = 500


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _utc(v: datetime | None) -> datetime | None:
    if v is None:
        return None
    return v if v.tzinfo else v.replace(tzinfo=timezone.utc)


def value_key(value: str) -> str:
    """The indexed form of a value: itself when short (hashes), else its SHA-256 (URLs, texts)."""
    return value if len(value) <= 64 else hashlib.sha256(value.encode()).hexdigest()


def _tags(tags: Iterable[str]) -> list[str]:
    out: list[str] = []
    for t in tags:
        t = str(t).strip()
        if t and t not in out:
            out.append(t[:200])
    return out


class BankStore:
    """Banks and entries. Pass the `engine` of an open Store (`open_store(url).engine`)."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert

    # -- banks ----------------------------------------------------------------------------------
    def create_bank(
        self,
        name: str,
        label: str,
        *,
        kind: str = "block",
        source: str | None = None,
        severity: str = "high",
        enabled: bool = True,
        dihedral: bool = False,
        pdq_threshold: int = PDQ_MAX_THRESHOLD,
        description: str | None = None,
        tags: Sequence[str] = (),
    ) -> Bank:
        check_name(name)
        check_label(label)
        if kind not in BANK_KINDS:
            raise BankError(f"bank kind {kind!r}: expected one of {', '.join(BANK_KINDS)}")
        if severity not in SEVERITIES:
            raise BankError(f"severity {severity!r}: expected one of {', '.join(SEVERITIES)}")
        if not 0 <= pdq_threshold <= PDQ_MAX_THRESHOLD:
            raise BankError(f"pdq_threshold must be between 0 and {PDQ_MAX_THRESHOLD}")
        now = _now()
        row = {
            "name": name, "label": label, "kind": kind, "source": source, "severity": severity,
            "enabled": enabled, "dihedral": dihedral, "pdq_threshold": pdq_threshold,
            "description": description, "tags": orjson.dumps(_tags(tags)).decode(),
            "created_at": now, "updated_at": now,
        }
        stmt = self._insert(banks).on_conflict_do_nothing(index_elements=["name"]).returning(banks.c.id)
        with self.engine.begin() as conn:
            got = conn.execute(stmt, row).first()
        if got is None:
            raise BankError(f"bank {name!r} already exists")
        bank = self.get_bank(name)
        assert bank is not None
        return bank

    def _bank_from_row(self, r: Any) -> Bank:
        return Bank(
            id=r.id, name=r.name, label=r.label, kind=r.kind, source=r.source, severity=r.severity,
            enabled=bool(r.enabled), dihedral=bool(r.dihedral), pdq_threshold=r.pdq_threshold,
            description=r.description, tags=orjson.loads(r.tags), created_at=_utc(r.created_at),
            updated_at=_utc(r.updated_at),
        )

    def get_bank(self, name: str) -> Bank | None:
        with self.engine.connect() as conn:
            r = conn.execute(select(banks).where(banks.c.name == name)).first()
        return self._bank_from_row(r) if r is not None else None

    def bank(self, name: str) -> Bank:
        b = self.get_bank(name)
        if b is None:
            raise BankError(f"no bank named {name!r}")
        return b

    def list_banks(self) -> list[Bank]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(banks).order_by(banks.c.name)).all()
            counts = conn.execute(
                select(bank_entries.c.bank_id, bank_entries.c.status, func.count())
                .group_by(bank_entries.c.bank_id, bank_entries.c.status)
            ).all()
        out = [self._bank_from_row(r) for r in rows]
        by_id = {b.id: b for b in out}
        for bank_id, status, n in counts:
            if bank_id in by_id:
                by_id[bank_id].entry_counts[status] = int(n)
        return out

    def set_bank_enabled(self, name: str, enabled: bool) -> None:
        with self.engine.begin() as conn:
            n = conn.execute(
                update(banks).where(banks.c.name == name).values(enabled=enabled, updated_at=_now())
            ).rowcount
        if not n:
            raise BankError(f"no bank named {name!r}")

    # -- entries --------------------------------------------------------------------------------
    def add_entries(self, bank_name: str, entries: Sequence[EntryIn]) -> tuple[list[int], int]:
        """Add entries (already normalised, see EntryIn.make); an entry already in the bank is
        skipped. Returns (ids of the new entries, number skipped as duplicates)."""
        bank = self.bank(bank_name)
        now = _now()
        rows = []
        seen: set[tuple[str, str]] = set()
        for e in entries:
            k = (e.kind, value_key(e.value))
            if k in seen:
                continue
            seen.add(k)
            rows.append({
                "bank_id": bank.id, "kind": e.kind, "value": e.value, "value_key": k[1],
                "status": "active", "tags": orjson.dumps(_tags(e.tags)).decode(), "note": e.note,
                "ref": e.ref, "original": e.original, "created_at": now, "updated_at": now,
            })
        ids: list[int] = []
        # INSERT .. ON CONFLICT DO NOTHING RETURNING, executemany (SQLAlchemy batches it into
        # multi-row statements): entries already in the bank return nothing
        stmt = (
            self._insert(bank_entries)
            .on_conflict_do_nothing(index_elements=["bank_id", "kind", "value_key"])
            .returning(bank_entries.c.id)
        )
        with self.engine.begin() as conn:
            if rows:
                ids.extend(int(x) for x in conn.execute(stmt, rows).scalars())
            conn.execute(update(banks).where(banks.c.id == bank.id).values(updated_at=now))
        return ids, len(entries) - len(ids)

    def set_entry_status(self, ids: Sequence[int], status: str, note: str | None = None) -> int:
        if status not in ENTRY_STATUSES:
            raise BankError(f"entry status {status!r}: expected one of {', '.join(ENTRY_STATUSES)}")
        values: dict[str, Any] = {"status": status, "updated_at": _now()}
        if note is not None:
            values["note"] = note
        n = 0
        with self.engine.begin() as conn:
            for i in range(0, len(ids), _CHUNK):
                chunk = [int(x) for x in ids[i : i + _CHUNK]]
                n += conn.execute(update(bank_entries).where(bank_entries.c.id.in_(chunk)).values(**values)).rowcount
        return n

    def find_entries(self, bank_name: str, kind: str, value: str) -> list[Entry]:
        bank = self.bank(bank_name)
        with self.engine.connect() as conn:
            rows = conn.execute(
                self._entry_select().where(
                    bank_entries.c.bank_id == bank.id,
                    bank_entries.c.kind == kind,
                    bank_entries.c.value_key == value_key(value),
                )
            ).all()
        return [self._entry_from_row(r) for r in rows]

    def add_hits(self, counts: dict[int, int]) -> None:
        with self.engine.begin() as conn:
            for entry_id, n in counts.items():
                conn.execute(
                    update(bank_entries).where(bank_entries.c.id == entry_id)
                    .values(hits=bank_entries.c.hits + n)
                )

    def _entry_select(self) -> Any:
        return select(bank_entries, banks.c.name.label("bank_name")).join(banks, banks.c.id == bank_entries.c.bank_id)

    @staticmethod
    def _entry_from_row(r: Any) -> Entry:
        return Entry(
            id=r.id, bank_id=r.bank_id, bank=r.bank_name, kind=r.kind, value=r.value, status=r.status,
            tags=orjson.loads(r.tags), note=r.note, ref=r.ref, original=r.original, hits=r.hits,
            created_at=_utc(r.created_at), updated_at=_utc(r.updated_at),
        )

    def entries(
        self,
        bank_name: str | None = None,
        *,
        kinds: Sequence[str] | None = None,
        statuses: Sequence[str] | None = None,
        after_id: int = 0,
        updated_since: datetime | None = None,
        batch: int = 10_000,
    ) -> Iterator[Entry]:
        """Entries in id order, streamed in batches (keyset pagination: constant memory)."""
        cond = []
        if bank_name is not None:
            cond.append(bank_entries.c.bank_id == self.bank(bank_name).id)
        if kinds:
            cond.append(bank_entries.c.kind.in_(list(kinds)))
        if statuses:
            cond.append(bank_entries.c.status.in_(list(statuses)))
        if updated_since is not None:
            cond.append(bank_entries.c.updated_at > updated_since)
        last = after_id
        while True:
            with self.engine.connect() as conn:
                rows = conn.execute(
                    self._entry_select().where(bank_entries.c.id > last, *cond)
                    .order_by(bank_entries.c.id).limit(batch)
                ).all()
            for r in rows:
                yield self._entry_from_row(r)
            if len(rows) < batch:
                return
            last = rows[-1].id

    def entry(self, entry_id: int) -> Entry | None:
        with self.engine.connect() as conn:
            r = conn.execute(self._entry_select().where(bank_entries.c.id == entry_id)).first()
        return self._entry_from_row(r) if r is not None else None
