"""Bank import and export in the formats peers exchange.

Formats (exact columns in docs/hash-matching.md):

* ``csv``   - Seawall's plain CSV: header ``kind,value`` plus optional ``tags`` (separated by ``;``),
  ``note``, ``ref``.
* ``jsonl`` - one object per line: ``{"kind", "value", "tags": [..], "note", "ref"}``.
* ``te``    - ThreatExchange / HMA-style CSV: ``hash type, hash value, tags`` (tags separated by
  spaces, ``;`` or ``,``); a header row is optional. Type names of ThreatExchange (``HASH_PDQ``,
  ``HASH_MD5``, ``URI``...) and of python-threatexchange (``pdq``, ``video_md5``, ``url``...) are read.
* ``tcap``  - Tech Against Terrorism TCAP-style CSV: a header naming any of ``url``, ``md5``,
  ``sha256``, ``pdq`` (every non-empty one becomes an entry) with ``group`` (the terrorist group or
  entity, kept as the tag ``group:<name>``), ``platform``, ``content_type`` and ``id``.

A bad row is reported with its line number and the reason, and every good row still loads.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, TextIO

import orjson

from seawall.banks.model import BankError, Entry, EntryIn

FORMATS = ("csv", "jsonl", "te", "tcap")
MAX_FIELD = 100_000

# ThreatExchange and python-threatexchange names -> Seawall entry kinds
TE_TYPES = {
    "pdq": "pdq", "hash_pdq": "pdq", "pdq_hash": "pdq", "photo_pdq": "pdq",
    "md5": "md5", "hash_md5": "md5", "video_md5": "md5", "photo_md5": "md5", "md5_hash": "md5",
    "sha256": "sha256", "hash_sha256": "sha256", "sha-256": "sha256", "sha256_hash": "sha256",
    "url": "url", "uri": "url",
    "domain": "domain", "hostname": "domain",
    "text": "text", "raw_text": "text", "debug_string": "text",
}
TE_EXPORT_NAMES = {"pdq": "pdq", "md5": "md5", "sha256": "sha256", "url": "url", "domain": "domain",
                   "text": "raw_text"}
TCAP_HASH_COLUMNS = ("url", "md5", "sha256", "pdq")
_TCAP_ALIASES = {
    "url": "url", "link": "url", "content_url": "url",
    "md5": "md5", "md5_hash": "md5",
    "sha256": "sha256", "sha-256": "sha256", "sha256_hash": "sha256",
    "pdq": "pdq", "pdq_hash": "pdq",
    "group": "group", "terrorist_group": "group", "entity": "group", "group_name": "group", "organisation": "group",
    "organization": "group",
    "platform": "platform", "content_type": "content_type", "type": "content_type",
    "id": "id", "tcap_id": "id", "alert_id": "id",
}
_TAG_SPLIT = re.compile(r"[;,\s]+")


@dataclass(slots=True)
class RowError:
    line: int
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "reason": self.reason}


@dataclass(slots=True)
class ParseResult:
    entries: list[tuple[int, EntryIn]] = field(default_factory=list)  # (line, entry)
    errors: list[RowError] = field(default_factory=list)
    rows: int = 0


def _clean_tags(raw: Any, split: re.Pattern[str] = re.compile(r";")) -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, list):
        return [str(t).strip() for t in raw if str(t).strip()]
    return [t.strip() for t in split.split(str(raw)) if t.strip()]


def _entry(line: int, kind: str, value: str, out: ParseResult, **kw: Any) -> None:
    if "\ufffd" in value:
        out.errors.append(RowError(line, "invalid UTF-8 in the value"))
        return
    try:
        out.entries.append((line, EntryIn.make(kind, value, **kw)))
    except BankError as exc:
        out.errors.append(RowError(line, str(exc)))


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        return data
    return data.decode("utf-8-sig", errors="replace")


def _csv_rows(text: str) -> Iterator[tuple[int, list[str]]]:
    csv.field_size_limit(MAX_FIELD)
    reader = csv.reader(io.StringIO(text))
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield start, ["\x00csv-error", str(exc)]
            continue
        if not row or all(not c.strip() for c in row):
            continue
        if row[0].lstrip().startswith("#"):
            continue  # comment line
        yield start, row


def parse_plain_csv(data: bytes | str) -> ParseResult:
    out = ParseResult()
    header: list[str] | None = None
    for line, row in _csv_rows(_decode(data)):
        if row[0] == "\x00csv-error":
            out.errors.append(RowError(line, f"malformed CSV: {row[1]}"))
            continue
        if header is None:
            header = [c.strip().lower() for c in row]
            if "kind" not in header or "value" not in header:
                out.errors.append(RowError(line, "the header must name the columns 'kind' and 'value' (optional: tags, note, ref)"))
                return out
            continue
        out.rows += 1
        rec = dict(zip(header, row))
        if len(row) > len(header):
            out.errors.append(RowError(line, f"{len(row)} fields, the header has {len(header)}"))
            continue
        _entry(line, rec.get("kind", ""), rec.get("value", ""), out, tags=_clean_tags(rec.get("tags")),
               note=rec.get("note") or None, ref=rec.get("ref") or None)
    return out


def parse_jsonl(data: bytes | str) -> ParseResult:
    out = ParseResult()
    for line, raw in enumerate(_decode(data).splitlines(), 1):
        if not raw.strip():
            continue
        out.rows += 1
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            out.errors.append(RowError(line, f"invalid JSON: {exc}"))
            continue
        if not isinstance(obj, dict):
            out.errors.append(RowError(line, "each line must be a JSON object"))
            continue
        kind, value = obj.get("kind"), obj.get("value")
        if not isinstance(kind, str) or not isinstance(value, str):
            out.errors.append(RowError(line, "'kind' and 'value' are required strings"))
            continue
        tags = obj.get("tags", [])
        if not isinstance(tags, (list, str)):
            out.errors.append(RowError(line, "'tags' must be a list of strings"))
            continue
        _entry(line, kind, value, out, tags=_clean_tags(tags), note=obj.get("note"), ref=obj.get("ref"))
    return out


def parse_te_csv(data: bytes | str) -> ParseResult:
    out = ParseResult()
    first = True
    for line, row in _csv_rows(_decode(data)):
        if row[0] == "\x00csv-error":
            out.errors.append(RowError(line, f"malformed CSV: {row[1]}"))
            continue
        t = row[0].strip().lower()
        if first:
            first = False
            if t not in TE_TYPES and len(row) > 1 and not re.fullmatch(r"[0-9a-f]{32,64}", row[1].strip().lower()):
                continue  # a header row
        out.rows += 1
        if len(row) < 2:
            out.errors.append(RowError(line, "expected: hash type, hash value[, tags]"))
            continue
        kind = TE_TYPES.get(t)
        if kind is None:
            out.errors.append(RowError(line, f"unknown hash type {row[0].strip()!r}; known: {', '.join(sorted(set(TE_TYPES)))}"))
            continue
        tags = _clean_tags(" ".join(row[2:]), _TAG_SPLIT) if len(row) > 2 else []
        _entry(line, kind, row[1], out, tags=tags)
    return out


def parse_tcap_csv(data: bytes | str) -> ParseResult:
    out = ParseResult()
    header: list[str | None] | None = None
    for line, row in _csv_rows(_decode(data)):
        if row[0] == "\x00csv-error":
            out.errors.append(RowError(line, f"malformed CSV: {row[1]}"))
            continue
        if header is None:
            header = [_TCAP_ALIASES.get(c.strip().lower().replace(" ", "_")) for c in row]
            if not any(h in TCAP_HASH_COLUMNS for h in header):
                out.errors.append(RowError(line, "the header must name at least one of the columns url, md5, sha256, pdq"))
                return out
            continue
        out.rows += 1
        rec: dict[str, str] = {}
        for h, v in zip(header, row):
            if h is not None and v.strip():
                rec.setdefault(h, v.strip())
        tags = []
        if rec.get("group"):
            tags.append(f"group:{rec['group']}")
        if rec.get("platform"):
            tags.append(f"platform:{rec['platform']}")
        if rec.get("content_type"):
            tags.append(f"content_type:{rec['content_type']}")
        values = [(k, rec[k]) for k in TCAP_HASH_COLUMNS if rec.get(k)]
        if not values:
            out.errors.append(RowError(line, "no url, md5, sha256 or pdq in this row"))
            continue
        for kind, value in values:
            _entry(line, kind, value, out, tags=list(tags), ref=rec.get("id"))
    return out


PARSERS = {"csv": parse_plain_csv, "jsonl": parse_jsonl, "te": parse_te_csv, "tcap": parse_tcap_csv}


def parse(data: bytes | str, fmt: str) -> ParseResult:
    try:
        return PARSERS[fmt](data)
    except KeyError:
        raise BankError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}") from None


def guess_format(filename: str) -> str:
    name = filename.lower().removesuffix(".gz")
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if "tcap" in name:
        return "tcap"
    return "csv"


# -- export ---------------------------------------------------------------------------------------
def export(entries: Iterable[Entry], fmt: str, out: TextIO) -> int:
    """Write entries in a format `parse` reads back; returns the number written (rows for tcap)."""
    n = 0
    if fmt == "jsonl":
        for e in entries:
            out.write(orjson.dumps(e.as_dict()).decode() + "\n")
            n += 1
        return n
    w = csv.writer(out, lineterminator="\n")
    if fmt == "csv":
        w.writerow(["kind", "value", "tags", "note", "ref", "status"])
        for e in entries:
            w.writerow([e.kind, e.original or e.value, ";".join(e.tags), e.note or "", e.ref or "", e.status])
            n += 1
    elif fmt == "te":
        w.writerow(["hash_type", "hash_value", "tags"])
        for e in entries:
            w.writerow([TE_EXPORT_NAMES[e.kind], e.original or e.value, " ".join(t.replace(" ", "_") for t in e.tags)])
            n += 1
    elif fmt == "tcap":
        w.writerow(["id", "url", "md5", "sha256", "pdq", "group", "platform", "content_type"])
        for e in entries:
            if e.kind not in TCAP_HASH_COLUMNS:
                continue  # TCAP carries no texts
            cols = {k: "" for k in TCAP_HASH_COLUMNS}
            cols[e.kind] = e.original or e.value
            extra = {"group": "", "platform": "", "content_type": ""}
            for t in e.tags:
                k, _, v = t.partition(":")
                if k in extra and v and not extra[k]:
                    extra[k] = v
            w.writerow([e.ref or "", cols["url"], cols["md5"], cols["sha256"], cols["pdq"],
                        extra["group"], extra["platform"], extra["content_type"]])
            n += 1
    else:
        raise BankError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return n


@dataclass(slots=True)
class ImportReport:
    bank: str
    format: str
    rows: int = 0
    added: int = 0
    duplicates: int = 0
    errors: list[RowError] = field(default_factory=list)
    ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "bank": self.bank, "format": self.format, "rows": self.rows, "added": self.added,
            "duplicates": self.duplicates, "rejected": len(self.errors),
            "errors": [e.as_dict() for e in self.errors],
        }


def import_entries(store: Any, bank: str, data: bytes | str, fmt: str) -> ImportReport:
    """Parse and add to `bank` (a BankStore); bad rows are in the report, good rows are stored."""
    parsed = parse(data, fmt)
    ids, dups = store.add_entries(bank, [e for _, e in parsed.entries]) if parsed.entries else ([], 0)
    return ImportReport(bank, fmt, parsed.rows, len(ids), dups, parsed.errors, ids)
