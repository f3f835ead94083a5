"""Policy: declarative rules over signal hits -> allow / label / queue / remove / suspend / escalate."""

from pathlib import Path

from seawall.policy.backtest import BacktestRecord, BacktestReport, Change, backtest
from seawall.policy.conditions import EventFacts, Evidence
from seawall.policy.engine import Decision, ItemFacts, PolicyEngine, RuleMatch
from seawall.policy.rules import (
    DEFAULT_ESCALATE_QUEUE,
    SEVERITY,
    VERDICTS,
    Rule,
    RulesError,
    RuleSet,
    load_rules,
    parse_rules,
)

__all__ = [
    "DEFAULT_ESCALATE_QUEUE",
    "SEVERITY",
    "VERDICTS",
    "BacktestRecord",
    "BacktestReport",
    "Change",
    "Decision",
    "EventFacts",
    "Evidence",
    "ItemFacts",
    "PolicyEngine",
    "Rule",
    "RuleMatch",
    "RulesError",
    "RuleSet",
    "backtest",
    "default_rules_path",
    "load_rules",
    "parse_rules",
]


def default_rules_path() -> Path:
    """The shipped default rules (src/seawall/data/rules.toml)."""
    return Path(__file__).resolve().parent.parent / "data" / "rules.toml"
