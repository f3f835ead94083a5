"""Backtest: replay stored history through a candidate rules file before it goes live.

Each record is one past event with the signal hits it got and the decision the old rules made. The
report says how verdicts would move, how often each new rule fires (shadow rules included), and
which events would be actioned or no longer actioned, with examples a reviewer can open.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from seawall.policy.engine import Decision, PolicyEngine
from seawall.policy.rules import SEVERITY
from seawall.signals.base import SignalHit


@dataclass(slots=True)
class BacktestRecord:
    """One stored event as the engine needs to see it again; satisfies EventFacts."""

    event_key: str
    event_type: str
    hits: list[SignalHit] = field(default_factory=list)
    old_verdict: str = "allow"
    old_actions: list[str] = field(default_factory=list)
    old_rules: list[str] = field(default_factory=list)
    old_queue: str | None = None
    # Facts read by event predicates; the storage layer keeps them with each decision.
    lang: str | None = None
    has_links: bool = False
    has_media: bool = False
    report_reason: str | None = None
    account_id: str | None = None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> "BacktestRecord":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            # A misspelt "old_verdit" would silently read as "allow" and skew the whole report.
            raise ValueError(f"backtest record {data.get('event_key')!r}: unknown field(s) {', '.join(unknown)}")
        values = dict(data)
        values["hits"] = [h if isinstance(h, SignalHit) else _hit_from_mapping(h) for h in data.get("hits", ())]
        for key in ("old_actions", "old_rules"):
            values[key] = list(data.get(key, ()))
        return cls(**values)


def _hit_from_mapping(h: Mapping[str, Any]) -> SignalHit:
    return SignalHit(h["signal"], h.get("version", ""), h["label"], float(h["score"]), dict(h.get("evidence", {})))


@dataclass(slots=True)
class Change:
    """One event whose enforcement would change: old and new side by side."""

    event_key: str
    event_type: str
    old_verdict: str
    old_actions: list[str]
    old_rules: list[str]
    new_verdict: str
    new_actions: list[str]
    new_rules: list[str]
    new_queue: str | None

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


CHANGE_KINDS = ("newly_actioned", "no_longer_actioned", "actions_changed")


@dataclass
class BacktestReport:
    total: int = 0
    rules: list[str] = field(default_factory=list)  # enforced rules of the new file, in order
    shadow_rules: list[str] = field(default_factory=list)  # shadow rules of the new file, in order
    transitions: Counter[tuple[str, str]] = field(default_factory=Counter)  # (old, new) verdict
    old_verdicts: Counter[str] = field(default_factory=Counter)
    new_verdicts: Counter[str] = field(default_factory=Counter)
    new_queues: Counter[str] = field(default_factory=Counter)  # review load the new rules would create
    rule_matches: Counter[str] = field(default_factory=Counter)  # enforced matches per new rule
    shadow_matches: Counter[str] = field(default_factory=Counter)  # shadow matches per new rule
    old_rule_matches: Counter[str] = field(default_factory=Counter)
    changes: Counter[str] = field(default_factory=Counter)  # per CHANGE_KINDS
    examples: dict[str, list[Change]] = field(default_factory=lambda: {k: [] for k in CHANGE_KINDS})

    @property
    def changed(self) -> int:
        return sum(self.changes.values())

    def as_dict(self) -> dict[str, Any]:
        def ordered(c: Counter[str]) -> dict[str, int]:
            return dict(sorted(c.items(), key=lambda kv: (-kv[1], kv[0])))

        return {
            "total": self.total,
            "changed": self.changed,
            "transitions": {
                f"{o}->{n}": k
                for (o, n), k in sorted(
                    self.transitions.items(), key=lambda kv: (SEVERITY.get(kv[0][0], -1), SEVERITY.get(kv[0][1], -1))
                )
            },
            "old_verdicts": ordered(self.old_verdicts),
            "new_verdicts": ordered(self.new_verdicts),
            "new_queues": ordered(self.new_queues),
            # Every rule of the new file is listed, zeros included: a rule that never fires is news.
            "rule_matches": {r: self.rule_matches.get(r, 0) for r in self.rules},
            "shadow_matches": {r: self.shadow_matches.get(r, 0) for r in self.shadow_rules},
            "old_rule_matches": ordered(self.old_rule_matches),
            "changes": {k: {"count": self.changes.get(k, 0), "examples": [c.as_dict() for c in self.examples[k]]}
                        for k in CHANGE_KINDS},
        }


def classify_change(old_actions: Iterable[str], new_actions: Iterable[str]) -> str | None:
    """Which CHANGE_KINDS bucket a pair of action lists falls into, or None if unchanged."""
    old, new = set(old_actions), set(new_actions)
    if old == new:
        return None
    if not old:
        return "newly_actioned"
    if not new:
        return "no_longer_actioned"
    return "actions_changed"


def backtest(
    engine: PolicyEngine,
    records: Iterable[BacktestRecord | Mapping[str, Any]],
    examples: int = 20,
) -> BacktestReport:
    """Run `records` through `engine` and compare with the decisions stored in them.

    Records are streamed, so a generator over a large history uses constant memory.
    """
    rules = engine.ruleset.rules
    report = BacktestReport(
        rules=[r.name for r in rules if not r.shadow], shadow_rules=[r.name for r in rules if r.shadow]
    )
    for raw in records:
        rec = raw if isinstance(raw, BacktestRecord) else BacktestRecord.from_mapping(raw)
        d = engine.decide_facts(rec, rec.hits)
        _tally(report, rec, d, examples)
    return report


def _tally(report: BacktestReport, rec: BacktestRecord, d: Decision, examples: int) -> None:
    report.total += 1
    report.transitions[(rec.old_verdict, d.verdict)] += 1
    report.old_verdicts[rec.old_verdict] += 1
    report.new_verdicts[d.verdict] += 1
    if d.queue is not None:
        report.new_queues[d.queue] += 1
    for m in d.matched:
        report.rule_matches[m.rule] += 1
    for m in d.shadow:
        report.shadow_matches[m.rule] += 1
    for name in rec.old_rules:
        report.old_rule_matches[name] += 1
    kind = classify_change(rec.old_actions, d.actions)
    if kind is None:
        return
    report.changes[kind] += 1
    if len(report.examples[kind]) < examples:
        report.examples[kind].append(
            Change(
                rec.event_key,
                rec.event_type,
                rec.old_verdict,
                list(rec.old_actions),
                list(rec.old_rules),
                d.verdict,
                list(d.actions),
                d.rules,
                d.queue,
            )
        )
