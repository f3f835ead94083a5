"""Intake: raw bytes or decoded JSON in, validated events (or kept rejections with a reason) out.

Every entry point (file replay, HTTP, dead-letter replay) goes through `Intake`, so an input is
judged the same way wherever it arrives, and a bad one never stops the ones after it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Iterable, Iterator

import orjson

from seawall.events import EventError, parse_event
from seawall.events.model import _Event
from seawall.ingest.adapters import ADAPTERS, AdapterError, get_adapter
from seawall.normalize.item import Item
from seawall.storage.base import DeadLetter

# A line longer than this is not an event; it is refused before parsing so that one hostile line
# cannot exhaust memory. (The event model separately caps each text field.)
MAX_LINE_BYTES = 4 * 1024 * 1024
# Dead letters keep the raw input so it can be fixed and replayed; beyond this it is truncated.
MAX_KEPT_RAW = 1024 * 1024
FORMATS = tuple(ADAPTERS)


def raw_text(raw: bytes | str) -> str:
    """The raw input as storable text: invalid UTF-8 bytes are escaped, not dropped."""
    text = raw if isinstance(raw, str) else raw.decode("utf-8", errors="backslashreplace")
    if len(text) > MAX_KEPT_RAW:
        return text[:MAX_KEPT_RAW] + f"... [truncated, {len(text)} characters in all]"
    return text


def decode_json_line(raw: bytes, limit: int = MAX_LINE_BYTES) -> Any:
    """Decode one JSON line (or a whole request body, with its own limit) strictly, or raise
    EventError saying what is wrong with it."""
    if len(raw) > limit:
        raise EventError(None, f"input is {len(raw)} bytes; the limit is {limit}")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EventError(None, f"invalid UTF-8 at byte {exc.start}") from None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise EventError(None, f"malformed JSON: {exc}") from None


@dataclass(slots=True)
class IntakeResult:
    items: list[Item] = field(default_factory=list)
    rejected: list[DeadLetter] = field(default_factory=list)
    read: int = 0  # inputs seen (lines or objects)


class Intake:
    """Turns platform inputs of one format into Items, keeping every rejection with its reason."""

    def __init__(self, fmt: str = "seawall", source: str = "api"):
        self.format = fmt
        self.adapter = get_adapter(fmt)
        self.source = source

    def convert(self, obj: Any) -> list[_Event]:
        """One decoded platform object to validated events; raises AdapterError or EventError."""
        return [parse_event(d) for d in self.adapter(obj)]

    def accept_objects(
        self, objs: Iterable[tuple[int | None, Any, bytes | str]], result: IntakeResult | None = None
    ) -> IntakeResult:
        """Each input is (line number or index, decoded object, raw form for the dead letter)."""
        result = result or IntakeResult()
        now = time.time()
        for line_no, obj, raw in objs:
            result.read += 1
            try:
                converted = self.convert(obj)
            except (AdapterError, EventError) as exc:
                result.rejected.append(self.reject(raw, exc.reason, exc.field, line_no))
                continue
            except Exception as exc:  # an adapter bug must not lose the input or stop the stream
                result.rejected.append(self.reject(raw, f"adapter failed: {type(exc).__name__}: {exc}", None, line_no))
                continue
            for ev in converted:
                result.items.append(Item(event=ev, key=ev.key(), received_at=now))
        return result

    def accept_lines(self, lines: Iterable[tuple[int, bytes]]) -> IntakeResult:
        result = IntakeResult()
        decoded: list[tuple[int | None, Any, bytes | str]] = []
        for line_no, raw in lines:
            try:
                decoded.append((line_no, decode_json_line(raw), raw))
            except EventError as exc:
                result.read += 1
                result.rejected.append(self.reject(raw, exc.reason, exc.field, line_no))
        return self.accept_objects(decoded, result)

    def reject(self, raw: bytes | str, reason: str, fld: str | None, line_no: int | None) -> DeadLetter:
        return DeadLetter(
            kind="rejected",
            source=self.source,
            format=self.format,
            raw=raw_text(raw),
            reason=reason,
            field=fld,
            line_no=line_no,
        )


def read_lines(stream: BinaryIO, chunk_lines: int = 1000) -> Iterator[list[tuple[int, bytes]]]:
    """Numbered non-blank lines of a JSONL stream, in chunks; bytes are passed on undecoded so
    that invalid UTF-8 is reported per line instead of failing the whole file."""
    chunk: list[tuple[int, bytes]] = []
    for line_no, raw in enumerate(stream, start=1):
        raw = raw.rstrip(b"\r\n")
        if not raw.strip():
            continue
        chunk.append((line_no, raw))
        if len(chunk) >= chunk_lines:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
