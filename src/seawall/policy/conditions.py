"""Condition trees: what a rule's `when` may say, how it is validated and how it is compiled.

A condition is a leaf (a signal hit, or a typed fact about the event) or a composite (`all`, `any`,
`not`). Leaves are pydantic models so their fields are typed; the tree itself is walked by hand so
that every error names its exact place ("when.all[1].any[0]") and suggests the key meant.

Compiled conditions are plain closures over a hit index, so evaluating ten rules costs a few
microseconds; evidence (which hit satisfied which leaf) is collected only for rules that matched.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Annotated, Any, Callable, Iterator, Protocol, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from seawall.signals.base import SignalHit

# --- the facts a condition may look at -------------------------------------------------------


class EventFacts(Protocol):
    """What event predicates read. The engine wraps an Item in one; a backtest record is one."""

    @property
    def event_type(self) -> str: ...
    @property
    def lang(self) -> str | None: ...
    @property
    def has_links(self) -> bool: ...
    @property
    def has_media(self) -> bool: ...
    @property
    def report_reason(self) -> str | None: ...
    @property
    def account_id(self) -> str | None: ...


def normalize_reason(reason: str) -> str:
    """'Violent threat' and 'violent-threat' are the same report reason as 'violent_threat'."""
    return re.sub(r"[\s\-]+", "_", reason.strip().casefold())


# Hits of one event, by (signal, label) and by (signal, None) for "any label of this signal".
HitIndex = dict[tuple[str, Union[str, None]], list[SignalHit]]


def index_hits(hits: list[SignalHit]) -> HitIndex:
    idx: HitIndex = {}
    for h in hits:
        k = (h.signal, h.label)
        lst = idx.get(k)
        if lst is None:
            idx[k] = [h]
        else:
            lst.append(h)
        k = (h.signal, None)
        lst = idx.get(k)
        if lst is None:
            idx[k] = [h]
        else:
            lst.append(h)
    return idx


# --- leaves ------------------------------------------------------------------------------------

Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:\-]*$")]
Score = Annotated[float, Field(ge=0.0, le=1.0)]
NonEmptyStr = Annotated[str, Field(min_length=1, max_length=200)]


class _Leaf(BaseModel):
    # strict: a score written as "0.5" or a flag written as "yes" is a mistake, not a value.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class SignalCond(_Leaf):
    """Some hit of `signal` (with `label`, or one of `labels`) has a score in range."""

    signal: Name
    label: Name | None = None
    labels: Annotated[list[Name], Field(min_length=1)] | None = None
    # None means "any score above zero"; a given bound is inclusive.
    min_score: Score | None = None
    max_score: Score | None = None

    @model_validator(mode="after")
    def _check(self) -> "SignalCond":
        if self.label is not None and self.labels is not None:
            raise ValueError('give "label" or "labels", not both')
        if self.min_score is not None and self.max_score is not None and self.min_score > self.max_score:
            raise ValueError(f"min_score {self.min_score} is above max_score {self.max_score}")
        return self

    def label_set(self) -> list[str | None]:
        if self.labels is not None:
            return list(self.labels)
        return [self.label]


class LangCond(_Leaf):
    """The event's detected language is one of these ISO 639-1 codes."""

    lang: Annotated[list[Annotated[str, Field(pattern=r"^[a-z]{2,3}$")]], Field(min_length=1)]


class HasLinksCond(_Leaf):
    has_links: bool


class HasMediaCond(_Leaf):
    has_media: bool


class ReportReasonCond(_Leaf):
    """A report event whose reason is one of these (compared case- and separator-insensitively)."""

    report_reason: Annotated[list[NonEmptyStr], Field(min_length=1)]


class AccountCond(_Leaf):
    """The acting account (poster, the account itself, follower, reporter) is one of these ids."""

    account: Annotated[list[NonEmptyStr], Field(min_length=1)]


@dataclass(frozen=True, slots=True)
class AllOf:
    children: tuple["Condition", ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    children: tuple["Condition", ...]


@dataclass(frozen=True, slots=True)
class NotCond:
    child: "Condition"


Leaf = Union[SignalCond, LangCond, HasLinksCond, HasMediaCond, ReportReasonCond, AccountCond]
Condition = Union[AllOf, AnyOf, NotCond, Leaf]

# The key that says which kind of leaf a table is.
LEAF_KINDS: dict[str, type[_Leaf]] = {
    "signal": SignalCond,
    "lang": LangCond,
    "has_links": HasLinksCond,
    "has_media": HasMediaCond,
    "report_reason": ReportReasonCond,
    "account": AccountCond,
}
KIND_KEYS = ("all", "any", "not", *LEAF_KINDS)
CONDITION_KEYS = sorted(set(KIND_KEYS) | {k for m in LEAF_KINDS.values() for k in m.model_fields})


# --- error messages shared with rules.py -------------------------------------------------------


def did_you_mean(word: str, choices: list[str] | tuple[str, ...] | set[str]) -> str:
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


def join_path(base: str, loc: tuple[Any, ...]) -> str:
    out = base
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out = f"{out}.{part}" if out else str(part)
    return out


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return "a table" if isinstance(value, dict) else "a list"
    return repr(value)


def pydantic_errors(exc: ValidationError, base: str, known_keys: list[str]) -> list[str]:
    """pydantic's errors as 'path: message' lines in a T&S analyst's terms (TOML, not Python)."""
    out = []
    for err in exc.errors(include_url=False):
        # Drop union-branch tags pydantic inserts into locations ("list[str]", "float").
        loc = tuple(p for p in err["loc"] if isinstance(p, int) or p in known_keys)
        path = join_path(base, loc)
        kind, value, ctx = err["type"], err.get("input"), err.get("ctx") or {}
        if kind == "extra_forbidden":
            key = str(err["loc"][-1])
            msg = f'unknown key "{key}"{did_you_mean(key, known_keys)}'
            path = base
        elif kind == "missing":
            msg = f'missing required key "{err["loc"][-1]}"'
            path = base
        elif kind == "literal_error":
            choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
            msg = f"{_show(value)} is not one of {', '.join(choices)}"
            if isinstance(value, str):
                msg += did_you_mean(value, choices)
        elif kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
            lo, hi = _range_of(loc)
            msg = f"{_show(value)} is out of range {lo}..{hi}" if lo is not None else err["msg"]
        elif kind == "string_pattern_mismatch":
            msg = f"{_show(value)} is not allowed here ({_pattern_hint(str(ctx.get('pattern', '')))})"
        elif kind in ("too_short", "string_too_short"):
            msg = "must not be empty"
        elif kind in ("int_type", "float_type", "bool_type", "string_type", "list_type", "model_type", "dict_type"):
            want = {
                "int_type": "a whole number",
                "float_type": "a number",
                "bool_type": "true or false",
                "string_type": "a string",
                "list_type": "a list",
                "model_type": "a table",
                "dict_type": "a table",
            }[kind]
            msg = f"expected {want}, got {_show(value)}"
        elif kind == "value_error":
            msg = err["msg"].removeprefix("Value error, ")
        else:
            msg = err["msg"]
        out.append(f"{path}: {msg}" if path else msg)
    return out


_RANGES = {"priority": (0, 100), "min_score": (0.0, 1.0), "max_score": (0.0, 1.0)}


def _range_of(loc: tuple[Any, ...]) -> tuple[Any, Any]:
    for part in reversed(loc):
        if part in _RANGES:
            return _RANGES[part]
    return (None, None)


def _pattern_hint(pattern: str) -> str:
    if pattern == r"^[a-z0-9_-]+$":
        return 'lower-case letters, digits, "-" and "_" only'
    if pattern.startswith("^[a-z]{2"):
        return "a lower-case ISO 639-1 language code such as en or ar"
    return "letters, digits and _ . : - only, starting with a letter or digit"


# --- parsing the tree --------------------------------------------------------------------------


def parse_condition(raw: Any, path: str = "when") -> tuple[Condition | None, list[str]]:
    """Build a condition from a decoded TOML value; on failure return (None, 'path: message' lines)."""
    if not isinstance(raw, dict):
        return None, [f"{path}: expected a condition table such as {{ signal = \"watchterms\" }}, got {_show(raw)}"]
    if not raw:
        return None, [f"{path}: empty condition; it needs one of {', '.join(KIND_KEYS)}"]
    kinds = [k for k in raw if k in KIND_KEYS]
    unknown = [k for k in raw if k not in CONDITION_KEYS]
    errors = [f'{path}: unknown key "{k}"{did_you_mean(k, CONDITION_KEYS)}' for k in unknown]
    if not kinds:
        if not errors:
            errors.append(f"{path}: a condition needs one of {', '.join(KIND_KEYS)}")
        return None, errors
    if len(kinds) > 1:
        shown = " and ".join(f'"{k}"' for k in kinds)
        return None, errors + [
            f"{path}: one condition per table, found {shown}; combine them with all = [ ... ]"
        ]
    kind = kinds[0]
    if kind in ("all", "any", "not"):
        extra = [k for k in raw if k != kind and k not in unknown]
        errors += [f'{path}: "{k}" cannot sit next to "{kind}"; put it in its own condition' for k in extra]
        return _parse_composite(kind, raw[kind], path, errors)
    if errors:
        return None, errors
    model = LEAF_KINDS[kind]
    try:
        return model.model_validate(raw), []
    except ValidationError as exc:
        return None, pydantic_errors(exc, path, list(model.model_fields))


def _parse_composite(kind: str, value: Any, path: str, errors: list[str]) -> tuple[Condition | None, list[str]]:
    if kind == "not":
        child, errs = parse_condition(value, f"{path}.not")
        errors += errs
        return (NotCond(child) if child is not None and not errors else None), errors
    if not isinstance(value, list):
        return None, errors + [f"{path}.{kind}: expected a list of conditions, got {_show(value)}"]
    if not value:
        # An empty all would match everything and an empty any nothing: both are mistakes.
        return None, errors + [f"{path}.{kind}: must list at least one condition"]
    children = []
    for i, item in enumerate(value):
        child, errs = parse_condition(item, f"{path}.{kind}[{i}]")
        errors += errs
        children.append(child)
    if errors:
        return None, errors
    return (AllOf if kind == "all" else AnyOf)(tuple(children)), []


def iter_leaves(cond: Condition, path: str = "when") -> Iterator[tuple[str, Leaf]]:
    if isinstance(cond, (AllOf, AnyOf)):
        kind = "all" if isinstance(cond, AllOf) else "any"
        for i, child in enumerate(cond.children):
            yield from iter_leaves(child, f"{path}.{kind}[{i}]")
    elif isinstance(cond, NotCond):
        yield from iter_leaves(cond.child, f"{path}.not")
    else:
        yield path, cond


def needs_hits(cond: Condition) -> bool:
    """True when the condition can only hold if the event has at least one signal hit."""
    if isinstance(cond, SignalCond):
        return True
    if isinstance(cond, AllOf):
        return any(needs_hits(c) for c in cond.children)
    if isinstance(cond, AnyOf):
        return all(needs_hits(c) for c in cond.children)
    return False


def to_data(cond: Condition) -> dict[str, Any]:
    """The condition as the TOML-shaped data it was written as (for display and round trips)."""
    if isinstance(cond, AllOf):
        return {"all": [to_data(c) for c in cond.children]}
    if isinstance(cond, AnyOf):
        return {"any": [to_data(c) for c in cond.children]}
    if isinstance(cond, NotCond):
        return {"not": to_data(cond.child)}
    return cond.model_dump(exclude_none=True)


# --- compiling ---------------------------------------------------------------------------------


@dataclass(slots=True)  # not frozen: frozen dataclasses are several times slower to build
class Evidence:
    """Why one leaf held: the hit that satisfied it, or the event fact a predicate read."""

    path: str  # where in the rule: "when.all[0]"
    hit: SignalHit | None = None
    predicate: str | None = None  # for event predicates: "lang", "has_links", ...
    value: Any = None  # the event's value for that predicate

    @property
    def signal(self) -> str | None:
        return self.hit.signal if self.hit is not None else None

    @property
    def label(self) -> str | None:
        return self.hit.label if self.hit is not None else None

    @property
    def score(self) -> float | None:
        return self.hit.score if self.hit is not None else None

    def as_dict(self) -> dict[str, Any]:
        h = self.hit
        if h is not None:
            # `detail` is the signal's own evidence: the matched words, the domain, the list.
            return {"path": self.path, "signal": h.signal, "version": h.version, "label": h.label,
                    "score": h.score, "detail": h.evidence}
        return {"path": self.path, "predicate": self.predicate, "value": self.value}


Test = Callable[[HitIndex, EventFacts], bool]
Explain = Callable[[HitIndex, EventFacts, list[Evidence]], None]


def compile_condition(cond: Condition, path: str = "when") -> tuple[Test, Explain]:
    """Closures for a condition: a fast test, and an explainer to run only once the test passed."""
    if isinstance(cond, SignalCond):
        return _compile_signal(cond, path)
    if isinstance(cond, (AllOf, AnyOf)):
        kind = "all" if isinstance(cond, AllOf) else "any"
        parts = [compile_condition(c, f"{path}.{kind}[{i}]") for i, c in enumerate(cond.children)]
        tests = tuple(t for t, _ in parts)
        return (_all(tests), _explain_all(parts)) if kind == "all" else (_any(tests), _explain_any(parts))
    if isinstance(cond, NotCond):
        inner, _ = compile_condition(cond.child, f"{path}.not")
        return (lambda idx, facts: not inner(idx, facts)), _explain_nothing
    return _compile_predicate(cond, path)


def _explain_nothing(idx: HitIndex, facts: EventFacts, out: list[Evidence]) -> None:
    return None


def _all(tests: tuple[Test, ...]) -> Test:
    if len(tests) == 1:
        return tests[0]
    if len(tests) == 2:
        a, b = tests
        return lambda idx, facts: a(idx, facts) and b(idx, facts)

    def test(idx: HitIndex, facts: EventFacts) -> bool:
        for t in tests:
            if not t(idx, facts):
                return False
        return True

    return test


def _any(tests: tuple[Test, ...]) -> Test:
    if len(tests) == 1:
        return tests[0]
    if len(tests) == 2:
        a, b = tests
        return lambda idx, facts: a(idx, facts) or b(idx, facts)

    def test(idx: HitIndex, facts: EventFacts) -> bool:
        for t in tests:
            if t(idx, facts):
                return True
        return False

    return test


def _explain_all(parts: list[tuple[Test, Explain]]) -> Explain:
    def explain(idx: HitIndex, facts: EventFacts, out: list[Evidence]) -> None:
        for _, ex in parts:
            ex(idx, facts, out)

    return explain


def _explain_any(parts: list[tuple[Test, Explain]]) -> Explain:
    # Every branch that held is evidence, not just the first: a reviewer wants all the reasons.
    def explain(idx: HitIndex, facts: EventFacts, out: list[Evidence]) -> None:
        for t, ex in parts:
            if t(idx, facts):
                ex(idx, facts, out)

    return explain


def _compile_signal(cond: SignalCond, path: str) -> tuple[Test, Explain]:
    keys = tuple((cond.signal, label) for label in cond.label_set())
    lo, hi = cond.min_score, cond.max_score

    if lo is None and hi is None:
        def ok(score: float) -> bool:
            return score > 0.0
    else:
        lo_v = lo if lo is not None else 0.0
        hi_v = hi if hi is not None else 1.0
        exclusive = lo is None  # "any hit" still means a score above zero when only max is given

        def ok(score: float) -> bool:
            return (score > lo_v if exclusive else score >= lo_v) and score <= hi_v

    if len(keys) == 1 and lo is None and hi is None:
        key = keys[0]

        # The common leaf ("some hit of this signal and label"), without a call per hit.
        def test(idx: HitIndex, facts: EventFacts) -> bool:
            hits = idx.get(key)
            if hits:
                for h in hits:
                    if h.score > 0.0:
                        return True
            return False
    elif len(keys) == 1:
        key = keys[0]

        def test(idx: HitIndex, facts: EventFacts) -> bool:
            hits = idx.get(key)
            if hits:
                for h in hits:
                    if ok(h.score):
                        return True
            return False
    else:
        def test(idx: HitIndex, facts: EventFacts) -> bool:
            for key in keys:
                hits = idx.get(key)
                if hits:
                    for h in hits:
                        if ok(h.score):
                            return True
            return False

    def explain(idx: HitIndex, facts: EventFacts, out: list[Evidence]) -> None:
        for key in keys:
            for h in idx.get(key, ()):
                if ok(h.score):
                    out.append(Evidence(path, h))

    return test, explain


def _compile_predicate(cond: Leaf, path: str) -> tuple[Test, Explain]:
    test: Test
    if isinstance(cond, LangCond):
        name, langs = "lang", frozenset(cond.lang)
        test = lambda idx, facts: facts.lang in langs  # noqa: E731
    elif isinstance(cond, HasLinksCond):
        name, want = "has_links", cond.has_links
        test = lambda idx, facts: bool(facts.has_links) is want  # noqa: E731
    elif isinstance(cond, HasMediaCond):
        name, want = "has_media", cond.has_media
        test = lambda idx, facts: bool(facts.has_media) is want  # noqa: E731
    elif isinstance(cond, ReportReasonCond):
        name, reasons = "report_reason", frozenset(normalize_reason(r) for r in cond.report_reason)

        def test(idx: HitIndex, facts: EventFacts) -> bool:
            r = facts.report_reason
            return facts.event_type == "report" and r is not None and normalize_reason(r) in reasons
    elif isinstance(cond, AccountCond):
        name, accounts = "account", frozenset(cond.account)
        test = lambda idx, facts: facts.account_id in accounts  # noqa: E731
    else:  # pragma: no cover - parse_condition builds only the kinds above
        raise TypeError(f"not a condition: {cond!r}")

    attr = "account_id" if name == "account" else name

    def explain(idx: HitIndex, facts: EventFacts, out: list[Evidence]) -> None:
        out.append(Evidence(path, None, name, getattr(facts, attr)))

    return test, explain
