"""The protected-targets watchlist: which person, organisation, group or place a post names.

A threat is most urgent when it names someone the platform must protect: its executives, its staff,
its offices. This signal does not judge whether a post is a threat (the classifier and the watch
terms do); it says *who or what* a post refers to, so that a rule can combine the two:
"a threat and a protected target" escalates to the security queue.

The watchlist is TOML (docs/targets.md), one `[[targets]]` table per target:

    id, kind (person | organisation | group | place), name, severity (low..critical),
    aliases (score 1.0), partial_aliases (score partial_score, 0.6), requires_context
    (score context_score, 0.4, counted only next to another reference), context (ids of other
    targets whose references also count as context), handles (@handles and account ids), note.

Matching:

* Aliases of every target, in any script, go into ONE Aho-Corasick automaton over their skeletons
  (seawall.normalize.term_skeleton, the function posts go through), so "D4na Qu1llmere",
  "Dana Quillmere" with a Cyrillic "а", zero-width spaces or Arabic letter variants all meet the
  alias, and the cost per post does not grow with the list. A multi-word alias is also added
  with its words joined ("danaquillmere"), which catches hashtags (#DanaQuillmere) and letter-
  spaced writing ("D A N A Q U I L L M E R E" becomes one token in the skeleton); an alias
  ending in a Latin letter also matches with "s" added (the skeleton drops the apostrophe of
  "Quillmere's"; plurals: "your CEOs"); an alias made only of letters that look Latin
  ("Морванов") is also added as the normaliser folds it inside a Latin-script post.
* Word boundaries and Arabic clitics are checked exactly as the watch-term signal checks them
  (its _left_ok/_right_ok are reused): "ceo" does not match inside "ceoing", "لدانا" (for Dana)
  matches "دانا".
* Within one text field a match lying inside a longer match is dropped: "Example Social staff" is
  a reference to the staff, not also one to the company.
* Handles are compared with the item's mentions (normalised, without "@"): equal is score 1.0; a
  different handle with the same skeleton ("@examp1e_ce0") is a look-alike, score 0.9. An AT
  Protocol post's mentioned DIDs (attribute "mention_dids") are compared with the listed ids.
  The item's hashtags are compared with the joined form of the aliases.

One hit per (item, target): label = the target's kind, score = the strongest counted reference.
"""

from __future__ import annotations

import logging
import re
import tomllib
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Sequence

import ahocorasick
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from seawall.normalize import Item, NormalizedText, hashtag_key, normalize_mention, term_skeleton
from seawall.policy.conditions import did_you_mean, pydantic_errors
from seawall.signals.base import Signal, SignalHit, SignalSettings
from seawall.signals.lists import ListError, resolve_list_path
from seawall.signals.watchterms import WatchTermsSignal, _excerpt, _tag_key

log = logging.getLogger("seawall.signals.targets")

KINDS = ("person", "organisation", "group", "place")
SEVERITIES = ("low", "medium", "high", "critical")
FORMAT_VERSION = 1
HANDLE_SCORE = 1.0
LOOKALIKE_HANDLE_SCORE = 0.9

# The watch-term signal's word-boundary and Arabic-clitic checks, shared rather than copied.
_left_ok = WatchTermsSignal._left_ok
_right_ok = WatchTermsSignal._right_ok

Slug = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_-]+$")]
AliasText = Annotated[str, Field(min_length=1, max_length=200)]
HandleText = Annotated[str, Field(min_length=1, max_length=256)]


def _score(v: float) -> float:
    if not 0.0 < v <= 1.0:
        raise ValueError(f"{v} is out of range: a score must be above 0 and at most 1")
    return v


class _TargetSpec(BaseModel):
    """One [[targets]] table as written; the loader adds the checks that need normalisation."""

    model_config = ConfigDict(extra="forbid", strict=True)

    id: Slug
    kind: Literal["person", "organisation", "group", "place"]
    name: Annotated[str, Field(min_length=1, max_length=300)]
    severity: Literal["low", "medium", "high", "critical"] = "high"
    aliases: list[AliasText] = []
    partial_aliases: list[AliasText] = []
    partial_score: float = 0.6
    requires_context: list[AliasText] = []
    context_score: float = 0.4
    context: list[Slug] = []
    handles: list[HandleText] = []
    note: str = ""

    _scores = field_validator("partial_score", "context_score")(_score)

    @model_validator(mode="after")
    def _referable(self) -> "_TargetSpec":
        if not (self.aliases or self.partial_aliases or self.handles or (self.requires_context and self.context)):
            raise ValueError(
                "nothing to match: give aliases, partial_aliases or handles "
                "(requires_context alone needs `context` targets)"
            )
        return self


TARGET_KEYS = list(_TargetSpec.model_fields)
TOP_KEYS = ["version", "example", "targets"]


@dataclass(frozen=True, slots=True)
class Target:
    id: str
    kind: str
    name: str
    severity: str
    aliases: tuple[str, ...]
    partial_aliases: tuple[str, ...]
    partial_score: float
    requires_context: tuple[str, ...]
    context_score: float
    context: tuple[str, ...]
    handles: tuple[str, ...]
    note: str
    source: str  # list file name, for evidence
    line: int  # line of its [[targets]] header (0 when unknown)
    example: bool  # from a list marked `example = true`


# --- loading -----------------------------------------------------------------------------------

_HEADER_RE = re.compile(r"^\s*\[\[\s*targets\s*\]\]\s*(#.*)?$")
_TABLE_RE = re.compile(r"^\s*\[\[?\s*[A-Za-z0-9_.\"' -]+\]\]?\s*(#.*)?$")


class _Lines:
    """Where things are in a list file, for "file:line:" in errors (tomllib keeps no positions)."""

    def __init__(self, text: str):
        self.lines = text.splitlines()
        self.spans: list[tuple[int, int]] = []  # (header line, last line) of each [[targets]], 1-based
        for i, line in enumerate(self.lines, 1):
            if _TABLE_RE.match(line):
                if self.spans and self.spans[-1][1] == len(self.lines):
                    self.spans[-1] = (self.spans[-1][0], i - 1)
                if _HEADER_RE.match(line):
                    self.spans.append((i, len(self.lines)))

    def target(self, n: int) -> int:
        return self.spans[n][0] if n < len(self.spans) else 0

    def key(self, n: int, key: str, value: Any = None) -> int:
        """Line of `key = ...` inside target n (0-based); with a string value, the line holding it."""
        if n >= len(self.spans):
            return 0
        lo, hi = self.spans[n]
        key_re = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
        for i in range(lo, hi + 1):
            if key_re.match(self.lines[i - 1]):
                if isinstance(value, str) and value:
                    for j in range(i, hi + 1):
                        line = self.lines[j - 1]
                        if f'"{value}"' in line or f"'{value}'" in line:
                            return j
                return i
        return lo

    def top_key(self, key: str) -> int:
        key_re = re.compile(rf"^\s*{re.escape(key)}\s*=")
        end = self.spans[0][0] if self.spans else len(self.lines)
        for i in range(1, end + 1):
            if key_re.match(self.lines[i - 1]):
                return i
        return 0


def _toml_syntax(name: str, message: str) -> str:
    m = re.match(r"^(.*) \(at line (\d+), column (\d+)\)$", message)
    if m:
        return f"{name}:{m.group(2)}: TOML syntax error at column {m.group(3)}: {m.group(1)}"
    return f"{name}: TOML syntax error: {message}"


def _at(name: str, line: int) -> str:
    return f"{name}:{line}" if line else name


def _in_latin_text(alias: str) -> str:
    """The alias's skeleton as it comes out inside a Latin-script post.

    The normaliser folds a word made only of Latin look-alikes ("Морванов": М о р в а н о в)
    to Latin when the post around it is Latin ("kill Морванов" -> "kill mopbahob"), but leaves
    it alone on its own or in Russian text. Both forms are added to the automaton.
    """
    sk = term_skeleton("qxw " + alias)
    return sk[4:] if sk.startswith("qxw ") else term_skeleton(alias)


def _alias_problem(text: str) -> str | None:
    key = term_skeleton(text)
    if len(key.replace(" ", "")) < 2:
        return f"{text!r} normalises to {key!r}, too short to match safely"
    return None


def _load_one(spec: str, errors: list[str]) -> tuple[list[Target], bool]:
    path = resolve_list_path(spec)
    name = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        errors.append(f"{spec}: cannot read list: {exc.strerror or exc}")
        return [], False
    except UnicodeDecodeError as exc:
        errors.append(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})")
        return [], False
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        errors.append(_toml_syntax(name, str(exc)))
        return [], False
    lines = _Lines(text)
    for key in data:
        if key not in TOP_KEYS:
            errors.append(f'{_at(name, lines.top_key(key))}: unknown key "{key}"{did_you_mean(key, TOP_KEYS)}')
    version = data.get("version")
    if version is None:
        errors.append(f'{name}: missing required key "version" (start the file with version = {FORMAT_VERSION})')
    elif version != FORMAT_VERSION or isinstance(version, bool):
        errors.append(
            f"{_at(name, lines.top_key('version'))}: version: {version!r} is not supported "
            f"(this Seawall reads version {FORMAT_VERSION})"
        )
    example = data.get("example", False)
    if not isinstance(example, bool):
        errors.append(f"{_at(name, lines.top_key('example'))}: example: expected true or false, got {example!r}")
        example = False
    raw_targets = data.get("targets", [])
    if not isinstance(raw_targets, list):
        errors.append(f"{_at(name, lines.top_key('targets'))}: targets: expected [[targets]] tables")
        raw_targets = []
    out: list[Target] = []
    for n, raw in enumerate(raw_targets):
        where_line = lines.target(n)
        if not isinstance(raw, dict):
            errors.append(f"{_at(name, where_line)}: target {n + 1}: expected a [[targets]] table")
            continue
        tid = raw.get("id")
        label = f'target {n + 1} "{tid}"' if isinstance(tid, str) else f"target {n + 1}"
        found: list[tuple[int, str]] = []  # (line, message), sorted by line below
        t: _TargetSpec | None = None
        try:
            t = _TargetSpec.model_validate(raw)
        except ValidationError as exc:
            details = exc.errors(include_url=False)
            for err, msg in zip(details, pydantic_errors(exc, "", TARGET_KEYS)):
                loc = err["loc"]
                if err["type"] == "missing" or not loc:
                    line = where_line
                else:
                    value = err.get("input") if len(loc) > 1 else None
                    line = lines.key(n, str(loc[0]), value)
                found.append((line, msg))
        # Checks that need normalisation run on the raw values, so that one table reports all of
        # its problems at once.
        for field in ("aliases", "partial_aliases", "requires_context", "handles"):
            values = raw.get(field)
            for v in values if isinstance(values, list) else ():
                if not isinstance(v, str) or not v:
                    continue  # pydantic has said so
                if field == "handles":
                    if not normalize_mention(v) or any(c.isspace() for c in v.strip()):
                        found.append((lines.key(n, field, v), f"handles: {v!r} is not a handle"))
                elif problem := _alias_problem(v):
                    found.append((lines.key(n, field, v), f"{field}: {problem}"))
        context = raw.get("context")
        if isinstance(context, list) and tid in context:
            found.append((lines.key(n, "context"), "context: a target cannot be its own context"))
        if found or t is None:
            errors += [f"{_at(name, line)}: {label}: {msg}" for line, msg in sorted(found, key=lambda f: f[0])]
            continue
        out.append(
            Target(
                t.id, t.kind, t.name, t.severity,
                tuple(dict.fromkeys(t.aliases)), tuple(dict.fromkeys(t.partial_aliases)), t.partial_score,
                tuple(dict.fromkeys(t.requires_context)), t.context_score, tuple(dict.fromkeys(t.context)),
                tuple(dict.fromkeys(t.handles)), t.note, name, where_line, example,
            )
        )
    return out, example


def load_target_lists(specs: list[str]) -> tuple[list[Target], bool]:
    """Parse and validate watchlists; returns (targets, True when every list is an example).

    Raises ListError with every problem found, each "file:line: target N "id": field: reason".
    """
    errors: list[str] = []
    targets: list[Target] = []
    examples: list[bool] = []
    for spec in specs:
        got, example = _load_one(spec, errors)
        targets += got
        examples.append(example)
    first: dict[str, Target] = {}
    for t in targets:
        if t.id in first:
            o = first[t.id]
            errors.append(f'{_at(t.source, t.line)}: target "{t.id}": id already used at {_at(o.source, o.line)}')
        else:
            first[t.id] = t
    for t in targets:
        for c in t.context:
            if c not in first:
                errors.append(
                    f'{_at(t.source, t.line)}: target "{t.id}": context: no target with id "{c}"'
                    f"{did_you_mean(c, set(first))}"
                )
    if errors:
        raise ListError(errors)
    return targets, bool(examples) and all(examples)


# --- the signal --------------------------------------------------------------------------------


class TargetsSettings(SignalSettings):
    # Watchlists, by path or "builtin:NAME" (seawall/data/lists/). The shipped list is a fictional
    # example: harmless, so the signal runs by default, but it protects nobody. Replace it.
    lists: list[str] = ["builtin:targets.toml"]
    min_score: float = Field(0.0, ge=0.0, le=1.0)  # hits scoring below this are not reported
    max_matches: int = Field(10, ge=1, le=100)  # matched references per hit, in the evidence


# A reference found in an item: (score, ref type, alias as listed, field, excerpt)
_Match = tuple[float, str, str, str, str]
_warned_example = False


class TargetsSignal(Signal[TargetsSettings]):
    name = "targets"
    version = "1"
    Settings = TargetsSettings

    def __init__(self, settings: TargetsSettings | None = None):
        super().__init__(settings)
        self.targets, self.example = load_target_lists(self.settings.lists)
        index = {t.id: i for i, t in enumerate(self.targets)}
        self._context = [tuple(index[c] for c in t.context) for t in self.targets]
        # skeleton key -> {(target, ref type, alias, contracted): score}
        keys: dict[str, dict[tuple[int, str, str, bool], float]] = {}
        self._tags: dict[str, dict[tuple[int, str, str], float]] = {}  # joined key -> refs
        self._handles: dict[str, list[tuple[int, str]]] = {}  # normalised handle -> (target, as listed)
        self._lookalikes: dict[str, list[tuple[int, str]]] = {}  # handle skeleton key -> ...
        for i, t in enumerate(self.targets):
            for ref, aliases, score in (
                ("alias", t.aliases, 1.0),
                ("partial", t.partial_aliases, t.partial_score),
                ("context", t.requires_context, t.context_score),
            ):
                for alias in aliases:
                    key = term_skeleton(alias)
                    variants = [key]
                    latin = _in_latin_text(alias)
                    if latin != key:
                        variants.append(latin)
                    joined = hashtag_key(alias)
                    if " " in key and len(joined) >= 4:
                        variants.append(joined)
                    # English possessive and plural: the skeleton drops the apostrophe, so
                    # "Quillmere's house" reads "quimeres house".
                    variants += [v + "s" for v in variants if v[-1].isascii() and v[-1].isalpha() and v[-1] != "s"]
                    for k in variants:
                        refs = keys.setdefault(k, {})
                        refs[(i, ref, alias, False)] = max(score, refs.get((i, ref, alias, False), 0.0))
                        if k.startswith("ال") and len(k) > 3:  # after the لل contraction, as watchterms
                            keys.setdefault(k[2:], {})[(i, ref, alias, True)] = score
                    tag_refs = self._tags.setdefault(joined, {})
                    tag_refs[(i, ref, alias)] = max(score, tag_refs.get((i, ref, alias), 0.0))
            for h in t.handles:
                norm = normalize_mention(h)
                self._handles.setdefault(norm, []).append((i, h))
                self._lookalikes.setdefault(_tag_key(norm), []).append((i, h))
        self._automaton: Any = None
        if keys:
            a = ahocorasick.Automaton()
            for k, refs in keys.items():
                a.add_word(k, (k, tuple((i, ref, alias, contracted, score)
                                        for (i, ref, alias, contracted), score in refs.items())))
            a.make_automaton()
            self._automaton = a
        global _warned_example
        if self.example and self.targets and not _warned_example:
            _warned_example = True
            log.warning(
                "targets: running on the fictional example watchlist (Example Social); it protects "
                "nobody. Set [signals.targets] lists to your own list (docs/targets.md)."
            )

    def labels(self) -> set[str]:
        return set(KINDS)

    # -- matching ---------------------------------------------------------------------------
    def _match_text(self, field: str, nt: NormalizedText, found: dict[int, list[_Match]]) -> None:
        s = nt.skeleton
        spans: list[tuple[int, int, tuple]] = []
        for end_idx, (key, refs) in self._automaton.iter(s):
            start, end = end_idx - len(key) + 1, end_idx + 1
            if not _right_ok(s, end, key):
                continue
            for r in refs:
                if _left_ok(s, start, key, r[3]):
                    spans.append((start, end, r))
        if not spans:
            return
        if len(spans) > 1:  # a reference inside a longer one is part of it, not a second reference
            spans = [
                sp for sp in spans
                if not any(o[0] <= sp[0] and sp[1] <= o[1] and o[1] - o[0] > sp[1] - sp[0] for o in spans)
            ]
        for start, end, (i, ref, alias, _contracted, score) in spans:
            found.setdefault(i, []).append((score, ref, alias, field, _excerpt(nt, start, end)))

    def _match_item(self, item: Item) -> dict[int, list[_Match]]:
        found: dict[int, list[_Match]] = {}
        if self._automaton is not None:
            for field, nt in item.texts.items():
                if nt.skeleton:
                    self._match_text(field, nt, found)
        if self._handles:
            for m in item.mentions:
                exact = self._handles.get(m)
                if exact:
                    for i, h in exact:
                        found.setdefault(i, []).append((HANDLE_SCORE, "handle", h, "mentions", "@" + m))
                    continue
                for i, h in self._lookalikes.get(_tag_key(m), ()):
                    found.setdefault(i, []).append((LOOKALIKE_HANDLE_SCORE, "lookalike_handle", h, "mentions", "@" + m))
            attrs = item.event.attributes
            dids = attrs.get("mention_dids") if attrs else None
            if isinstance(dids, list):
                for d in dids:
                    if isinstance(d, str):
                        for i, h in self._handles.get(d.casefold(), ()):
                            found.setdefault(i, []).append((HANDLE_SCORE, "handle", h, "mention_dids", d))
        if self._tags:
            for tag in item.hashtags:
                for (i, ref, alias), score in self._tags.get(_tag_key(tag), {}).items():
                    found.setdefault(i, []).append((score, ref, alias, "hashtags", "#" + tag))
        return found

    def evaluate(self, items: Sequence[Item]) -> list[list[SignalHit]]:
        results: list[list[SignalHit]] = []
        for item in items:
            found = self._match_item(item)
            results.append(self._hits(found) if found else [])
        return results

    def _hits(self, found: dict[int, list[_Match]]) -> list[SignalHit]:
        # Targets named by something other than a requires_context alias: these give context.
        named = {i for i, ms in found.items() if any(m[1] != "context" for m in ms)}
        hits: list[tuple[float, int, SignalHit]] = []
        for i, matches in found.items():
            t = self.targets[i]
            via: list[str] = []
            if i not in named:
                via = [self.targets[c].id for c in self._context[i] if c in named]
                if not via:
                    continue  # only ambiguous words ("Dana"): not a reference on their own
            matches.sort(key=lambda m: -m[0])
            score = matches[0][0]
            if score < self.settings.min_score:
                continue
            seen: set[tuple[str, str]] = set()
            shown: list[dict[str, Any]] = []
            for sc, ref, alias, field, excerpt in matches:
                if (alias, field) in seen or (field == "hashtags" and any(a == alias for a, _ in seen)):
                    continue
                seen.add((alias, field))
                shown.append({"alias": alias, "field": field, "excerpt": excerpt, "score": sc, "ref": ref})
            evidence: dict[str, Any] = {
                "target": t.id,
                "name": t.name,
                "kind": t.kind,
                "severity": t.severity,
                "matched": shown[: self.settings.max_matches],
                "list": t.source,
            }
            if via:
                evidence["context"] = via
            if t.example:
                evidence["example"] = True
            hits.append((score, i, self.hit(t.kind, score, **evidence)))
        hits.sort(key=lambda h: (-h[0], h[1]))
        return [h for _, _, h in hits]
