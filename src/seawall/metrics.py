"""Prometheus metrics of one Seawall process (its own registry, so tests can make many)."""

from __future__ import annotations

from typing import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.received = Counter("seawall_events_received", "Events accepted at intake", ["source"], registry=r)
        self.rejected = Counter("seawall_events_rejected", "Inputs rejected at intake", ["source"], registry=r)
        self.duplicates = Counter("seawall_events_duplicate", "Events skipped as already processed", registry=r)
        self.processed = Counter("seawall_events_processed", "Events decided and stored", registry=r)
        self.failed = Counter("seawall_events_failed", "Events sent to the dead-letter store", registry=r)
        self.verdicts = Counter("seawall_verdicts", "Verdicts by kind", ["verdict"], registry=r)
        self.cases = Counter("seawall_cases_opened", "Cases opened", registry=r)
        self.actions = Counter("seawall_actions_created", "Actions created (outbox)", registry=r)
        self.latency = Histogram(
            "seawall_ingest_to_verdict_seconds", "Time from acceptance to stored verdict",
            buckets=LATENCY_BUCKETS, registry=r,
        )
        self.inbox = Gauge("seawall_inbox_pending", "Accepted events waiting to be processed", registry=r)

    def observe_run(self, summary: object, latencies_s: Iterable[float]) -> None:
        s = summary  # RunSummary; typed loosely to keep this module free of pipeline imports
        self.processed.inc(s.accepted)  # type: ignore[attr-defined]
        self.cases.inc(s.cases_opened)  # type: ignore[attr-defined]
        self.actions.inc(s.actions_created)  # type: ignore[attr-defined]
        for verdict, n in s.verdicts.items():  # type: ignore[attr-defined]
            self.verdicts.labels(verdict).inc(n)
        for v in latencies_s:
            self.latency.observe(v)

    def observe_outcome(self, duplicates: int, failed: int) -> None:
        self.duplicates.inc(duplicates)
        self.failed.inc(failed)

    def render(self) -> bytes:
        return generate_latest(self.registry)
