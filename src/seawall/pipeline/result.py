"""What one event looks like after the pipeline has decided on it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from seawall.normalize.item import Item
from seawall.signals.base import SignalHit

if TYPE_CHECKING:
    from seawall.policy.engine import Decision


@dataclass(slots=True)
class ProcessedEvent:
    item: Item
    hits: list[SignalHit]
    decision: "Decision"
    decided_at: float  # epoch seconds
    source: str = "api"
    policy_version: str = ""

    @property
    def latency_ms(self) -> float:
        return max(0.0, (self.decided_at - self.item.received_at) * 1000.0)
