"""The policy engine: a RuleSet and an event's signal hits in, one Decision out.

Rules run in file order. Every enforced rule that matches contributes its verdict, labels and queue;
the decision's verdict is the most severe of them. Shadow rules are evaluated and recorded but never
contribute. An enforced rule with `final = true` stops evaluation (that is how allow-lists work).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from seawall.events.model import EVENT_TYPES
from seawall.normalize.item import Item
from seawall.policy.conditions import (
    EventFacts,
    Evidence,
    HitIndex,
    compile_condition,
    index_hits,
    needs_hits,
    normalize_reason,
)
from seawall.policy.rules import SEVERITY, VERDICTS, Rule, RuleSet, load_rules
from seawall.signals.base import SignalHit

_LABEL = SEVERITY["label"]
_EMPTY_INDEX: HitIndex = {}


@dataclass(slots=True)
class RuleMatch:
    """One rule that matched one event, and the evidence a reviewer needs to see why."""

    rule: str
    verdict: str
    queue: str | None
    priority: int
    labels: list[str]
    shadow: bool
    evidence: list[Evidence] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "verdict": self.verdict,
            "queue": self.queue,
            "priority": self.priority,
            "labels": list(self.labels),
            "shadow": self.shadow,
            "evidence": [e.as_dict() for e in self.evidence],
        }


@dataclass(slots=True)
class Decision:
    verdict: str = "allow"  # the most severe enforced verdict
    actions: list[str] = field(default_factory=list)  # distinct enforced verdicts above "label", by severity
    queue: str | None = None  # review queue of the highest-priority enforced match that routes to one
    priority: int = 0
    labels: list[str] = field(default_factory=list)
    matched: list[RuleMatch] = field(default_factory=list)  # enforced matches, in file order
    shadow: list[RuleMatch] = field(default_factory=list)  # shadow matches: recorded, never enforced

    @property
    def rules(self) -> list[str]:
        return [m.rule for m in self.matched]

    @property
    def actioned(self) -> bool:
        return bool(self.actions)

    def as_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "actions": list(self.actions),
            "queue": self.queue,
            "priority": self.priority,
            "labels": list(self.labels),
            "matched": [m.as_dict() for m in self.matched],
            "shadow": [m.as_dict() for m in self.shadow],
        }


class ItemFacts:
    """An Item seen through the EventFacts protocol; each fact is read only if a rule asks."""

    __slots__ = ("item",)

    def __init__(self, item: Item):
        self.item = item

    @property
    def event_type(self) -> str:
        return self.item.event.type

    @property
    def lang(self) -> str | None:
        return self.item.lang

    @property
    def has_links(self) -> bool:
        return bool(self.item.urls) or bool(getattr(self.item.event, "links", None))

    @property
    def has_media(self) -> bool:
        ev = self.item.event
        if ev.type == "post":
            return bool(ev.media)
        if ev.type == "account":
            return ev.avatar is not None or ev.banner is not None
        return False

    @property
    def report_reason(self) -> str | None:
        ev = self.item.event
        return normalize_reason(ev.reason) if ev.type == "report" else None

    @property
    def account_id(self) -> str | None:
        # The account that acted: who posted, the account itself, who followed, who reported.
        ev = self.item.event
        if ev.type == "post":
            return ev.account_id
        if ev.type == "account":
            return ev.id
        if ev.type == "follow":
            return ev.follower_id
        if ev.type == "report":
            return ev.reporter_id
        return ev.account_id


class _Compiled:
    """A rule ready to run: its closures and the fields the hot loop reads, flattened."""

    __slots__ = ("rule", "name", "verdict", "test", "explain", "needs_hits", "severity", "route",
                 "priority", "labels", "shadow", "final", "rank")

    def __init__(self, rule: Rule, order: int):
        self.rule = rule
        self.name, self.verdict, self.route = rule.name, rule.verdict, rule.route
        self.test, self.explain = compile_condition(rule.when)
        self.needs_hits = needs_hits(rule.when)
        self.severity = SEVERITY[rule.verdict]
        self.priority, self.labels, self.shadow, self.final = rule.priority, rule.labels, rule.shadow, rule.final
        # Queue precedence: highest priority, then the more severe verdict, then the earlier rule.
        self.rank = (rule.priority, self.severity, -order)


# The actions list for each set of enforced severities above "label", as a bit mask.
_ACTIONS_BY_MASK = [
    [v for v in VERDICTS if SEVERITY[v] > _LABEL and mask & (1 << SEVERITY[v])] for mask in range(1 << len(VERDICTS))
]


class PolicyEngine:
    def __init__(self, ruleset: RuleSet, known_signals: dict[str, set[str] | None] | None = None):
        """Compile `ruleset`. With `known_signals` (signal -> its labels, None for any), refuse
        rules that name a signal or label nothing provides, so a typo cannot disable a rule."""
        if known_signals is not None:
            ruleset.check_signals(known_signals)
        self.ruleset = ruleset
        compiled = [_Compiled(rule, i) for i, rule in enumerate(ruleset.rules)]
        # Per event type, the rules that apply, and the subset that can match without any hit:
        # most events have no hits, and then only that (usually empty) subset needs evaluating.
        self._by_type: dict[str, tuple[_Compiled, ...]] = {}
        self._by_type_no_hits: dict[str, tuple[_Compiled, ...]] = {}
        for t in EVENT_TYPES:
            rules = tuple(c for c in compiled if c.rule.applies_to(t))
            self._by_type[t] = rules
            self._by_type_no_hits[t] = tuple(c for c in rules if not c.needs_hits)
        self._untyped = tuple(c for c in compiled if c.rule.types is None)
        self._untyped_no_hits = tuple(c for c in self._untyped if not c.needs_hits)

    @classmethod
    def from_file(cls, path: str | Path, known_signals: dict[str, set[str] | None] | None = None) -> "PolicyEngine":
        return cls(load_rules(path), known_signals)

    def decide(self, item: Item, hits: Sequence[SignalHit]) -> Decision:
        return self.decide_facts(ItemFacts(item), hits)

    def decide_batch(self, items: Sequence[Item], hits_per_item: Sequence[Sequence[SignalHit]]) -> list[Decision]:
        if len(items) != len(hits_per_item):
            raise ValueError(f"{len(items)} items but {len(hits_per_item)} hit lists")
        decide = self.decide_facts
        facts = ItemFacts(items[0]) if items else None
        out = []
        for item, hits in zip(items, hits_per_item):
            # One facts view re-pointed per item: decisions keep values, never the view itself.
            facts.item = item  # type: ignore[union-attr]
            out.append(decide(facts, hits))  # type: ignore[arg-type]
        return out

    def decide_facts(self, facts: EventFacts, hits: Sequence[SignalHit]) -> Decision:
        """Decide from anything with the EventFacts attributes (an Item's facts, a backtest record)."""
        etype = facts.event_type
        if hits:
            rules = self._by_type.get(etype, self._untyped)
            idx = index_hits(hits)  # type: ignore[arg-type]
        else:
            rules = self._by_type_no_hits.get(etype, self._untyped_no_hits)
            idx = _EMPTY_INDEX
        if not rules:
            return Decision()
        enforced: list[_Compiled] = []
        matches: list[RuleMatch] = []
        shadow: list[RuleMatch] = []
        for c in rules:
            if not c.test(idx, facts):
                continue
            evidence: list[Evidence] = []
            c.explain(idx, facts, evidence)
            m = RuleMatch(c.name, c.verdict, c.route, c.priority, list(c.labels), c.shadow, evidence)
            if c.shadow:
                # A shadow rule never stops evaluation either: `final` acts only once enforced.
                shadow.append(m)
                continue
            enforced.append(c)
            matches.append(m)
            if c.final:
                break
        if not enforced:
            return Decision(shadow=shadow)
        return _combine(enforced, matches, shadow)


def _combine(enforced: list[_Compiled], matches: list[RuleMatch], shadow: list[RuleMatch]) -> Decision:
    top = mask = 0
    best: _Compiled | None = None
    labels: list[str] = []
    for c in enforced:
        sev = c.severity
        if sev > top:
            top = sev
        mask |= 1 << sev
        if c.route is not None and (best is None or c.rank > best.rank):
            best = c
        for label in c.labels:
            if label not in labels:
                labels.append(label)
    return Decision(
        VERDICTS[top],
        list(_ACTIONS_BY_MASK[mask]),
        best.route if best is not None else None,
        best.priority if best is not None else 0,
        labels,
        matches,
        shadow,
    )
