"""The storage interface. The pipeline, API and CLI talk only to this; SQLite and PostgreSQL
implement it (see `sql.py`)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Sequence

if TYPE_CHECKING:
    from seawall.pipeline.result import ProcessedEvent


@dataclass(slots=True)
class CommitSummary:
    stored: int = 0
    duplicates: int = 0
    hits: int = 0
    cases_opened: int = 0
    cases_merged: int = 0
    actions_created: int = 0
    verdicts: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class InboxRow:
    id: int
    key: str
    source: str
    payload: str
    received_at: datetime
    attempts: int


@dataclass(slots=True)
class DeadLetter:
    kind: str  # "rejected": bad input; "failed": accepted but could not be processed
    source: str
    format: str
    raw: str
    reason: str
    field: str | None = None
    line_no: int | None = None
    id: int | None = None
    status: str = "open"
    received_at: datetime | None = None
    replayed_at: datetime | None = None
    attempts: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "source": self.source,
            "format": self.format,
            "line_no": self.line_no,
            "field": self.field,
            "reason": self.reason,
            "status": self.status,
            "received_at": self.received_at.isoformat() if self.received_at else None,
            "replayed_at": self.replayed_at.isoformat() if self.replayed_at else None,
            "attempts": self.attempts,
            "raw": self.raw,
        }


@dataclass(slots=True)
class ApiKey:
    key_id: str
    role: str
    name: str
    created_at: datetime
    secret_hash: str = ""
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "key_id": self.key_id,
            "role": self.role,
            "name": self.name,
            "created_at": self.created_at.isoformat(),
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
            "last_used_at": self.last_used_at.isoformat() if self.last_used_at else None,
        }


@dataclass(slots=True)
class HistoryRecord:
    """One stored, decided event with what is needed to decide it again (backtests)."""

    event_key: str
    event_type: str
    payload: dict[str, Any]
    lang: str | None
    hits: list[dict[str, Any]]
    verdict: str
    actions: list[str]
    rules: list[str]


class Store(ABC):
    """Everything Seawall persists. Implementations must make every write idempotent by key."""

    url: str

    @abstractmethod
    def migrate(self) -> None:
        """Bring the schema to the newest migration."""

    @abstractmethod
    def close(self) -> None: ...

    # -- pipeline ----------------------------------------------------------------------------
    @abstractmethod
    def known_keys(self, keys: Sequence[str]) -> set[str]:
        """Which of these event keys are already stored (processed)."""

    @abstractmethod
    def commit_batch(self, results: Sequence["ProcessedEvent"]) -> CommitSummary:
        """Store events, signal hits, verdicts, cases, actions and account state in one transaction.
        Events whose key is already stored are skipped (and counted as duplicates)."""

    # -- durable intake queue ----------------------------------------------------------------
    @abstractmethod
    def enqueue(self, rows: Sequence[tuple[str, str, str]]) -> tuple[int, int]:
        """Durably accept (key, source, payload JSON) rows; returns (accepted, duplicates)."""

    @abstractmethod
    def inbox_batch(self, limit: int, after_id: int = 0) -> list[InboxRow]:
        """The oldest rows with id > after_id (rows in flight are skipped by moving the cursor)."""

    @abstractmethod
    def inbox_done(self, ids: Sequence[int]) -> None: ...

    @abstractmethod
    def inbox_size(self) -> int: ...

    # -- dead letters ------------------------------------------------------------------------
    @abstractmethod
    def add_dead_letters(self, letters: Iterable[DeadLetter]) -> int: ...

    @abstractmethod
    def list_dead_letters(
        self, status: str | None = "open", kind: str | None = None, limit: int = 100, after_id: int = 0
    ) -> list[DeadLetter]: ...

    @abstractmethod
    def mark_dead_letters(self, ids: Sequence[int], status: str) -> None: ...

    # -- reading -----------------------------------------------------------------------------
    @abstractmethod
    def list_cases(
        self, status: str | None = "open", queue: str | None = None, limit: int = 50, offset: int = 0
    ) -> list[dict[str, Any]]: ...

    @abstractmethod
    def get_case(self, case_id: int) -> dict[str, Any] | None:
        """A case with its events, each with its verdict, matched rules and signal evidence."""

    @abstractmethod
    def list_actions(self, status: str | None = None, limit: int = 100) -> list[dict[str, Any]]: ...

    @abstractmethod
    def get_account(self, account_id: str) -> dict[str, Any] | None: ...

    @abstractmethod
    def stats(self) -> dict[str, Any]: ...

    @abstractmethod
    def iter_history(self, batch_size: int = 2000, since: datetime | None = None) -> Iterator[HistoryRecord]: ...

    # -- API keys ----------------------------------------------------------------------------
    @abstractmethod
    def add_api_key(self, key: ApiKey) -> None: ...

    @abstractmethod
    def get_api_key(self, key_id: str) -> ApiKey | None: ...

    @abstractmethod
    def list_api_keys(self) -> list[ApiKey]: ...

    @abstractmethod
    def revoke_api_key(self, key_id: str) -> bool: ...

    @abstractmethod
    def touch_api_key(self, key_id: str) -> None: ...
