"""The signal interface: everything that scores an event plugs in here.

A signal has a name, a version, typed settings (a pydantic model) and one batch method. The policy
engine sees only the hits a signal returns, never how it computed them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, Sequence, TypeVar

from pydantic import BaseModel, ConfigDict

from seawall.normalize.item import Item


class SignalSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool = True


S = TypeVar("S", bound=SignalSettings)


@dataclass(slots=True)
class SignalHit:
    """One scored finding about one event.

    `label` says what was found (a list's category, a model's class); `score` is in [0, 1];
    `evidence` says why, in terms a reviewer can check (the matched words, the domain, the list).
    """

    signal: str
    version: str
    label: str
    score: float
    evidence: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "signal": self.signal,
            "version": self.version,
            "label": self.label,
            "score": self.score,
            "evidence": self.evidence,
        }


class Signal(ABC, Generic[S]):
    name: ClassVar[str]
    version: ClassVar[str]
    Settings: ClassVar[type[SignalSettings]] = SignalSettings

    def __init__(self, settings: S | None = None):
        self.settings: S = settings if settings is not None else self.Settings()  # type: ignore[assignment]

    @abstractmethod
    def evaluate(self, items: Sequence[Item]) -> list[list[SignalHit]]:
        """Score a batch: one list of hits per item, in the same order (empty when nothing found)."""

    def labels(self) -> set[str] | None:
        """Labels this signal can emit, so rules naming an unknown label are caught at load time;
        None means it cannot say in advance (any label is accepted)."""
        return None

    def hit(self, label: str, score: float, **evidence: Any) -> SignalHit:
        return SignalHit(self.name, self.version, label, float(score), evidence)
