"""`seawall backtest`: run a candidate rules file over stored history before it goes live.

Stored events are rebuilt and normalised again (cheap, and it gives event predicates such as
`has_links` exactly what the live engine saw); signal hits come from storage, or are recomputed
with the current signals when `rescan` is set (to try a changed watch list, say).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

from seawall.config import Settings
from seawall.events import parse_event
from seawall.normalize import Normalizer
from seawall.normalize.item import Item
from seawall.pipeline.pipeline import policy_version
from seawall.policy import BacktestRecord, PolicyEngine, backtest, load_rules
from seawall.policy.backtest import _hit_from_mapping
from seawall.policy.engine import ItemFacts
from seawall.signals.registry import build_signals
from seawall.storage.base import HistoryRecord, Store

BATCH = 2000


def _records(store: Store, settings: Settings, rescan: bool) -> Iterator[BacktestRecord]:
    normalizer = Normalizer(languages=settings.pipeline.languages)
    signals = build_signals(settings.signals) if rescan else []
    batch: list[tuple[HistoryRecord, Item]] = []

    def flush() -> Iterator[BacktestRecord]:
        items = [it for _, it in batch]
        normalizer.normalize_batch(items)
        fresh = [[] for _ in items]
        for s in signals:
            for i, found in enumerate(s.evaluate(items)):
                fresh[i].extend(found)
        for n, (rec, item) in enumerate(batch):
            facts = ItemFacts(item)
            yield BacktestRecord(
                event_key=rec.event_key,
                event_type=rec.event_type,
                hits=fresh[n] if rescan else [_hit_from_mapping(h) for h in rec.hits],
                old_verdict=rec.verdict,
                old_actions=list(rec.actions),
                old_rules=list(rec.rules),
                lang=facts.lang,
                has_links=facts.has_links,
                has_media=facts.has_media,
                report_reason=facts.report_reason,
                account_id=facts.account_id,
            )
        batch.clear()

    for rec in store.iter_history(BATCH):
        batch.append((rec, Item(event=parse_event(rec.payload), key=rec.event_key, received_at=0.0)))
        if len(batch) >= BATCH:
            yield from flush()
    if batch:
        yield from flush()


def run_backtest(
    store: Store, rules_path: Path, settings: Settings, examples: int = 10, rescan: bool = False
) -> dict[str, Any]:
    ruleset = load_rules(rules_path)
    ruleset.check_signals({s.name: s.labels() for s in build_signals(settings.signals)})
    report = backtest(PolicyEngine(ruleset), _records(store, settings, rescan), examples)
    return {
        "rules": str(rules_path),
        "policy_version": policy_version(rules_path),
        "rescanned_signals": rescan,
        **report.as_dict(),
    }
