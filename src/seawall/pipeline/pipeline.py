"""The pipeline: normalise -> signals -> policy -> store, one batch at a time.

The same object runs in the embedded process and (later) in stream workers. A batch that fails is
retried event by event, so one poisonous event goes to the dead-letter store and its neighbours
are still decided.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

from seawall.config import Settings
from seawall.metrics import Metrics
from seawall.normalize import Normalizer
from seawall.normalize.item import Item
from seawall.pipeline.result import ProcessedEvent
from seawall.policy import PolicyEngine, load_rules
from seawall.signals.base import Signal, SignalHit
from seawall.signals.registry import build_signals
from seawall.storage.base import CommitSummary, DeadLetter, Store

log = logging.getLogger("seawall.pipeline")


@dataclass(slots=True)
class RunSummary:
    """What happened to a stream of batches; merged across batches for replay reports."""

    accepted: int = 0
    duplicates: int = 0
    failed: int = 0
    hits: int = 0
    cases_opened: int = 0
    cases_merged: int = 0
    actions_created: int = 0
    verdicts: dict[str, int] = field(default_factory=dict)

    def add(self, c: CommitSummary | RunSummary) -> None:
        """Fold in one commit's summary (or another run's)."""
        self.accepted += c.stored if isinstance(c, CommitSummary) else c.accepted
        if isinstance(c, RunSummary):
            self.failed += c.failed
        for name in ("duplicates", "hits", "cases_opened", "cases_merged", "actions_created"):
            setattr(self, name, getattr(self, name) + getattr(c, name))
        for k, v in c.verdicts.items():
            self.verdicts[k] = self.verdicts.get(k, 0) + v

    merge = add


@dataclass(slots=True)
class Batch:
    items: list[Item]
    source: str = "api"
    done: Callable[[], None] | None = None  # runs once the batch is committed


def tune_gc() -> None:
    """Make the garbage collector cheap for a long-running pipeline process.

    Each batch allocates tens of thousands of short-lived objects; with the default thresholds the
    collector runs full generations over everything loaded at start-up (models, lists, modules)
    again and again, which cost about a third of intake time when measured. Freezing what is
    loaded now and collecting young objects less often removes that cost; reference counting
    still frees almost everything immediately.
    """
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)


def policy_version(path: Path) -> str:
    """Content hash of the rules file: every verdict records which rules produced it."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


class Pipeline:
    def __init__(
        self,
        store: Store,
        normalizer: Normalizer,
        signals: Sequence[Signal],
        engine: PolicyEngine,
        policy_version: str = "",
        metrics: Metrics | None = None,
    ):
        self.store = store
        self.normalizer = normalizer
        self.signals = list(signals)
        self.engine = engine
        self.policy_version = policy_version
        self.metrics = metrics
        # Called with each committed batch (metrics, benchmarks, later: outbox delivery).
        self.listeners: list[Callable[[list[ProcessedEvent]], None]] = []
        # Errors that mean "the store (or another shared service) is unreachable right now", not
        # "this event is bad": they propagate so the caller retries the batch later instead of
        # dead-lettering good events. Empty on the embedded default; stream workers set it.
        self.transient_errors: tuple[type[BaseException], ...] = ()
        self._decide_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, store: Store, metrics: Metrics | None = None) -> "Pipeline":
        signals = build_signals(settings.signals)
        ruleset = load_rules(settings.rules_path)
        ruleset.check_signals({s.name: s.labels() for s in signals})
        pipeline = cls(
            store,
            Normalizer(languages=settings.pipeline.languages),
            signals,
            PolicyEngine(ruleset),
            policy_version(settings.rules_path),
            metrics,
        )
        for signal in signals:
            # A signal that keeps state across batches (campaigns) attaches to the pipeline that
            # runs it: to hear committed batches (pipeline.listeners) and to swap its engine.
            bind = getattr(signal, "bind", None)
            if bind is not None:
                bind(pipeline)
        return pipeline

    def decide(self, items: list[Item], source: str = "api") -> list[ProcessedEvent]:
        """Normalise, score and decide a batch in memory (nothing is stored)."""
        with self._decide_lock:
            self.normalizer.normalize_batch(items)
            hits: list[list[SignalHit]] = [[] for _ in items]
            for signal in self.signals:
                for i, found in enumerate(signal.evaluate(items)):
                    if found:
                        hits[i].extend(found)
            decisions = self.engine.decide_batch(items, hits)
        now = time.time()
        return [
            ProcessedEvent(item, h, d, now, source, self.policy_version)
            for item, h, d in zip(items, hits, decisions)
        ]

    def run(self, items: list[Item], source: str = "api") -> RunSummary:
        """Decide and store one batch; already-stored events are skipped as duplicates."""
        fresh, duplicates = self._fresh(items)
        summary = self._commit(fresh, self._try_decide(fresh, source), source)
        summary.duplicates += duplicates
        self._outcome(summary)
        return summary

    def run_stream(self, batches: Iterable[Batch]) -> RunSummary:
        """Decide and store a stream of batches in order; each batch's `done` callback runs after
        its commit (the inbox uses it to drop rows only once their results are stored).

        Deliberately one thread: committing in a second thread while the next batch is decided
        was measured slower once the classifier joined the default signals. Its many short numpy
        calls each give up the GIL and then wait for the other thread to hand it back (the
        classifier alone took 40x longer beside a busy Python thread), which costs more than the
        overlap gains.
        """
        total = RunSummary()
        for batch in batches:
            fresh, duplicates = self._fresh(batch.items)
            summary = self._commit(fresh, self._try_decide(fresh, batch.source), batch.source)
            summary.duplicates += duplicates
            self._outcome(summary)
            if batch.done is not None:
                batch.done()
            total.merge(summary)
        return total

    def _fresh(self, items: list[Item]) -> tuple[list[Item], int]:
        if not items:
            return [], 0
        known = self.store.known_keys([i.key for i in items])
        fresh: list[Item] = []
        seen: set[str] = set()
        for item in items:
            if item.key not in known and item.key not in seen:
                seen.add(item.key)
                fresh.append(item)
        return fresh, len(items) - len(fresh)

    def _try_decide(self, fresh: list[Item], source: str) -> list[ProcessedEvent] | None:
        if not fresh:
            return []
        try:
            return self.decide(fresh, source)
        except self.transient_errors:
            raise
        except Exception:
            log.exception("deciding a batch of %d failed; it will be retried event by event", len(fresh))
            return None

    def _commit(self, fresh: list[Item], decided: list[ProcessedEvent] | None, source: str) -> RunSummary:
        """Store a decided batch; on any failure retry event by event so that only the events
        that really fail become dead letters."""
        summary = RunSummary()
        if decided is not None:
            if not decided:
                return summary
            try:
                summary.add(self.store.commit_batch(decided))
                self._committed(decided, summary)
                return summary
            except self.transient_errors:
                raise
            except Exception:
                log.exception("storing a batch of %d failed; retrying event by event", len(decided))
                summary = RunSummary()
        self._run_one_by_one(fresh, source, summary)
        return summary

    def _outcome(self, summary: RunSummary) -> None:
        if self.metrics is not None:
            self.metrics.observe_outcome(summary.duplicates, summary.failed)

    def _committed(self, decided: list[ProcessedEvent], summary: RunSummary) -> None:
        if self.metrics is not None:
            self.metrics.observe_run(summary, (p.latency_ms / 1000.0 for p in decided))
        for listener in self.listeners:
            listener(decided)

    def _run_one_by_one(self, items: list[Item], source: str, summary: RunSummary) -> None:
        letters: list[DeadLetter] = []
        for item in items:
            try:
                decided = self.decide([item], source)
                one = RunSummary()
                one.add(self.store.commit_batch(decided))
                self._committed(decided, one)
                summary.merge(one)
            except self.transient_errors:
                raise
            except Exception as exc:
                summary.failed += 1
                where = traceback.extract_tb(exc.__traceback__)[-1]
                letters.append(
                    DeadLetter(
                        kind="failed",
                        source=source,
                        format="seawall",
                        raw=item.event.model_dump_json(exclude_none=True),
                        reason=f"{type(exc).__name__}: {exc} (at {Path(where.filename).name}:{where.lineno})",
                    )
                )
        if letters:
            self.store.add_dead_letters(letters)
