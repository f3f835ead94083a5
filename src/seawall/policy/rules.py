"""The rules file: TOML in, a validated RuleSet out, or every mistake at once with its place.

A rules file is `version = 1` and a list of `[[rules]]` tables; each rule maps a condition tree
(`when`, see conditions.py) to a verdict. Errors name the file, the rule (number and name) and the
path inside it, because the person reading them is an analyst editing TOML, not a developer.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Iterable, Iterator, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from seawall.events.model import EVENT_TYPES
from seawall.policy.conditions import (
    Condition,
    SignalCond,
    did_you_mean,
    iter_leaves,
    parse_condition,
    pydantic_errors,
)

FORMAT_VERSION = 1
# Least to most severe; a decision's verdict is the most severe verdict of the rules that matched.
VERDICTS = ("allow", "label", "queue", "remove", "suspend", "escalate")
SEVERITY = {v: i for i, v in enumerate(VERDICTS)}
DEFAULT_ESCALATE_QUEUE = "security"
DEFAULT_PRIORITY = 50

Verdict = Literal["allow", "label", "queue", "remove", "suspend", "escalate"]
EventType = Literal["account", "post", "follow", "report", "enforcement"]
assert get_args(EventType) == EVENT_TYPES, "rules.EventType must list the event model's types"
Slug = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_-]+$")]


class RulesError(ValueError):
    """A rules file that cannot be used; `.errors` lists every problem, one line each."""

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        head = self.errors[0] if len(self.errors) == 1 else f"{len(self.errors)} problems in rules:"
        body = "" if len(self.errors) == 1 else "\n" + "\n".join(f"  {e}" for e in self.errors)
        super().__init__(head + body)


class _RuleSpec(BaseModel):
    """Every rule field except `when`, which conditions.py validates with exact paths."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: Slug
    description: Annotated[str, Field(max_length=2_000)] = ""
    types: Annotated[list[EventType], Field(min_length=1)] | None = None
    verdict: Verdict
    queue: Slug | None = None
    priority: Annotated[int, Field(ge=0, le=100)] = DEFAULT_PRIORITY
    labels: list[Slug] = []
    shadow: bool = False
    final: bool = False


RULE_KEYS = [*_RuleSpec.model_fields, "when"]
TOP_KEYS = ["version", "rules"]


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    verdict: str
    when: Condition
    description: str = ""
    types: tuple[str, ...] | None = None  # None: every event type
    queue: str | None = None  # as written; see `route` for where a match is sent
    priority: int = DEFAULT_PRIORITY
    labels: tuple[str, ...] = ()
    shadow: bool = False
    final: bool = False

    @property
    def route(self) -> str | None:
        """The review queue a match goes to, if any.

        queue: its queue; escalate: its queue or "security"; remove and suspend: only when the rule
        names a queue, which asks a human to confirm an automatic action; allow and label: never.
        """
        if self.verdict == "escalate":
            return self.queue or DEFAULT_ESCALATE_QUEUE
        if self.verdict in ("queue", "remove", "suspend"):
            return self.queue
        return None

    def applies_to(self, event_type: str) -> bool:
        return self.types is None or event_type in self.types


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    source: str = "<rules>"
    version: int = FORMAT_VERSION
    digest: str = ""  # sha256 prefix of the file text: which rules decided, for the audit trail

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def names(self) -> list[str]:
        return [r.name for r in self.rules]

    def get(self, name: str) -> Rule:
        for r in self.rules:
            if r.name == name:
                return r
        raise KeyError(name)

    def with_shadow_enforced(self, names: Iterable[str] | None = None) -> "RuleSet":
        """A copy where shadow rules (all, or the named ones) are enforced: to backtest going live."""
        chosen = None if names is None else set(names)
        if chosen is not None and (missing := chosen - set(self.names())):
            raise KeyError(f"no such rule: {', '.join(sorted(missing))}")
        rules = tuple(
            dataclasses.replace(r, shadow=False) if r.shadow and (chosen is None or r.name in chosen) else r
            for r in self.rules
        )
        return dataclasses.replace(self, rules=rules)

    def check_signals(self, known: dict[str, set[str] | None]) -> None:
        """Raise RulesError if a rule names a signal, or a label, that no configured signal provides.

        `known` maps each configured signal to the labels it can emit (None: any label). A rule
        that names a misspelt signal would otherwise never match and nobody would notice.
        """
        problems = self.signal_problems(known)
        if problems:
            raise RulesError(problems)

    def signal_problems(self, known: dict[str, set[str] | None]) -> list[str]:
        """The problems check_signals raises for, one line each; empty when all is well."""
        problems = []
        for n, rule in enumerate(self.rules, 1):
            for path, leaf in iter_leaves(rule.when):
                if not isinstance(leaf, SignalCond):
                    continue
                where = f'{self.source}: rule {n} "{rule.name}": {path}'
                if leaf.signal not in known:
                    have = ", ".join(sorted(known)) or "none"
                    problems.append(
                        f'{where}: unknown signal "{leaf.signal}"{did_you_mean(leaf.signal, set(known))}'
                        f" (configured signals: {have})"
                    )
                    continue
                labels = known[leaf.signal]
                if labels is None:
                    continue
                for label in leaf.label_set():
                    if label is not None and label not in labels:
                        problems.append(
                            f'{where}: signal "{leaf.signal}" has no label "{label}"{did_you_mean(label, labels)}'
                            f" (its labels: {', '.join(sorted(labels))})"
                        )
        return problems


def load_rules(path: str | Path) -> RuleSet:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RulesError([f"{path}: cannot read: {exc.strerror or exc}"]) from None
    except UnicodeDecodeError as exc:
        raise RulesError([f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})"]) from None
    return parse_rules(text, source=str(path))


def parse_rules(text: str, source: str = "<string>") -> RuleSet:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RulesError([_toml_error(source, str(exc))]) from None
    errors: list[str] = []
    for key in data:
        if key not in TOP_KEYS:
            errors.append(f'{source}: unknown key "{key}"{did_you_mean(key, TOP_KEYS)}')
    version = data.get("version")
    if version is None:
        errors.append(f"{source}: missing required key \"version\" (start the file with version = {FORMAT_VERSION})")
    elif version != FORMAT_VERSION or isinstance(version, bool):
        errors.append(f"{source}: version: {version!r} is not supported (this Seawall reads version {FORMAT_VERSION})")
    raw_rules = data.get("rules", [])
    if not isinstance(raw_rules, list):
        errors.append(f"{source}: rules: expected a list of [[rules]] tables, got a single value")
        raw_rules = []
    rules: list[Rule] = []
    first_use: dict[str, int] = {}
    for n, raw in enumerate(raw_rules, 1):
        rule, errs = _parse_rule(raw, n, source)
        errors += errs
        if rule is None:
            continue
        if rule.name in first_use:
            errors.append(
                f'{source}: rule {n} "{rule.name}": name: "{rule.name}" is already used by rule {first_use[rule.name]}'
            )
            continue
        first_use[rule.name] = n
        rules.append(rule)
    if errors:
        raise RulesError(errors)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    return RuleSet(tuple(rules), source=source, version=FORMAT_VERSION, digest=digest)


def _toml_error(source: str, message: str) -> str:
    # tomllib says "Invalid value (at line 4, column 11)"; put the place first like other errors.
    m = re.match(r"^(.*) \(at line (\d+), column (\d+)\)$", message)
    if m:
        return f"{source}: line {m.group(2)}, column {m.group(3)}: TOML syntax error: {m.group(1)}"
    m = re.match(r"^(.*) \(at end of document\)$", message)
    if m:
        return f"{source}: at end of file: TOML syntax error: {m.group(1)}"
    return f"{source}: TOML syntax error: {message}"


def _parse_rule(raw: Any, n: int, source: str) -> tuple[Rule | None, list[str]]:
    if not isinstance(raw, dict):
        return None, [f"{source}: rule {n}: expected a [[rules]] table"]
    name = raw.get("name")
    where = f'{source}: rule {n} "{name}"' if isinstance(name, str) else f"{source}: rule {n}"
    fields = {k: v for k, v in raw.items() if k != "when"}
    errors: list[str] = []
    spec: _RuleSpec | None = None
    try:
        spec = _RuleSpec.model_validate(fields)
    except ValidationError as exc:
        errors += [f"{where}: {e}" for e in pydantic_errors(exc, "", RULE_KEYS)]
    if "when" not in raw:
        errors.append(f'{where}: missing required key "when" (the condition under which the rule matches)')
        cond = None
    else:
        cond, errs = parse_condition(raw["when"], "when")
        errors += [f"{where}: {e}" for e in errs]
    # On the raw values, so that a bad name does not hide a missing queue.
    errors += [f"{where}: {e}" for e in _check_routing(raw.get("verdict"), raw.get("queue"), raw.get("labels"))]
    if errors or spec is None or cond is None:
        return None, errors
    rule = Rule(
        name=spec.name,
        verdict=spec.verdict,
        when=cond,
        description=spec.description,
        types=tuple(spec.types) if spec.types is not None else None,
        queue=spec.queue,
        priority=spec.priority,
        labels=tuple(dict.fromkeys(spec.labels)),
        shadow=spec.shadow,
        final=spec.final,
    )
    return rule, []


def _check_routing(verdict: Any, queue: Any, labels: Any) -> list[str]:
    if verdict == "queue" and queue is None:
        return ['queue: required when verdict is "queue" (which review queue should it go to?)']
    if verdict in ("allow", "label") and queue is not None:
        return [f'queue: not used with verdict "{verdict}" (use verdict = "queue" to send it to review)']
    if verdict == "label" and not labels:
        return ['labels: required when verdict is "label" (which labels should it attach?)']
    if verdict == "allow" and labels:
        return ['labels: an "allow" rule attaches no labels (use verdict = "label")']
    return []
