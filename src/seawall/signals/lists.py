"""Operator-editable list files: watch terms and link domains.

Both are CSV with a header line, one entry per line, UTF-8; lines whose first non-blank character
is "#" are comments, blank lines are skipped; a field containing a comma is quoted ("a,b").

    kind,pattern,category,weight,lang,note        (watch list; kind = term | hashtag | regex)
    domain,category,weight,note                   (domain list)

`weight` is in (0, 1] and defaults to 1.0; `category` is lower-case letters, digits and "_";
`lang` is an ISO 639 code or empty and is informational (which language the pattern is in): it
does not restrict matching, because language identification is unreliable on short or obfuscated
posts. Trailing empty columns may be left out.

Loading is strict: every problem in a file is collected and reported as "file:line: reason" in one
ListError. A rules engine that silently skips a broken line, or a whole missing list, fails open
without anyone noticing; an operator would rather see the pipeline refuse to start.

A list is named by a path, or by "builtin:NAME" for the lists shipped in seawall/data/lists/.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from seawall.normalize import hashtag_key, term_skeleton

WATCH_COLUMNS = ("kind", "pattern", "category", "weight", "lang", "note")
DOMAIN_COLUMNS = ("domain", "category", "weight", "note")
WATCH_KINDS = ("term", "hashtag", "regex")
_CATEGORY_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_LANG_RE = re.compile(r"^[a-z]{2,3}$")
_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def _line_of(error: str) -> int:
    parts = error.split(":", 2)
    return int(parts[1]) if len(parts) > 2 and parts[1].isdigit() else 0


class ListError(ValueError):
    """One or more problems in list files; `errors` holds one "file:line: reason" per problem,
    in file order and line order."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("invalid list file(s):\n  " + "\n  ".join(errors))


@dataclass(frozen=True, slots=True)
class WatchEntry:
    kind: str
    pattern: str
    category: str
    weight: float
    lang: str
    note: str
    source: str  # file name, for evidence
    line: int
    key: str  # term skeleton, hashtag key, or the regex source


@dataclass(frozen=True, slots=True)
class DomainEntry:
    domain: str  # normalised: lower-case, Unicode (IDNA decoded), no leading "www." or "*."
    category: str
    weight: float
    note: str
    source: str
    line: int


def resolve_list_path(spec: str) -> Path:
    """A list name as written in settings -> a file path ("builtin:x.csv" = shipped list)."""
    if spec.startswith("builtin:"):
        return Path(str(resources.files("seawall").joinpath("data", "lists", spec[len("builtin:") :])))
    return Path(spec).expanduser()


def _rows(spec: str, columns: tuple[str, ...], errors: list[str]) -> list[tuple[int, dict[str, str]]]:
    path = resolve_list_path(spec)
    name = path.name
    try:
        content = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        errors.append(f"{spec}: cannot read list: {exc.strerror or exc}")
        return []
    except UnicodeDecodeError as exc:
        errors.append(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})")
        return []
    rows: list[tuple[int, dict[str, str]]] = []
    header_seen = False
    for lineno, line in enumerate(content.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            fields = next(csv.reader([line], strict=True))
        except csv.Error as exc:
            errors.append(f"{name}:{lineno}: malformed CSV ({exc})")
            continue
        fields = [f.strip() for f in fields]
        if not header_seen:
            header_seen = True
            if tuple(f.lower() for f in fields) != columns:
                errors.append(f"{name}:{lineno}: header must be '{','.join(columns)}', got '{stripped}'")
                return []
            continue
        if len(fields) > len(columns):
            errors.append(
                f"{name}:{lineno}: {len(fields)} columns, expected at most {len(columns)} "
                "(quote a field that contains a comma)"
            )
            continue
        fields += [""] * (len(columns) - len(fields))
        rows.append((lineno, dict(zip(columns, fields))))
    if not header_seen:
        errors.append(f"{name}: empty list (no header line '{','.join(columns)}')")
    return rows


def _common(row: dict[str, str], where: str, errors: list[str]) -> tuple[str, float] | None:
    category = row["category"]
    if not _CATEGORY_RE.match(category):
        errors.append(f"{where}: category {category!r} must be lower-case letters, digits and '_'")
        return None
    raw = row["weight"]
    try:
        weight = float(raw) if raw else 1.0
    except ValueError:
        errors.append(f"{where}: weight {raw!r} is not a number")
        return None
    if not 0.0 < weight <= 1.0:
        errors.append(f"{where}: weight {raw} must be in (0, 1]")
        return None
    return category, weight


def load_watch_lists(specs: list[str]) -> list[WatchEntry]:
    """Parse and validate watch lists; raises ListError listing every problem found."""
    errors: list[str] = []
    entries: list[WatchEntry] = []
    for spec in specs:
        name = resolve_list_path(spec).name
        first_error = len(errors)
        rows = _rows(spec, WATCH_COLUMNS, errors)
        for lineno, row in rows:
            where = f"{name}:{lineno}"
            kind, pattern = row["kind"].lower(), row["pattern"]
            if kind not in WATCH_KINDS:
                errors.append(f"{where}: kind {row['kind']!r} must be one of {', '.join(WATCH_KINDS)}")
                continue
            if not pattern:
                errors.append(f"{where}: empty pattern")
                continue
            common = _common(row, where, errors)
            if common is None:
                continue
            lang = row["lang"].lower()
            if lang and not _LANG_RE.match(lang):
                errors.append(f"{where}: lang {row['lang']!r} must be an ISO 639 code or empty")
                continue
            if kind == "regex":
                try:
                    re.compile(pattern)
                except re.error as exc:
                    errors.append(f"{where}: invalid regex {pattern!r}: {exc}")
                    continue
                key = pattern
            elif kind == "term":
                key = term_skeleton(pattern)
                if len(key.replace(" ", "")) < 2:
                    errors.append(f"{where}: term {pattern!r} normalises to {key!r}, too short to match safely")
                    continue
            else:
                key = hashtag_key(pattern)
                if not key:
                    errors.append(f"{where}: hashtag {pattern!r} normalises to nothing")
                    continue
            entries.append(WatchEntry(kind, pattern, common[0], common[1], lang, row["note"], name, lineno, key))
        errors[first_error:] = sorted(errors[first_error:], key=_line_of)
    if errors:
        raise ListError(errors)
    return entries


def normalize_domain(raw: str) -> str | None:
    """A domain as lists and items compare it: lower-case Unicode, no "www."/"*." prefix."""
    d = raw.strip().lower().rstrip(".")
    for prefix in ("*.", "."):
        if d.startswith(prefix):
            d = d[len(prefix) :]
    if d.startswith("www."):
        d = d[4:]
    if not d or len(d) > 253:
        return None
    try:
        ascii_d = d if d.isascii() else d.encode("idna").decode("ascii")
        labels = ascii_d.split(".")
        if not all(_LABEL_RE.match(lb) for lb in labels):
            return None
        return ".".join(lb.encode().decode("idna") if lb.startswith("xn--") else lb for lb in labels)
    except UnicodeError:
        return None


def load_domain_lists(specs: list[str]) -> list[DomainEntry]:
    """Parse and validate domain lists; raises ListError listing every problem found."""
    errors: list[str] = []
    entries: list[DomainEntry] = []
    for spec in specs:
        name = resolve_list_path(spec).name
        first_error = len(errors)
        rows = _rows(spec, DOMAIN_COLUMNS, errors)
        for lineno, row in rows:
            where = f"{name}:{lineno}"
            domain = normalize_domain(row["domain"])
            if domain is None:
                errors.append(f"{where}: {row['domain']!r} is not a domain name")
                continue
            common = _common(row, where, errors)
            if common is None:
                continue
            entries.append(DomainEntry(domain, common[0], common[1], row["note"], name, lineno))
        errors[first_error:] = sorted(errors[first_error:], key=_line_of)
    if errors:
        raise ListError(errors)
    return entries
